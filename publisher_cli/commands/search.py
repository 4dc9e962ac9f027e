"""``solreg search QUERY``."""

from __future__ import annotations

import click

from publisher_cli.output import make_client


@click.command("search")
@click.argument("query")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.pass_context
def search_command(ctx: click.Context, query: str, page: int) -> None:
    """Search published solutions."""
    from rich.table import Table

    from publisher_cli.output import console

    data = make_client(ctx, need_token=False).search(query, page)
    results = data.get("results") or []
    if not results:
        click.echo(f"no solutions match {query!r}")
        return
    table = Table("name", "latest", "org", "title", "summary")
    for hit in results:
        table.add_row(str(hit.get("name")), str(hit.get("latest_version") or "-"), str(hit.get("org")),
                      str(hit.get("title") or ""), str(hit.get("summary") or ""))
    out = console()
    out.print(table)
    out.print(f"{data.get('total', len(results))} result(s), page {data.get('page', page)}"
              f" of {data.get('pages', 1)}")


COMMANDS = [search_command]
