"""The audit chain is anchored in the transparency log, so `audit verify` (and `log verify`) notice what
re-hashing alone cannot: rows cut off the end, or edited with every later hash recomputed."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select, text

from registry.audit import service as audit
from registry.audit.models import AuditEvent
from registry.db import db, utcnow
from registry.transparency import anchor
from registry.transparency.models import LeafKind, LogLeaf
from registry.transparency.service import log_size


def _events(n: int = 3) -> list[AuditEvent]:
    for i in range(n):
        audit.record("test.event", details={"n": i, "내용": "주차 공유 도입"})
    db.session.commit()
    _anchor()
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _anchor() -> None:
    """What the worker does every minute."""
    anchor.anchor_audit_head()
    db.session.commit()


def _verify(app, command: str = "audit"):
    return app.test_cli_runner().invoke(args=[command, "verify"])


def _failure_line(result) -> str:
    """The failure's one line (a known failure adds a `Hint:` line after it)."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("transparency log")]
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("Hint: ")), result.output
    return lines[0]


def _rehash_from(first_id: int) -> None:
    """What an attacker with the database does: recompute every hash from `first_id` on."""
    rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id >= first_id).order_by(AuditEvent.id)))
    previous = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id < first_id)
                                 .order_by(AuditEvent.id.desc()).limit(1)) or audit.GENESIS
    # Unique hashes: clear the ones being replaced first so the new chain never collides with the old.
    db.session.execute(text("UPDATE audit_events SET hash = 'old-' || id, prev_hash = 'oldp-' || id WHERE id >= :id"),
                       {"id": first_id})
    for event in rows:
        db.session.refresh(event)
        event.prev_hash = previous
        event.hash = audit._digest(event)
        previous = event.hash
        db.session.flush()
    db.session.commit()


def _anchor_leaves() -> list[dict]:
    return [json.loads(leaf.data) for leaf in db.session.scalars(
        select(LogLeaf).where(LogLeaf.kind == LeafKind.AUDIT_ANCHOR.value).order_by(LogLeaf.index))]


def test_a_commit_with_events_is_anchored_once_with_ids_and_a_hash_only(app):
    rows = _events(3)
    (leaf,) = _anchor_leaves()  # three events, one transaction, one anchor
    assert (leaf["count"], leaf["last_id"], leaf["last_hash"]) == (3, rows[-1].id, rows[-1].hash)
    assert "주차" not in json.dumps(leaf, ensure_ascii=False) and "ip" not in leaf  # nothing personal is public
    assert anchor.anchor_audit_head() is None and len(_anchor_leaves()) == 1  # nothing new: no second anchor


def test_intact_chain_reports_ok_with_the_count_on_both_commands(app):
    _events(3)
    for command in ("audit", "log"):
        result = _verify(app, command)
        assert result.exit_code == 0, result.output
        assert "transparency log intact" in result.output and "audit chain intact: 3 events" in result.output


def test_truncation_at_the_end_fails(app):
    rows = _events(4)
    db.session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": rows[2].id})
    db.session.commit()
    assert audit.verify_chain() == (2, [])  # the chain alone cannot see it
    line = _failure_line(_verify(app))
    assert "deleted at the end" in line and "4 events" in line and "log leaf 0" in line


def test_edit_and_rehash_fails_and_names_the_anchor(app):
    rows = _events(4)
    db.session.execute(text("UPDATE audit_events SET actor_name = '위조' WHERE id = :id"), {"id": rows[1].id})
    _rehash_from(rows[1].id)
    assert audit.verify_chain()[1] == []  # the chain alone cannot see it
    line = _failure_line(_verify(app, "log"))
    assert f"event {rows[-1].id}" in line and "re-hashed" in line and "log leaf 0" in line


def test_delete_in_the_middle_and_rehash_fails(app):
    rows = _events(4)
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": rows[1].id})
    _rehash_from(rows[2].id)
    assert audit.verify_chain()[1] == []
    assert "re-hashed" in _failure_line(_verify(app))


def test_an_older_anchor_catches_a_rewrite_the_latest_one_was_made_after(app):
    """Rewrite the first events, then let new events be anchored: the first anchor still holds the truth."""
    first = _events(2)
    db.session.execute(text("UPDATE audit_events SET action = 'forged' WHERE id = :id"), {"id": first[0].id})
    _rehash_from(first[0].id)
    _events(2)  # the chain no longer holds the first anchor: the registry refuses to anchor it again
    assert len(_anchor_leaves()) == 1
    line = _failure_line(_verify(app))
    assert f"event {first[-1].id}" in line and "log leaf 0" in line


def test_an_edited_anchor_leaf_is_a_damaged_log(app):
    _events(2)
    db.session.execute(text("UPDATE log_leaves SET data = replace(data, :old, :new)"),
                       {"old": '"count":2', "new": '"count":1'})
    db.session.commit()
    result = _verify(app)
    assert result.exit_code == 1 and "transparency log damaged: leaf 0" in result.output


def test_events_newer_than_the_anchor_are_reported_not_failed(app):
    _events(2)
    audit.record("test.event", details={"n": 7})
    db.session.commit()  # the worker's next minute has not come yet
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "3 events" in result.output and "the 1 newest are not anchored yet" in result.output


def test_events_left_unanchored_for_long_mean_the_worker_is_not_running(app):
    for i in range(2):
        audit.record("test.event", details={"n": i})
    db.session.commit()
    db.session.execute(text("UPDATE audit_events SET created_at = :at"), {"at": utcnow() - timedelta(hours=3)})
    db.session.commit()  # edited outside the chain: the walk would flag it; here only the age matters
    check = anchor.verify_audit()
    assert check.unanchored == 2 and check.anchoring_stalled and check.anchor is None
    _anchor()
    check = anchor.verify_audit()
    assert check.unanchored == 0 and not check.anchoring_stalled and check.anchor.count == 2


def test_empty_log_is_ok(app):
    result = _verify(app)
    assert result.exit_code == 0 and "audit chain intact: 0 events" in result.output


def test_a_request_that_records_events_is_anchored_by_the_workers_next_minute(app, client, make_user):
    from registry.jobs import jobs
    from tests.helpers import csrf_token, login

    make_user("kim", org="hanbit")
    login(client, "kim")
    response = client.post("/account/tokens", data={
        "token-csrf_token": csrf_token(client, "/account"), "token-name": "배포용", "token-org": "hanbit",
        "token-scopes": ["publish"]})
    assert response.status_code == 200
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last.action == "token.create"
    jobs().anchor_audit()  # the periodic task itself (the queue is immediate in tests)
    assert _anchor_leaves()[-1]["last_id"] == last.id
    assert _verify(app).exit_code == 0


def test_a_fresh_registry_verifies_before_its_first_anchor(app_config, make_app):
    # A fresh app with no context pushed, as `flask --app registry users create` runs.
    cli_app = make_app(app_config)
    result = cli_app.test_cli_runner().invoke(args=["users", "create", "park", "--email", "park@example.org"],
                                              input="correct-horse-1\n")
    assert result.exit_code == 0, result.output
    result = cli_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "1 events; the 1 newest are not anchored yet" in result.output, result.output
    with cli_app.app_context():
        assert log_size() == 0
