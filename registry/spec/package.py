"""One inspection of a built package, the same for `solreg check`/`publish` and the registry.

``inspect_package`` reads the ``.tar.gz`` safely (archive caps), validates solution.yaml
with the files it names, and parses and schema-checks the SBOM in depth, all within one
``Limits``. What it refuses it refuses with one ``PackageRefused`` carrying the code,
detail and field the registry's API answers with; the registry wraps it as a 422, the
CLI prints it. No Flask here: the CLI imports this module.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

from registry.errors import RegistryError
from registry.spec.archive import ArchiveContents, ArchiveError, ArchiveLimits, copy_member, read_archive
from registry.spec.catalogue import EntityCatalogue
from registry.spec.files import FileTooLargeError, PackageFileNotFound, PackageFiles
from registry.spec.limits import Limits
from registry.spec.problems import Problem, Report, SpecError
from registry.spec.sbom.parser import ParsedSbom, parse_sbom
from registry.spec.validator import MANIFEST_FILE_NAME, validate_manifest

README_NAMES = ("README.md", "README.ko.md", "README.en.md", "README")
README_MAX_BYTES = 512 * 1024


class PackageRefused(SpecError):
    """The package would be refused (422): ``code``, ``detail`` and ``field`` as the API reports them.

    ``extra_errors`` are the further problems in the API's shape; ``report`` is the manifest
    report when the manifest was the reason (its problems carry line numbers).
    """

    def __init__(self, code: str, detail: str, field: str, *, errors: Sequence[dict[str, Any]] = (),
                 report: Report | None = None) -> None:
        super().__init__(detail, field=field, code=code, errors=list(errors))
        self.report = report


@dataclass
class InspectedPackage:
    contents: ArchiveContents
    files: PackageFiles
    report: Report
    manifest: dict[str, Any]
    sbom: ParsedSbom
    sbom_file: BinaryIO  # the SBOM as the package holds it, over memory or a temporary file (read it from 0)
    readme: str | None = None
    warnings: list[Problem] = field(default_factory=list)


def inspect_package(fileobj: BinaryIO, limits: Limits | None = None, *,
                    catalogue: EntityCatalogue | None = None) -> InspectedPackage:
    """Inspect the package in ``fileobj`` (read from its start); raise PackageRefused."""
    limits = limits or Limits()
    fileobj.seek(0)
    try:
        contents = read_archive(fileobj, limits.archive)
    except ArchiveError as exc:
        raise PackageRefused(f"archive-{exc.code}", f"archive refused: {exc.message}", "archive") from None
    files = contents.as_package_files(open_unkept=LargeMembers(fileobj, contents, limits.archive, limits.sbom_max_bytes))
    try:
        raw_manifest = files.read(MANIFEST_FILE_NAME, limits.manifest_max_bytes)
    except (PackageFileNotFound, FileTooLargeError):
        raise PackageRefused("manifest-missing",
                             f"the archive has no {MANIFEST_FILE_NAME} at its root (inside {contents.root}/)",
                             "archive") from None
    report = validate_manifest(raw_manifest, files=files, catalogue=catalogue, sbom_max_bytes=limits.sbom_max_bytes)
    if not report.ok:
        problems = [{"code": p.code, "detail": _problem_text(p), "field": p.path or MANIFEST_FILE_NAME}
                    for p in report.errors]
        first = problems[0]
        raise PackageRefused("manifest-invalid", f"{MANIFEST_FILE_NAME} is invalid: {first['detail']}",
                             first["field"], errors=problems[1:], report=report)
    manifest = report.manifest or {}
    sbom_path = manifest["sbom"]
    # Within the cap whatever its size: the manifest check has opened it already (a large one
    # streamed to a temporary file), so this reads it again from memory or that file.
    sbom_file = files.open(sbom_path, limits.sbom_max_bytes)
    try:
        sbom = parse_sbom(sbom_file, filename=sbom_path, max_bytes=limits.sbom_max_bytes,
                          time_budget_s=limits.sbom_time_budget_s)
    except RegistryError as exc:  # SbomError, TimeBudgetExceeded, PayloadTooLarge: the deep parse's refusals
        raise PackageRefused(exc.code, exc.detail, exc.field or "sbom", errors=exc.extra_errors) from None
    return InspectedPackage(contents=contents, files=files, report=report, manifest=manifest, sbom=sbom,
                            sbom_file=sbom_file, readme=_readme(files), warnings=report.warnings)


class LargeMembers:
    """Opens the members the first pass did not keep in memory (over 1 MiB, e.g. a large SBOM).

    Each is streamed by a second pass over the archive into a temporary file, once, and every
    later `open` reads that file (through a view of its own). At most ``max_bytes`` per member, and
    at most ``MAX_PASSES`` members, so that a package cannot make its reader decompress it over and
    over. The temporary files have no name and vanish with this object and the views.
    """

    MAX_PASSES = 4

    def __init__(self, stream: BinaryIO, contents: ArchiveContents, limits: ArchiveLimits, max_bytes: int) -> None:
        self._stream, self._contents, self._limits, self._max_bytes = stream, contents, limits, max_bytes
        self._spooled: dict[str, IO[bytes]] = {}

    def __call__(self, path: str) -> BinaryIO:
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
        return io.BufferedReader(_SpoolView(self._spooled[path]))


class _SpoolView(io.RawIOBase):
    """A read-only view of a spooled member with a position of its own: closing it leaves the
    spool open for the next reader. (Readers take turns; none runs while another reads.)"""

    def __init__(self, spool: IO[bytes]) -> None:
        super().__init__()
        self._spool, self._position = spool, 0
        self._size = spool.seek(0, io.SEEK_END)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._spool.seek(self._position)
        count = self._spool.readinto(buffer)
        self._position += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position


def _problem_text(problem: Problem) -> str:
    where = f" (line {problem.line})" if problem.line else ""
    hint = f" Hint: {problem.hint}" if problem.hint else ""
    return f"{problem.message}{where}.{hint}".replace("..", ".")


def _readme(files: PackageFiles) -> str | None:
    for name in README_NAMES:
        if files.exists(name):
            try:
                return files.read(name, README_MAX_BYTES).decode("utf-8", errors="replace")
            except FileTooLargeError:
                return None
    return None
