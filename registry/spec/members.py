"""The members of a package as file entries: path, size, digest, executable bit and kind (text,
binary, image, archive), with the bytes of those small enough to keep. Plain Python (no Flask): the
reviewer's file viewer (registry/review/files.py) and the code checks (registry/spec/codechecks.py),
which `solreg check` runs too, read a package through these."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str
    executable: bool
    kind: str  # text | binary | image | archive | unknown (too large to look into)

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def generated(self) -> bool:
        return is_generated(self.path)


@dataclass
class ReleaseFiles:
    """A release's members (by path) and the bytes of those small enough to keep."""

    entries: list[FileEntry]
    contents: dict[str, bytes]

    def entry(self, path: str) -> FileEntry | None:
        return self._by_path.get(path)

    def __post_init__(self) -> None:
        self._by_path = {e.path: e for e in self.entries}


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


def entries_of(contents: ArchiveContents) -> list[FileEntry]:
    """The members of a read archive as file entries, by path."""
    entries = [FileEntry(m.path, m.size, m.sha256, bool(m.mode & 0o111), classify(m.path, contents.files.get(m.path)))
               for m in contents.members]
    return sorted(entries, key=lambda e: e.path)
