"""``solreg publish``: check, build, sign, upload."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from publisher_cli.output import describe_release, print_rows

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from publisher_cli.client import RegistryClient


def signature_path_for(provenance: Path) -> Path:
    return provenance.with_name(provenance.name.removesuffix(".json") + ".dsse.json")


def sign_provenance(provenance: Path, key: Ed25519PrivateKey) -> Path:
    """Write the DSSE envelope over the provenance bytes next to it."""
    from registry.spec.provenance import sign_envelope

    envelope = sign_envelope(provenance.read_bytes(), key)
    target = signature_path_for(provenance)
    target.write_text(json.dumps(envelope, sort_keys=True, indent=2) + "\n", encoding="ascii")
    return target


def upload_with_progress(client: RegistryClient, name: str, archive: Path, *, sha256: str,
                         provenance: Path | None, signature: Path | None) -> tuple[bool, dict[str, Any]]:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    total = sum(p.stat().st_size for p in (archive, provenance, signature) if p)
    columns = (TextColumn("uploading"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    from publisher_cli.output import console

    with Progress(*columns, console=console(stderr=True), transient=True) as progress:
        task = progress.add_task("upload", total=total)
        return client.upload_release(
            name, archive, sha256=sha256, provenance=provenance, signature=signature,
            on_progress=lambda sent: progress.advance(task, sent),
            on_restart=lambda: progress.reset(task, total=total),
        )


@click.command("publish")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--dry-run", is_flag=True, help="Check, build and sign, but do not upload.")
@click.pass_context
def publish_command(ctx: click.Context, path: Path, dry_run: bool) -> None:
    """Check, build, sign and upload the tagged release."""
    from publisher_cli.commands.build import build_release, print_build
    from publisher_cli.commands.check import print_findings, run_check
    from publisher_cli.commands.keys import load_signing_key
    from publisher_cli.errors import CheckFailed
    from publisher_cli.output import make_client

    checked = run_check(path)
    if not checked.ok:
        print_findings(checked, stderr=True)
        raise CheckFailed(f"{len(checked.errors)} error(s) found; nothing was published")
    # Resolve the registry before building so a missing login fails fast.
    client = None if dry_run else make_client(ctx)
    built = build_release(path)
    print_build(built)
    key = load_signing_key()
    signature = None
    if key is None:
        click.echo("warning: no signing key, the release will be unsigned "
                   "(run `solreg keygen` and `solreg keys register`)", err=True)
    else:
        signature = sign_provenance(built.provenance_path, key)
        click.echo(f"  signature  {signature}")
    if client is None:
        click.echo("dry run: stopping before upload")
        return
    created, release = upload_with_progress(
        client, built.manifest.name, built.archive.path, sha256=built.archive.sha256,
        provenance=built.provenance_path, signature=signature)
    if created:
        click.echo(f"published {release.get('name')}@{release.get('version')}")
    else:
        click.echo(f"already published, identical: {release.get('name')}@{release.get('version')}")
    print_rows(describe_release(release))


COMMANDS = [publish_command]
