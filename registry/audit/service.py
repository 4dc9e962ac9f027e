"""Recording and verifying audit events.

Each event's hash covers its content and the previous event's hash, so editing or deleting a row
breaks the chain at that point. Rows cut off the end, or a row edited with every later hash
recomputed, the chain alone cannot show: the worker anchors its head in the transparency log every
minute (registry/transparency/anchor.py), and `verify_chain` holds the chain against those anchors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import func, select, text

from registry.audit.models import AuditEvent
from registry.db import begin_write, db, utcnow

GENESIS = "0" * 64


def _digest(event: AuditEvent) -> str:
    body = {
        "prev": event.prev_hash,
        "at": event.created_at.isoformat(),
        "action": event.action,
        "actor_id": event.actor_id,
        "actor": event.actor_name,
        "org_id": event.org_id,
        "solution_id": event.solution_id,
        "ip": event.ip,
        "details": event.details,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def record(action: str, *, actor=None, org_id: int | None = None, solution_id: int | None = None,
           details: dict | None = None) -> AuditEvent:
    """Add an event to the current transaction; it commits (or rolls back) with the change it describes."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        # Serialise writers on the chain head for the rest of this transaction.
        session.execute(text("SELECT pg_advisory_xact_lock(724201)"))
    else:
        # SQLite: hold the write lock before reading the head, or two first-write events could fork the chain.
        begin_write()
    last = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    event = AuditEvent(
        created_at=utcnow(),
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None),
        org_id=org_id,
        solution_id=solution_id,
        ip=request.remote_addr if has_request_context() else None,
        details=details or {},
        prev_hash=last or GENESIS,
    )
    event.hash = _digest(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainHead:
    """The chain up to one event, as an anchor names it: how many events, the last one's id and hash."""

    count: int
    last_id: int
    last_hash: str


def chain_head() -> ChainHead | None:
    count, last_id = db.session.execute(select(func.count(), func.max(AuditEvent.id))).one()
    if not count:
        return None
    return ChainHead(count, last_id, db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == last_id)))


def head_problem(anchor: ChainHead) -> str | None:
    """Why the chain no longer holds the head an anchor names, or None if it does (one query each)."""
    count, last_id = db.session.execute(select(func.count(), func.max(AuditEvent.id))).one()
    if (last_id or 0) < anchor.last_id:
        return (f"events deleted at the end: the anchor covers {anchor.count} events up to id {anchor.last_id}, "
                f"the database has {count} up to id {last_id}")
    at_head = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == anchor.last_id))
    before = db.session.scalar(select(func.count()).where(AuditEvent.id <= anchor.last_id))
    if at_head != anchor.last_hash or before != anchor.count:
        return _not_anchored(anchor, before)
    return None


def _not_anchored(anchor: ChainHead, before: int) -> str:
    return (f"event {anchor.last_id} is not the one anchored ({before} events up to it, {anchor.count} anchored): "
            "rows were edited or deleted and re-hashed")


@dataclass
class ChainProblem:
    event_id: int
    problem: str


def verify_chain(anchors: Iterable[tuple[str, ChainHead]] = ()) -> tuple[int, list[ChainProblem]]:
    """Walk the whole log and hold it against every anchor (named, e.g. "log leaf 12");
    return how many events were checked and every break found."""
    by_id = {head.last_id: (name, head) for name, head in anchors}
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    count = last_id = 0
    for event in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        count, last_id = count + 1, event.id
        if event.prev_hash != expected_prev:
            problems.append(ChainProblem(event.id, "previous event missing or altered (chain broken before this one)"))
        if _digest(event) != event.hash:
            problems.append(ChainProblem(event.id, "content does not match its hash (row edited)"))
        expected_prev = event.hash
        if event.id in by_id:
            name, anchor = by_id.pop(event.id)
            if event.hash != anchor.last_hash or count != anchor.count:
                problems.append(ChainProblem(event.id, f"{name}: {_not_anchored(anchor, count)}"))
    for name, anchor in by_id.values():  # anchored events the walk never met
        problems.append(ChainProblem(anchor.last_id, f"{name}: " + (
            f"events deleted at the end: anchored {anchor.count} events up to id {anchor.last_id}, "
            f"the database has {count} up to id {last_id}" if anchor.last_id > last_id
            else "this anchored event was deleted")))
    return count, problems
