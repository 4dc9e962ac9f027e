"""Appending to the transparency log, signing its checkpoints, serving proofs, and checking it all.

A leaf is canonical JSON (sorted keys, no spaces, UTF-8) that names what changed; the services that
make a change append its leaf in the same transaction, so the change and its leaf commit together.

Checkpoints are signed in that same transaction, for the tree the transaction ends with: under the
append lock the tree is known, so no later step has to remember to sign, and a log with leaves but
no signed head for them cannot be committed. A signature for a transaction that rolls back is never
seen by anyone: the row goes with the rollback, and the copy in blob storage is written only after
the commit (an after_commit hook, for the blob copy only — leaves are appended explicitly).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, text

from registry import events
from registry.db import begin_write, db, utcnow
from registry.errors import Damaged, InvalidInput, NotFound
from registry.spec import note
from registry.spec.tlog import EMPTY_ROOT, ProofError, TreeHashes, leaf_hash, verify_consistency
from registry.transparency.models import Checkpoint, LeafKind, LogLeaf

log = logging.getLogger("registry.transparency")

LEAF_FORMAT = 1
LOCK_KEY = 724218  # pg_advisory_xact_lock key of the log's head (the audit chain uses its own)
MAX_PAGE = 1000


def canonical_json(data: dict) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def checkpoint_document(size: int | str) -> str:
    return f"transparency/checkpoints/{size}"


# --- keys and origin ----------------------------------------------------------------------

def origin() -> str:
    config = current_app.config
    return config.get("LOG_ORIGIN") or f"{config.get('SERVER_NAME') or 'solreg.local'}/log"


def signer() -> note.Signer:
    cached = current_app.extensions.get("transparency_signer")
    if cached is None:
        path = Path(current_app.config.get("LOG_KEY_PATH") or Path(current_app.instance_path) / "log_key")
        cached = current_app.extensions["transparency_signer"] = _load_or_create_key(path, origin())
    return cached


def _load_or_create_key(path: Path, name: str) -> note.Signer:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first; use that one
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(note.Signer.generate(name).encode() + "\n")
    try:
        return note.Signer.parse(path.read_text())
    except note.NoteError as exc:  # the registry's own key, not a client's input: 500, for the operator
        raise Damaged(f"the transparency log key is not usable: {exc.detail}", code="log-key-unusable",
                      hint="restore REGISTRY_LOG_KEY_PATH from its backup; a new key would start a new log") from None


def verifier() -> note.Verifier:
    return signer().verifier


# --- the tree, cached per process ----------------------------------------------------------

@dataclass
class _TreeCache:
    tree: TreeHashes = field(default_factory=TreeHashes)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _cache() -> _TreeCache:
    return current_app.extensions.setdefault("transparency_tree", _TreeCache())


def log_size() -> int:
    return db.session.scalar(select(func.count(LogLeaf.id))) or 0


def _synced(cache: _TreeCache, size: int, *, appending: bool) -> TreeHashes:
    """The cached tree brought to the `size` leaves this session sees, reading only leaves it lacks.

    The cache may end in leaves of a transaction that then rolled back: detected by comparing its
    last leaf this session can see with the database's, and then rebuilt once.
    """
    tree = cache.tree
    seen = min(tree.size, size)
    stale = seen and tree.leaf(seen - 1).hex() != db.session.scalar(
        select(LogLeaf.leaf_hash).where(LogLeaf.index == seen - 1))
    if stale or (appending and tree.size > size):
        tree = cache.tree = TreeHashes()
    if tree.size < size:
        for digest in db.session.scalars(select(LogLeaf.leaf_hash).where(LogLeaf.index >= tree.size)
                                         .order_by(LogLeaf.index)):
            tree.append(bytes.fromhex(digest))
    if tree.size < size:
        raise RuntimeError("the log's leaf indices have a gap; run `flask --app registry log verify`")
    return tree


def lock_log() -> None:
    """Hold the log's head for the rest of the transaction (again in the same one is harmless)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))
    else:
        begin_write()  # SQLite: the write lock serialises appenders from here to the commit


