"""The signed head of the audit chain, kept in blob storage, outside the database.

The chain alone shows an edit or a gap in the middle, but not rows cut off its end, nor a row edited
with every later hash recomputed. After each commit that added events, the registry signs a statement
of the chain's head {count, last id, last hash, time} with its Ed25519 key and writes it to storage;
`audit verify` checks the database still contains exactly that head. Someone holding the database
*and* the key or the storage can still rewrite history; a public transparency log is the answer to that.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app, g
from sqlalchemy import Connection, func, select, text

from registry.audit.models import AuditEvent
from registry.db import db
from registry.errors import Damaged
from registry.storage import storage

HEAD_DOCUMENT = "audit-head.json"
STATEMENT_TYPE = "solreg-audit-head/v1"
log = logging.getLogger("registry.audit")


# -- the registry's key ------------------------------------------------------------------

def signing_key() -> Ed25519PrivateKey:
    """The registry's Ed25519 key: generated once (mode 0600) at REGISTRY_SIGNING_KEY_PATH, then reused."""
    cached = current_app.extensions.get("registry_signing_key")
    if cached is None:
        cached = current_app.extensions["registry_signing_key"] = _load_or_create(Path(current_app.config["SIGNING_KEY_PATH"]))
    return cached


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            os.link(tmp, path)  # atomic and refuses to replace: two workers starting at once agree on one key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def public_key_info() -> dict[str, str]:
    public = signing_key().public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"algorithm": "Ed25519", "keyid": hashlib.sha256(raw).hexdigest(), "public_key_pem": pem.decode()}


# -- the signed statement -----------------------------------------------------------------

def canonical(statement: dict[str, Any]) -> bytes:
    """The exact bytes signed: sorted keys, no spaces."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class SignedHead:
    statement: dict[str, Any]
    keyid: str
    signature: bytes

    @property
    def count(self) -> int:
        return self.statement["count"]

    @property
    def last_id(self) -> int:
        return self.statement["last_id"]


class HeadUnreadable(Damaged):
    """The stored head is not a statement signed with this registry's key."""

    code = "audit-head-unreadable"
    hint = (f"restore {HEAD_DOCUMENT} in blob storage, or the key at REGISTRY_SIGNING_KEY_PATH, from the backup "
            "taken with the database; a head you cannot trust is evidence, so keep a copy")


def read_signed_head() -> SignedHead | None:
    """The stored head, its signature checked; None when there is none."""
    raw = storage().get_document(HEAD_DOCUMENT)
    if raw is None:
        return None
    try:
        document = json.loads(raw)
        head = SignedHead(document["statement"], document["keyid"], base64.b64decode(document["signature"], validate=True))
        signing_key().public_key().verify(head.signature, canonical(head.statement))
        if head.statement.get("type") != STATEMENT_TYPE:
            raise ValueError("not an audit head statement")
        int(head.count), int(head.last_id), str(head.statement["last_hash"])
    except (ValueError, KeyError, TypeError, binascii.Error, InvalidSignature) as exc:
        raise HeadUnreadable(f"signature invalid: the stored head was not signed with this registry's key ({type(exc).__name__})") from None
    return head


def head_problem(conn: Connection, head: SignedHead) -> str | None:
    """Why the database no longer holds the chain the head was signed for, or None if it does."""
    count, last_id = conn.execute(select(func.count(), func.max(AuditEvent.id))).one()
    if (last_id or 0) < head.last_id:
        return (f"events deleted at the end: the signed head covers {head.count} events up to id {head.last_id}, "
                f"the database has {count} up to id {last_id}")
    at_head = conn.execute(select(AuditEvent.hash).where(AuditEvent.id == head.last_id)).scalar()
    before = conn.execute(select(func.count()).where(AuditEvent.id <= head.last_id)).scalar()
    if at_head != head.statement["last_hash"] or before != head.count:
        return (f"event {head.last_id} is not the one the head was signed for "
                f"({before} events up to it, {head.count} signed): rows were edited or deleted and re-hashed")
    return None


# -- writing it after commits -------------------------------------------------------------

def mark_recorded() -> None:
    """Called when an event is added: the head is signed once the work of this request or command is over."""
    g.audit_events_recorded = True


def publish_head() -> None:
    """Sign and store the committed chain head, if it is newer than the stored one and extends it.

    A head is never replaced by a lower one (two workers may race), nor by a chain that does not
    contain it (that is a rewrite: the old head stays as evidence for `audit verify`).
    """
    with db.engine.connect() as conn, _one_writer(conn):
        try:
            current = read_signed_head()
        except HeadUnreadable as exc:
            log.error("audit head not updated: %s", exc)
            return
        count, last_id = conn.execute(select(func.count(), func.max(AuditEvent.id))).one()
        if not count or (current and current.count >= count):
            return
        problem = head_problem(conn, current) if current else None
        if problem:
            log.error("audit head not updated, the chain no longer contains the signed head: %s", problem)
            return
        last_hash = conn.execute(select(AuditEvent.hash).where(AuditEvent.id == last_id)).scalar()
        statement = {"type": STATEMENT_TYPE, "count": count, "last_id": last_id, "last_hash": last_hash,
                     "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        document = {"statement": statement, "keyid": public_key_info()["keyid"],
                    "signature": base64.b64encode(signing_key().sign(canonical(statement))).decode()}
        storage().put_document(HEAD_DOCUMENT, json.dumps(document, indent=1).encode())


@contextmanager
def _one_writer(conn: Connection) -> Iterator[None]:
    """Serialise head writers: across servers on PostgreSQL, across the workers of the one host on SQLite."""
    if conn.dialect.name == "postgresql":
        with conn.begin():
            conn.execute(text("SELECT pg_advisory_xact_lock(724202)"))
            yield
        return
    with open(Path(current_app.instance_path) / "audit-head.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _publish_if_recorded(_exc: BaseException | None = None) -> None:
    if not g.pop("audit_events_recorded", False):
        return
    try:
        publish_head()
    except Exception:  # the change is committed already; failing the response would only mislead the client
        log.exception("could not publish the signed audit head")


def register_head_publishing(app: Flask) -> None:
    """One place, after the work: the end of each request, and the end of each command's app context."""
    app.teardown_request(_publish_if_recorded)
    app.teardown_appcontext(_publish_if_recorded)
