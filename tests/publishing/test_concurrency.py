"""Concurrent writers over real HTTP: uploads never fail because another request holds the database."""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from registry.accounts.models import ApiToken
from registry.db import db, utcnow
from registry.publishing import service
from registry.releases import states
from registry.releases.models import Artifact, Release
from registry.storage import storage
from tests.ports import free_port
from tests.publishing.packages import archive, build_archive, package_files

UPLOADS = 20


def upload_at_once(app, token: str, archives: list[bytes], before: list[bytes] = ()) -> list[int]:
    """Upload `before` one by one, then `archives` all at the same moment, through a real threaded server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/solutions/parking-share/releases"
    barrier = threading.Barrier(len(archives))
    results: list[int] = []

    def post(data: bytes) -> int:
        return requests.post(url, files={"archive": ("a.tar.gz", data)},
                             headers={"Authorization": f"Bearer {token}"}, timeout=60).status_code

    def send(data: bytes):
        barrier.wait()
        results.append(post(data))

    try:
        assert [post(data) for data in before] == [201] * len(before)
        workers = [threading.Thread(target=send, args=(data,)) for data in archives]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        server.shutdown()
    return results


def test_concurrent_uploads_of_one_version(app, vendor_token):
    files = package_files()
    files["README.md"] = b"# another build of the same version\n"
    results = upload_at_once(app, vendor_token, [archive(), build_archive(files)])
    assert sorted(results) == [201, 409]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Release.id))) == 1
    referenced = set(db.session.scalars(select(Artifact.sha256)))
    stored = set(storage().digests())
    assert stored == referenced  # the loser left no orphan blob


def _sizeable_package(version: str) -> bytes:
    """A package that takes the registry a noticeable moment to inspect (a couple of thousand members)."""
    files = package_files(version=version, summary={"ko": f"동시 업로드 시험 {version}", "en": f"upload {version}"})
    files.update({f"docs/{n}.md": f"# 설치 안내 {n}\n\n{os.urandom(48).hex()}\n".encode() for n in range(2000)})
    return build_archive(files, root=f"parking-share-{version}")


@contextmanager
def gunicorn(app, log: Path) -> Iterator[str]:
    """The registry in a real pre-forked, threaded server on the app's database and blob store."""
    port = free_port()
    env = {**os.environ, "REGISTRY_DATABASE_URL": app.config["DATABASE_URL"],
           "REGISTRY_STORAGE_PATH": app.config["STORAGE_PATH"], "REGISTRY_SECRET_KEY": app.config["SECRET_KEY"],
           "REGISTRY_QUEUE_URL": "immediate", "REGISTRY_REVIEW_CODE_CHECKS": "false",  # locking is tested, not checks
           "REGISTRY_RATELIMIT_ENABLED": "false", "REGISTRY_LOG_LEVEL": "WARNING"}
    with log.open("wb") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "6", "--graceful-timeout", "1",
             "-b", f"127.0.0.1:{port}", "registry:create_app()"], env=env, stdout=subprocess.DEVNULL, stderr=errors)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not _healthy(url):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:  # not listening yet, or a worker still booting
        return False


def test_twenty_uploads_and_other_writers_at_once(app, upload, vendor_token, tmp_path):
    # A published release for the other writer to yank and unyank (and download) meanwhile.
    assert upload(vendor_token, archive(version="1.0.0")).status_code == 201
    states.transition_release(db.session.scalar(select(Release)), "approve")
    db.session.commit()
    packages = [_sizeable_package(f"2.{i}.0") for i in range(UPLOADS)]
    auth = {"Authorization": f"Bearer {vendor_token}"}
    uploads: list[int] = []
    others: list[tuple[str, int]] = []
    started = threading.Barrier(UPLOADS + 1)
    done = threading.Event()

    with gunicorn(app, tmp_path / "gunicorn.log") as url:
        releases = f"{url}/api/v1/solutions/parking-share/releases"

        def send(data: bytes) -> None:
            started.wait()
            uploads.append(requests.post(releases, files={"archive": ("p.tar.gz", data)}, headers=auth,
                                         timeout=60).status_code)

        def other_writer() -> None:
            started.wait()
            while not done.is_set():
                for action, call in (
                        ("yank", lambda: requests.post(f"{releases}/1.0.0/yank", json={"reason": "동시성 시험"},
                                                       headers=auth, timeout=60)),
                        ("unyank", lambda: requests.post(f"{releases}/1.0.0/unyank", headers=auth, timeout=60)),
                        ("download", lambda: requests.get(f"{releases}/1.0.0/archive", timeout=60))):
                    others.append((action, call().status_code))

        threads = [threading.Thread(target=send, args=(data,)) for data in packages]
        threads.append(threading.Thread(target=other_writer))
        for t in threads:
            t.start()
        for t in threads[:-1]:
            t.join()
        done.set()
        threads[-1].join()
    log = (tmp_path / "gunicorn.log").read_text()
    assert uploads == [201] * UPLOADS, log
    assert others and {status for _, status in others} == {200}, (others, log)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Release.id))) == UPLOADS + 1
    downloads = sum(1 for action, _ in others if action == "download")
    assert db.session.scalar(select(Release.download_count).where(Release.version == "1.0.0")) == downloads


