"""The members of a package as file entries: path, size, digest, executable bit and kind (text,
binary, image, archive), with the bytes of those small enough to keep. Plain Python (no Flask): the
reviewer's file viewer (registry/review/files.py) and the code checks (registry/spec/codechecks.py),
which `solreg check` runs too, read a package through these."""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from registry.spec.archive import ArchiveContents

SNIFF_BYTES: Final = 8192
ARCHIVE_SUFFIXES: Final = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".gz", ".bz2", ".xz", ".zst",
                           ".7z", ".rar", ".jar", ".war", ".whl", ".egg", ".apk", ".deb", ".rpm")
IMAGE_SUFFIXES: Final = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico", ".tif", ".tiff", ".avif")
ARCHIVE_MAGIC: Final = (b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"7z\xbc\xaf\x27\x1c", b"Rar!",
                        b"\x28\xb5\x2f\xfd")
IMAGE_MAGIC: Final = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"\x00\x00\x01\x00")
# Folders and files a build tool or package manager writes; a reviewer reads them last.
GENERATED_DIRS: Final = frozenset({"node_modules", "vendor", "dist", "build", "__pycache__", ".venv", "venv",
                                   "bower_components", "target", ".next", ".nuxt"})
GENERATED_NAMES: Final = frozenset({"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock",
                                    "uv.lock", "Cargo.lock", "go.sum", "composer.lock", "Gemfile.lock", "npm-shrinkwrap.json"})
GENERATED_SUFFIXES: Final = (".min.js", ".min.css", ".js.map", ".css.map", ".pyc")
# Korean files from before UTF-8 are mostly CP949 (a superset of EUC-KR).
ENCODINGS: Final = ("utf-8-sig", "cp949")
# Members up to this size are looked into to tell their kind and kept in memory for listing and diffing.
KEEP_BYTES: Final = 512 * 1024
KEEP_TOTAL: Final = 64 * 1024 * 1024
INDEX_VERSION: Final = 1  # of the columns of `index_columns`; an index of another version is read again


@dataclass(frozen=True, slots=True)  # slots: a listing holds one per member, tens of thousands at once
class FileEntry:
    path: str
    size: int
    sha256: str
    executable: bool
    kind: str  # text | binary | image | archive | unknown (too large to look into)
    # Where its data starts in the archive's uncompressed tar stream (read_members reads it from there).
    offset: int = field(default=-1, compare=False)
    # Asked of every entry on every page of a diff: told once.
    generated: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "generated", is_generated(self.path))

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


@dataclass
class ReleaseFiles:
    """A release's members (by path) and the bytes of those small enough to keep: a dict when the
    archive was read whole, or `LazyContents` that reads a member when it is first asked for."""

    entries: list[FileEntry]
    contents: Mapping[str, bytes]

    def entry(self, path: str) -> FileEntry | None:
        return self._by_path.get(path)

    def __post_init__(self) -> None:
        self._by_path = {e.path: e for e in self.entries}

    def prefetch(self, paths: Iterable[str]) -> None:
        """Read these members now, in one pass, rather than one pass each when they are asked for."""
        if isinstance(self.contents, LazyContents):
            self.contents.fetch(paths)

    @property
    def held_bytes(self) -> int:
        """The most this can hold in memory (what a cache counts)."""
        if isinstance(self.contents, LazyContents):
            return self.contents.ceiling
        return sum(map(len, self.contents.values()))


class LazyContents(Mapping[str, bytes]):
    """The bytes of the members an archive read would have kept (`keepable`), each read by `load`
    (several in one pass) the first time it is asked for, then kept."""

    def __init__(self, entries: list[FileEntry], load: Callable[[list[FileEntry]], dict[str, bytes]]) -> None:
        self._keepable = {e.path: e for e in keepable(entries)}
        self._load = load
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()  # one cached listing serves concurrent requests
        self.ceiling = sum(e.size for e in self._keepable.values())

    def fetch(self, paths: Iterable[str]) -> None:
        with self._lock:
            missing = [self._keepable[p] for p in dict.fromkeys(paths) if p in self._keepable and p not in self._data]
            if missing:
                self._data.update(self._load(missing))

    def __getitem__(self, path: str) -> bytes:
        if path not in self._keepable:
            raise KeyError(path)
        if path not in self._data:
            self.fetch([path])
        return self._data[path]

    def __contains__(self, path: object) -> bool:
        return path in self._keepable

    def __iter__(self) -> Iterator[str]:
        return iter(self._keepable)

    def __len__(self) -> int:
        return len(self._keepable)


def keepable(entries: Iterable[FileEntry], keep_bytes: int = KEEP_BYTES, keep_total: int = KEEP_TOTAL) -> list[FileEntry]:
    """The members read_archive keeps with these limits: small ones, in archive order, up to the total."""
    kept, total = [], 0
    for entry in sorted(entries, key=lambda e: e.offset):
        if entry.size <= keep_bytes and total + entry.size <= keep_total:
            kept.append(entry)
            total += entry.size
    return kept


def is_generated(path: str) -> bool:
    """Generated or vendored: under a build or dependency folder, a lock file or a minified bundle."""
    parts = path.split("/")
    name = parts[-1]
    return (any(p in GENERATED_DIRS for p in parts[:-1]) or name in GENERATED_NAMES
            or name.lower().endswith(GENERATED_SUFFIXES))


def decode(data: bytes) -> tuple[str, str] | None:
    """The text and its encoding, or None for binary data (NUL bytes, or no encoding we know fits)."""
    if b"\x00" in data[:SNIFF_BYTES]:
        return None
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding.removesuffix("-sig")
        except UnicodeDecodeError:
            continue
    return None


def classify(path: str, data: bytes | None) -> str:
    lower = path.lower()
    head = data[:SNIFF_BYTES] if data is not None else b""
    if lower.endswith(ARCHIVE_SUFFIXES) or head.startswith(ARCHIVE_MAGIC) or head[257:262] == b"ustar":
        return "archive"
    if lower.endswith(IMAGE_SUFFIXES) or head.startswith(IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if data is None:
        return "unknown"
    return "text" if decode(data) else "binary"


def entries_of(contents: ArchiveContents, look_into: int | None = None) -> list[FileEntry]:
    """The members of a read archive as file entries, by path; with `look_into`, a kept member larger
    than that is classified as if it had not been kept (as a read with that limit would)."""
    files = contents.files

    def data(path: str) -> bytes | None:
        kept = files.get(path)
        return kept if kept is None or look_into is None or len(kept) <= look_into else None

    entries = [FileEntry(m.path, m.size, m.sha256, bool(m.mode & 0o111), classify(m.path, data(m.path)), m.offset)
               for m in contents.members]
    return sorted(entries, key=lambda e: e.path)


INDEX_COLUMNS: Final = ("path", "size", "sha256", "executable", "kind", "offset")


def index_columns(contents: ArchiveContents) -> dict[str, list]:
    """A read archive's file index, by path: a list per field of FileEntry (INDEX_COLUMNS), kinds told
    as a read keeping KEEP_BYTES would tell them. Stored once per release, so listing and diffing its
    files need not read the archive again (registry/review/files.py). Columns, not a row per member:
    a row would be one more object per member to decode and for the garbage collector to walk."""
    entries = entries_of(contents, KEEP_BYTES)
    return {name: [getattr(e, name) for e in entries] for name in INDEX_COLUMNS}


def entries_from_index(columns: dict[str, list]) -> list[FileEntry]:
    return list(map(FileEntry, *(columns[name] for name in INDEX_COLUMNS)))
