"""When each periodic task last ran, how it went and what it did: one row per task, shown on /healthz.

A table rather than huey's key/value storage: it lives with the data it describes (a queue that is
flushed, or a Redis run without persistence, would forget it and refresh at once), /healthz already
reads the database, and a conditional UPDATE on the row is a lock between workers on both engines.
The OSV refresh claims its row before it starts (`claim`), so it runs once however many workers'
schedulers fire, and is due again only its interval after the last success.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import CheckConstraint, String, Text, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import db, utcnow

MAX_ERROR = 2000


class RunStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"


STATUS_VALUES = ", ".join(f"'{status.value}'" for status in RunStatus)


class ScheduledRun(db.Model):
    __tablename__ = "scheduled_runs"
    __table_args__ = (CheckConstraint(f"status IN ({STATUS_VALUES})", name="status"),)

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime | None]  # a run holds the task since then (`claim`); None when none does
    finished_at: Mapped[datetime | None]
    succeeded_at: Mapped[datetime | None]
    status: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[dict] = mapped_column(default=dict)  # what the last successful run did
    error: Mapped[str | None] = mapped_column(Text)  # why the last run failed (the log has it too)


def ensure(name: str) -> None:
    """Make the task's row, in a transaction of its own; called before the run writes anything."""
    with db.engine.connect() as connection:
        if connection.scalar(select(ScheduledRun.name).where(ScheduledRun.name == name)) is not None:
            return
    try:
        with db.engine.begin() as connection:
            connection.execute(insert(ScheduledRun).values(name=name, summary={}))
    except IntegrityError:
        pass  # another worker made it a moment ago


def claim(name: str, every: timedelta, hold: timedelta, now: datetime | None = None) -> bool:
    """Take the task for one run when its last success is older than `every` and no run holds it (or
    the one that does started more than `hold` ago, so its worker died). Committed at once, apart from
    the job's transaction, so other workers see it while the run goes on."""
    now = now or utcnow()
    ensure(name)
    with db.engine.begin() as connection:
        taken = connection.execute(update(ScheduledRun).where(
            ScheduledRun.name == name,
            or_(ScheduledRun.succeeded_at.is_(None), ScheduledRun.succeeded_at <= now - every),
            or_(ScheduledRun.started_at.is_(None), ScheduledRun.started_at <= now - hold),
        ).values(started_at=now)).rowcount
    return taken == 1


def finish(name: str, summary: dict | None = None, error: str | None = None) -> None:
    """Record the run's outcome in the job's transaction (the job commits it). A failure keeps the
    summary and time of the last success."""
    run = db.session.get(ScheduledRun, name)
    if run is None:  # `ensure` made it before the run; an operator deleted it since
        run = ScheduledRun(name=name)
        db.session.add(run)
    now = utcnow()
    run.started_at, run.finished_at = None, now
    if error is None:
        run.status, run.succeeded_at, run.summary, run.error = RunStatus.OK.value, now, summary or {}, None
    else:
        run.status, run.error = RunStatus.FAILED.value, error[:MAX_ERROR]
    db.session.flush()


def last_runs() -> dict[str, dict]:
    """For /healthz (public): each task's last run and what its last success did, not the error text
    nor a task's own bookkeeping (summary keys starting with "_")."""
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {run.name: {"status": run.status, "finished_at": iso(run.finished_at), "succeeded_at": iso(run.succeeded_at),
                       "running_since": iso(run.started_at),
                       **{key: value for key, value in run.summary.items() if not key.startswith("_")}}
            for run in db.session.scalars(select(ScheduledRun).order_by(ScheduledRun.name))}
