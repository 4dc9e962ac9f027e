"""``solreg search QUERY``."""

from __future__ import annotations

import click

from publisher_cli.output import localized_for_reader, make_client


@click.command("search")
@click.argument("query")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.pass_context
def search_command(ctx: click.Context, query: str, page: int) -> None:
    """Search published solutions."""
    data = make_client(ctx, need_token=False).search(query, page)
    results = data.get("results") or []
    if not results:
        click.echo(f"no solutions match {query!r}")
        return
    for hit in results:
        # One block per hit rather than a table: a fixed-width table cut Korean summaries mid-word
        # (and mid-character when piped); the terminal wraps these lines between words itself.
        click.echo(f"{hit.get('name')} {hit.get('latest_version') or '-'}  ({hit.get('org')})  {localized_for_reader(hit.get('title'))}")
        summary = localized_for_reader(hit.get("summary"))
        if summary:
            click.echo(f"    {summary}")
    click.echo(f"{data.get('total', len(results))} result(s), page {data.get('page', page)} of {data.get('pages', 1)}")


COMMANDS = [search_command]
