"""``solreg download NAME@VERSION``: archive, provenance and signature side by side."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from publisher_cli.output import make_client, parse_ref

if TYPE_CHECKING:
    from publisher_cli.client import RegistryClient


@dataclass(frozen=True)
class Downloaded:
    release: dict[str, Any]
    archive: Path
    sha256: str
    provenance: Path | None
    signature: Path | None


def sibling_paths(archive: Path) -> tuple[Path, Path]:
    """Where provenance and signature live next to an archive (as build and download write them)."""
    stem = archive.name.removesuffix(".tar.gz")
    return archive.with_name(f"{stem}.provenance.json"), archive.with_name(f"{stem}.provenance.dsse.json")


def download_release(client: RegistryClient, name: str, version: str, out_dir: Path) -> Downloaded:
    from publisher_cli.errors import RegistryAnswerError, VerificationError

    release = client.release(name, version)
    if not release.get("archive_url") or not release.get("sha256"):
        raise RegistryAnswerError(f"registry record of {name}@{version} has no archive_url or sha256")
    archive = out_dir / f"{name}-{version}.tar.gz"
    sha256 = client.download(release["archive_url"], archive)
    if sha256 != release["sha256"]:
        archive.unlink(missing_ok=True)
        raise VerificationError(
            f"downloaded archive has sha256 {sha256}, the registry recorded {release['sha256']}",
            hint="try again; if it persists the registry's storage or something in between is corrupt",
        )
    provenance_path, signature_path = sibling_paths(archive)
    provenance = signature = None
    if release.get("provenance_url"):
        client.download(release["provenance_url"], provenance_path)
        provenance = provenance_path
    if release.get("signature_url"):
        client.download(release["signature_url"], signature_path)
        signature = signature_path
    return Downloaded(release, archive, sha256, provenance, signature)


@click.command("download")
@click.argument("ref", metavar="NAME@VERSION")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True)
@click.pass_context
def download_command(ctx: click.Context, ref: str, out_dir: Path) -> None:
    """Download a release archive with its provenance and signature; checks the sha256."""
    name, version = parse_ref(ref, require_version=True)
    result = download_release(make_client(ctx, need_token=False), name, version, out_dir)
    click.echo(f"downloaded {result.archive} (sha256 {result.sha256}, matches the registry)")
    for extra in (result.provenance, result.signature):
        if extra:
            click.echo(f"           {extra}")
    if result.release.get("state") == "yanked":
        click.echo(f"warning: this release is yanked: {result.release.get('yank_reason')}", err=True)
    click.echo(f"next: solreg verify {result.archive}")


COMMANDS = [download_command]
