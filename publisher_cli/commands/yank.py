"""``solreg yank`` / ``solreg unyank``: hide a release from new installs (or undo that)."""

from __future__ import annotations

import click

from publisher_cli.output import describe_release, make_client, parse_ref, print_rows


@click.command("yank")
@click.argument("ref", metavar="NAME@VERSION")
@click.option("--reason", required=True, help="Why the release must not be used (shown to users).")
@click.pass_context
def yank_command(ctx: click.Context, ref: str, reason: str) -> None:
    """Yank a release; existing users see the reason."""
    name, version = parse_ref(ref, require_version=True)
    if not reason.strip():
        raise click.BadParameter("the reason must not be empty", param_hint="--reason")
    release = make_client(ctx).yank(name, version, reason.strip())
    print_rows(describe_release(release))


@click.command("unyank")
@click.argument("ref", metavar="NAME@VERSION")
@click.pass_context
def unyank_command(ctx: click.Context, ref: str) -> None:
    """Undo a yank."""
    name, version = parse_ref(ref, require_version=True)
    print_rows(describe_release(make_client(ctx).unyank(name, version)))


COMMANDS = [yank_command, unyank_command]
