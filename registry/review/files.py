"""The files of a release, read from its stored archive for the reviewer's file tree and viewer.

Everything comes from the blob the registry stored at upload, read again through the same safe
in-memory reader (registry/spec/archive.py): nothing is extracted to disk, nothing from a package
is executed, and text is only ever shown escaped (Pygments escapes every token). Reads are bounded:
a file is shown up to VIEW_BYTES and VIEW_LINES, and a member larger than READ_BYTES is not read.
"""

from __future__ import annotations

import logging
import posixpath
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Final

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from registry.db import db, utcnow, write_apart
from registry.releases.inspection import server_limits
from registry.releases.models import Release, ReleaseFileIndex
from registry.spec import members
from registry.spec.archive import ArchiveContents, read_archive, read_members
from registry.spec.files import path_fault
from registry.spec.members import (
    FileEntry,
    LazyContents,
    ReleaseFiles,
    classify,
    decode,
    entries_from_index,
    entries_of,
    index_columns,
    is_generated,
)
from registry.storage import storage

VIEW_BYTES: Final = 1024 * 1024  # shown of one file; the rest is cut with a note
VIEW_LINES: Final = 20_000
READ_BYTES: Final = 16 * 1024 * 1024  # a member above this is listed, never read for viewing
KEEP_BYTES: Final = members.KEEP_BYTES  # members kept in memory for listing and diffing
KEEP_TOTAL: Final = members.KEEP_TOTAL
log = logging.getLogger("registry.review")
# Archives read recently, per process: paging through a diff or walking the tree reads each once.
CACHE_BYTES: Final = 128 * 1024 * 1024

@dataclass
class Directory:
    name: str
    path: str
    directories: dict[str, Directory] = field(default_factory=dict)
    files: list[FileEntry] = field(default_factory=list)

    @property
    def generated(self) -> bool:
        return is_generated(self.path + "/")

    def children(self) -> list[Directory]:
        return sorted(self.directories.values(), key=lambda d: d.name)

    @property
    def count(self) -> int:
        return len(self.files) + sum(d.count for d in self.directories.values())


@dataclass
class FileView:
    entry: FileEntry
    kind: str
    encoding: str | None = None
    lines: list[Markup] = field(default_factory=list)  # highlighted, escaped HTML, one per line
    total_lines: int = 0
    cut: bool = False  # more than VIEW_BYTES / VIEW_LINES: only the start is shown
    too_large: bool = False  # above READ_BYTES: not read at all


def _read(release: Release, keep_bytes: int, keep=None) -> ArchiveContents:
    limits = replace(server_limits().archive, max_kept_file_bytes=keep_bytes, max_kept_total_bytes=KEEP_TOTAL)
    with storage().open(release.sha256) as blob:
        return read_archive(blob, limits, keep=keep)


