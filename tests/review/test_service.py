"""The review workflow end to end through the API and the service: checks, queue, claims,
decisions (with real concurrency), two approvals, notifications and audit events."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import func, select, update
from standardwebhooks import Webhook

from registry.audit.models import AuditEvent
from registry.db import db, utcnow
from registry.errors import Conflict, Forbidden, InvalidInput
from registry.notifications.models import Notification, OutboxEmail
from registry.releases.models import Release
from registry.review import service
from registry.review.models import Review, ReviewReason
from tests.review.conftest import auth

BUSL = [("requests", "2.31.0", "Apache-2.0"), ("mongo-driver", "1.0.0", "BUSL-1.1")]


def decide(client, token, release_id, decision="approve", comment="", reasons=None):
    body = {"decision": decision, "comment": comment, **({"reasons": reasons} if reasons is not None else {})}
    return client.post(f"/api/v1/reviews/{release_id}", json=body, headers=auth(token))


def state_of(release_id: int) -> str:
    return db.session.scalar(select(Release.state).where(Release.id == release_id))


# --- checks -------------------------------------------------------------------------------

def test_checks_are_listed_failing_first_and_a_failing_release_can_still_be_approved(
        client, release_of, reviewer_token):
    release = release_of("1.2.0", BUSL)
    checks = service.sorted_checks(release)
    assert checks[0].name == "licenses" and checks[0].status == "fail"
    statuses = [c.status for c in checks]
    assert statuses == sorted(statuses, key=service.CHECK_ORDER.get)
    assert {c.name for c in checks} >= {"manifest", "archive", "datahub", "deploy", "provenance", "dependencies",
                                        "licenses", "vulnerabilities"}
    assert service.check_status(release) == "fail"
    picture = client.get(f"/api/v1/reviews/{release.id}", headers=auth(reviewer_token)).json
    assert picture["checks"][0]["name"] == "licenses" and picture["checks"][0]["ran_at"]
    assert decide(client, reviewer_token, release.id).status_code == 200
    assert state_of(release.id) == "published"


# --- queue --------------------------------------------------------------------------------

@pytest.fixture
def mixed_queue(client, release_of, reviewer_token, make_user, make_token):
    """parking-share 1.2.0 published, 1.3.0 pending (update); bus-shelter 0.1.0 pending (first, failing, hub)."""
    approve = release_of("1.2.0")
    assert decide(client, reviewer_token, approve.id).status_code == 200
    update_release = release_of("1.3.0")
    other = make_token(make_user("vendor2", org="urban"), "urban", ["publish"])
    funding = {"programme": "hub", "year": 2022, "fundedBy": "국토교통부", "municipality": "광명시"}
    first = release_of("0.1.0", BUSL, name="bus-shelter", token=other, funding=funding)
    return update_release, first


def queue_names(client, token, query=""):
    response = client.get(f"/api/v1/reviews/queue{query}", headers=auth(token))
    assert response.status_code == 200, response.json
    return [(e["name"], e["version"]) for e in response.json["queue"]]


def test_queue_is_oldest_first_and_filters(client, mixed_queue, reviewer_token):
    both = [("parking-share", "1.3.0"), ("bus-shelter", "0.1.0")]
    assert queue_names(client, reviewer_token) == both
    assert queue_names(client, reviewer_token, "?programme=hub") == [("bus-shelter", "0.1.0")]
    assert queue_names(client, reviewer_token, "?programme=small-strong-population") == [("parking-share", "1.3.0")]
    assert queue_names(client, reviewer_token, "?org=urban") == [("bus-shelter", "0.1.0")]
    assert queue_names(client, reviewer_token, "?checks=fail") == [("bus-shelter", "0.1.0")]
    assert queue_names(client, reviewer_token, "?checks=warn") == both  # no provenance: a warning on both
    assert queue_names(client, reviewer_token, "?checks=pass") == []
    assert queue_names(client, reviewer_token, "?kind=first") == [("bus-shelter", "0.1.0")]
    assert queue_names(client, reviewer_token, "?kind=update&org=hanbit") == [("parking-share", "1.3.0")]
    entries = client.get("/api/v1/reviews/queue", headers=auth(reviewer_token)).json["queue"]
    assert [e["position"] for e in entries] == [1, 2]
    assert [e["check_status"] for e in entries] == ["warn", "fail"]
    assert all(e["waiting_seconds"] >= 0 for e in entries)


def test_queue_pages_keep_the_whole_queue_positions_under_filters(client, mixed_queue, release_of, reviewer_token):
    release_of("1.4.0")  # a third pending release: parking-share 1.3.0, bus-shelter 0.1.0, parking-share 1.4.0
    first = client.get("/api/v1/reviews/queue?per_page=2", headers=auth(reviewer_token)).json
    assert [(e["name"], e["position"]) for e in first["queue"]] == [("parking-share", 1), ("bus-shelter", 2)]
    assert (first["total"], first["pending"], first["pages"], first["has_next"]) == (3, 3, 2, True)
    second = client.get("/api/v1/reviews/queue?per_page=2&page=2", headers=auth(reviewer_token)).json
    assert [(e["version"], e["position"]) for e in second["queue"]] == [("1.4.0", 3)] and not second["has_next"]
    updates = client.get("/api/v1/reviews/queue?kind=update&per_page=1&page=2", headers=auth(reviewer_token)).json
    assert [(e["version"], e["position"]) for e in updates["queue"]] == [("1.4.0", 3)]
    assert (updates["total"], updates["pending"]) == (2, 3)
    past_the_end = client.get("/api/v1/reviews/queue?page=9", headers=auth(reviewer_token)).json
    assert past_the_end["queue"] == [] and past_the_end["total"] == 3


@pytest.mark.parametrize("query,field", [("?page=0", "page"), ("?page=-1", "page"), ("?page=두", "page"),
                                         ("?per_page=201", "per_page"), ("?per_page=0", "per_page")])
def test_queue_refuses_bad_pages(client, reviewer_token, query, field):
    response = client.get(f"/api/v1/reviews/queue{query}", headers=auth(reviewer_token))
    assert response.status_code == 400 and response.json["errors"][0]["field"] == field


@pytest.mark.parametrize("query,field", [("?checks=red", "checks"), ("?kind=newest", "kind"),
                                         ("?programme=moonshot", "programme")])
def test_queue_refuses_unknown_filter_values(client, reviewer_token, query, field):
    response = client.get(f"/api/v1/reviews/queue{query}", headers=auth(reviewer_token))
    assert response.status_code == 400 and response.json["errors"][0]["field"] == field


def test_queue_and_decisions_need_a_reviewer_with_review_scope(client, pending, make_user, make_token, reviewer):
    outsider = make_user("clerk", org="cheonan", org_kind="municipality")
    with pytest.raises(Forbidden):  # not even issued (tests/accounts/test_scopes.py covers planted ones)
        make_token(outsider, "cheonan", ["review"])
    db.session.rollback()
    without_scope = make_token(reviewer, "agency", ["read"])
    response = decide(client, without_scope, pending.id)
    assert response.status_code == 403 and response.json["errors"][0]["field"] == "scope"
    assert client.get("/api/v1/reviews/queue").status_code == 401
    assert state_of(pending.id) == "pending_review"


# --- decisions ----------------------------------------------------------------------------

@pytest.mark.parametrize("decision", ["request_changes", "reject"])
def test_request_changes_and_reject_need_a_comment(client, pending, reviewer_token, decision):
    response = decide(client, reviewer_token, pending.id, decision, comment="   ")
    assert response.status_code == 400 and response.json["errors"][0]["field"] == "comment"
    assert state_of(pending.id) == "pending_review"
    response = decide(client, reviewer_token, pending.id, decision, comment="README lacks install steps")
    assert response.status_code == 200
    assert response.json["release"]["state"] == {"request_changes": "changes_requested", "reject": "rejected"}[decision]
    assert response.json["review"]["comment"] == "README lacks install steps"


def test_unknown_decision_and_malformed_body_are_400(client, pending, reviewer_token):
    assert decide(client, reviewer_token, pending.id, "publish").json["errors"][0]["field"] == "decision"
    response = client.post(f"/api/v1/reviews/{pending.id}", json={"decision": "approve", "reasons": "1"},
                           headers=auth(reviewer_token))
    assert response.status_code == 400 and response.json["errors"][0]["field"] == "reasons"
    assert client.post(f"/api/v1/reviews/{pending.id}", data="x", headers=auth(reviewer_token)).status_code == 400
    assert decide(client, reviewer_token, 9999).status_code == 404


def test_deciding_a_release_that_is_not_pending_is_409(client, pending, reviewer_token):
    assert decide(client, reviewer_token, pending.id, "reject", "not reusable").status_code == 200
    for decision in ("approve", "request_changes", "reject"):
        response = decide(client, reviewer_token, pending.id, decision, "again")
        assert response.status_code == 409 and response.json["errors"][0]["code"] == "invalid-state"
    assert db.session.scalar(select(func.count(Review.id))) == 1


def test_a_reviewer_of_the_publishing_org_is_refused(client, pending, make_user, make_token):
    insider = make_user("insider", role="reviewer", org="hanbit", member_role="member")
    token = make_token(insider, "hanbit", ["review"])
    response = decide(client, token, pending.id)
    assert response.status_code == 403 and "another reviewer" in response.json["errors"][0]["detail"]
    assert client.post(f"/api/v1/reviews/{pending.id}/claim", headers=auth(token)).status_code == 403
    assert state_of(pending.id) == "pending_review"


def test_reasons_are_stored_as_they_read_at_decision_time(client, pending, reviewer_token, make_user):
    admin = make_user("admin", role="admin")
    reason = service.save_reason(admin, "설치 문서가 부족합니다", "Installation docs are missing")
    db.session.commit()
    retired = service.save_reason(admin, "옛 사유", "Old reason", active=False)
    db.session.commit()
    assert decide(client, reviewer_token, pending.id, "request_changes", "see reasons", [retired.id]).status_code == 400
    assert decide(client, reviewer_token, pending.id, "request_changes", "see reasons", [424242]).status_code == 400
    response = decide(client, reviewer_token, pending.id, "request_changes", "see reasons", [reason.id])
    assert response.status_code == 200
    service.save_reason(admin, "바뀐 문구", "Changed text", reason=reason)
    db.session.commit()
    stored = db.session.scalar(select(Review))
    assert stored.reasons == [{"id": reason.id, "ko": "설치 문서가 부족합니다", "en": "Installation docs are missing"}]


def test_only_admins_edit_reasons_and_both_texts_are_required(app, reviewer, make_user):
    with pytest.raises(Forbidden):
        service.save_reason(reviewer, "사유", "Reason")
    admin = make_user("admin", role="admin")
    with pytest.raises(InvalidInput) as excinfo:
        service.save_reason(admin, "사유", " ")
    assert excinfo.value.field == "text_en"
    assert db.session.scalar(select(func.count(ReviewReason.id))) == 0


def test_each_decision_is_an_audit_event_and_notifies_the_org(client, pending, reviewer_token):
    response = decide(client, reviewer_token, pending.id, "request_changes", "Add the Helm values schema")
    assert response.status_code == 200
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "review.request_changes"))
    assert event.actor_name == "reviewer" and event.details["version"] == "1.2.0"
    assert event.details["from"] == "pending_review" and event.details["to"] == "changes_requested"
    note = db.session.scalar(select(Notification).where(Notification.kind == "review.request_changes"))
    assert note.org_id == pending.solution.org_id and "Add the Helm values schema" in note.message
    assert note.link.endswith("/solutions/parking-share/1.2.0")
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == "vendor@example.org"))
    assert mail is not None and "Add the Helm values schema" in mail.body


def test_a_decision_outside_a_request_links_to_the_release_at_the_public_address(app, pending, reviewer):
    app.config["PUBLIC_URL"] = "https://registry.example.go.kr/"
    service.decide(reviewer, pending, "approve")
    note = db.session.scalar(select(Notification).where(Notification.kind == "review.approve"))
    assert note.link == "https://registry.example.go.kr/solutions/parking-share/1.2.0"


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, dict(self.headers)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_org_webhook_receives_a_signed_decision(app, client, pending, reviewer_token):
    app.config["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        org = pending.solution.org
        org.webhook_url, org.webhook_secret = f"http://127.0.0.1:{server.server_port}/hook", "s3cret"
        db.session.commit()
        assert decide(client, reviewer_token, pending.id, "approve").status_code == 200
    finally:
        server.shutdown()
    [(body, headers)] = _Hook.received
    payload = Webhook(b"s3cret").verify(body, headers)  # a secret chosen before whsec_ ones signs with its bytes
    assert payload["kind"] == "review.approve" and payload["state"] == "published" and payload["version"] == "1.2.0"


def test_a_change_request_is_answered_by_the_next_upload(client, release_of, reviewer_token):
    first = release_of("1.2.0")
    review_id = decide(client, reviewer_token, first.id, "request_changes", "fix booking times").json["review"]["id"]
    second = release_of("1.2.1")
    assert second.answers_review_id == review_id
    picture = client.get(f"/api/v1/reviews/{second.id}", headers=auth(reviewer_token)).json
    assert picture["answers_review_id"] == review_id
    queue = client.get("/api/v1/reviews/queue", headers=auth(reviewer_token)).json["queue"]
    assert queue[0]["answers_review_id"] == review_id


# --- two approvals ------------------------------------------------------------------------

def test_first_release_needs_two_different_approvals_when_configured(
        app, client, release_of, reviewer_token, reviewer2, make_token):
    app.config["REVIEW_TWO_APPROVALS_FOR_FIRST_RELEASE"] = True
    first = release_of("1.2.0")
    response = decide(client, reviewer_token, first.id)
    assert response.status_code == 200 and response.json["published"] is False
    assert response.json["release"]["state"] == "pending_review"
    again = decide(client, reviewer_token, first.id)
    assert again.status_code == 409 and again.json["errors"][0]["code"] == "already-approved"
    second = decide(client, make_token(reviewer2, "agency", ["review"]), first.id)
    assert second.status_code == 200 and second.json["published"] is True
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("review.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["review.first_approval", "review.approve"]
    # an update of a published solution needs only one approval
    update_release = release_of("1.3.0")
    assert decide(client, reviewer_token, update_release.id).json["published"] is True


def test_one_approval_is_enough_by_default(client, pending, reviewer_token):
    assert decide(client, reviewer_token, pending.id).json["published"] is True


# --- claims -------------------------------------------------------------------------------

def test_a_claim_blocks_other_reviewers_until_released_or_expired(
        client, pending, reviewer_token, reviewer2, make_token, make_user):
    other = make_token(reviewer2, "agency", ["review"])
    url = f"/api/v1/reviews/{pending.id}/claim"
    claimed = client.post(url, headers=auth(reviewer_token))
    assert claimed.status_code == 200 and claimed.json["claim"]["claimed_by"] == "reviewer"
    refused = client.post(url, headers=auth(other))
    assert refused.status_code == 409 and "reviewer is reviewing" in refused.json["errors"][0]["detail"]
    blocked = decide(client, other, pending.id)
    assert blocked.status_code == 409 and blocked.json["errors"][0]["code"] == "claimed"
    assert client.delete(url, headers=auth(other)).status_code == 409  # not theirs to give back
    assert client.get("/api/v1/reviews/queue", headers=auth(other)).json["queue"][0]["claimed_by"] == "reviewer"

    # the claim expires after REVIEW_CLAIM_MINUTES (30 by default): move it 31 minutes into the past
    db.session.execute(update(Release).where(Release.id == pending.id)
                       .values(claimed_at=utcnow() - timedelta(minutes=31)))
    db.session.commit()
    assert client.get("/api/v1/reviews/queue", headers=auth(other)).json["queue"][0]["claimed_by"] is None
    assert client.post(url, headers=auth(other)).json["claim"]["claimed_by"] == "reviewer2"
    released = client.delete(url, headers=auth(other))
    assert released.status_code == 200 and released.json["claim"]["claimed_by"] is None
    assert decide(client, reviewer_token, pending.id, "request_changes", "ok, my turn").status_code == 200
    assert db.session.get(Release, pending.id).claimed_by_id is None  # a decision frees the claim


def test_the_holder_decides_and_an_admin_can_break_a_claim(app, pending, reviewer, reviewer2, make_user):
    service.claim(reviewer, pending)
    db.session.commit()
    with pytest.raises(Conflict):
        service.decide(reviewer2, pending, "approve")
    admin = make_user("admin", role="admin")
    service.unclaim(admin, pending)
    db.session.commit()
    assert service.active_claim_holder(db.session.get(Release, pending.id)) is None
    assert service.decide(reviewer2, pending, "approve").published
    db.session.commit()


def test_claiming_a_decided_release_is_409(client, pending, reviewer_token):
    assert decide(client, reviewer_token, pending.id).status_code == 200
    response = client.post(f"/api/v1/reviews/{pending.id}/claim", headers=auth(reviewer_token))
    assert response.status_code == 409 and response.json["errors"][0]["code"] == "invalid-state"


# --- real concurrency ---------------------------------------------------------------------

def _race(app, requests_: list) -> list[int]:
    """Run each (token, method, url, json) in its own thread, all released at once; return statuses."""
    barrier = threading.Barrier(len(requests_))
    statuses: list[int] = [0] * len(requests_)

    def run(index: int, token: str, method: str, url: str, body: dict | None) -> None:
        client = app.test_client()
        barrier.wait()
        statuses[index] = client.open(url, method=method, json=body, headers=auth(token)).status_code

    threads = [threading.Thread(target=run, args=(i, *r)) for i, r in enumerate(requests_)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return statuses


@pytest.fixture
def reviewer_tokens(make_user, make_token):
    users = [make_user(f"rev{i}", role="reviewer", org="agency", org_kind="agency", member_role="member")
             for i in range(4)]
    return [make_token(u, "agency", ["review"]) for u in users]


def test_concurrent_decisions_exactly_one_applies(app, pending, reviewer_tokens):
    url = f"/api/v1/reviews/{pending.id}"
    decisions = [("approve", ""), ("reject", "no"), ("request_changes", "fix"), ("approve", "")]
    statuses = _race(app, [(t, "POST", url, {"decision": d, "comment": c})
                           for t, (d, c) in zip(reviewer_tokens, decisions)])
    assert sorted(statuses) == [200, 409, 409, 409]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Review.id))) == 1
    winner = db.session.scalar(select(Review))
    expected = {"approve": "published", "reject": "rejected", "request_changes": "changes_requested"}
    assert state_of(pending.id) == expected[winner.decision]
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.like("review.%"))) == 1


def test_concurrent_claims_exactly_one_wins(app, pending, reviewer_tokens):
    url = f"/api/v1/reviews/{pending.id}/claim"
    statuses = _race(app, [(t, "POST", url, None) for t in reviewer_tokens])
    assert sorted(statuses) == [200, 409, 409, 409]
    db.session.expire_all()
    assert db.session.get(Release, pending.id).claimed_by_id is not None


def test_concurrent_second_approvals_publish_once(app, client, pending, reviewer_tokens):
    app.config["REVIEW_TWO_APPROVALS_FOR_FIRST_RELEASE"] = True
    url = f"/api/v1/reviews/{pending.id}"
    assert decide(client, reviewer_tokens[0], pending.id).json["published"] is False
    statuses = _race(app, [(t, "POST", url, {"decision": "approve"}) for t in reviewer_tokens[1:]])
    assert sorted(statuses) == [200, 409, 409]
    db.session.expire_all()
    assert state_of(pending.id) == "published"
    assert db.session.scalar(select(func.count(Review.id))) == 2
