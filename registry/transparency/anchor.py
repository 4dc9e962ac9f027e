"""The audit chain anchored in the transparency log: one mechanism that shows nothing was rewritten.

The audit chain (registry/audit) shows an edit or a gap in its middle, but not rows cut off its end,
nor a row edited with every later hash recomputed. So every minute in which the chain grew, the
worker appends a leaf `audit.anchor` {count, last_id, last_hash} that puts the chain's head into the
log, whose signed checkpoints, blob copies, witnesses and clients' consistency checks make the log
itself hard to rewrite. The leaf holds ids and a hash only: the audit rows, with people's names and
addresses, stay private. Once a minute, not after every commit: the log stays a list of what cities
care about, with at most 1,440 anchors a day between its releases; what the last minute recorded is
anchored by the next run (`audit verify` says how many events are not anchored yet).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from registry.audit import service as audit
from registry.audit.models import AuditEvent
from registry.audit.service import ChainHead, ChainProblem
from registry.db import db, utcnow
from registry.transparency.models import LeafKind, LogLeaf
from registry.transparency.service import append, lock_log

log = logging.getLogger("registry.transparency")
ANCHOR_GRACE = timedelta(minutes=10)


def _head(leaf: LogLeaf) -> ChainHead:
    body = json.loads(leaf.data)
    return ChainHead(int(body["count"]), int(body["last_id"]), str(body["last_hash"]))


def anchors() -> list[tuple[str, ChainHead]]:
    """Every anchor in the log, oldest first, named by its leaf."""
    rows = db.session.scalars(select(LogLeaf).where(LogLeaf.kind == LeafKind.AUDIT_ANCHOR.value)
                              .order_by(LogLeaf.index))
    return [(f"log leaf {leaf.index}", _head(leaf)) for leaf in rows]


def latest_anchor() -> ChainHead | None:
    leaf = db.session.scalar(select(LogLeaf).where(LogLeaf.kind == LeafKind.AUDIT_ANCHOR.value)
                             .order_by(LogLeaf.index.desc()).limit(1))
    return _head(leaf) if leaf else None


def _not_covered() -> tuple[ChainHead, ChainHead | None] | None:
    """The chain's head and the latest anchor, when that anchor does not cover the head yet."""
    head, latest = audit.chain_head(), latest_anchor()
    if head is None or (latest is not None and latest.last_id >= head.last_id):
        return None
    return head, latest


def anchor_audit_head() -> LogLeaf | None:
    """Append an anchor for the committed chain head, unless the latest anchor covers it already.

    Never anchors a chain that no longer contains the previous anchor: that is a rewrite, and the
    old anchor stays in the log as the evidence `audit verify` shows.
    """
    if _not_covered() is None:  # the common case, every minute: no lock taken
        return None
    lock_log()  # then again under the lock, so two workers racing append one anchor
    pending = _not_covered()
    if pending is None:
        return None
    head, latest = pending
    problem = audit.head_problem(latest) if latest else None
    if problem:
        log.error("audit chain not anchored, it no longer contains the last anchor: %s", problem)
        return None
    return append(LeafKind.AUDIT_ANCHOR, {"count": head.count, "last_id": head.last_id, "last_hash": head.last_hash})


@dataclass
class AuditCheck:
    events: int
    anchor: ChainHead | None  # the latest
    problems: list[ChainProblem]
    unanchored: int  # events newer than the latest anchor
    unanchored_since: datetime | None  # when the oldest of them was recorded

    @property
    def anchoring_stalled(self) -> bool:
        """Unanchored events older than a few runs of the minutely job: its worker is not running."""
        return self.unanchored_since is not None and utcnow() - self.unanchored_since > ANCHOR_GRACE


def verify_audit() -> AuditCheck:
    """The chain re-hashed and held against every anchor in the log."""
    named = anchors()
    count, problems = audit.verify_chain(named)
    latest = named[-1][1] if named else None
    since = db.session.scalar(select(func.min(AuditEvent.created_at))
                              .where(AuditEvent.id > (latest.last_id if latest else 0)))
    return AuditCheck(count, latest, problems, count - (latest.count if latest else 0), since)
