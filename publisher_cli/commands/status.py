"""``solreg status NAME[@VERSION]``: review state, queue position, reviewers' comments and the
automated checks (shown to the publishing organization and reviewers only; the registry sends
``"checks": null`` to anyone else)."""

from __future__ import annotations

from typing import Any

import click

from publisher_cli.output import describe_release, make_client, parse_ref, print_rows


def print_reviews(release: dict[str, Any]) -> None:
    reviews = release.get("reviews") or []
    if not reviews:
        click.echo("reviews: none yet")
        return
    click.echo("reviews:")
    for review in reviews:
        click.echo(f"  {review.get('created_at', '')}  {review.get('reviewer', '?')}: "
                   f"{review.get('decision', '?')}")
        for line in str(review.get("comment") or "").splitlines():
            click.echo(f"      {line}")


def print_checks(release: dict[str, Any]) -> None:
    checks = release.get("checks")
    if checks is None:
        return  # not this reader's to see
    if not checks:
        click.echo("checks: none recorded")
        return
    click.echo("checks:")
    for check in checks:
        click.echo(f"  {check.get('status', '?'):<10} {check.get('name', '?'):<16} {check.get('summary') or ''}")


def checks_line(release: dict[str, Any]) -> str:
    """`2 fail, 1 running` for a release's checks: the statuses other than pass, counted."""
    counts: dict[str, int] = {}
    for check in release.get("checks") or []:
        counts[check.get("status", "?")] = counts.get(check.get("status", "?"), 0) + 1
    shown = [f"{n} {status}" for status, n in sorted(counts.items()) if status != "pass"]
    return f" [checks: {', '.join(shown)}]" if shown else ""


@click.command("status")
@click.argument("ref", metavar="NAME[@VERSION]")
@click.pass_context
def status_command(ctx: click.Context, ref: str) -> None:
    """Show the review state of a release (or of all releases of a solution)."""
    name, version = parse_ref(ref, require_version=False)
    client = make_client(ctx, need_token=False)
    if version:
        release = client.release(name, version)
        print_rows(describe_release(release))
        print_reviews(release)
        print_checks(release)
        return
    solution = client.solution(name)
    click.echo(f"{solution.get('name')}: {solution.get('state')}, latest {solution.get('latest_version')}")
    for release in solution.get("releases") or []:
        queue = release.get("queue_position")
        extra = f" (queue position {queue})" if queue is not None else ""
        click.echo(f"  {release.get('version'):<16} {release.get('state')}{extra}{checks_line(release)}")


COMMANDS = [status_command]
