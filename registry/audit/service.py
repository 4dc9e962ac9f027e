"""Recording and verifying audit events.

Each event's hash covers its content and the previous event's hash, so editing or
deleting a row breaks the chain at that point.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import select, text

from registry.audit.head import mark_recorded
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
    mark_recorded()
    return event


@dataclass
class ChainProblem:
    event_id: int
    problem: str


def verify_chain() -> tuple[int, list[ChainProblem]]:
    """Walk the whole log; return how many events were checked and every break found."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    count = 0
    for event in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        count += 1
        if event.prev_hash != expected_prev:
            problems.append(ChainProblem(event.id, "previous event missing or altered (chain broken before this one)"))
        if _digest(event) != event.hash:
            problems.append(ChainProblem(event.id, "content does not match its hash (row edited)"))
        expected_prev = event.hash
    return count, problems
