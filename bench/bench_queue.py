"""The job queue: a yank's request latency with 50 adopters whose webhooks take 5 s each, and jobs per second
through one and two worker processes (SQLite queue file; Redis too when a redis-server answers)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import markdown_table, summarize, write_report  # noqa: E402

ADOPTERS = 50
SLOW_SECONDS = 5
JOBS = 400
YANKS = 8
REDIS_URL = "redis://127.0.0.1:6379/8"
NOTE = ("Two workers add throughput only where there are cores to spare; on a machine whose two cores are busy "
        "with other work the second process mostly competes with the first (and, on SQLite, for its write lock).")


class Slow(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(SLOW_SECONDS)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def make_app(base: Path, queue_url: str):
    from flask_migrate import upgrade

    from registry import create_app
    from registry.db import db

    base.mkdir(parents=True, exist_ok=True)
    config = {"DATABASE_URL": f"sqlite:///{base / 'registry.db'}", "STORAGE_PATH": str(base / "blobs"),
              "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False, "QUEUE_URL": queue_url,
              "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    app = create_app(config)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return app, config


def yank_latency(base: Path) -> list[float]:
    from registry import events
    from registry.accounts import service as accounts
    from registry.catalog.adoption import record_adoption, set_webhook
    from registry.db import db
    from registry.releases import states
    from registry.releases.service import get_release
    from tests.publishing.packages import archive

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app, _ = make_app(base, f"sqlite:///{base / 'queue.db'}")
    samples = []
    with app.app_context():
        vendor = accounts.create_user("vendor", "vendor@example.org", "correct-horse-1")
        org = accounts.create_org("hanbit", "한빛", "vendor")
        accounts.add_member(org, vendor, "owner")
        db.session.commit()
        token = accounts.issue_token(vendor, org, ["publish", "yank"]).raw
        db.session.commit()
        client = app.test_client()
        versions = [f"1.0.{i}" for i in range(YANKS)]
        for version in versions:
            response = client.post("/api/v1/solutions/parking-share/releases", content_type="multipart/form-data",
                                   data={"archive": (io.BytesIO(archive("parking-share", version)), "p.tar.gz")},
                                   headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 201, response.json
            release = get_release("parking-share", version)
            states.transition_release(release, "approve")
            db.session.commit()
            for i in range(ADOPTERS if version == versions[0] else 0):
                owner = accounts.create_user(f"city{i}", f"city{i}@example.org", "correct-horse-1")
                city = accounts.create_org(f"city{i}", f"도시{i}", "municipality")
                accounts.add_member(city, owner, "owner")
                db.session.commit()
                set_webhook(owner, city, f"http://127.0.0.1:{server.server_address[1]}/hook")
        for version in versions:  # every adopter runs each version
            release = get_release("parking-share", version)
            for i in range(ADOPTERS):
                city = accounts.get_org(f"city{i}")
                record_adoption(city.memberships[0].user, city, release, "production", date(2024, 5, 1))
        events.dispatch_pending()  # the set-up's own events, so that each yank's request dispatches only its own
        for version in versions:
            started = time.perf_counter()
            response = client.post(f"/api/v1/solutions/parking-share/releases/{version}/yank",
                                   json={"reason": "예약 오류"}, headers={"Authorization": f"Bearer {token}"})
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.json
        db.engine.dispose()
    server.shutdown()
    return samples


def jobs_per_second(base: Path, queue_url: str, workers: int) -> float:
    app, config = make_app(base, queue_url)
    jobs = app.extensions["jobs"]
    jobs.huey.flush()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REGISTRY_DATABASE_URL": config["DATABASE_URL"],
           "REGISTRY_QUEUE_URL": queue_url, "REGISTRY_SECRET_KEY": "bench", "REGISTRY_LOG_LEVEL": "WARNING",
           "REGISTRY_STORAGE_PATH": config["STORAGE_PATH"]}
    processes = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "registry", "worker", "--workers", "1"],
                                  env=env, cwd=base) for _ in range(workers)]
    try:
        time.sleep(3)  # started, heartbeat written
        with app.app_context():
            started = time.perf_counter()
            for _ in range(JOBS):
                jobs.handle(0, "reindex")  # a job that loads an event and finds none: the queue's own cost
            while jobs.huey.pending_count():
                time.sleep(0.05)
            return JOBS / (time.perf_counter() - started)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        latency = summarize(yank_latency(Path(tmp) / "yank"))
    rows = []
    queues = [("SQLite file", lambda base: f"sqlite:///{base / 'queue.db'}")]
    if redis_up():
        queues.append(("Redis", lambda base: REDIS_URL))
    for label, url in queues:
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                base = Path(tmp)
                rows.append([label, workers, f"{jobs_per_second(base, url(base), workers):.0f}"])
    body = (f"## Yank with {ADOPTERS} adopters whose webhooks answer after {SLOW_SECONDS} s\n\n"
            "The request writes the yank and one event row; the alerts, the 50 deliveries and the mail run in the "
            f"worker. Before the queue the request delivered every webhook itself: about {ADOPTERS * SLOW_SECONDS} s.\n\n"
            + markdown_table(["yanks", "min ms", "median ms", "p95 ms", "max ms", "target"],
                             [[YANKS, *(f"{latency[k]:.1f}" for k in ("min", "median", "p95", "max")), "< 100 ms"]])
            + f"\n\n## Jobs per second ({JOBS} jobs, each one app context and one database read)\n\n"
            + markdown_table(["queue", "worker processes (1 thread each)", "jobs/s"], rows) + f"\n\n{NOTE}")
    write_report("queue", "Job queue", body)


if __name__ == "__main__":
    main()
