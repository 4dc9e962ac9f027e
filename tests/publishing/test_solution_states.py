"""A solution's lifecycle over the API: deprecate (naming a successor), archive, reactivate; and every
refusal answered with its field, writing nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.db import db
from registry.events import EventName, EventOutbox
from registry.releases import states
from registry.releases.service import get_release, get_solution
from registry.transparency.models import LogLeaf
from tests.publishing.packages import archive

REASON = "노선 축소 대신 수요응답형 교통으로 전환합니다"


def post_state(client, token, name="parking-share", **body):
    return client.post(f"/api/v1/solutions/{name}/state", json=body, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def published(upload, vendor_token):
    """hanbit publishes parking-share 1.2.0 and its successor parking-hub 1.0.0 (published); both active."""

    def _publish(name: str, version: str, *, approve: bool = True) -> None:
        assert upload(vendor_token, archive(name, version), name=name).status_code == 201
        if approve:
            states.transition_release(get_release(name, version), "approve")
        db.session.commit()

    _publish("parking-share", "1.2.0")
    _publish("parking-hub", "1.0.0")
    return _publish


def written() -> tuple:
    """What a state change writes: audit rows, events, log leaves; and the solution as it is."""
    db.session.expire_all()
    solution = get_solution("parking-share")
    return (db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "solution.state")),
            db.session.scalar(select(func.count(EventOutbox.id)).where(
                EventOutbox.name == EventName.SOLUTION_STATE_CHANGED.value)),
            db.session.scalar(select(func.count(LogLeaf.id)).where(LogLeaf.kind.like("solution.%"))),
            solution.state, solution.successor_id)


def test_deprecate_with_a_successor_then_archive_and_reactivate(client, published, vendor_token):
    response = post_state(client, vendor_token, state="deprecated", successor="parking-hub", reason=REASON)
    assert response.status_code == 200, response.json
    assert (response.json["solution"]["state"], response.json["solution"]["successor"]) == ("deprecated", "parking-hub")
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "solution.state"))
    assert event.details == {"from": "active", "to": "deprecated", "successor": "parking-hub", "reason": REASON}
    [outbox] = db.session.scalars(select(EventOutbox).where(EventOutbox.name == "solution.state_changed"))
    assert outbox.payload["state"] == "deprecated" and outbox.payload["reason"] == REASON
    assert outbox.payload["successor_id"] == get_solution("parking-hub").id
    assert db.session.scalar(select(LogLeaf).where(LogLeaf.kind == "solution.deprecated")) is not None

    response = post_state(client, vendor_token, state="archived")
    assert response.status_code == 200 and response.json["solution"]["successor"] is None
    response = post_state(client, vendor_token, state="active")
    assert (response.json["solution"]["state"], response.json["solution"]["successor"]) == ("active", None)
    assert client.get("/api/v1/solutions/parking-share").json["solution"]["state"] == "active"


def test_an_admin_token_of_another_organization_may_change_it(client, published, make_user, make_token):
    admin = make_user("admin", role="admin", org="smartcity-agency", org_kind="agency")
    response = post_state(client, make_token(admin, "smartcity-agency", ["yank"]), state="archived")
    assert response.status_code == 200, response.json


@pytest.mark.parametrize("body, status, field", [
    ({"state": "deprecated", "successor": "no-such-thing"}, 404, "successor"),
    ({"state": "deprecated", "successor": "PARKING_share"}, 400, "successor"),  # itself, however spelt
    ({"state": "archived", "successor": "parking-hub"}, 400, "successor"),  # only a deprecation names one
    ({"state": "deprecated", "successor": "parking-draft"}, 400, "successor"),  # nothing published to move to
    ({"state": "deleted"}, 400, "state"),
    ({}, 400, "state"),
    ({"state": ["deprecated"]}, 400, "state"),
    ({"state": "deprecated", "successor": 7}, 400, "successor"),
    ({"state": "deprecated", "reason": "보안 문제\r\nSet-Cookie: x=1"}, 400, "reason"),
    ({"state": "deprecated", "reason": "가" * 501}, 400, "reason"),
    ({"state": "active"}, 409, "state"),  # it is active already
])
def test_careless_requests_are_refused_with_their_field_and_write_nothing(client, published, vendor_token,
                                                                           body, status, field):
    published("parking-draft", "0.1.0", approve=False)
    before = written()
    response = post_state(client, vendor_token, **body)
    assert response.status_code == status, response.json
    [error] = response.json["errors"]
    assert error["field"] == field and error["detail"]
    assert written() == before


def test_a_successor_must_be_active(client, published, vendor_token, upload):
    assert post_state(client, vendor_token, name="parking-hub", state="archived").status_code == 200
    before = written()
    response = post_state(client, vendor_token, state="deprecated", successor="parking-hub")
    assert response.status_code == 400 and response.json["errors"][0]["field"] == "successor"
    assert "archived" in response.json["errors"][0]["detail"]
    assert written() == before


def test_an_archived_solution_cannot_be_deprecated(client, published, vendor_token):
    assert post_state(client, vendor_token, state="archived").status_code == 200
    before = written()
    response = post_state(client, vendor_token, state="deprecated", successor="parking-hub")
    assert response.status_code == 409
    assert response.json["errors"][0]["code"] == "invalid-state"
    assert written() == before


def test_other_organizations_and_weaker_tokens_are_refused(client, published, make_user, make_token):
    before = written()
    other = make_token(make_user("other", org="elsewhere"), "elsewhere", ["yank", "publish"])
    response = post_state(client, other, state="deprecated")
    assert response.status_code == 403
    assert response.json["errors"][0]["field"] == "token"
    publisher_only = make_token(make_user("pub", org="hanbit"), "hanbit", ["publish"])
    response = post_state(client, publisher_only, state="deprecated")
    assert response.status_code == 403 and response.json["errors"][0]["field"] == "scope"
    limited = make_token(make_user("limited", org="hanbit"), "hanbit", ["yank"], solution="parking-hub")
    assert post_state(client, limited, state="deprecated").status_code == 403
    assert client.post("/api/v1/solutions/parking-share/state", json={"state": "deprecated"}).status_code == 401
    assert post_state(client, other, name="nothing-here", state="deprecated").status_code == 404
    assert written() == before


def test_a_mirrored_solution_changes_only_at_its_origin(client, published, vendor_token):
    solution = get_solution("parking-share")
    solution.mirrored_from = "solreg.other/log"
    db.session.commit()
    before = written()
    response = post_state(client, vendor_token, state="archived")
    assert response.status_code == 409 and response.json["errors"][0]["code"] == "mirrored-read-only"
    assert written() == before
