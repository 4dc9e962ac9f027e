import click
from sqlalchemy import select

from registry.commands import CommandGroup
from registry.db import db
from registry.releases.models import Artifact
from registry.storage import storage

storage_cli = CommandGroup("storage", help="Check and clean blob storage.")


@storage_cli.command("verify")
def storage_verify():
    """Re-hash every blob and check every artifact's blob exists; exit 1 on any mismatch."""
    store = storage()
    bad = 0
    seen = 0
    for digest in store.digests():
        seen += 1
        if not store.verify(digest):
            bad += 1
            click.echo(f"MISMATCH {digest}: content no longer hashes to its name", err=True)
    for digest in db.session.scalars(select(Artifact.sha256).distinct()):
        if not store.exists(digest):
            bad += 1
            click.echo(f"MISSING  {digest}: referenced by an artifact but not in storage", err=True)
    if bad:
        raise click.ClickException(f"{bad} problem(s) among {seen} blobs")
    click.echo(f"all {seen} blobs verified")


@storage_cli.command("gc")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def storage_gc(dry_run: bool):
    """Remove blobs that no artifact references."""
    referenced = set(db.session.scalars(select(Artifact.sha256).distinct()))
    store = storage()
    removed = 0
    for digest in list(store.digests()):
        if digest not in referenced:
            removed += 1
            click.echo(f"{'would remove' if dry_run else 'removed'} {digest}")
            if not dry_run:
                store.delete(digest)
    click.echo(f"{removed} unreferenced blob(s) {'found' if dry_run else 'removed'}")
    if not dry_run:
        spools = store.clean_spool(max_age_seconds=3600)
        if spools:
            click.echo(f"{spools} upload spool file(s) older than an hour removed")


@storage_cli.command("public-tree")
def storage_public_tree():
    """Make the public tree (/files/) match the database: files of public releases added, all else removed."""
    from registry.releases.files import sync_all

    done = sync_all()
    click.echo(f"public tree: {done['files']} file(s) of public releases; {done['added']} added, "
               f"{done['removed']} removed")
