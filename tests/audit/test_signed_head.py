"""The audit chain head is signed with the registry's key and kept in blob storage, outside the database,
so `audit verify` notices what re-hashing alone cannot: rows cut off the end, or edited with every later
hash recomputed."""

from __future__ import annotations

import json
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, text

from registry.audit import head as audit_head
from registry.audit import service as audit
from registry.audit.models import AuditEvent
from registry.db import db
from registry.storage import storage
from tests.storage.test_s3 import s3_endpoint, s3_settings  # noqa: F401  (fixtures)


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "SIGNING_KEY_PATH": str(tmp_path / "keys" / "registry-signing-key.pem")}


def _events(n: int = 3) -> list[AuditEvent]:
    for i in range(n):
        audit.record("test.event", details={"n": i, "내용": "주차 공유 도입"})
    db.session.commit()
    audit_head.publish_head()
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def _verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def _failure_line(result) -> str:
    """The failure's one line (a known failure adds a `Hint:` line after it)."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("Hint: ")), result.output
    return lines[0]


def _rehash_from(first_id: int) -> None:
    """What an attacker with the database does: recompute every hash from `first_id` on."""
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id >= first_id).order_by(AuditEvent.id)))
    previous = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id < first_id)
                                 .order_by(AuditEvent.id.desc()).limit(1)) or audit.GENESIS
    # Unique hashes: clear the ones being replaced first so the new chain never collides with the old.
    db.session.execute(text("UPDATE audit_events SET hash = 'old-' || id, prev_hash = 'oldp-' || id WHERE id >= :id"),
                       {"id": first_id})
    for event in events:
        db.session.refresh(event)
        event.prev_hash = previous
        event.hash = audit._digest(event)
        previous = event.hash
        db.session.flush()
    db.session.commit()


def test_intact_chain_reports_ok_with_the_count(app):
    _events(3)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "3 events" in result.output and "signed head" in result.output


def test_signed_head_names_count_last_id_and_hash(app):
    events = _events(2)
    statement = audit_head.read_signed_head().statement
    assert (statement["count"], statement["last_id"], statement["last_hash"]) == (2, events[-1].id, events[-1].hash)
    assert statement["time"].endswith("Z")


def test_truncation_at_the_end_fails(app):
    events = _events(4)
    db.session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": events[2].id})
    db.session.commit()
    assert audit.verify_chain() == (2, [])  # the chain alone cannot see it
    line = _failure_line(_verify(app))
    assert "deleted at the end" in line and "4 events" in line


def test_edit_and_rehash_fails(app):
    events = _events(4)
    db.session.execute(text("UPDATE audit_events SET actor_name = '위조' WHERE id = :id"), {"id": events[1].id})
    _rehash_from(events[1].id)
    assert audit.verify_chain()[1] == []  # the chain alone cannot see it
    line = _failure_line(_verify(app))
    assert f"event {events[-1].id}" in line and "re-hashed" in line


def test_delete_in_the_middle_and_rehash_fails(app):
    events = _events(4)
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
    _rehash_from(events[2].id)
    assert audit.verify_chain()[1] == []
    assert "re-hashed" in _failure_line(_verify(app))


def test_head_signed_with_another_key_fails(app):
    _events(2)
    signed = audit_head.read_signed_head()
    forged = Ed25519PrivateKey.generate().sign(audit_head.canonical(signed.statement))
    document = json.loads(storage().get_document(audit_head.HEAD_DOCUMENT))
    document["signature"] = __import__("base64").b64encode(forged).decode()
    storage().put_document(audit_head.HEAD_DOCUMENT, json.dumps(document).encode())
    result = _verify(app)
    assert "signature" in _failure_line(result) and "Hint: restore audit-head.json" in result.output


def test_edited_head_statement_fails(app):
    _events(3)
    document = json.loads(storage().get_document(audit_head.HEAD_DOCUMENT))
    document["statement"]["count"] = 1  # an attacker lowering the head to hide a truncation
    storage().put_document(audit_head.HEAD_DOCUMENT, json.dumps(document).encode())
    result = _verify(app)
    assert "signature" in _failure_line(result) and "Hint: restore audit-head.json" in result.output


def test_missing_head_while_events_exist_fails(app):
    _events(2)
    storage().delete_document(audit_head.HEAD_DOCUMENT)
    line = _failure_line(_verify(app))
    assert "no signed head" in line and "2 events" in line


def test_empty_log_without_head_is_ok(app):
    assert _verify(app).exit_code == 0


def test_head_never_goes_backwards_and_never_signs_a_rewrite(app):
    last_id = _events(3)[-1].id
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last_id})
    db.session.commit()
    audit_head.publish_head()  # the database is behind the signed head: keep the higher one
    assert audit_head.read_signed_head().statement["count"] == 3
    audit.record("test.after", details={"n": 9})
    audit.record("test.after", details={"n": 10})
    db.session.commit()
    audit_head.publish_head()  # more events now, but they do not extend the signed head: not signed
    assert audit_head.read_signed_head().statement["last_id"] == last_id
    assert _verify(app).exit_code == 1


def test_a_request_that_records_events_publishes_the_head(app, client, make_user):
    from tests.helpers import csrf_token, login

    make_user("kim", org="hanbit")
    storage().delete_document(audit_head.HEAD_DOCUMENT)
    login(client, "kim")
    response = client.post("/account/tokens", data={
        "token-csrf_token": csrf_token(client, "/account"), "token-name": "배포용", "token-org": "hanbit",
        "token-scopes": ["publish"]})
    assert response.status_code == 200
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last.action == "token.create"
    assert audit_head.read_signed_head().statement["last_id"] == last.id
    assert _verify(app).exit_code == 0


def test_a_command_that_records_events_publishes_the_head(app_config, make_app):
    # A fresh app with no context pushed, as `flask --app registry users create` runs.
    cli_app = make_app(app_config)
    result = cli_app.test_cli_runner().invoke(args=["users", "create", "park", "--email", "park@example.org"],
                                              input="correct-horse-1\n")
    assert result.exit_code == 0, result.output
    result = cli_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "1 events" in result.output, result.output


def test_the_key_is_made_once_private_and_its_public_half_is_served(app, client, app_config, make_app):
    _events(1)
    path = app_config["SIGNING_KEY_PATH"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    served = client.get("/.well-known/registry-key").get_json()
    public = serialization.load_pem_public_key(served["public_key_pem"].encode())
    assert isinstance(public, Ed25519PublicKey)
    signed = audit_head.read_signed_head()
    public.verify(signed.signature, audit_head.canonical(signed.statement))
    assert served["keyid"] == signed.keyid and served["algorithm"] == "Ed25519"
    before = open(path, "rb").read()
    make_app(app_config)  # a restart keeps the key
    _events(1)
    assert open(path, "rb").read() == before


def test_head_on_s3(app_config, s3_settings, make_app):  # noqa: F811
    s3_app = make_app({**app_config, **s3_settings})
    with s3_app.app_context():
        events = _events(3)
        assert _verify(s3_app).exit_code == 0
        db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[-1].id})
        db.session.commit()
        assert "deleted at the end" in _failure_line(_verify(s3_app))
