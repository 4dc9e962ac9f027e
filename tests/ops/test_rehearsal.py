"""The start-up rehearsal of the upload path (registry/ops/rehearsal.py): it warms what a first upload
would compile, and leaves nothing behind, on either engine; a rehearsal that cannot run never stops a start."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine.default import CACHE_MISS

from registry.db import db
from registry.jobs import jobs
from registry.ops.rehearsal import rehearse_upload
from tests.conftest import empty_postgres_database
from tests.publishing.packages import archive

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config(app_config, tmp_path):
    # A queue in a file and no worker, as behind gunicorn: anything enqueued stays there to be seen.
    return {**app_config, "QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}"}


def _rows() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables}


def _files(*roots: Path) -> list[str]:
    return sorted(str(path) for root in roots if root.exists() for path in root.rglob("*"))


def _missed(engine, run) -> list[str]:
    """The statements `run` executed that the engine had not compiled before."""
    missed = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if context is not None and context.cache_hit == CACHE_MISS:
            missed.append(" ".join(statement.split())[:80])

    event.listen(engine, "after_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "after_cursor_execute", note)
    return missed


def _created(response) -> None:
    assert response.status_code == 201, response.get_json()


def test_the_rehearsal_leaves_no_row_blob_file_or_task_behind(app, vendor_token, upload, tmp_path, monkeypatch):
    assert upload(vendor_token).status_code == 201  # a registry with something in it already
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    storage_root = Path(app.config["STORAGE_PATH"])
    rows, files, queued = _rows(), _files(storage_root, scratch), jobs().huey.pending_count()
    db.session.remove()

    seconds = rehearse_upload(app)

    assert seconds is not None and seconds > 0  # it ran, and did not merely fail quietly
    assert _rows() == rows
    assert _files(storage_root, scratch) == files  # no blob, no spool file, no temporary file
    assert jobs().huey.pending_count() == queued
    assert db.engine.pool.checkedin() == 0  # the master keeps no connection for the workers to inherit


def test_after_the_rehearsal_an_upload_compiles_nothing_of_its_own(app, vendor_token, upload):
    db.session.remove()
    assert rehearse_upload(app) is not None
    # A new solution's first release, then a second release of it: the two ways an upload writes.
    for version in ("1.2.0", "1.3.0"):
        missed = _missed(db.engine, lambda: _created(upload(vendor_token, archive(version=version))))
        # Only the end of the request is left: handing the committed event to the queue.
        assert [s for s in missed if "event_outbox" not in s] == [], missed


def test_without_the_rehearsal_the_first_upload_compiles_its_statements(app, vendor_token, upload):
    """What the rehearsal saves (the counterpart of the test above)."""
    missed = _missed(db.engine, lambda: _created(upload(vendor_token)))
    assert any(s.startswith("INSERT INTO releases") for s in missed), missed


def _unmigrated_config(db_url: str, tmp_path: Path) -> dict:
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = empty_postgres_database("rehearsal_unmigrated")
    return {"DATABASE_URL": url, "STORAGE_PATH": str(tmp_path / "blobs"), "SECRET_KEY": "x", "QUEUE_URL": "immediate"}


def test_a_rehearsal_that_fails_is_a_warning(db_url, make_app, tmp_path, caplog):
    unmigrated = make_app(_unmigrated_config(db_url, tmp_path))
    with caplog.at_level(logging.WARNING, logger="registry.rehearsal"):
        assert rehearse_upload(unmigrated) is None
    assert "upload rehearsal skipped" in caplog.text
    with unmigrated.app_context():
        assert db.engine.pool.checkedin() == 0


def test_the_wsgi_entry_point_starts_on_an_unmigrated_database(tmp_path):
    """deploy/wsgi.py (gunicorn's master with preload_app) imports all the same, with the warning."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'deploy'}:{ROOT}", "REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
           "REGISTRY_STORAGE_PATH": str(tmp_path / "blobs"), "REGISTRY_SECRET_KEY": "x", "REGISTRY_QUEUE_URL": "immediate",
           "REGISTRY_LOG_LEVEL": "INFO"}
    done = subprocess.run([sys.executable, "-c", "import flask, wsgi; print(isinstance(wsgi.application, flask.Flask))"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert "upload rehearsal skipped" in done.stderr


def test_the_setting_turns_the_rehearsal_off(app_config, make_app, caplog):
    quiet = make_app({**app_config, "UPLOAD_REHEARSAL": False})
    with caplog.at_level(logging.INFO, logger="registry.rehearsal"):
        assert rehearse_upload(quiet) is None
    assert "rehears" not in caplog.text  # not run at all: neither rehearsed nor skipped with a warning