class _ArchiveCache:
    """Read archives by digest and limits. Blobs are content-addressed, so an entry is never stale;
    the cache is bounded by the bytes it keeps, least recently used dropped first."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._items: OrderedDict[tuple, tuple[ReleaseFiles, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> ReleaseFiles | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: tuple, files: ReleaseFiles) -> None:
        cost = files.held_bytes + 256 * len(files.entries)
        if cost > self._budget:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (files, cost)
            self._bytes += cost
            while self._bytes > self._budget:
                self._bytes -= self._items.popitem(last=False)[1][1]


_cache = _ArchiveCache(CACHE_BYTES)


def release_files(release: Release) -> ReleaseFiles:
    """Every member of the release's archive, with the small ones' bytes (for listing and diffs).

    From the release's file index when it has one: the members are listed without reading the
    archive, and the bytes of a member are read (a forward pass to its offset, its SHA-256 checked)
    only when a page asks for them. A release without an index has its archive read whole once,
    and the index written for the next process."""
    key = (release.sha256, server_limits().archive)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    index = db.session.get(ReleaseFileIndex, release.id)
    if index is not None and index.version == members.INDEX_VERSION and index.archive_sha256 == release.sha256:
        entries = entries_from_index(index.members)  # stored by path
        files = ReleaseFiles(entries, LazyContents(entries, _member_reader(release.sha256)))
    else:
        contents = _read(release, KEEP_BYTES)
        files = ReleaseFiles(entries_of(contents), contents.files)
        _remember_index(release, contents, stale=index is not None)
    _cache.put(key, files)
    return files


def file_index(release: Release, columns: dict[str, list]) -> ReleaseFileIndex:
    """The index row of a release whose archive was just read (the upload adds it with the release)."""
    return ReleaseFileIndex(archive_sha256=release.sha256, version=members.INDEX_VERSION, members=columns,
                            created_at=utcnow())


def _remember_index(release: Release, contents: ArchiveContents, stale: bool) -> None:
    """Written apart from the request: a page that only looks must not hold the write lock, and two
    first looks at once both try; the second one's row is not needed. The index only saves time, so
    a write that fails is logged and the page is shown all the same."""
    table = ReleaseFileIndex.__table__
    try:
        if stale:
            write_apart(table.delete().where(table.c.release_id == release.id))
        write_apart(insert(table).values(release_id=release.id, archive_sha256=release.sha256,
                                         version=members.INDEX_VERSION, members=index_columns(contents),
                                         created_at=utcnow()))
    except IntegrityError:
        pass
    except SQLAlchemyError:
        log.warning("the file index of release %s was not written", release.id, exc_info=True)


def _member_reader(sha256: str):
    limits = server_limits().archive

    def read(entries: list[FileEntry]) -> dict[str, bytes]:
        with storage().open(sha256) as blob:
            return read_members(blob, [(e.path, e.offset, e.size, e.sha256) for e in entries], limits)

    return read


def tree(entries: list[FileEntry]) -> Directory:
    root = Directory("", "")
    for entry in entries:
        node = root
        for part in entry.path.split("/")[:-1]:
            node = node.directories.setdefault(part, Directory(part, f"{node.path}/{part}".lstrip("/")))
        node.files.append(entry)
    return root


def valid_path(path: str) -> bool:
    """A safe path in the normal form the archive reader stores; anything else is no member."""
    return path_fault(path) is None and posixpath.normpath(path) == path


def view_file(release: Release, path: str) -> FileView | None:
    """One member for the viewer, or None when the archive has no such file."""
    if not valid_path(path):
        return None
    files = release_files(release)
    entry = files.entry(path)
    if entry is None:
        return None
    data = files.contents.get(path)
    if data is None and entry.size <= READ_BYTES:  # too large to keep for diffs, small enough to show
        if entry.offset >= 0:
            data = _member_reader(release.sha256)([entry]).get(path)
        else:
            data = _read(release, READ_BYTES, keep=lambda p: p == path).files.get(path)
        entry = replace(entry, kind=classify(path, data))
    if data is None:
        return FileView(entry, entry.kind, too_large=True)
    decoded = decode(data) if entry.kind == "text" else None
    if decoded is None:
        return FileView(entry, "binary" if entry.kind == "text" else entry.kind)
    text, encoding = decoded
    lines = text.splitlines()
    shown, size = [], 0
    for line in lines[:VIEW_LINES]:
        size += len(line.encode("utf-8")) + 1
        if size > VIEW_BYTES:
            break
        shown.append(line)
    return FileView(entry, "text", encoding, highlight_lines(path, shown), len(lines), cut=len(shown) < len(lines))


def highlight_lines(path: str, lines: list[str]) -> list[Markup]:
    """Pygments HTML per line: CSS classes only (the CSP allows no inline style), every token escaped."""
    try:
        lexer = get_lexer_for_filename(path, stripnl=False, stripall=False, ensurenl=True)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False, ensurenl=True)
    html = highlight("\n".join(lines) + "\n", lexer, HtmlFormatter(nowrap=True))
    out = [Markup(line) for line in html.split("\n")]
    return out[:len(lines)]