def append(kind: LeafKind, fields: dict, *, release_id: int | None = None, backfilled: bool = False,
           happened_at: datetime | None = None) -> LogLeaf:
    """Add one leaf and the checkpoint of the grown tree to the current transaction.

    Call it after audit.record in the same transaction, so both locks are always taken in that order.
    `backfilled` marks a leaf logged late (`flask log backfill`): the change predates the log, and the
    leaf says so, with when it happened where that is known, rather than pretend the log saw it then.
    """
    session = db.session
    lock_log()
    now = utcnow()
    if backfilled:
        fields = {**fields, "backfilled": True, "happened_at": happened_at.isoformat() if happened_at else None}
    data = canonical_json({"v": LEAF_FORMAT, "kind": str(kind), "time": now.isoformat(), **fields})
    digest = leaf_hash(data.encode())
    cache = _cache()
    with cache.lock:
        tree = _synced(cache, log_size(), appending=True)
        leaf = LogLeaf(index=tree.size, kind=str(kind), data=data, leaf_hash=digest.hex(), release_id=release_id,
                       created_at=now)
        tree.append(digest)
        root = tree.root()
    signed = note.sign(note.Checkpoint(origin(), leaf.index + 1, root).text(), signer()).encode()
    session.add_all([leaf, Checkpoint(tree_size=leaf.index + 1, root_hash=root.hex(), note=signed, created_at=now)])
    session.flush()
    events.emit(events.EventName.LOG_APPENDED, tree_size=leaf.index + 1)  # its handler copies the heads out
    return leaf


# --- the changes that are logged (one call in each service that makes them) -------------------

def _release_fields(release) -> dict:
    return {"solution": release.solution.name, "version": release.version, "sha256": release.sha256}


def release_published(release, approver) -> LogLeaf | None:
    """Log a release that a review decision has just published; nothing for any other decision."""
    if release.state != "published":
        return None
    return release_approved(release, approver.username)


def release_approved(release, approver: str | None, *, backfilled: bool = False) -> LogLeaf:
    provenance, signature = release.artifact("provenance"), release.artifact("signature")
    return append(LeafKind.RELEASE_PUBLISHED, {
        **_release_fields(release),
        "provenance_sha256": provenance.sha256 if provenance else None,
        "signature_sha256": signature.sha256 if signature else None,
        "signer_keyid": release.signer_key.keyid if release.signer_key else None,
        "approver": approver,
    }, release_id=release.id, backfilled=backfilled, happened_at=release.published_at if backfilled else None)


def release_yanked(release, *, backfilled: bool = False) -> LogLeaf:
    return append(LeafKind.RELEASE_YANKED, {**_release_fields(release), "reason": release.yank_reason},
                  release_id=release.id, backfilled=backfilled)


def release_unyanked(release) -> LogLeaf:
    return append(LeafKind.RELEASE_UNYANKED, _release_fields(release), release_id=release.id)


def solution_state_changed(solution, *, backfilled: bool = False) -> LogLeaf:
    return append(LeafKind(f"solution.{solution.state}"), {
        "solution": solution.name, "successor": solution.successor.name if solution.successor else None},
        backfilled=backfilled)


def key_registered(key, *, backfilled: bool = False) -> LogLeaf:
    return append(LeafKind.KEY_REGISTERED, {"keyid": key.keyid, "username": key.user.username,
                                            "public_key": key.public_key_pem},
                  backfilled=backfilled, happened_at=key.created_at if backfilled else None)


def key_revoked(key, *, backfilled: bool = False) -> LogLeaf:
    return append(LeafKind.KEY_REVOKED, {"keyid": key.keyid, "username": key.user.username},
                  backfilled=backfilled, happened_at=key.revoked_at if backfilled else None)


def logged(kinds: tuple[LeafKind, ...], field: str) -> set[tuple[str, str]]:
    """(kind, value of `field`) of every leaf of these kinds: what the log already says happened."""
    rows = db.session.scalars(select(LogLeaf.data).where(LogLeaf.kind.in_([k.value for k in kinds])))
    return {(body["kind"], str(body.get(field))) for body in map(json.loads, rows)}


# --- blob storage copies ---------------------------------------------------------------------

