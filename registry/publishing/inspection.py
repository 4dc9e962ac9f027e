"""Reading an uploaded archive safely and validating it with the shared spec."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import BinaryIO

from flask import current_app

from registry.errors import Unprocessable
from registry.spec.archive import ArchiveContents, ArchiveError, ArchiveLimits, read_archive
from registry.spec.files import FileTooLargeError, PackageFileNotFound, PackageFiles, normalise_path
from registry.spec.problems import Report
from registry.spec.validator import MANIFEST_FILE_NAME, validate_manifest


@dataclass
class InspectedPackage:
    contents: ArchiveContents
    files: PackageFiles
    report: Report
    manifest: dict
    readme: str | None = None
    warnings: list = field(default_factory=list)


def server_catalogue():
    """The entity-type catalogue, extended by the operator's REGISTRY_ENTITY_CATALOGUE_EXTRA files."""
    extra = tuple(p for p in str(current_app.config["ENTITY_CATALOGUE_EXTRA"]).split(os.pathsep) if p)
    return _catalogue(extra)


@lru_cache(maxsize=4)
def _catalogue(extra: tuple[str, ...]):
    from registry.spec.catalogue import EntityCatalogue, default_catalogue

    return EntityCatalogue.load(extra) if extra else default_catalogue()


def archive_limits() -> ArchiveLimits:
    config = current_app.config
    return ArchiveLimits(
        max_members=int(config["ARCHIVE_MAX_MEMBERS"]),
        max_unpacked_bytes=int(config["ARCHIVE_MAX_UNPACKED_MB"]) * 1024 * 1024,
        max_ratio=float(config["ARCHIVE_MAX_RATIO"]),
    )


def inspect_archive(stream: BinaryIO) -> InspectedPackage:
    """Refuse unsafe or invalid packages with 422 and the reason; return what was read."""
    stream.seek(0)
    try:
        contents = read_archive(stream, archive_limits())
    except ArchiveError as exc:
        raise Unprocessable(f"archive refused: {exc.message}", field="archive", code=f"archive-{exc.code}") from None
    files = contents.as_package_files()
    try:
        raw_manifest = files.read(MANIFEST_FILE_NAME, 1024 * 1024)
    except (PackageFileNotFound, FileTooLargeError):
        raise Unprocessable(f"the archive has no {MANIFEST_FILE_NAME} at its root (inside {contents.root}/)",
                            field="archive", code="manifest-missing") from None
    report = validate_manifest(raw_manifest, files=files, catalogue=server_catalogue())
    if not report.ok:
        problems = [{"code": p.code, "detail": _problem_text(p), "field": p.path or MANIFEST_FILE_NAME}
                    for p in report.errors]
        first = problems[0]
        raise Unprocessable(f"{MANIFEST_FILE_NAME} is invalid: {first['detail']}", field=first["field"],
                            code="manifest-invalid", errors=problems[1:])
    return InspectedPackage(contents=contents, files=files, report=report, manifest=report.manifest or {},
                            readme=_readme(files))


MAX_SBOM_BYTES = 50 * 1024 * 1024


def read_large_member(stream: BinaryIO, path: str, max_bytes: int = MAX_SBOM_BYTES) -> bytes:
    """A second streaming pass for one file too big to be kept on the first (e.g. a large SBOM)."""
    stream.seek(0)
    limits = replace(archive_limits(), max_kept_file_bytes=max_bytes, max_kept_total_bytes=max_bytes)
    contents = read_archive(stream, limits, keep=lambda p: p == normalise_path(path))
    if normalise_path(path) not in contents.files:
        raise Unprocessable(f"{path} is larger than {max_bytes // (1024 * 1024)} MB", field="sbom", code="sbom-too-large")
    return contents.files[normalise_path(path)]


def _problem_text(problem) -> str:
    where = f" (line {problem.line})" if problem.line else ""
    hint = f" Hint: {problem.hint}" if problem.hint else ""
    return f"{problem.message}{where}.{hint}".replace("..", ".")


def _readme(files: PackageFiles) -> str | None:
    for name in ("README.md", "README.ko.md", "README.en.md", "README"):
        if files.exists(name):
            try:
                return files.read(name, 512 * 1024).decode("utf-8", errors="replace")
            except FileTooLargeError:
                return None
    return None
