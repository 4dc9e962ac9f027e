"""`flask --app registry osv import PATH`: load OSV records for offline vulnerability matching."""

from __future__ import annotations

from pathlib import Path

import click

from registry.commands import CommandGroup, failure

osv_cli = CommandGroup("osv", help="Offline known-vulnerability data (OSV).")


@osv_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--no-rematch", is_flag=True, help="Do not recompute every release's findings afterwards.")
def import_command(path: Path, no_rematch: bool) -> None:
    """Import OSV records from a directory of JSON files, an OSV all.zip, or one JSON file."""
    from registry.sbom.osv import import_osv

    def progress(handed: int, total: int, done: bool) -> None:
        click.echo(f"re-matched {handed}/{total} releases" if done
                   else f"queued for re-matching: {handed}/{total} releases (the worker matches them)")

    report = import_osv(path, rematch=not no_rematch, progress=progress)
    click.echo(f"imported: {report.imported}")
    click.echo(f"updated: {report.updated}")
    click.echo(f"unchanged: {report.unchanged}")
    click.echo(f"withdrawn: {report.withdrawn}")
    click.echo(f"duplicates: {report.duplicates}")
    click.echo(f"failed files: {len(report.failed)}")
    for name, reason in report.failed:
        click.echo(f"  {name}: {reason}", err=True)
    if report.failed:
        raise failure(f"{len(report.failed)} file(s) not imported; the others were",
                      "fix or remove the files listed above (or fetch a fresh OSV export) and import again; "
                      "records already imported are skipped as unchanged")
