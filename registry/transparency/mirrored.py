"""The logs of other registries this one mirrors, served read-only as they were imported."""

from __future__ import annotations

from sqlalchemy import func, select

from registry.db import db
from registry.errors import NotFound
from registry.spec.tlog import TreeHashes
from registry.transparency.models import MirrorCheckpoint, MirrorLeaf, MirrorOrigin


def known_origin(origin: str) -> MirrorOrigin:
    row = db.session.scalar(select(MirrorOrigin).where(MirrorOrigin.origin == origin))
    if row is None:
        raise NotFound(f"this registry mirrors no log named {origin[:100]!r}", field="origin")
    return row


def latest_checkpoint(origin: str) -> str:
    known_origin(origin)
    return db.session.scalar(select(MirrorCheckpoint.note).where(MirrorCheckpoint.origin == origin)
                             .order_by(MirrorCheckpoint.tree_size.desc()).limit(1)) or ""


def leaves(origin: str, start: int, limit: int) -> list[MirrorLeaf]:
    known_origin(origin)
    return list(db.session.scalars(select(MirrorLeaf).where(MirrorLeaf.origin == origin, MirrorLeaf.index >= start)
                                   .order_by(MirrorLeaf.index).limit(limit)))


def log_size(origin: str) -> int:
    return db.session.scalar(select(func.count(MirrorLeaf.id)).where(MirrorLeaf.origin == origin)) or 0


def tree(origin: str) -> TreeHashes:
    known_origin(origin)
    return TreeHashes(bytes.fromhex(h) for h in db.session.scalars(
        select(MirrorLeaf.leaf_hash).where(MirrorLeaf.origin == origin).order_by(MirrorLeaf.index)))


def mirrored_leaf_index(release_id: int) -> int | None:
    return db.session.scalar(select(MirrorLeaf.index).where(MirrorLeaf.release_id == release_id).limit(1))