def copy_new_checkpoints() -> int:
    """Copy every committed checkpoint that blob storage does not hold yet; returns how many.

    Run by the `log.appended` event's handler after the commit, so a copy that failed (or a process
    that died first) is made by the next one: the copies catch up with the database.
    """
    from registry.storage import storage

    store = storage()
    latest = store.get_document(checkpoint_document("latest"))
    stored = note.Checkpoint.from_text(note.parse(latest.decode()).text).size if latest else -1
    rows = db.session.execute(select(Checkpoint.tree_size, Checkpoint.note).where(Checkpoint.tree_size > stored)
                              .order_by(Checkpoint.tree_size)).all()
    for size, signed in rows:
        existing = store.get_document(checkpoint_document(size))
        if existing is not None and existing.decode() != signed:
            # Never overwrite a head someone may have seen: that copy is the evidence of a fork.
            log.error("checkpoint %s in blob storage differs from the one in the database: forked log", size)
            continue
        store.put_document(checkpoint_document(size), signed.encode())
    if rows:
        # Another process may have copied a larger tree meanwhile: `latest` only ever grows.
        latest = store.get_document(checkpoint_document("latest"))
        if latest is None or note.Checkpoint.from_text(note.parse(latest.decode()).text).size < rows[-1][0]:
            store.put_document(checkpoint_document("latest"), rows[-1][1].encode())
    return len(rows)


# --- reading ---------------------------------------------------------------------------------

def latest_checkpoint() -> str:
    """The signed head of the log as it is now; the empty log's head is signed when asked for."""
    row = db.session.scalar(select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1))
    if row is not None:
        return row.note
    return note.sign(note.Checkpoint(origin(), 0, EMPTY_ROOT).text(), signer()).encode()


def _check_size(size: int, name: str) -> int:
    current = log_size()
    if not 0 <= size <= current:
        raise InvalidInput(f"the log has {current} leaves; {name} must be between 0 and {current}", field=name)
    return current


def leaves(start: int, limit: int) -> list[LogLeaf]:
    return list(db.session.scalars(select(LogLeaf).where(LogLeaf.index >= start).order_by(LogLeaf.index)
                                   .limit(limit)))


def leaf_by_hash(hex_digest: str) -> LogLeaf:
    leaf = db.session.scalar(select(LogLeaf).where(LogLeaf.leaf_hash == hex_digest.lower()).order_by(LogLeaf.index)
                             .limit(1))
    if leaf is None:
        raise NotFound("no leaf of the log has this hash", field="hash")
    return leaf


def inclusion_proof(index: int, size: int) -> list[bytes]:
    current = _check_size(size, "size")
    if not 0 <= index < size:
        raise InvalidInput(f"leaf {index} is not in a tree of {size} leaves", field="index")
    cache = _cache()
    with cache.lock:
        return _synced(cache, current, appending=False).inclusion_proof(index, size)


def consistency_proof(old: int, new: int) -> list[bytes]:
    current = _check_size(new, "new")
    if not 0 <= old <= new:
        raise InvalidInput(f"old must be between 0 and new ({new})", field="old")
    cache = _cache()
    with cache.lock:
        return _synced(cache, current, appending=False).consistency_proof(old, new)


def published_leaf_index(release_id: int) -> int | None:
    return db.session.scalar(select(LogLeaf.index).where(LogLeaf.release_id == release_id,
                                                         LogLeaf.kind == LeafKind.RELEASE_PUBLISHED.value)
                             .order_by(LogLeaf.index).limit(1))


# --- checking the whole log --------------------------------------------------------------------

class LogDamaged(Damaged):
    """The first place where the stored log differs from what was hashed or signed."""

    code = "log-damaged"
    hint = ("the log's rows or its checkpoints in blob storage were changed outside the registry: restore both from "
            "one backup; the message names the first difference")


# The worker copies new checkpoints to blob storage right after their commit; a newest checkpoint
# without its copy is "not copied yet" this long, then a worker that is not running.
COPY_GRACE = timedelta(minutes=10)


@dataclass
class LogCheck:
    leaves: int
    checkpoints: int  # checked against their copies in blob storage
    uncopied: int = 0  # the newest checkpoints, not copied to blob storage yet
    uncopied_since: datetime | None = None

    @property
    def copying_stalled(self) -> bool:
        return self.uncopied_since is not None and utcnow() - self.uncopied_since > COPY_GRACE


