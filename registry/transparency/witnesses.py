"""Witnesses: second parties that fetch the log's signed head, check it extends the last one they saw,
and cosign it (C2SP `tlog-cosignature` v1). The registry keeps each registered witness's cosignature of
a checkpoint, serves the latest head with them appended, and shows who cosigned it and when.

A cosignature authenticates itself: it is accepted when it verifies with a registered witness key over
the exact text of a checkpoint this log signed, so the endpoint that takes them needs no token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from registry.audit import service as audit
from registry.db import db, utcnow
from registry.errors import Conflict, Forbidden, InvalidInput
from registry.spec import note
from registry.spec.tlog import EMPTY_ROOT
from registry.transparency import service
from registry.transparency.models import Checkpoint, Cosignature, Witness

MAX_NAME = 100
# A witness's clock may run a little ahead of ours; a cosignature further in the future is refused.
CLOCK_SKEW = timedelta(minutes=5)


def add_witness(name: str, key: str) -> Witness:
    """Register a witness whose cosignatures the registry will accept and show."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise InvalidInput(f"a witness's name has 1 to {MAX_NAME} printable characters", field="name")
    try:
        verifier = note.Verifier.parse(key)
    except note.NoteError as exc:
        raise InvalidInput(f"the witness key is not usable: {exc}", field="key") from None
    if not verifier.is_cosigner:
        raise InvalidInput("a witness key is a cosignature/v1 key (algorithm 4), as `solreg witness init` makes; "
                           "this one signs notes", field="key")
    if db.session.scalar(select(Witness.id).where(Witness.name == name)):
        raise Conflict(f"a witness named {name!r} is registered already", field="name")
    key_hash = f"{verifier.key_hash:08x}"
    if db.session.scalar(select(Witness.id).where(Witness.key_name == verifier.name, Witness.key_hash == key_hash)):
        raise Conflict(f"the key {verifier.name}+{key_hash} belongs to a registered witness already", field="key")
    witness = Witness(name=name, key=verifier.encode(), key_name=verifier.name, key_hash=key_hash)
    db.session.add(witness)
    db.session.flush()
    audit.record("log.witness_add", details={"name": name, "key": witness.key})
    return witness


def witnesses() -> list[Witness]:
    return list(db.session.scalars(select(Witness).order_by(Witness.name)))


# --- taking cosignatures ------------------------------------------------------------------------

@dataclass(frozen=True)
class Accepted:
    witness: str
    tree_size: int
    signed_at: datetime
    new: bool  # False: the very same cosignature was kept already


def record_cosignatures(message: str) -> list[Accepted]:
    """Keep the witnesses' cosignatures on a signed checkpoint of this log (the note as the witness sends it).

    Refused: a note that is not a checkpoint this log signed, or whose cosignature does not verify over
    it (400); a line of a key that is no registered witness (403); a checkpoint older than the one the
    witness cosigned before, or an older cosignature of the same one (409). All or none are kept (the
    request rolls back on any refusal).
    """
    try:
        signed = note.parse(message)
        checkpoint = note.Checkpoint.from_text(signed.text)
    except note.NoteError as exc:
        raise InvalidInput(f"the body is not a signed checkpoint: {exc}", field="checkpoint") from None
    stored = db.session.scalar(select(Checkpoint).where(Checkpoint.tree_size == checkpoint.size))
    if stored is None or note.parse(stored.note).text != signed.text:
        raise InvalidInput(f"this log signed no such checkpoint of {checkpoint.size} leaves: cosign the head "
                           "served at /api/v1/log/checkpoint", field="checkpoint")
    log_key = service.verifier()
    lines = [s for s in signed.signatures if not s.made_by(log_key)]
    if not lines:
        raise InvalidInput("the checkpoint carries no cosignature besides the log's own signature",
                           field="checkpoint")
    known = {(w.key_name, w.key_hash): w for w in witnesses()}
    by_witness: dict[int, tuple[Witness, note.Signature]] = {}
    for line in lines:
        witness = known.get((line.name, f"{line.key_hash:08x}"))
        if witness is None:
            raise Forbidden(f"{line.name}+{line.key_hash:08x} is not the key of a witness of this registry; "
                            "its operator registers witnesses with `flask log witness add`", field="checkpoint")
        by_witness[witness.id] = (witness, line)
    return [_keep(witness, line, checkpoint.size, signed.text) for witness, line in by_witness.values()]


