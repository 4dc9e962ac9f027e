"""The production setup in deploy/ survives slow clients; bare sync workers do not.

nginx (rendered from deploy/nginx.conf) runs in front of gunicorn with deploy/gunicorn.conf.py,
both on free ports of 127.0.0.1. Without nginx on the machine these tests are skipped, unless
REGISTRY_REQUIRE_NGINX=1 (CI), where they fail.
"""

from __future__ import annotations

import http.client
import os
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest

from registry.config import DEFAULTS
from tests.ops.production import (
    SLOW_HEADER_OPENING,
    Server,
    Target,
    Trickler,
    files_log_path,
    nginx_binary,
    nginx_setting,
    operator,
    registry_env,
    slow_body_opening,
    start_bare_gunicorn,
    start_nginx,
    start_production_gunicorn,
)

WORKERS = 2  # as few as the setup the issue broke, to show the proxy is what saves it
ANSWER_WITHIN = 3.0  # seconds a normal request may take while the slow clients hold on
# Every web POST reads its form (CSRF check) before it answers, so a slow body there holds a sync worker.
SLOW_POST = "/login"
NORMAL = ["/healthz", "/search?q=" + quote("교통 데이터"), "/api/v1/solutions?q=" + quote("주차")]


def _require_nginx() -> None:
    if nginx_binary():
        return
    message = "nginx is missing; install it with `apt-get install -y nginx-light`"
    if os.environ.get("REGISTRY_REQUIRE_NGINX") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> tuple[dict[str, str], Path]:
    workdir = tmp_path_factory.mktemp("production")
    env = registry_env(workdir, REGISTRY_ACCEL_REDIRECT_PREFIX="/_blobs/")
    operator(env, "db", "upgrade")
    return env, workdir


@pytest.fixture(scope="module")
def production(instance) -> Iterator[tuple[Target, Server]]:
    """nginx in front of gunicorn; yields nginx's address and the gunicorn server (for its log)."""
    _require_nginx()
    env, workdir = instance
    gunicorn, upstream = start_production_gunicorn(env, workdir, workers=WORKERS)
    try:
        nginx, target = start_nginx(workdir, upstream.port)
        try:
            yield target, gunicorn
        finally:
            nginx.stop()
    finally:
        gunicorn.stop()


def _assert_normal_requests_answer(target: Target, source: str) -> None:
    for path in NORMAL:
        status, body, seconds = target.request("GET", path, source=source, timeout=ANSWER_WITHIN + 5)
        assert status == 200, (path, status, body[:300])
        assert seconds < ANSWER_WITHIN, f"{path} took {seconds:.1f} s"


def test_slow_bodies_and_slow_headers_do_not_block_normal_requests(production):
    target, _ = production
    slow = Trickler(target)
    count = 2 * WORKERS + 4  # more than the workers could ever hold
    try:
        slow.open(count, slow_body_opening(SLOW_POST))
        slow.open(count, SLOW_HEADER_OPENING)
        for _ in range(3):  # while the slow clients keep trickling, over a few seconds
            _assert_normal_requests_answer(target, source="127.0.0.2")
            time.sleep(1)
        # They were really in flight all along: nginx still reads from every one of them.
        assert slow.waiting() == 2 * count, slow.statuses()
    finally:
        slow.close()


def test_connections_per_address_are_limited_while_others_still_get_in(production):
    target, _ = production
    limit = int(nginx_setting("limit_conn").split()[1])
    slow = Trickler(target)
    try:
        slow.open(limit + 3, slow_body_opening(SLOW_POST), source="127.0.0.3")
        deadline = time.monotonic() + 5
        while len(slow.collect()) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(slow.statuses()) == ["429"] * 3
        assert slow.waiting() == limit
        _assert_normal_requests_answer(target, source="127.0.0.2")
    finally:
        slow.close()


def test_a_body_over_the_registry_cap_is_refused_by_nginx_before_it_is_sent(production):
    target, _ = production
    assert nginx_setting("client_max_body_size") == f"{DEFAULTS['MAX_UPLOAD_MB'] + 8}m"  # the registry's own cap
    sock = target.connect()
    try:
        sock.sendall(slow_body_opening(SLOW_POST, length=(DEFAULTS["MAX_UPLOAD_MB"] + 9) * 1024 * 1024))
        assert sock.recv(4096).startswith(b"HTTP/1.1 413")
    finally:
        sock.close()


def test_the_registry_sees_the_client_address_not_the_proxy_nor_a_forged_one(production):
    target, gunicorn = production
    status, _, _ = target.request("GET", "/healthz?from=forger", source="127.0.0.4",
                                  headers={"X-Forwarded-For": "203.0.113.7"})
    assert status == 200
    deadline = time.monotonic() + 5
    while "/healthz?from=forger" not in gunicorn.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    line = next(line for line in gunicorn.log_text().splitlines() if "/healthz?from=forger" in line)
    assert "registry.requests: 127.0.0.4 GET /healthz?from=forger 200" in line


def test_requests_for_another_host_name_are_dropped(production):
    target, gunicorn = production
    with pytest.raises(http.client.RemoteDisconnected):
        target.request("GET", "/healthz?host=forged", headers={"Host": "evil.example"})
    assert "host=forged" not in gunicorn.log_text()


def test_bare_sync_workers_are_held_by_as_many_slow_clients(instance):
    """Why the proxy is needed: two slow clients take both workers of `gunicorn -w 2`."""
    env, workdir = instance
    gunicorn, target = start_bare_gunicorn(env, workdir, workers=WORKERS)
    slow = Trickler(target)
    try:
        slow.open(WORKERS + 1, SLOW_HEADER_OPENING)
        time.sleep(0.5)  # each worker has taken one
        with pytest.raises(TimeoutError):
            target.request("GET", "/healthz", source="127.0.0.2", timeout=ANSWER_WITHIN)
    finally:
        slow.close()
        gunicorn.stop()


