"""Safe, in-memory inspection of a solution package (``.tar.gz``).

Used by the registry (upload inspection) and by ``solreg`` (checking a built
package). Nothing is ever extracted to disk. The archive is read once, as a
stream, and refused with an ``ArchiveError`` as soon as it breaks a rule:

* only regular files and directories (no symlinks, hard links, devices, fifos,
  sparse files), no absolute paths, no ``..``, no duplicate names;
* everything under one top-level directory, normally ``<name>-<version>/``;
* bounded member count, unpacked size and compression ratio, checked while
  decompressing, so a gzip bomb is stopped after a few megabytes;
* an intact gzip stream: truncation, CRC errors and trailing garbage are refused.

We decompress ourselves (``zlib``) and hand tarfile the plain tar stream, because
tarfile's own gzip reader neither verifies the gzip CRC nor lets us count the
compressed bytes consumed.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, BinaryIO, Final

from registry.spec.files import normalise_path, path_fault
from registry.spec.problems import SpecError

if TYPE_CHECKING:
    from registry.spec.files import PackageFiles

GZIP_MAGIC: Final = b"\x1f\x8b"
_CHUNK: Final = 64 * 1024
HEAD_BYTES: Final = 16

ArchiveSource = str | os.PathLike[str] | bytes | IO[bytes]
KeepPredicate = Callable[[str], bool]


class ArchiveError(SpecError):
    """The archive was refused; ``code`` is stable and machine-readable.

    Codes: not-gzip, not-tar, truncated, corrupt, absolute-path, path-traversal,
    bad-path, symlink, hardlink, special-file, duplicate-member, no-root,
    multiple-roots, too-many-members, too-large, ratio, empty.
    """

    def __init__(self, code: str, message: str, path: str | None = None) -> None:
        super().__init__(message, code=code, field="archive")
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int = 10_000
    # Counts the whole decompressed tar stream (headers and padding included).
    max_unpacked_bytes: int = 2 * 1024**3
    # Decompressed bytes per compressed byte read so far.
    max_ratio: float = 100.0
    # Small archives are mostly tar padding and compress extremely well; the
    # ratio only says something once there is enough data.
    ratio_grace_bytes: int = 1024 * 1024
    max_kept_file_bytes: int = 1024 * 1024
    max_kept_total_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class MemberInfo:
    path: str  # relative to the archive root
    size: int
    mode: int
    sha256: str
    offset: int = -1  # where its data starts in the uncompressed tar stream (for read_members)
    head: bytes = b""  # its first HEAD_BYTES, kept for every member: enough to tell an executable


@dataclass
class ArchiveContents:
    root: str
    members: list[MemberInfo] = field(default_factory=list)  # regular files, in archive order
    directories: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # the kept regular files
    unpacked_bytes: int = 0  # sum of regular file sizes
    compressed_bytes: int = 0

    def member(self, path: str) -> MemberInfo | None:
        return next((m for m in self.members if m.path == path), None)

    def as_package_files(self, open_unkept: Callable[[str], BinaryIO] | None = None) -> PackageFiles:
        """The package as the validator sees it: every member exists, the kept ones can be read;
        one that was too large to keep is opened with ``open_unkept`` (e.g. a second pass, see
        copy_member) or, without it, raises FileTooLargeError."""
        from registry.spec.files import MappingFiles

        return MappingFiles(self.files, sizes={m.path: m.size for m in self.members}, directories=self.directories,
                            open_unkept=open_unkept)


def copy_member(source: IO[bytes], path: str, destination: IO[bytes], limits: ArchiveLimits = ArchiveLimits()) -> bool:
    """Stream the regular file ``path`` (relative to the root) of the archive into ``destination``,
    a chunk at a time: how a member too large to keep in memory is read. False if it is not there.

    ``source`` is read from its start, with every check of ``read_archive``.
    """
    source.seek(0)
    wanted = normalise_path(path)
    found = _read(source, limits, keep=lambda _: False, sink=(wanted, destination))
    return found.member(wanted) is not None


def read_archive(
    source: ArchiveSource,
    limits: ArchiveLimits = ArchiveLimits(),
    *,
    keep: KeepPredicate | None = None,
) -> ArchiveContents:
    """Inspect a ``.tar.gz`` package without extracting it.

    ``source`` is a path, the archive bytes or a binary file object (read from
    its current position, not closed). Regular files of at most
    ``limits.max_kept_file_bytes`` for which ``keep(path)`` is true (default:
    all) are kept in memory until ``limits.max_kept_total_bytes`` are kept;
    every file is listed in ``members`` with its size and SHA-256.
    """
    if isinstance(source, bytes):
        return _read(io.BytesIO(source), limits, keep)
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            return _read(handle, limits, keep)
    return _read(source, limits, keep)


def read_members(source: IO[bytes], wanted: Iterable[tuple[str, int, int, str]],
                 limits: ArchiveLimits = ArchiveLimits()) -> dict[str, bytes]:
    """The bytes of a few members of an archive that ``read_archive`` read before, each given as
    (path, offset, size, sha256) from its ``MemberInfo``: one forward pass of the decompressed stream
    to each offset, without parsing the tar headers between. Each member read must have its SHA-256,
    so a wrong offset or another archive is refused (``corrupt``), never returned."""
    stream = _GzipStream(source, limits)
    position, found = 0, {}
    for path, offset, size, sha256 in sorted(wanted, key=lambda w: w[1]):
        if offset < position:
            raise ArchiveError("corrupt", f"{path!r} overlaps another member in the file index", path)
        _skip(stream, offset - position)
        data = _exactly(stream, size)
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
            raise ArchiveError("corrupt", f"{path!r} is not at offset {offset} of this archive with its SHA-256", path)
        found[path] = data
        position = offset + size
    return found


def _skip(stream: _GzipStream, count: int) -> None:
    while count:
        chunk = stream.read(min(count, 16 * _CHUNK))
        if not chunk:
            raise ArchiveError("truncated", "the archive ends before a member the file index names")
        count -= len(chunk)


def _exactly(stream: _GzipStream, count: int) -> bytes:
    parts, left = [], count
    while left:
        chunk = stream.read(min(left, 16 * _CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


class _GzipStream(io.RawIOBase):
    """Decompresses a gzip stream on demand, enforcing size and ratio limits."""

    def __init__(self, raw: IO[bytes], limits: ArchiveLimits) -> None:
        super().__init__()
        self._raw = raw
        self._limits = limits
        self._inflater = zlib.decompressobj(wbits=31)
        self._pending = b""  # compressed input not yet fed to the inflater
        self._raw_eof = False
        self.compressed = 0
        self.decompressed = 0
        self._check_magic()

    def _check_magic(self) -> None:
        head = self._raw.read(2)
        self.compressed += len(head)
        if not head:
            raise ArchiveError("not-gzip", "the file is empty, not a .tar.gz archive")
        if head != GZIP_MAGIC:
            raise ArchiveError("not-gzip", "the file is not gzip-compressed; a .tar.gz archive is expected")
        self._pending = head

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inflate(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _inflate(self, size: int) -> bytes:
        while True:
            if self._inflater.eof:
                self._next_member()
                if self._inflater.eof:
                    return b""
            if not self._pending and not self._raw_eof:
                self._pending = self._raw.read(_CHUNK)
                self.compressed += len(self._pending)
                self._raw_eof = not self._pending
            if not self._pending and self._raw_eof:
                raise ArchiveError("truncated", "the gzip stream ends before its end marker; the file is truncated")
            try:
                # max_length bounds how much one call may inflate: the bomb defence.
                out = self._inflater.decompress(self._pending, max(size, 1))
            except zlib.error as exc:
                raise ArchiveError("corrupt", f"the gzip data is corrupt ({exc})") from exc
            self._pending = self._inflater.unconsumed_tail
            if out:
                self._count(len(out))
                return out

    def _next_member(self) -> None:
        """After one gzip member ends, continue with a concatenated one or check only padding follows."""
        rest = self._inflater.unused_data + self._pending
        while len(rest) < 2 and not self._raw_eof:
            more = self._raw.read(_CHUNK)
            self.compressed += len(more)
            self._raw_eof = not more
            rest += more
        if not rest:
            return
        if rest[:2] != GZIP_MAGIC:
            raise ArchiveError("corrupt", "unexpected data after the end of the gzip stream")
        self._inflater = zlib.decompressobj(wbits=31)
        self._pending = rest

    def _count(self, produced: int) -> None:
        self.decompressed += produced
        limits = self._limits
        if self.decompressed > limits.max_unpacked_bytes:
            raise ArchiveError(
                "too-large", f"the archive unpacks to more than {limits.max_unpacked_bytes} bytes"
            )
        if (
            self.decompressed > limits.ratio_grace_bytes
            and self.decompressed > limits.max_ratio * self.compressed
        ):
            raise ArchiveError(
                "ratio",
                f"compression ratio above {limits.max_ratio:g}:1 ({self.decompressed} bytes from "
                f"{self.compressed}); refusing a likely decompression bomb",
            )

    def drain(self) -> None:
        """Read to the end so the gzip CRC and length are verified."""
        while self._inflate(_CHUNK):
            pass


def _read(raw: IO[bytes], limits: ArchiveLimits, keep: KeepPredicate | None,
          sink: tuple[str, IO[bytes]] | None = None) -> ArchiveContents:
    stream = _GzipStream(raw, limits)
    seen: set[str] = set()
    root: str | None = None
    contents = ArchiveContents(root="")
    kept_total = 0
    count = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                count += 1
                if count > limits.max_members:
                    raise ArchiveError("too-many-members", f"the archive has more than {limits.max_members} members")
                parts = _checked_parts(member)
                if not parts:  # "./" entry of `tar -C dir .`
                    continue
                if root is None:
                    root = parts[0]
                elif parts[0] != root:
                    raise ArchiveError(
                        "multiple-roots",
                        f"{member.name!r} is outside the top-level directory {root + '/'!r}; "
                        "all files must be under one <name>-<version>/ directory",
                        member.name,
                    )
                relative = "/".join(parts[1:])
                if not relative:
                    if member.isreg():
                        raise ArchiveError("no-root", f"{member.name!r} is a file at the top level; files must be "
                                           "under one <name>-<version>/ directory", member.name)
                    continue  # the root directory's own entry
                if relative in seen:
                    raise ArchiveError("duplicate-member", f"{member.name!r} appears more than once", member.name)
                seen.add(relative)
                if member.isdir():
                    contents.directories.append(relative)
                    continue
                if stream.decompressed + member.size > limits.max_unpacked_bytes:
                    raise ArchiveError("too-large", f"{member.name!r} ({member.size} bytes) would take the archive "
                                       f"over {limits.max_unpacked_bytes} unpacked bytes", member.name)
                wanted = (
                    member.size <= limits.max_kept_file_bytes
                    and kept_total + member.size <= limits.max_kept_total_bytes
                    and (keep is None or keep(relative))
                )
                kept = bytearray() if wanted else None
                head = bytearray()

                def consume(chunk: bytes, kept=kept, head=head) -> None:
                    if len(head) < HEAD_BYTES:
                        head.extend(chunk[:HEAD_BYTES - len(head)])
                    if kept is not None:
                        kept.extend(chunk)

                if sink is not None and sink[0] == relative:
                    digest = _read_member(tar, member, sink[1].write)
                else:
                    digest = _read_member(tar, member, consume)
                contents.members.append(MemberInfo(relative, member.size, member.mode & 0o7777, digest,
                                                   member.offset_data, bytes(head)))
                contents.unpacked_bytes += member.size
                if kept is not None:
                    contents.files[relative] = bytes(kept)
                    kept_total += len(kept)
        stream.drain()
    except tarfile.ReadError as exc:
        if "unexpected end" in str(exc):
            raise ArchiveError("truncated", "the tar data ends in the middle of a member") from exc
        if count == 0:
            raise ArchiveError("not-tar", f"the gzip data is not a tar archive ({exc})") from exc
        raise ArchiveError("corrupt", f"the tar data is corrupt after {count} members ({exc})") from exc
    except tarfile.TarError as exc:
        raise ArchiveError("corrupt", f"the tar data is corrupt ({exc})") from exc
    if root is None:
        raise ArchiveError("empty", "the archive contains no files")
    if not contents.directories and not contents.members:
        raise ArchiveError("empty", f"the top-level directory {root + '/'!r} is empty")
    contents.root = root
    contents.compressed_bytes = stream.compressed
    return contents


def _checked_parts(member: tarfile.TarInfo) -> list[str]:
    name = member.name
    if member.issym():
        raise ArchiveError("symlink", f"{name!r} is a symbolic link (to {member.linkname!r}); links are not allowed", name)
    if member.islnk():
        raise ArchiveError("hardlink", f"{name!r} is a hard link (to {member.linkname!r}); links are not allowed", name)
    if member.issparse():
        raise ArchiveError("special-file", f"{name!r} is a sparse file; only regular files are allowed", name)
    if not (member.isreg() or member.isdir()):
        kind = {tarfile.CHRTYPE: "a character device", tarfile.BLKTYPE: "a block device",
                tarfile.FIFOTYPE: "a FIFO"}.get(member.type, f"of tar type {member.type!r}")
        raise ArchiveError("special-file", f"{name!r} is {kind}; only regular files and directories are allowed", name)
    fault = path_fault(name)
    if fault is not None:
        raise ArchiveError(fault[0], f"{name!r} {fault[1]}", name)
    return [part for part in name.split("/") if part not in ("", ".")]


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, consume: Callable[[bytes], object] | None) -> str:
    """The member's SHA-256; each chunk read also goes to ``consume``, if given."""
    handle = tar.extractfile(member)
    if handle is None:  # cannot happen for regular files; guards the type checker
        raise ArchiveError("corrupt", f"cannot read {member.name!r}", member.name)
    digest = hashlib.sha256()
    remaining = member.size
    while remaining:
        chunk = handle.read(min(_CHUNK, remaining))
        if not chunk:
            raise ArchiveError("truncated", f"{member.name!r} ends before its declared size", member.name)
        remaining -= len(chunk)
        digest.update(chunk)
        if consume is not None:
            consume(chunk)
    return digest.hexdigest()