def verify_log() -> LogCheck:
    """Rebuild the tree from the stored leaves and hold it against every stored checkpoint.

    Raises LogDamaged naming the first leaf or row that differs. The newest checkpoints may lack
    their copy in blob storage (the worker has not copied them yet): they are counted, not damage.
    """
    from registry.storage import storage

    tree = TreeHashes()
    for leaf in db.session.scalars(select(LogLeaf).order_by(LogLeaf.index)):
        if leaf.index != tree.size:
            raise LogDamaged(f"leaf {tree.size} is missing (the next stored leaf is {leaf.index})")
        try:
            body = json.loads(leaf.data)
        except ValueError:
            raise LogDamaged(f"leaf {leaf.index}: its data is not JSON (row edited)") from None
        if canonical_json(body) != leaf.data or body.get("kind") != leaf.kind:
            raise LogDamaged(f"leaf {leaf.index}: its data is not in canonical form or its kind differs (row edited)")
        digest = leaf_hash(leaf.data.encode())
        if digest.hex() != leaf.leaf_hash:
            raise LogDamaged(f"leaf {leaf.index}: its data does not match its stored hash (row edited)")
        tree.append(digest)

    key, store = verifier(), storage()
    rows = {row.tree_size: row for row in db.session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size))}
    latest = store.get_document(checkpoint_document("latest"))
    sizes = sorted(set(rows) | set(range(1, tree.size + 2)))
    copies = {size: store.get_document(checkpoint_document(size)) for size in sizes}
    last_copied = max((size for size, copy in copies.items() if copy is not None), default=0)
    result = LogCheck(leaves=tree.size, checkpoints=0)
    previous: tuple[int, bytes] | None = None
    for size in sizes:
        copy, row = copies[size], rows.get(size)
        if row is None and copy is None:
            continue
        if row is None:
            raise LogDamaged(f"checkpoint {size} is in blob storage but not in the database "
                             f"({'leaves and checkpoints deleted' if size > tree.size else 'row deleted'})")
        if copy is None and size < last_copied:
            raise LogDamaged(f"checkpoint {size} is in the database but missing from blob storage "
                             f"(a later one, {last_copied}, is there)")
        if copy is None:
            result.uncopied += 1
            result.uncopied_since = result.uncopied_since or row.created_at
        else:
            result.checkpoints += 1
        for where, signed in (("database", row.note), ("blob storage", copy.decode() if copy else None)):
            if signed is None:
                continue
            checkpoint = _open(signed, key, f"checkpoint {size} ({where})")
            if checkpoint.size != size or (where == "database" and checkpoint.root.hex() != row.root_hash):
                raise LogDamaged(f"checkpoint {size} ({where}): its size or root differs from the row (row edited)")
        if copy is not None and copy.decode() != row.note:
            raise LogDamaged(f"checkpoint {size}: the database and blob storage hold different signed heads (forked)")
        if size > tree.size:
            raise LogDamaged(f"checkpoint {size} signed {size} leaves but the log has {tree.size} "
                             f"(leaves {tree.size}..{size - 1} deleted)")
        root = bytes.fromhex(row.root_hash)
        if tree.root(size) != root:
            first = previous[0] if previous else 0
            which = f"leaf {size - 1}" if first == size - 1 else f"one of the leaves {first}..{size - 1}"
            raise LogDamaged(f"checkpoint {size}: {which} differs from what was signed (leaf edited)")
        if previous:
            try:
                verify_consistency(previous[0], size, previous[1], root, tree.consistency_proof(previous[0], size))
            except ProofError as exc:
                raise LogDamaged(f"checkpoints {previous[0]} and {size}: {exc}") from None
        previous = (size, root)
    if latest is not None:
        head = _open(latest.decode(), key, "the latest checkpoint (blob storage)")
        if head.size > tree.size or tree.root(head.size) != head.root:
            raise LogDamaged(f"the latest checkpoint in blob storage ({head.size} leaves) does not match the log "
                             f"of {tree.size} leaves")
    return result


def _open(signed: str, key: note.Verifier, what: str) -> note.Checkpoint:
    try:
        return note.open_checkpoint(signed, key, origin())[0]
    except note.NoteError as exc:
        raise LogDamaged(f"{what}: {exc}") from None
