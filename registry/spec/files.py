"""Read-only access to the files of a solution package.

The validator checks files referenced by the manifest (deploy targets, SBOM)
through this small interface, so the same checks run on a directory on disk
(the CLI) and on an archive the server has already read safely into memory.
Paths are package-relative POSIX paths; anything escaping the package is refused.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from registry.spec.problems import SpecError

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


class PackageFileError(SpecError):
    """A package file cannot be read as asked."""

    code = "package-file-unreadable"


class UnsafePathError(PackageFileError, ValueError):
    """The path is absolute, escapes the package, or goes through a symlink out of it."""

    code = "unsafe-path"


class PackageFileNotFound(PackageFileError, FileNotFoundError):
    """No such file in the package."""

    code = "package-file-missing"


class FileTooLargeError(PackageFileError):
    """The file is larger than the caller allows."""

    status = 413
    code = "file-too-large"

    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(f"{path} is {size:,} bytes; at most {limit:,} bytes are read.")
        self.path, self.size, self.limit = path, size, limit


def path_fault(path: str) -> tuple[str, str] | None:
    """Why ``path`` cannot name a file inside a package, as (code, reason); None when it can.

    The one rule for every package path: the archive reader refuses such members, the validator
    such manifest paths (after normalising them) and the file viewer such requests. A path is
    '/'-separated and relative, holds no backslash or NUL and no ``..`` part at all.
    """
    if path.startswith("/") or _WINDOWS_DRIVE.match(path):
        return "absolute-path", "is an absolute path; paths must be relative to the package root"
    if "\\" in path or "\x00" in path:
        return "bad-path", "contains a backslash or NUL character"
    if ".." in path.split("/"):
        return "path-traversal", "contains '..'; paths must stay inside the package"
    return None


def normalise_path(path: str) -> str:
    """A manifest path as the package stores it: ``./deploy//helm/`` -> ``deploy/helm``,
    ``deploy\\compose.yaml`` -> ``deploy/compose.yaml``; ``""`` or ``.`` is the package root.

    A ``..`` that stays inside the package is folded away; for a path that still breaks the rule of
    :func:`path_fault` it raises :class:`UnsafePathError`.
    """
    if not isinstance(path, str):
        raise UnsafePathError(f"{path!r} is not a usable path.")
    posix = path.replace("\\", "/")  # a manifest written on Windows
    normal = posixpath.normpath(posix) if posix else "."
    fault = path_fault(normal)
    if fault is not None:
        raise UnsafePathError(f"{path!r} {fault[1]}.")
    return "" if normal == "." else normal


@runtime_checkable
class PackageFiles(Protocol):
    """Read-only view of a package's files (paths relative to the package root)."""

    def exists(self, path: str) -> bool: ...

    def is_dir(self, path: str) -> bool: ...

    def read(self, path: str, max_bytes: int) -> bytes: ...

    def open(self, path: str, max_bytes: int) -> BinaryIO:
        """The file as a seekable binary stream, for reading a large one a part at a time; the caller closes it."""
        ...

    def list(self, prefix: str = "") -> list[str]:
        """Every regular file under ``prefix`` (recursively), sorted."""
        ...


class DirectoryFiles:
    """Files of a package unpacked in a directory; symlinks must stay inside it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise PackageFileNotFound(f"{root} is not a directory.")

    def _resolve(self, path: str) -> Path:
        relative = normalise_path(path)
        target = (self.root / relative).resolve()
        if target != self.root and self.root not in target.parents:
            raise UnsafePathError(f"{path!r} leads outside the package (through a symlink).")
        return target

    def exists(self, path: str) -> bool:
        return self._resolve(path).exists()

    def is_dir(self, path: str) -> bool:
        return self._resolve(path).is_dir()

    def read(self, path: str, max_bytes: int) -> bytes:
        with self.open(path, max_bytes) as handle:
            data = handle.read(max_bytes + 1)  # the file may grow between stat and read
        if len(data) > max_bytes:
            raise FileTooLargeError(normalise_path(path), len(data), max_bytes)
        return data

    def open(self, path: str, max_bytes: int) -> BinaryIO:
        target = self._resolve(path)
        if not target.is_file():
            raise PackageFileNotFound(f"{normalise_path(path) or '.'} is not a file in the package.")
        size = target.stat().st_size
        if size > max_bytes:
            raise FileTooLargeError(normalise_path(path), size, max_bytes)
        return target.open("rb")

    def list(self, prefix: str = "") -> list[str]:
        start = self._resolve(prefix)
        if start.is_file():
            return [normalise_path(prefix)]
        found: list[str] = []
        for directory, _subdirs, names in os.walk(start):  # does not follow directory symlinks
            for name in names:
                candidate = Path(directory) / name
                resolved = candidate.resolve()
                if resolved.is_file() and (self.root in resolved.parents):
                    found.append(candidate.relative_to(self.root).as_posix())
        return sorted(found)


class MappingFiles:
    """Files already held in memory, e.g. read safely from an uploaded archive.

    ``sizes`` may list more files than ``files`` holds: files too large to have been kept
    still exist (and are listed); opening one within ``max_bytes`` calls ``open_unkept(path)``,
    which may itself raise FileTooLargeError, and without it raises FileTooLargeError.
    """

    def __init__(self, files: Mapping[str, bytes], *, sizes: Mapping[str, int] | None = None,
                 directories: Iterable[str] = (), open_unkept: Callable[[str], BinaryIO] | None = None) -> None:
        self._open_unkept = open_unkept
        self._files = {normalise_path(path): data for path, data in files.items()}
        self._sizes = {path: len(data) for path, data in self._files.items()}
        self._sizes.update({normalise_path(path): size for path, size in (sizes or {}).items()})
        self._dirs = {""} | {normalise_path(d) for d in directories}
        for path in self._sizes:
            parts = path.split("/")[:-1]
            self._dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))

    def exists(self, path: str) -> bool:
        path = normalise_path(path)
        return path in self._sizes or path in self._dirs

    def is_dir(self, path: str) -> bool:
        return normalise_path(path) in self._dirs

    def read(self, path: str, max_bytes: int) -> bytes:
        normal = self._readable(path, max_bytes)
        if normal in self._files:
            return self._files[normal]
        with self.open(normal, max_bytes) as handle:
            return handle.read()

    def open(self, path: str, max_bytes: int) -> BinaryIO:
        normal = self._readable(path, max_bytes)
        if normal in self._files:
            return io.BytesIO(self._files[normal])
        return self._open_unkept(normal)  # type: ignore[misc]  # not None: checked by _readable

    def _readable(self, path: str, max_bytes: int) -> str:
        normal = normalise_path(path)
        if normal not in self._sizes:
            raise PackageFileNotFound(f"{normal or '.'} is not a file in the package.")
        if self._sizes[normal] > max_bytes or (normal not in self._files and self._open_unkept is None):
            raise FileTooLargeError(normal, self._sizes[normal], max_bytes)
        return normal

    def list(self, prefix: str = "") -> list[str]:
        prefix = normalise_path(prefix)
        if prefix in self._sizes:
            return [prefix]
        if not prefix:
            return sorted(self._sizes)
        return sorted(p for p in self._sizes if p.startswith(prefix + "/"))
