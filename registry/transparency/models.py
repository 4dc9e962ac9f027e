"""Log leaves and signed checkpoints. Rows are only ever inserted; `flask log verify` checks both."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import db, one_of, utcnow


class LeafKind(StrEnum):
    RELEASE_PUBLISHED = "release.published"
    RELEASE_YANKED = "release.yanked"
    RELEASE_UNYANKED = "release.unyanked"
    SOLUTION_DEPRECATED = "solution.deprecated"
    SOLUTION_ARCHIVED = "solution.archived"
    SOLUTION_ACTIVE = "solution.active"
    KEY_REGISTERED = "key.registered"
    KEY_REVOKED = "key.revoked"
    AUDIT_ANCHOR = "audit.anchor"  # the audit chain's head: {count, last_id, last_hash}, no personal data


class LogLeaf(db.Model):
    __tablename__ = "log_leaves"
    __table_args__ = (one_of("kind", LeafKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: two leaves can never share a position, so appends are gapless and cannot fork silently.
    index: Mapped[int] = mapped_column("leaf_index", unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    # The exact bytes that were hashed (canonical JSON, UTF-8): stored as text, never re-serialised.
    data: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    # Not part of the leaf; finds a release's "published" leaf. No foreign key: the log outlives rows.
    release_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Checkpoint(db.Model):
    __tablename__ = "log_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(unique=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)  # the signed note, exactly as served
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- witnesses: second parties that check the log's heads and cosign them ------------------------

class Witness(db.Model):
    """A second party (a province, the ministry) whose cosignatures of this log's heads are kept and shown.

    Registered by an operator (`flask log witness add`); its key is a cosignature/v1 verifier key.
    """

    __tablename__ = "log_witnesses"
    __table_args__ = (UniqueConstraint("key_name", "key_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # as people know it, e.g. 경기도
    key: Mapped[str] = mapped_column(Text)  # <key name>+<hex key hash>+<base64(0x04 || public key)>
    # The key's name and hash, as its signature lines carry them: how a line finds its witness.
    key_name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Cosignature(db.Model):
    """A witness's latest cosignature of one checkpoint (a later one of the same head replaces it)."""

    __tablename__ = "log_cosignatures"
    __table_args__ = (UniqueConstraint("witness_id", "tree_size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    witness_id: Mapped[int] = mapped_column(ForeignKey("log_witnesses.id", ondelete="CASCADE"))
    tree_size: Mapped[int] = mapped_column(index=True)
    signed_at: Mapped[datetime]  # the time the witness put in its cosignature
    line: Mapped[str] = mapped_column(Text)  # the signature line, exactly as served after the log's own
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- another registry's log, as carried in by mirror bundles ----------------------------------

class MirrorOrigin(db.Model):
    """A registry this one mirrors: its log's name and the key pinned at the first import."""

    __tablename__ = "mirror_origins"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(200), unique=True)
    verifier_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MirrorLeaf(db.Model):
    """A leaf of an origin's log, exactly as the origin hashed it; a separate table so the local log's
    gapless indices and checks stay untouched."""

    __tablename__ = "mirror_leaves"
    # The import refuses leaves of kinds this registry does not know (registry/mirror/service.py).
    __table_args__ = (UniqueConstraint("origin", "leaf_index"), one_of("kind", LeafKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(200))
    index: Mapped[int] = mapped_column("leaf_index")
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    release_id: Mapped[int | None] = mapped_column(index=True)  # the mirror's row of a "published" leaf


class MirrorCheckpoint(db.Model):
    __tablename__ = "mirror_checkpoints"
    __table_args__ = (UniqueConstraint("origin", "tree_size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(200))
    tree_size: Mapped[int]
    root_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)  # signed by the origin, exactly as carried in
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
