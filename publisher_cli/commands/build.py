"""``solreg build``: reproducible archive + provenance from the release tag."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from publisher_cli.gitinfo import ReleaseTag
    from publisher_cli.manifest import Manifest
    from publisher_cli.packaging import BuiltArchive


@dataclass(frozen=True)
class BuildResult:
    manifest: Manifest
    archive: BuiltArchive
    provenance_path: Path
    tag: ReleaseTag
    repository: str
    subdirectory: str


def default_out_dir(directory: Path) -> Path:
    """``dist/`` next to solution.yaml, ignored by git so that `git add -A` never ships old archives."""
    from publisher_cli.gitinfo import BUILD_OUTPUT_DIR

    out = directory / BUILD_OUTPUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    ignore = out / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return out


def provenance_path_for(archive: Path) -> Path:
    return archive.with_name(archive.name.removesuffix(".tar.gz") + ".provenance.json")


def build_release(path: Path, out_dir: Path | None = None) -> BuildResult:
    from publisher_cli import package_version
    from publisher_cli.errors import BuildError
    from publisher_cli.gitinfo import (
        find_release_tag,
        open_repo,
        origin_url,
        read_committed_file,
        subdirectory_of,
    )
    from publisher_cli.manifest import MANIFEST_NAME, load_manifest, parse_manifest, solution_dir
    from publisher_cli.packaging import build_archive
    from registry.spec.provenance import build_statement, statement_bytes

    directory = solution_dir(path)
    manifest = load_manifest(directory)
    repo = open_repo(directory)
    subdirectory = subdirectory_of(repo, directory)
    tag = find_release_tag(repo, manifest.name, manifest.version, require_head=False)

    # The archive comes from the tag, so its manifest is the one that counts.
    manifest_in_repo = posixpath.join(subdirectory, MANIFEST_NAME) if subdirectory else MANIFEST_NAME
    committed = read_committed_file(repo, tag.commit, manifest_in_repo)
    if committed is None:
        raise BuildError(f"{manifest_in_repo} is not committed at tag {tag.name}",
                         hint="commit solution.yaml, then move the tag to that commit")
    tagged = parse_manifest(committed, f"{manifest_in_repo} at tag {tag.name}")
    if (tagged.name, tagged.version) != (manifest.name, manifest.version):
        raise BuildError(
            f"tag {tag.name} holds {tagged.name}@{tagged.version}, "
            f"but the work tree says {manifest.name}@{manifest.version}",
            hint="commit solution.yaml and tag that commit",
        )

    source = tagged.data.get("source")
    declared = source.get("repository") if isinstance(source, dict) else None
    repository = declared if isinstance(declared, str) and declared else origin_url(repo)
    if not repository:
        raise BuildError("no repository URL for the provenance",
                         hint="set source.repository in solution.yaml or add an `origin` remote")

    out = out_dir if out_dir is not None else default_out_dir(directory)
    archive = build_archive(repo, tag.commit, top_level=manifest.archive_stem, out_dir=out,
                            subdirectory=subdirectory)
    statement = build_statement(
        archive_name=archive.path.name,
        archive_sha256=archive.sha256,
        repository=repository,
        tag=tag.name,
        commit=tag.commit,
        builder_id=f"solreg/{package_version()}",
        started_on=tag.commit_time,
        manifest_path=MANIFEST_NAME,
        subdirectory=subdirectory,
    )
    provenance = provenance_path_for(archive.path)
    provenance.write_bytes(statement_bytes(statement))
    return BuildResult(manifest, archive, provenance, tag, repository, subdirectory)


def print_build(result: BuildResult) -> None:
    click.echo(f"built {result.archive.path}")
    click.echo(f"  from     {result.tag.name} ({result.tag.commit[:12]})"
               + (f", subdirectory {result.subdirectory}/" if result.subdirectory else ""))
    click.echo(f"  size     {result.archive.size:,} bytes")
    click.echo(f"  sha256   {result.archive.sha256}")
    click.echo(f"  provenance {result.provenance_path}")


@click.command("build")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory (default: PATH/dist).")
def build_command(path: Path, out_dir: Path | None) -> None:
    """Build <name>-<version>.tar.gz reproducibly from the release tag."""
    print_build(build_release(path, out_dir))


COMMANDS = [build_command]
