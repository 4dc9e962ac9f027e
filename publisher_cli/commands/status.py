"""``solreg status NAME[@VERSION]``: review state, queue position, reviewers' comments."""

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
        return
    solution = client.solution(name)
    click.echo(f"{solution.get('name')}: {solution.get('state')}, latest {solution.get('latest_version')}")
    for release in solution.get("releases") or []:
        queue = release.get("queue_position")
        extra = f" (queue position {queue})" if queue is not None else ""
        click.echo(f"  {release.get('version'):<16} {release.get('state')}{extra}")


COMMANDS = [status_command]
