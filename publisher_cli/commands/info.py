"""``solreg info NAME``."""

from __future__ import annotations

import click

from publisher_cli.output import localized_for_reader, make_client, parse_ref, print_rows


@click.command("info")
@click.argument("name")
@click.pass_context
def info_command(ctx: click.Context, name: str) -> None:
    """Show a solution and its releases."""
    parsed, _ = parse_ref(name, require_version=False)
    solution = make_client(ctx, need_token=False).solution(parsed)
    print_rows([
        ("name", str(solution.get("name"))),
        ("title", localized_for_reader(solution.get("title"))),
        ("summary", localized_for_reader(solution.get("summary"))),
        ("org", str(solution.get("org"))),
        ("state", str(solution.get("state"))),
        ("latest", str(solution.get("latest_version") or "-")),
    ])
    releases = solution.get("releases") or []
    if releases:
        click.echo("releases:")
        for release in releases:
            click.echo(f"  {release.get('version'):<16} {release.get('state'):<18} {release.get('published_at') or release.get('created_at') or ''}")


COMMANDS = [info_command]