_PUBLISHED: dict[str, bytes] = {}


def _published_and_pending(env: dict[str, str]) -> bytes:
    """parking-share 1.2.0 published and 1.3.0 pending, made once per instance."""
    if env["REGISTRY_DATABASE_URL"] not in _PUBLISHED:
        _PUBLISHED[env["REGISTRY_DATABASE_URL"]] = _publish_and_upload(env)
    return _PUBLISHED[env["REGISTRY_DATABASE_URL"]]


def _publish_and_upload(env: dict[str, str]) -> bytes:
    """parking-share 1.2.0 published and 1.3.0 pending, uploaded through the registry into the instance."""
    import io

    from registry import create_app
    from registry.accounts import service as accounts
    from registry.db import db
    from registry.releases import states
    from registry.releases.service import get_release
    from tests.publishing.packages import archive

    app = create_app({"DATABASE_URL": env["REGISTRY_DATABASE_URL"], "STORAGE_PATH": env["REGISTRY_STORAGE_PATH"],
                      "SECRET_KEY": "x", "RATELIMIT_ENABLED": False})
    with app.app_context():
        user = accounts.create_user("accel", "accel@example.org", "correct-horse-1", None)
        org = accounts.create_org("accel-org", "가속 주식회사", "vendor")
        accounts.add_member(org, user, "owner")
        token = accounts.issue_token(user, org, ["publish"]).raw
        db.session.commit()
        db.session.commit()
        data = archive()
        for version, package in (("1.2.0", data), ("1.3.0", archive(version="1.3.0"))):
            response = app.test_client().post(
                "/api/v1/solutions/parking-share/releases", headers={"Authorization": f"Bearer {token}"},
                data={"archive": (io.BytesIO(package), "parking-share.tar.gz")}, content_type="multipart/form-data")
            assert response.status_code == 201, response.json
        states.transition_release(get_release("parking-share", "1.2.0"), "approve")
        db.session.commit()
        db.engine.dispose()
    return data


def test_nginx_sends_published_archives_itself_and_never_a_pending_one(production, instance):
    target, _ = production
    data = _published_and_pending(instance[0])
    conn = http.client.HTTPSConnection(target.host, target.port, context=target.tls(), timeout=10)
    try:
        conn.request("GET", "/api/v1/solutions/parking-share/releases/1.2.0/archive")
        response = conn.getresponse()
        assert response.status == 200 and response.read() == data
        assert response.getheader("X-Accel-Redirect") is None  # nginx acted on it, the client never sees it
        assert response.getheader("Content-Disposition") == "attachment; filename=parking-share-1.2.0.tar.gz"
        assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
        assert response.getheader("Repr-Digest", "").startswith("sha-256=:")
        conn.request("GET", "/api/v1/solutions/parking-share/releases/1.3.0/archive")
        pending = conn.getresponse()
        assert pending.status == 404 and pending.read()  # private: no redirect around the access check
        conn.request("GET", "/_blobs/sha256/")
        assert conn.getresponse().status == 404  # internal: not reachable from outside
    finally:
        conn.close()


def test_nginx_serves_public_files_from_the_tree_and_the_worker_counts_them(production, instance):
    import hashlib

    from sqlalchemy import select

    from registry import create_app
    from registry.db import db
    from registry.releases.models import Release
    from registry.storage.base import public_key
    from tests.publishing.packages import archive

    target, _ = production
    env, workdir = instance
    data = _published_and_pending(env)
    operator(env, "storage", "public-tree")  # what the public_files handler does on approval (no worker here)
    key = public_key(hashlib.sha256(data).hexdigest(), "parking-share-1.2.0.tar.gz")
    pending = public_key(hashlib.sha256(archive(version="1.3.0")).hexdigest(), "parking-share-1.3.0.tar.gz")
    app = create_app({"DATABASE_URL": env["REGISTRY_DATABASE_URL"], "STORAGE_PATH": env["REGISTRY_STORAGE_PATH"],
                      "SECRET_KEY": "x", "QUEUE_URL": "immediate", "DOWNLOAD_LOG_PATH": str(files_log_path(workdir))})

    def downloads() -> int:
        with app.app_context():
            count = db.session.scalar(select(Release.download_count).where(Release.version == "1.2.0"))
            db.session.remove()
            return count
    before = downloads()
    conn = http.client.HTTPSConnection(target.host, target.port, context=target.tls(), timeout=10)
    try:
        conn.request("GET", f"/files/{key}")
        response = conn.getresponse()
        assert response.status == 200 and response.read() == data
        assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
        assert response.getheader("Content-Disposition") == "attachment"  # the URL's last part names the file
        assert response.getheader("Content-Type") == "application/gzip"
        assert response.getheader("Set-Cookie") is None
        for path in (f"/files/{pending}", f"/files/{key[:-7]}.zip", f"/files/{key}/", "/files/../registry.db",
                     "/files/%2e%2e/registry.db", "/files/..%2Fregistry.db", "/files/sha256/"):
            conn.request("GET", path)
            refused = conn.getresponse()
            refused.read()
            assert refused.status in (400, 404), (path, refused.status)
    finally:
        conn.close()
    assert downloads() == before  # nginx sent it: no worker counted anything
    deadline = time.monotonic() + 5
    while f"200 OK GET /files/{key}" not in files_log_path(workdir).read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    with app.app_context():
        app.extensions["jobs"].count_downloads.call_local()
        db.session.remove()
        db.engine.dispose()
    assert downloads() == before + 1  # the 404s and 400s are in the log too, and not counted
