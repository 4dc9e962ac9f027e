"""Byte-for-byte reproducible ``<name>-<version>.tar.gz`` from a commit's tree.

The same tag gives the same bytes on any machine, whatever the checkout time,
umask or user, because nothing is taken from the work tree:

* files only — no directory entries (extractors create parents themselves) —
  sorted by their UTF-8 path, all below ``<name>-<version>/``;
* mtime = commit time, uid/gid 0, empty owner names, mode 0644, or 0755 when
  git records the executable bit;
* tar in PAX format; gzip with mtime 0, no file name, OS byte "unknown",
  compression level 9 (identical zlib builds give identical output);
* symlinks and submodules are refused: the registry rejects archives with links
  and a submodule's content is not part of the tree.

Blobs are streamed from ``git cat-file`` so memory stays flat however big the
archive gets.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from publisher_cli.errors import BuildError

if TYPE_CHECKING:
    import git

GZIP_LEVEL = 9
_EXECUTABLE = 0o100755
_REGULAR = 0o100644
_SYMLINK = 0o120000
_GITLINK = 0o160000


@dataclass(frozen=True)
class BuiltArchive:
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class _Entry:
    path: str  # relative to the solution directory
    mode: int
    blob: git.Blob


class _HashingWriter:
    """File wrapper that hashes and counts bytes as they are written."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()


def _entries(tree: git.Tree, subdirectory: str) -> Iterator[_Entry]:
    prefix = f"{subdirectory}/" if subdirectory else ""
    for item in tree.traverse():
        mode = item.mode
        if item.type == "tree":
            continue
        relative = item.path[len(prefix):]
        if item.type == "submodule" or mode == _GITLINK:
            raise BuildError(
                f"{item.path} is a git submodule; submodules cannot be packaged",
                hint="vendor the submodule's files into the repository or drop it",
            )
        if mode == _SYMLINK:
            raise BuildError(
                f"{item.path} is a symbolic link; the registry refuses archives with links",
                hint="replace the link with a copy of the file (git rm the link, add the file)",
            )
        if mode not in (_REGULAR, _EXECUTABLE):
            raise BuildError(f"{item.path} has unsupported git mode {mode:o}")
        yield _Entry(relative, mode, item)


def collect_entries(repo: git.Repo, commit: str, subdirectory: str = "") -> list[_Entry]:
    tree = repo.commit(commit).tree
    if subdirectory:
        try:
            tree = tree / subdirectory
        except KeyError:
            raise BuildError(f"{subdirectory}/ does not exist in commit {commit[:10]}") from None
        if tree.type != "tree":
            raise BuildError(f"{subdirectory} is not a directory in commit {commit[:10]}")
    return sorted(_entries(tree, subdirectory), key=lambda entry: entry.path.encode("utf-8"))


def _tarinfo(name: str, entry: _Entry, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = entry.blob.size
    info.mtime = mtime
    info.mode = 0o755 if entry.mode == _EXECUTABLE else 0o644
    info.type = tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def build_archive(
    repo: git.Repo,
    commit: str,
    *,
    top_level: str,
    out_dir: Path,
    subdirectory: str = "",
) -> BuiltArchive:
    """Write ``out_dir/<top_level>.tar.gz`` from ``commit`` (only ``subdirectory`` of it)."""
    entries = collect_entries(repo, commit, subdirectory)
    if not entries:
        raise BuildError(f"nothing to package: {subdirectory or 'the repository'} is empty at {commit[:10]}")
    mtime = repo.commit(commit).committed_date
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{top_level}.tar.gz"
    fd, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as raw:
            writer = _HashingWriter(raw)
            # filename="" keeps the name out of the gzip header; mtime=0 keeps the time out.
            with gzip.GzipFile(filename="", mode="wb", fileobj=writer, mtime=0,  # type: ignore[arg-type]
                               compresslevel=GZIP_LEVEL) as gz:
                with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
                    for entry in entries:
                        tar.addfile(_tarinfo(f"{top_level}/{entry.path}", entry, mtime),
                                    entry.blob.data_stream)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return BuiltArchive(target, writer.digest.hexdigest(), writer.size)
