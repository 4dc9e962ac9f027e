"""Fixtures of the job tests: a real worker process on a real queue (SQLite file or Redis), an SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry.db import db
from tests.catalog.conftest import municipality, publish, vendor_tokens  # noqa: F401  (fixtures)
from tests.notifications.conftest import Receiver, receivers  # noqa: F401  (fixtures)
from tests.ports import free_port

# CI starts a redis-server of its own and names it here; each xdist worker takes its own database.
REDIS_URL = "{}/{}".format(os.environ.get("REGISTRY_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/"),
                           7 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0))
ROOT = Path(__file__).resolve().parents[2]


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["sqlite", "redis"])
def queue_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    if not redis_available():
        if os.environ.get("REGISTRY_REQUIRE_REDIS") == "1":
            pytest.fail(f"REGISTRY_REQUIRE_REDIS=1 but no redis-server answers at {REDIS_URL}")
        pytest.skip(f"no redis-server at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    return REDIS_URL


@pytest.fixture
def app_config(app_config, queue_url):
    return {**app_config, "QUEUE_URL": queue_url, "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "WEBHOOK_RETRY_SECONDS": "1", "WEBHOOK_TIMEOUT": 2}


@pytest.fixture
def start_worker(app, app_config, tmp_path):
    """Start `flask --app registry worker` on the test's database and queue; stopped after the test."""
    started: list[subprocess.Popen] = []

    def _start(workers: int = 1) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "REGISTRY_DATABASE_URL": app_config["DATABASE_URL"],
               "REGISTRY_QUEUE_URL": app_config["QUEUE_URL"], "REGISTRY_SECRET_KEY": app_config["SECRET_KEY"],
               "REGISTRY_STORAGE_PATH": app_config["STORAGE_PATH"], "REGISTRY_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
               "REGISTRY_WEBHOOK_RETRY_SECONDS": "1", "REGISTRY_WEBHOOK_TIMEOUT": "2",
               "REGISTRY_SMTP_HOST": app_config.get("SMTP_HOST") or "", "REGISTRY_LOG_LEVEL": "WARNING"}
        if not env["REGISTRY_SMTP_HOST"]:
            del env["REGISTRY_SMTP_HOST"]
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "registry", "worker", "--workers",
                                    str(workers)], env=env, cwd=tmp_path)
        started.append(process)
        return process

    yield _start
    for process in started:
        process.terminate()
        process.wait(timeout=20)


def wait_for(condition, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()  # see what the worker committed
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages: list = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    port = free_port()  # the controller checks it is up by connecting, so no port 0
    handler = Keep()
    handler.port = port
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler
    controller.stop()