def _keep(witness: Witness, line: note.Signature, size: int, text: str) -> Accepted:
    try:
        timestamp = note.cosignature_time(note.Note(text, (line,)), note.Verifier.parse(witness.key))
    except note.NoteError as exc:
        raise InvalidInput(f"{witness.name}: {exc}", field="checkpoint") from None
    signed_at = datetime.fromtimestamp(timestamp, timezone.utc)
    if signed_at > utcnow() + CLOCK_SKEW:
        raise InvalidInput(f"{witness.name}: the cosignature's time {signed_at.isoformat()} is in the future",
                           field="checkpoint")
    latest = db.session.scalar(select(func.max(Cosignature.tree_size)).where(Cosignature.witness_id == witness.id))
    if latest is not None and size < latest:
        raise Conflict(f"{witness.name} cosigned the checkpoint of {latest} leaves before; a cosignature of "
                       f"{size} leaves is stale", field="checkpoint")
    row = db.session.scalar(select(Cosignature).where(Cosignature.witness_id == witness.id,
                                                      Cosignature.tree_size == size))
    if row is not None and signed_at < row.signed_at:
        raise Conflict(f"{witness.name} cosigned this checkpoint later already ({row.signed_at.isoformat()})",
                       field="checkpoint")
    if row is not None and row.line == line.line():
        return Accepted(witness.name, size, signed_at, new=False)
    if row is None:
        row = Cosignature(witness_id=witness.id, tree_size=size)
        db.session.add(row)
    row.signed_at, row.line = signed_at, line.line()
    db.session.flush()
    return Accepted(witness.name, size, signed_at, new=True)


# --- serving and showing ----------------------------------------------------------------------

def cosigned_checkpoint() -> str:
    """The log's latest signed head with the witnesses' cosignatures of it after the log's own signature."""
    signed = service.latest_checkpoint()
    size = note.Checkpoint.from_text(note.parse(signed).text).size
    lines = db.session.scalars(select(Cosignature.line).join(Witness).where(Cosignature.tree_size == size)
                               .order_by(Witness.name))
    return signed + "".join(lines)


@dataclass(frozen=True)
class WitnessRow:
    name: str
    key: str
    cosigned_size: int | None  # the largest head it cosigned
    signed_at: datetime | None  # when it cosigned that one
    on_head: bool  # it cosigned the latest head


@dataclass(frozen=True)
class LogStatus:
    origin: str
    key: str
    size: int
    root: str
    signed_at: datetime | None
    witnesses: list[WitnessRow]


def log_status() -> LogStatus:
    """The latest head and, for each witness, the latest head it cosigned: what the log page shows."""
    head = db.session.scalar(select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1))
    size = head.tree_size if head else 0
    latest = (select(Cosignature.witness_id, func.max(Cosignature.tree_size).label("size"))
              .group_by(Cosignature.witness_id).subquery())
    rows = db.session.execute(
        select(Witness, Cosignature).outerjoin(latest, latest.c.witness_id == Witness.id)
        .outerjoin(Cosignature, (Cosignature.witness_id == Witness.id) & (Cosignature.tree_size == latest.c.size))
        .order_by(Witness.name)).all()
    return LogStatus(
        origin=service.origin(), key=service.verifier().encode(), size=size,
        root=head.root_hash if head else EMPTY_ROOT.hex(),
        signed_at=head.created_at if head else None,
        witnesses=[WitnessRow(w.name, w.key, c.tree_size if c else None, c.signed_at if c else None,
                              bool(c and head and c.tree_size == size)) for w, c in rows])
