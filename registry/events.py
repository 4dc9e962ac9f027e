"""What happened, said explicitly: services emit events, handlers run the consequences after the commit.

`emit(name, **payload)` adds an `EventOutbox` row to the caller's transaction, so the event exists exactly
when the change that caused it is committed. After the commit, `dispatch_pending()` enqueues one job per
handler of each undispatched event (registry/handlers.py) and marks the row dispatched. The request
does it when it ends, a job when it has committed, and the worker drains rows older than a minute
periodically, so an event committed by a process that died before enqueueing still runs (at least once).

The rule: services flush, the request (or the job) commits; nobody does work in an ORM event listener.
"""

from __future__ import annotations

import contextvars
import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from registry.db import db, one_of, utcnow

log = logging.getLogger("registry.events")


class EventName(StrEnum):
    RELEASE_PUBLISHED = "release.published"
    RELEASE_CHANGES_REQUESTED = "release.changes_requested"
    RELEASE_REJECTED = "release.rejected"
    RELEASE_YANKED = "release.yanked"
    RELEASE_UNYANKED = "release.unyanked"
    SOLUTION_STATE_CHANGED = "solution.state_changed"
    ADOPTION_CHANGED = "adoption.changed"
    WEBHOOK_QUEUED = "webhook.queued"
    MAIL_QUEUED = "mail.queued"
    LOG_APPENDED = "log.appended"
    VULNERABILITIES_FOUND = "vulnerabilities.found"
    RELEASE_UPLOADED = "release.uploaded"  # payload: release_id, checks (the job checks to run)
    CHECK_RERUN = "check.rerun"  # payload: release_id, checks (the one a reviewer asked to run again)


# The release state machine's events (registry/releases/states.py) and what they are called here.
RELEASE_EVENTS = {"approve": EventName.RELEASE_PUBLISHED, "request_changes": EventName.RELEASE_CHANGES_REQUESTED,
                  "reject": EventName.RELEASE_REJECTED, "yank": EventName.RELEASE_YANKED,
                  "unyank": EventName.RELEASE_UNYANKED}
STRAGGLER_AGE = timedelta(minutes=1)  # the periodic drain leaves younger rows to the process that made them
_FLAG = "events_emitted"
_dispatching: contextvars.ContextVar[bool] = contextvars.ContextVar("dispatching", default=False)


class EventOutbox(db.Model):
    __tablename__ = "event_outbox"
    __table_args__ = (one_of("name", EventName),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(index=True)


def emit(name: EventName, **payload: Any) -> None:
    """Record that `name` happened, in the current transaction; handlers run once it commits."""
    db.session.add(EventOutbox(name=EventName(name).value, payload=payload))
    db.session.info[_FLAG] = True


def discard_emitted() -> None:
    """After a rollback: what this session emitted went with it, so its end dispatches nothing."""
    if db.session.registry.has():
        db.session.info.pop(_FLAG, None)


def dispatch_if_emitted(exc: BaseException | None = None) -> None:
    """End of a request, job or command: dispatch what this unit of work emitted (and committed)."""
    # A request that never used the database has no session; asking for its info would make one.
    if exc is None and db.session.registry.has() and db.session.info.pop(_FLAG, False):
        dispatch_pending()


def dispatch_pending(older_than: timedelta | None = None) -> int:
    """Enqueue the handlers of every committed, undispatched event; returns how many events.

    Reads and marks through a session of its own, so it sees only committed rows and never commits the
    caller's work. In immediate mode a handler runs inside `enqueue` and may commit and dispatch again;
    that inner call returns at once and this loop picks its events up."""
    if _dispatching.get():
        return 0
    from registry.jobs import enqueue_handlers

    token, count = _dispatching.set(True), 0
    try:
        with Session(db.engine) as session:
            while True:
                query = select(EventOutbox.id, EventOutbox.name).where(EventOutbox.dispatched_at.is_(None)).order_by(EventOutbox.id)
                if older_than is not None:
                    query = query.where(EventOutbox.created_at < utcnow() - older_than)
                rows = session.execute(query.limit(100)).all()
                session.rollback()  # no read snapshot held while handlers run
                if not rows:
                    return count
                for event_id, name in rows:
                    # Enqueued before marked: a crash in between repeats the event rather than losing it.
                    enqueue_handlers(event_id, name)
                    session.execute(update(EventOutbox).where(EventOutbox.id == event_id)
                                    .values(dispatched_at=utcnow()))
                    session.commit()
                    count += 1
    finally:
        _dispatching.reset(token)
