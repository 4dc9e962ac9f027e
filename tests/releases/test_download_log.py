"""Counting the downloads nginx served from /files/, from its access log (registry/releases/download_log.py)."""

from __future__ import annotations

import hashlib
import os

from sqlalchemy import select

from registry.db import db
from registry.jobs.runs import ScheduledRun
from registry.releases import download_log, states
from registry.releases.models import Release
from registry.releases.service import get_release
from registry.storage.base import public_key
from tests.publishing.packages import archive

NAME = "parking-share-1.2.0.tar.gz"


def _published(upload, token) -> str:
    data = archive()
    assert upload(token, data).status_code == 201
    states.transition_release(get_release("parking-share", "1.2.0"), "approve")
    db.session.commit()
    return public_key(hashlib.sha256(data).hexdigest(), NAME)


_clock = iter(range(1764710400, 1864710400))


def line(key: str, status: int = 200, completion: str = "OK", method: str = "GET") -> str:
    """One line as nginx writes it, each at a later time (nginx's lines differ at least there)."""
    return f"files1 {next(_clock)}.123 {status} {completion} {method} /files/{key}\n"


def downloads() -> int:
    db.session.expire_all()
    return db.session.scalar(select(Release.download_count))


def run(app) -> dict:
    app.extensions["jobs"].count_downloads.call_local()
    db.session.expire_all()
    return db.session.get(ScheduledRun, "count_downloads").summary


def test_parse_takes_only_whole_gets_of_a_well_formed_key():
    key = public_key("ab" + "cd" + "e" * 60, NAME)
    assert download_log.parse(line(key).strip()) == key
    assert download_log.parse(line(key, status=206).strip()) is None  # a range
    assert download_log.parse(line(key, status=304).strip()) is None
    assert download_log.parse(line(key, completion="-").strip()) is None  # broken off
    assert download_log.parse(line(key, method="HEAD").strip()) is None
    forged = [
        "",
        "files1",
        "아무 말 대잔치",
        f"files1 1764710400.123 200 OK GET /files/{key} 200 OK GET /files/{key}",  # a URI with spaces
        f"files1 1764710400.123 200 OK GET /files/00/00/{'ab' + 'cd' + 'e' * 60}/{NAME}",  # fan-out mismatch
        f"files1 1764710400.123 200 OK GET /files/{key}/../../x",
        f"files1 1764710400.123 200 OK GET /files/{key[:-7]}\\x0Afiles1",
        f"files0 1764710400.123 200 OK GET /files/{key}",
        "\x00" * 40,
    ]
    for text in forged:
        assert download_log.parse(text) is None, text


def test_the_task_counts_new_lines_once_and_skips_forged_ones(app, upload, vendor_token, tmp_path):
    key = _published(upload, vendor_token)
    log = tmp_path / "files.log"
    app.config["DOWNLOAD_LOG_PATH"] = str(log)
    assert run(app)["counted"] == 0  # no log yet: nothing, no error
    log.write_text(line(key) * 3 + line(key, status=206) + "쓰레기 줄\n"
                   + line(public_key("0" * 64, "other-1.0.0.tar.gz"))  # well formed, of nothing public
                   + f"files1 1.000 200 OK GET /files/{key} x y\n", encoding="utf-8")
    summary = run(app)
    assert downloads() == 3 and summary["counted"] == 3 and summary["skipped"] == 2 and summary["lines"] == 7
    assert run(app)["counted"] == 0 and downloads() == 3  # nothing new: nothing counted twice
    shown = app.test_client().get("/healthz").json["scheduled"]["count_downloads"]
    assert shown["counted"] == 0 and not any(k.startswith("_") for k in shown)  # its place is not public
    with open(log, "a") as out:
        partial = line(key)
        out.write(line(key) + partial[:20])  # the second still being written
    assert run(app)["counted"] == 1 and downloads() == 4
    with open(log, "a") as out:
        out.write(partial[20:])
    assert run(app)["counted"] == 1 and downloads() == 5


def test_rotation_and_truncation_lose_no_line_and_count_none_twice(app, upload, vendor_token, tmp_path):
    key = _published(upload, vendor_token)
    log = tmp_path / "files.log"
    app.config["DOWNLOAD_LOG_PATH"] = str(log)
    log.write_text(line(key))
    run(app)
    assert downloads() == 1
    with open(log, "a") as out:
        out.write(line(key) * 2)  # written before the rotation, not read yet
    os.rename(log, tmp_path / "files.log.1")  # logrotate: move, and nginx reopens a new file
    log.write_text(line(key))
    assert run(app)["counted"] == 3 and downloads() == 4
    log.write_text("")  # copytruncate
    with open(log, "a") as out:
        out.write(line(key))
    assert run(app)["counted"] == 1 and downloads() == 5


def test_without_the_setting_the_task_does_nothing(app, upload, vendor_token):
    _published(upload, vendor_token)
    app.extensions["jobs"].count_downloads.call_local()
    assert db.session.get(ScheduledRun, "count_downloads").summary == {}
