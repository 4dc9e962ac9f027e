"""Downloads nginx served from /files/, counted from its access log by the worker (never in the request).

deploy/nginx.conf writes one line per answer of `location /files/` in the format `registry_files`:

    files1 <msec> <status> <request_completion> <request_method> <uri>

e.g. `files1 1764710400.123 200 OK GET /files/ab/cd/<sha256>/parking-share-1.2.0.tar.gz`. A download
counts when it is a whole 200 answer to a GET (`OK`: nginx sent the last byte) of a key of a public
release. The periodic task `count_downloads` reads the lines written since its saved place (inode and
offset, and a hash of the file's first bytes, kept in its scheduled_runs row and committed with the
counts, so no line counts twice) and adds the counts, one UPDATE per release, in one transaction.
Rotation: when the file at the path is a new one (another inode), the rest of the old one is read from
`<path>.1` first (logrotate's name) when it is that inode; a file shorter than the saved offset, or
whose first bytes changed, was truncated (copytruncate) and is read from its start. Lines that are not of this format, cut short, or forged (the URI is the client's, and nginx
leaves spaces in it unescaped) are skipped and counted as such, never an error.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from pathlib import Path

from sqlalchemy import update

from registry.db import db
from registry.releases.files import releases_by_key
from registry.releases.models import Release

MAX_READ = 64 * 1024 * 1024  # bytes one run reads at most; the next run goes on from there
HEAD = 4096  # the file's first bytes, hashed: a file truncated and written again past the offset starts otherwise
_LINE = re.compile(r"files1 \d+\.\d{3} (\d{3}) (OK|-) ([A-Z]+) /files/"
                   r"([0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}/[A-Za-z0-9][A-Za-z0-9.+_-]{0,199})")


def parse(line: str) -> str | None:
    """The public key a line says was downloaded whole, or None (another answer, or not a line of ours)."""
    match = _LINE.fullmatch(line)
    if match is None:
        return None
    status, completion, method, key = match.groups()
    prefix, second, digest, _ = key.split("/")
    if status != "200" or completion != "OK" or method != "GET" or digest[:2] != prefix or digest[2:4] != second:
        return None
    return key


def _read_from(path: Path, offset: int) -> tuple[list[str], int]:
    """Whole lines from `offset` on (a line still being written is left for the next run), and the new offset."""
    with open(path, "rb") as log:
        log.seek(offset)
        data = log.read(MAX_READ)
    end = data.rfind(b"\n") + 1
    return data[:end].decode("utf-8", "replace").splitlines(), offset + end


def _head(path: Path, length: int) -> str:
    with open(path, "rb") as log:
        return hashlib.sha256(log.read(min(length, HEAD))).hexdigest()


def new_lines(path: Path, state: dict) -> tuple[list[str], dict]:
    """Lines written since the place `state` saved, and the place the next run starts from."""
    inode, offset, head = state.get("_inode"), int(state.get("_offset") or 0), state.get("_head")
    current = os.stat(path)
    lines: list[str] = []
    if inode is not None and current.st_ino != inode:  # rotated: the old file's rest, then the new one
        rotated = path.with_name(path.name + ".1")
        try:
            if os.stat(rotated).st_ino == inode:
                lines, _ = _read_from(rotated, offset)
        except FileNotFoundError:
            pass
        offset = 0
    elif current.st_size < offset or (offset and head and _head(path, offset) != head):
        offset = 0  # truncated in place (copytruncate), maybe already longer again: its start is not ours
    more, offset = _read_from(path, offset)
    # "_": the place is the task's own, kept out of the public /healthz (registry/jobs/runs.py last_runs).
    return lines + more, {"_inode": current.st_ino, "_offset": offset, "_head": _head(path, offset) if offset else None}


def count(path: Path, state: dict) -> dict:
    """Count the downloads logged since `state` (the last run's summary); returns this run's summary,
    which is the next run's state."""
    try:
        lines, place = new_lines(path, state)
    except FileNotFoundError:  # nginx has not written it yet
        return {**state, "lines": 0, "counted": 0, "skipped": 0}
    keys: Counter[str] = Counter()
    skipped = 0
    for line in lines:
        key = parse(line)
        if key is not None:
            keys[key] += 1
        elif _LINE.fullmatch(line) is None:
            skipped += 1  # not a line of ours: malformed, cut, forged
    per_release: Counter[int] = Counter()
    for key, release_id in (releases_by_key(set(keys)) if keys else {}).items():
        per_release[release_id] += keys[key]
    for release_id, downloads in sorted(per_release.items()):
        db.session.execute(update(Release).where(Release.id == release_id)
                           .values(download_count=Release.download_count + downloads))
    return {**place, "lines": len(lines), "counted": sum(per_release.values()), "skipped": skipped}
