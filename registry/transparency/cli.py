from pathlib import Path

import click
from flask.cli import AppGroup

from registry.transparency.service import LogDamaged, verifier, verify_log

log_cli = AppGroup("log", help="Check the transparency log.")


@log_cli.command("verify")
def log_verify():
    """Rebuild the Merkle tree from the stored leaves and check it against every signed checkpoint."""
    try:
        leaves, checkpoints = verify_log()
    except LogDamaged as exc:
        raise click.ClickException(f"transparency log damaged: {exc}") from None
    click.echo(f"transparency log intact: {leaves} leaves, {checkpoints} checkpoints, key {verifier().encode()}")


@log_cli.command("key")
def log_key():
    """Print the log's verifier key, for clients to pin (`solreg login --log-key`)."""
    click.echo(verifier().encode())


mirror_cli = AppGroup("mirror", help="Offline mirrors: bundles of signed releases for separated networks.")


@mirror_cli.command("export")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--since", type=click.IntRange(min=0), default=0,
              help="The tree size of the mirror's last bundle: only what is new since then.")
@click.option("--solution", "solutions", multiple=True, help="Only this solution (repeatable).")
def mirror_export(out: Path, since: int, solutions: tuple[str, ...]):
    """Write one bundle (a tar) of published releases, their artifacts, the signed log and proofs."""
    from registry.transparency.mirror import MirrorRefused, export_bundle

    try:
        summary = export_bundle(out, since=since, solutions=solutions)
    except MirrorRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"exported {summary.releases} releases, leaves {since}..{summary.tree_size - 1} "
               f"({summary.blob_bytes} bytes of artifacts) to {out}")


@mirror_cli.command("import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--origin-key", help="The origin's log key, carried separately (pinned if this is the first import).")
def mirror_import(bundle: Path, origin_key: str | None):
    """Verify a bundle completely, then serve its releases read-only; nothing is written if any check fails."""
    from registry.transparency.mirror import MirrorRefused, import_bundle

    try:
        summary = import_bundle(bundle, origin_key=origin_key)
    except MirrorRefused as exc:
        raise click.ClickException(f"bundle refused: {exc}") from None
    click.echo(f"imported {summary.releases} releases and {summary.new_leaves} leaves of {summary.origin} "
               f"(signed head of {summary.tree_size} leaves)")
