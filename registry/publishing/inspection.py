"""Reading an uploaded archive safely and validating it with the shared spec."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, BinaryIO

from flask import current_app

from registry.errors import Unprocessable
from registry.spec.archive import ArchiveContents, ArchiveError, ArchiveLimits, copy_member, read_archive
from registry.spec.files import FileTooLargeError, PackageFileNotFound, PackageFiles
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
    files = contents.as_package_files(load=LargeMembers(stream, contents, archive_limits(), sbom_max_bytes()))
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


def sbom_max_bytes() -> int:
    return int(current_app.config["SBOM_MAX_MB"]) * 1024 * 1024


class LargeMembers:
    """Reads the members the first pass did not keep in memory (over 1 MiB, e.g. a large SBOM).

    Each is streamed by a second pass over the archive into a temporary file, once, and read
    from there on every later request. At most ``max_bytes`` per member, and at most
    ``MAX_PASSES`` members, so that a package cannot make the server decompress it over and
    over. The temporary files have no name and vanish with this object.
    """

    MAX_PASSES = 4

    def __init__(self, stream: BinaryIO, contents: ArchiveContents, limits: ArchiveLimits, max_bytes: int) -> None:
        self._stream, self._contents, self._limits, self._max_bytes = stream, contents, limits, max_bytes
        self._spooled: dict[str, IO[bytes]] = {}

    def __call__(self, path: str) -> bytes:
        member = self._contents.member(path)
        size = member.size if member else 0
        if size > self._max_bytes:
            raise FileTooLargeError(path, size, self._max_bytes)
        if path not in self._spooled:
            if len(self._spooled) >= self.MAX_PASSES:
                raise FileTooLargeError(path, size, self._limits.max_kept_file_bytes)
            spool = tempfile.TemporaryFile()
            if not copy_member(self._stream, path, spool, self._limits):
                spool.close()
                raise PackageFileNotFound(f"{path} is not a file in the package.")
            self._spooled[path] = spool
        spool = self._spooled[path]
        spool.seek(0)
        return spool.read()


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
