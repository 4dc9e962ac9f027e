"""`flask mirror export|import`: offline mirrors for networks separated from the internet; `pull`: online ones."""

from pathlib import Path

import click

from registry.commands import CommandGroup, failure
from registry.mirror.pull import pull
from registry.mirror.service import MirrorRefused, export_bundle, import_bundle

mirror_cli = CommandGroup("mirror", help="Offline mirrors: bundles of signed releases for separated networks.")


@mirror_cli.command("export")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--since", type=click.IntRange(min=0), default=0,
              help="The tree size of the mirror's last bundle: only what is new since then.")
@click.option("--solution", "solutions", multiple=True, help="Only this solution (repeatable).")
def mirror_export(out: Path, since: int, solutions: tuple[str, ...]):
    """Write one bundle (a tar) of published releases, their artifacts, the signed log and proofs."""
    summary = export_bundle(out, since=since, solutions=solutions)  # MirrorRefused: one line, from the group
    click.echo(f"exported {summary.releases} releases, leaves {since}..{summary.tree_size - 1} "
               f"({summary.blob_bytes} bytes of artifacts) to {out}")


@mirror_cli.command("import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--origin-key", help="The origin's log key, carried separately (pinned if this is the first import).")
def mirror_import(bundle: Path, origin_key: str | None):
    """Verify a bundle completely, then serve its releases read-only; nothing is written if any check fails."""
    try:
        summary = import_bundle(bundle, origin_key=origin_key)
    except MirrorRefused as exc:
        raise failure(f"bundle refused: {exc.detail}",
                      "nothing was imported; check the bundle was copied whole and that --origin-key is the "
                      "origin's (`flask log key` there), or export a new bundle at the origin") from None
    click.echo(f"imported {summary.releases} releases and {summary.new_leaves} leaves of {summary.origin} "
               f"(signed head of {summary.tree_size} leaves)")


@mirror_cli.command("pull")
@click.argument("url")
@click.option("--origin-key", help="The origin's log key, from its operator (needed for the first pull).")
@click.option("--max-mb", type=click.IntRange(min=1), help="The largest bundle to fetch (REGISTRY_MIRROR_PULL_MAX_MB).")
def mirror_pull(url: str, origin_key: str | None, max_mb: int | None):
    """Fetch what is new at the origin registry URL over HTTP(S) and import it as a bundle: all or nothing."""
    try:
        summary = pull(url, origin_key=origin_key, max_bytes=max_mb << 20 if max_mb else None)
    except MirrorRefused as exc:
        raise click.ClickException(f"pull refused: {exc}") from None
    click.echo(f"pulled {summary.releases} releases and {summary.new_leaves} leaves of {summary.origin} "
               f"(signed head of {summary.tree_size} leaves)")
