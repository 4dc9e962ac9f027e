"""The source diff between two releases' archives: which files were added, removed, changed or
renamed (by SHA-256), and per file the hunks of a line diff (difflib), capped so a huge change
stays readable and fast. Generated and vendored files are marked so the pages collapse them."""

from __future__ import annotations

import difflib
import posixpath
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Final

from registry.spec.members import FileEntry, ReleaseFiles, decode

CONTEXT: Final = 3
MAX_ROWS: Final = 2_000  # diff rows shown per file; the rest is cut with a note
RENAME_MIN_RATIO: Final = 0.6
RENAME_MAX_BYTES: Final = 64 * 1024  # only small text files are compared for similar renames
RENAME_MAX_PAIRS: Final = 400


@dataclass(frozen=True)
class FileChange:
    status: str  # added | removed | changed | renamed
    old: FileEntry | None
    new: FileEntry | None
    similarity: int | None = None  # percent, for renames

    @property
    def path(self) -> str:
        return (self.new or self.old).path  # type: ignore[union-attr]

    @property
    def generated(self) -> bool:
        return (self.new or self.old).generated  # type: ignore[union-attr]


@dataclass
class SourceDiff:
    changes: list[FileChange]
    unchanged: int

    def count(self, status: str) -> int:
        return sum(1 for c in self.changes if c.status == status)

    @property
    def reviewable(self) -> list[FileChange]:
        return [c for c in self.changes if not c.generated]

    @property
    def generated(self) -> list[FileChange]:
        return [c for c in self.changes if c.generated]

    def change(self, path: str) -> FileChange | None:
        return next((c for c in self.changes if c.path == path), None)


@dataclass(frozen=True)
class Row:
    """One line of a hunk. kind: " " context, "-" removed, "+" added."""

    kind: str
    old_no: int | None
    new_no: int | None
    text: str


@dataclass(frozen=True)
class SplitRow:
    """One line of the side-by-side view: left (old) and right (new), either may be empty."""

    kind: str  # equal | delete | insert | replace
    old_no: int | None
    old_text: str | None
    new_no: int | None
    new_text: str | None


@dataclass
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    rows: list[Row] = field(default_factory=list)
    split: list[SplitRow] = field(default_factory=list)

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"


@dataclass
class FileDiff:
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False  # one side is not text: only "changed" can be said
    too_large: bool = False  # one side was too large to keep in memory
    cut: bool = False  # more than MAX_ROWS rows: the rest is not shown


def source_diff(old: ReleaseFiles | None, new: ReleaseFiles) -> SourceDiff:
    before = {e.path: e for e in (old.entries if old else [])}
    after = {e.path: e for e in new.entries}
    changes = [FileChange("changed", before[p], after[p]) for p in sorted(before.keys() & after.keys())
               if before[p].sha256 != after[p].sha256]
    unchanged = len(before.keys() & after.keys()) - len(changes)
    removed = {p: before[p] for p in sorted(before.keys() - after.keys())}
    added = {p: after[p] for p in sorted(after.keys() - before.keys())}
    changes += _renames(removed, added, old, new)
    changes += [FileChange("removed", e, None) for e in removed.values()]
    changes += [FileChange("added", None, e) for e in added.values()]
    return SourceDiff(sorted(changes, key=lambda c: c.path), unchanged)


def _renames(removed: dict[str, FileEntry], added: dict[str, FileEntry], old: ReleaseFiles | None,
             new: ReleaseFiles) -> list[FileChange]:
    """Pair removed with added files: same content first, then similar small text files.
    Found pairs are taken out of `removed` and `added`."""
    renames = []
    by_digest: dict[str, list[str]] = {}
    for path, entry in removed.items():
        by_digest.setdefault(entry.sha256, []).append(path)
    for path, entry in list(added.items()):
        if by_digest.get(entry.sha256):
            renames.append(FileChange("renamed", removed.pop(by_digest[entry.sha256].pop(0)), added.pop(path), 100))
    if old is None:
        return renames
    small = [(p, e) for p, e in removed.items() if e.kind == "text" and e.size <= RENAME_MAX_BYTES]
    candidates = [(p, e) for p, e in added.items() if e.kind == "text" and e.size <= RENAME_MAX_BYTES]
    if not small or len(small) * len(candidates) > RENAME_MAX_PAIRS:
        return renames
    old.prefetch(p for p, _e in small)
    new.prefetch(p for p, _e in candidates)
    for old_path, old_entry in small:
        old_lines = _lines(old.contents.get(old_path))
        best: tuple[float, str] | None = None
        for new_path, _entry in candidates:
            if new_path not in added or posixpath.splitext(new_path)[1] != posixpath.splitext(old_path)[1]:
                continue
            matcher = difflib.SequenceMatcher(None, old_lines, _lines(new.contents.get(new_path)), autojunk=False)
            if matcher.quick_ratio() >= RENAME_MIN_RATIO and (ratio := matcher.ratio()) >= RENAME_MIN_RATIO:
                best = max(best or (ratio, new_path), (ratio, new_path))
        if best:
            renames.append(FileChange("renamed", removed.pop(old_path), added.pop(best[1]), round(best[0] * 100)))
    return renames


def _lines(data: bytes | None) -> list[str]:
    decoded = decode(data) if data is not None else None
    return decoded[0].splitlines() if decoded else []


def file_diff(change: FileChange, old: ReleaseFiles | None, new: ReleaseFiles) -> FileDiff:
    """The hunks of one file's change (an added file is all "+", a removed one all "-")."""
    sides = []
    for entry, files in ((change.old, old), (change.new, new)):
        if entry is None or files is None:
            sides.append(b"")
            continue
        data = files.contents.get(entry.path)
        if data is None:
            return FileDiff(too_large=True)
        sides.append(data)
    texts = [decode(side) for side in sides]
    if texts[0] is None or texts[1] is None:
        return FileDiff(binary=True)
    return line_diff(texts[0][0].splitlines(), texts[1][0].splitlines())


def line_diff(a: list[str], b: list[str], context: int = CONTEXT, max_rows: int = MAX_ROWS) -> FileDiff:
    diff = FileDiff()
    rows = 0
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        if rows >= max_rows:
            diff.cut = True
            break
        first, last = group[0], group[-1]
        hunk = Hunk(first[1] + 1, last[2] - first[1], first[3] + 1, last[4] - first[3])
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                hunk.rows += [Row(" ", i + 1, j + 1, a[i]) for i, j in zip(range(i1, i2), range(j1, j2))]
                hunk.split += [SplitRow(tag, i + 1, a[i], j + 1, b[j]) for i, j in zip(range(i1, i2), range(j1, j2))]
                continue
            hunk.rows += [Row("-", i + 1, None, a[i]) for i in range(i1, i2)]
            hunk.rows += [Row("+", None, j + 1, b[j]) for j in range(j1, j2)]
            for i, j in zip_longest(range(i1, i2), range(j1, j2)):
                kind = tag if i is not None and j is not None else ("delete" if j is None else "insert")
                hunk.split.append(SplitRow(kind, None if i is None else i + 1, None if i is None else a[i],
                                           None if j is None else j + 1, None if j is None else b[j]))
        if rows + len(hunk.rows) > max_rows:
            diff.cut = True
            keep = max_rows - rows
            hunk.rows = hunk.rows[:keep]
            hunk.split = hunk.split[:keep]
        rows += len(hunk.rows)
        diff.hunks.append(hunk)
    return diff
