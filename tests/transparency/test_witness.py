"""Witnesses: the registry keeps a registered witness's cosignature only for the exact checkpoint it signed.

Hostile cases first: a stranger's key (403), a cosignature made over another checkpoint or a checkpoint
this log never signed (400), a stale one (409). Nothing of a refused request is kept.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.db import db
from registry.spec import note
from registry.spec.tlog import leaf_hash
from registry.transparency import service, witnesses
from registry.transparency.models import Cosignature, LeafKind, Witness

WITNESS = note.Signer.generate("witness.gg.go.kr/w1", note.ALG_COSIGNATURE_V1)
URL = "/api/v1/log/cosignatures"


@pytest.fixture
def grow(app):
    """Append `n` leaves (key revocations) to the log and commit; returns the signed head as served."""

    def _grow(n: int = 1) -> str:
        for i in range(n):
            service.append(LeafKind.KEY_REVOKED, {"keyid": f"k{service.log_size()}-{i}", "username": "한빛"})
        db.session.commit()
        return service.latest_checkpoint()

    return _grow


@pytest.fixture
def registered(app):
    witnesses.add_witness("경기도", WITNESS.verifier.encode())
    db.session.commit()
    return WITNESS


def cosigned(signed: str, signer: note.Signer = WITNESS, *, at: int | None = None, text: str | None = None) -> str:
    """The note a witness sends: the checkpoint with its cosignature line (of `text`, by default the same) added."""
    opened = note.parse(signed)
    line = note.cosign(text or opened.text, signer, int(time.time()) if at is None else at)
    return note.Note(opened.text, (*opened.signatures, line)).encode()


def post(client, body: str):
    return client.post(URL, data=body.encode(), content_type="text/plain; charset=utf-8")


def kept() -> int:
    return db.session.scalar(select(func.count(Cosignature.id)))


def _refused(response, status: int, text: str) -> None:
    assert response.status_code == status, response.json
    [error] = response.json["errors"]
    assert error["field"] == "checkpoint" and text in error["detail"], error
    assert kept() == 0


def test_a_key_that_is_no_registered_witness_is_refused(client, grow, registered):
    stranger = note.Signer.generate("witness.gg.go.kr/w1", note.ALG_COSIGNATURE_V1)  # same name, other key
    _refused(post(client, cosigned(grow(), stranger)), 403, "is not the key of a witness of this registry")


def test_a_cosignature_made_over_another_checkpoint_is_refused(client, grow, registered):
    older = grow(2)
    newer = grow()
    _refused(post(client, cosigned(newer, text=note.parse(older).text)), 400, "does not verify over this checkpoint")


def test_a_checkpoint_this_log_never_signed_is_refused(client, grow, registered):
    grow(2)
    forged = note.Checkpoint(service.origin(), 2, leaf_hash(b"another history")).text()
    _refused(post(client, cosigned(note.sign(forged, note.Signer.generate(service.origin())).encode())), 400,
             "this log signed no such checkpoint")
    beyond = note.Checkpoint(service.origin(), 9, leaf_hash(b"x")).text()
    _refused(post(client, cosigned(note.sign(beyond, service.signer()).encode())), 400, "no such checkpoint of 9")


def test_a_stale_cosignature_is_refused(client, grow, registered):
    older = grow(2)
    newer = grow()
    assert post(client, cosigned(newer)).status_code == 201
    response = post(client, cosigned(older))
    assert response.status_code == 409 and "cosigned the checkpoint of 3 leaves before" in \
        response.json["errors"][0]["detail"]
    earlier = post(client, cosigned(newer, at=int(time.time()) - 3600))
    assert earlier.status_code == 409 and "cosigned this checkpoint later already" in earlier.json["errors"][0]["detail"]
    assert db.session.scalar(select(Cosignature.tree_size)) == 3 and kept() == 1


@pytest.mark.parametrize("body, text", [
    ("not a note", "is not a signed checkpoint"),
    ("hello\n\n— someone AAAA\n", "is not a signed checkpoint"),
])
def test_a_body_that_is_no_signed_checkpoint_is_refused(client, grow, registered, body, text):
    grow()
    _refused(post(client, body), 400, text)


def test_a_checkpoint_without_a_cosignature_or_from_the_future_is_refused(client, grow, registered):
    signed = grow()
    _refused(post(client, signed), 400, "carries no cosignature")
    _refused(post(client, cosigned(signed, at=int(time.time()) + 3600)), 400, "is in the future")


def test_a_body_too_large_or_not_utf8_is_refused(client, grow, registered):
    grow()
    assert post(client, "x" * (note.MAX_NOTE + 1)).status_code == 413
    response = client.post(URL, data=b"\xff\xfe", content_type="text/plain")
    assert response.status_code == 400 and response.json["errors"][0]["field"] == "checkpoint"


def test_cosignatures_are_kept_served_after_the_logs_signature_and_shown(client, grow, registered):
    signed = grow(2)
    response = post(client, cosigned(signed, at=1_780_000_000))
    assert response.status_code == 201, response.json
    assert response.json["cosignatures"] == [{"witness": "경기도", "tree_size": 2, "new": True,
                                              "signed_at": "2026-05-28T20:26:40+00:00"}]
    again = post(client, cosigned(signed, at=1_780_000_000))
    assert again.status_code == 200 and again.json["cosignatures"][0]["new"] is False

    served = client.get("/api/v1/log/checkpoint").get_data(as_text=True)
    head, opened = note.open_checkpoint(served, service.verifier(), service.origin())
    assert head.size == 2 and note.cosignature_time(opened, WITNESS.verifier) == 1_780_000_000
    assert [s.name for s in opened.signatures] == [service.origin(), WITNESS.name]

    page = client.get("/transparency", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "경기도" in page and "최신 헤드 (항목 2개)" in page and WITNESS.verifier.encode() in page

    grow()  # the log grows: its new head is not cosigned until the witness comes back
    newest = client.get("/api/v1/log/checkpoint").get_data(as_text=True)
    assert len(note.parse(newest).signatures) == 1
    page = client.get("/transparency", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert "항목 2개 (이전 헤드)" in page and "증인 1곳 중 0곳이 최신 헤드에 공동 서명했습니다." in page


def test_adding_a_witness_checks_its_key_and_is_audited(app):
    runner = app.test_cli_runner()
    log_key = runner.invoke(args=["log", "key"]).output.strip()
    refused = runner.invoke(args=["log", "witness", "add", "경기도", log_key])
    assert refused.exit_code == 1 and "a witness key is a cosignature/v1 key" in refused.output
    assert runner.invoke(args=["log", "witness", "add", "경기도", "not-a-key"]).exit_code == 1

    added = runner.invoke(args=["log", "witness", "add", "경기도", WITNESS.verifier.encode()])
    assert added.exit_code == 0 and "witness 경기도 added" in added.output, added.output
    twice = runner.invoke(args=["log", "witness", "add", "행정안전부", WITNESS.verifier.encode()])
    assert twice.exit_code == 1 and "belongs to a registered witness already" in twice.output
    assert db.session.scalar(select(func.count(Witness.id))) == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "log.witness_add"))
    assert event.details == {"name": "경기도", "key": WITNESS.verifier.encode()}
    listed = runner.invoke(args=["log", "witness", "list"])
    assert "경기도" in listed.output and "has cosigned nothing yet" in listed.output
