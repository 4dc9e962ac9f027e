"""The job queue (huey): SQLite file in the instance folder by default, Redis in production.

REGISTRY_QUEUE_URL chooses the storage: unset or sqlite:///path -> SqliteHuey (no server, one machine);
redis://host:port/db -> RedisHuey (any number of workers on any number of machines); immediate -> jobs run
inside the call that enqueues them (unit tests). `flask --app registry worker --workers N` consumes it.
Every job runs in an app context of its own and commits its own work (registry/events.py has the rule).
Periodic tasks run only in a worker (its scheduler enqueues them); the scheduled work among them records
each run (registry/jobs/runs.py, docs/operations.md "Scheduled work").
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from registry.db import db
from registry.jobs import runs

if TYPE_CHECKING:
    from huey import Huey

log = logging.getLogger("registry.jobs")
HEARTBEAT_KEY = "registry:worker-heartbeat"
HEARTBEAT_SECONDS = 10
ALIVE_SECONDS = 3 * HEARTBEAT_SECONDS


@dataclass
class Jobs:
    huey: Huey
    handlers: dict[str, tuple[str, ...]]  # event name -> names of its handlers
    handle: Any  # huey TaskWrapper: handle(event_id, handler)
    deliver_webhook: Any  # deliver_webhook(delivery_id), also scheduled for retries
    drain: Any  # periodic, every minute: stragglers of the event outbox, lost deliveries, unsent mail
    anchor_audit: Any  # periodic, every minute: the audit chain's head anchored in the transparency log
    refresh_osv: Any  # periodic, hourly: the OSV data again when REGISTRY_OSV_REFRESH_HOURS have passed
    clean_spool: Any  # periodic, hourly: upload spool files left by interrupted requests
    remind_reviewers: Any  # periodic, hourly: releases waiting for review too long, at most daily each
    count_downloads: Any  # periodic, every minute: downloads nginx served from /files/, from its access log
    rematch: Any  # rematch(release_ids): one batch of releases matched again after an OSV import


def _import_huey(redis: bool) -> Any:
    """huey, without the storage engines this process does not use.

    huey.storage imports redis and psycopg whenever they are installed (about 16 MB of every web
    worker's memory, bench/results/upload_cost.md), for RedisHuey and PostgresHuey. The registry never
    uses PostgresHuey, and RedisHuey only with a redis:// queue: while huey is first imported, those
    two stay hidden unless needed (or already imported by something else), so huey finds them absent.
    A Redis queue made later in the same process (the tests make several apps) gives huey back what
    its Redis storage imports."""
    hidden = [name for name in ("psycopg", *(() if redis else ("redis",))) if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  (an import of it raises ImportError)
    try:
        import huey
        import huey.storage
    finally:
        for name in hidden:
            del sys.modules[name]
    if redis and huey.storage.Redis is None:
        import redis as redis_client

        storage = huey.storage
        storage.ConnectionPool, storage.Redis = redis_client.ConnectionPool, redis_client.Redis
        storage.ConnectionError = redis_client.exceptions.ConnectionError
        storage.TimeoutError = redis_client.exceptions.TimeoutError
        storage.RedisStorage.redis_client = redis_client.Redis
    return huey


def make_huey(app: Flask) -> Huey:
    url = app.config.get("QUEUE_URL") or ""
    on_redis = url.startswith(("redis://", "rediss://", "unix://"))
    if url and not on_redis and url != "immediate" and not url.startswith("sqlite:///"):
        # a typo must not quietly become a file name
        raise ValueError(f"REGISTRY_QUEUE_URL={url!r}: use sqlite:///path, redis://host:port/db or immediate")
    huey = _import_huey(redis=on_redis)
    if url == "immediate":
        return huey.MemoryHuey("registry", immediate=True)
    if on_redis:
        return huey.RedisHuey("registry", url=url)
    return huey.SqliteHuey("registry",
                           filename=url.removeprefix("sqlite:///") or str(Path(app.instance_path) / "queue.db"))


def init_app(app: Flask, handlers: Any) -> None:
    """`handlers` is registry.handlers: which consequences each event has (passed in, so the queue
    knows no domain)."""
    huey = make_huey(app)
    from huey import crontab

    def in_app_context(work: Callable[..., None]) -> Callable[..., None]:
        def run(*args):
            with app.app_context():
                work(*args)
                db.session.commit()
                # teardown_appcontext (registry.app) dispatches what the job emitted, now committed.
        run.__name__ = work.__name__
        return run

    def scheduled(name: str, schedule: Callable, work: Callable[[], dict | None]) -> Any:
        """A periodic task whose every run is recorded: `work` returns what it did, or None when nothing
        was due (then nothing is recorded); a failure is recorded and re-raised for huey to log."""
        def run():
            with app.app_context():
                runs.ensure(name)
                try:
                    summary = work()
                except Exception as exc:
                    db.session.rollback()
                    runs.finish(name, error=f"{type(exc).__name__}: {exc}")
                    db.session.commit()
                    log.error("%s failed: %s", name, exc)
                    raise
                if summary is not None:
                    runs.finish(name, summary)
                    log.info("%s: %s", name, summary)
                db.session.commit()
        run.__name__ = work.__name__
        return huey.periodic_task(schedule, name=name)(run)

    app.extensions["jobs"] = Jobs(
        huey=huey,
        handlers=handlers.HANDLERS,
        handle=huey.task(name="handle")(in_app_context(handlers.run)),
        deliver_webhook=huey.task(name="deliver_webhook")(in_app_context(handlers.deliver_webhook)),
        drain=huey.periodic_task(crontab(minute="*"), name="drain")(in_app_context(handlers.drain)),
        anchor_audit=huey.periodic_task(crontab(minute="*"), name="anchor_audit")(in_app_context(handlers.anchor_audit)),
        # Minutes apart, so one worker's threads do not start them all at once.
        refresh_osv=scheduled("refresh_osv", crontab(minute="5"), handlers.refresh_osv),
        clean_spool=scheduled("clean_spool", crontab(minute="25"), handlers.clean_spool),
        remind_reviewers=scheduled("remind_reviewers", crontab(minute="45"), handlers.remind_reviewers),
        count_downloads=scheduled("count_downloads", crontab(minute="*"), handlers.count_downloads),
        rematch=huey.task(name="rematch")(in_app_context(handlers.rematch)),
    )
    app.cli.add_command(worker_command)


def jobs() -> Jobs:
    return current_app.extensions["jobs"]


def enqueue_handlers(event_id: int, name: str) -> None:
    for handler in jobs().handlers.get(name, ()):
        jobs().handle(event_id, handler)


def enqueue_rematch(release_ids: list[int]) -> bool:
    """Queue one batch of OSV re-matching; True when it already ran (immediate mode)."""
    jobs().rematch(list(release_ids))
    return bool(jobs().huey.immediate)


def schedule_webhook(delivery_id: int, delay: float) -> None:
    jobs().deliver_webhook.schedule((delivery_id,), delay=delay)


def queue_state() -> dict:
    """For /healthz: how deep the queue is and whether a worker wrote its heartbeat lately."""
    huey = jobs().huey
    if huey.immediate:
        return {"mode": "immediate", "pending": 0, "scheduled": 0, "worker": "not needed"}
    beat = huey.get(HEARTBEAT_KEY, peek=True)
    age = None if beat is None else round(time.time() - beat, 1)
    return {"mode": type(huey).__name__, "pending": huey.pending_count(), "scheduled": huey.scheduled_count(),
            "worker": "alive" if age is not None and age < ALIVE_SECONDS else "missing", "heartbeat_age_s": age}


def _beat(huey: Huey, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            huey.put(HEARTBEAT_KEY, time.time())
        except Exception:  # the storage being briefly away must not kill the heartbeat
            log.exception("worker heartbeat failed")
        stop.wait(HEARTBEAT_SECONDS)


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at the same time (threads).")
@with_appcontext
def worker_command(workers: int):
    """Run the jobs: handlers of events, webhook deliveries and retries, mail, the periodic drain and the
    scheduled work (OSV refresh, spool clean-up, review reminders)."""
    huey = jobs().huey
    if huey.immediate:
        raise click.UsageError("REGISTRY_QUEUE_URL=immediate runs every job where it is enqueued; "
                               "there is nothing for a worker to do")
    stop = threading.Event()
    threading.Thread(target=_beat, args=(huey, stop), daemon=True, name="heartbeat").start()
    click.echo(f"worker: {type(huey).__name__}, {workers} thread(s)")
    try:
        huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()
    finally:
        stop.set()