def _holds_write_transaction() -> bool:
    """Whether the request's session has begun writing (SQLite: holds the write lock; PostgreSQL: has an xid)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        return connection.connection.dbapi_connection.in_transaction
    return connection.exec_driver_sql("SELECT pg_current_xact_id_if_assigned()").scalar() is not None


def test_no_write_transaction_while_an_upload_is_read_and_checked(upload, vendor_token, monkeypatch):
    seen: list[tuple[str, bool]] = []

    def watched(function):
        def call(*args, **kwargs):
            seen.append((function.__name__, _holds_write_transaction()))
            return function(*args, **kwargs)
        return call

    for name in ("inspect_archive", "verify_provenance"):  # inspect_archive parses the SBOM too
        monkeypatch.setattr(service, name, watched(getattr(service, name)))
    monkeypatch.setattr(service, "begin_write", watched(service.begin_write))
    assert upload(vendor_token).status_code == 201
    assert seen == [("inspect_archive", False), ("verify_provenance", False),
                    ("begin_write", False)]


def test_token_use_is_recorded_apart_and_at_most_once_a_minute(client, make_user, make_token):
    raw = make_token(make_user("kim", org="hanbit"), "hanbit", ["read"])
    auth = {"Authorization": f"Bearer {raw}"}

    def last_use_after_a_request():
        # A refused upload: the request never commits, yet the use is recorded.
        assert client.post("/api/v1/solutions/parking-share/releases", headers=auth).status_code == 400
        db.session.expire_all()
        return db.session.scalar(select(ApiToken.last_used_at))

    first = last_use_after_a_request()
    assert first is not None and utcnow() - first < timedelta(seconds=10)
    recent = utcnow() - timedelta(seconds=30)
    db.session.execute(update(ApiToken).values(last_used_at=recent))
    db.session.commit()
    assert last_use_after_a_request() == recent
    db.session.execute(update(ApiToken).values(last_used_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    assert utcnow() - last_use_after_a_request() < timedelta(seconds=10)


def test_sqlite_connections_wait_for_the_lock_and_reads_take_none(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking")
    with db.engine.connect() as first, db.engine.connect() as second:
        for connection in (first, second):
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        first.execute(select(ApiToken.id))
        assert not first.connection.dbapi_connection.in_transaction
        # A read takes no lock, so another connection may write straight away.
        second.execute(update(ApiToken).values(last_used_at=None))
        second.commit()


def test_versions_of_equal_precedence_uploaded_at_once_make_one_release(app, vendor_token):
    """1.1.0 and 1.1.0+빌드 at the same moment: the later writer sees the earlier one and gets 409."""
    results = upload_at_once(app, vendor_token, [archive(version=v) for v in ("1.1.0", "1.1.0+build.7")],
                             before=[archive(version="1.0.0")])
    assert sorted(results) == [201, 409]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Release.id))) == 2
    assert set(storage().digests()) == set(db.session.scalars(select(Artifact.sha256)))


def test_first_uploads_of_a_new_solution_at_once_both_land(app, vendor_token):
    """Two versions of a solution nobody has published yet, at the same moment: the one that did not
    create the solution writes again beside it instead of getting a 409 meant for a taken version."""
    results = upload_at_once(app, vendor_token, [archive(version=f"1.{i}.0") for i in range(4)])
    assert results == [201] * 4
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Release.id))) == 4
