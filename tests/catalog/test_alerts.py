"""Adoptions, and the alerts adopters and followers receive: yank, vulnerabilities, newer version, new release."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from registry.accounts.models import User
from registry.catalog import alerts
from registry.catalog.adoption import record_adoption, set_webhook
from registry.catalog.models import Adoption
from registry.db import db
from registry.errors import Forbidden, InvalidInput
from registry.notifications.models import Notification, OutboxEmail
from registry.releases import states
from registry.releases.service import get_release
from tests.helpers import csrf_token, login


def owner(username: str = "cheonan") -> User:
    return db.session.scalar(select(User).where(User.username == username))


def notes(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


class Receiver:
    """A webhook endpoint on 127.0.0.1 that keeps what it receives."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def running(publish, municipality):
    """cheonan runs parking-share 1.0.0 in production."""
    release = publish("parking-share", "1.0.0")
    record_adoption(owner(), municipality, release, "production", date(2024, 5, 1))
    db.session.commit()
    return release


def test_recording_an_adoption_updates_it_and_the_reuse_count(running, municipality):
    from registry.catalog.search import SearchQuery, search

    assert search(SearchQuery()).hits[0].adoption_count == 1
    record_adoption(owner(), municipality, running, "retired", date(2024, 9, 1))
    db.session.commit()
    adoptions = db.session.scalars(select(Adoption)).all()
    assert [(a.stage, a.deployed_on) for a in adoptions] == [("retired", date(2024, 9, 1))]
    assert search(SearchQuery()).hits[0].adoption_count == 0  # retired deployments do not count


@pytest.mark.parametrize("stage, when, error", [
    ("testing", date(2024, 1, 1), "unknown stage"),
    ("production", date.today() + timedelta(days=30), "in the future"),
])
def test_bad_adoptions_are_refused(running, municipality, stage, when, error):
    with pytest.raises(InvalidInput, match=error):
        record_adoption(owner(), municipality, running, stage, when)


def test_only_municipality_members_record_adoptions(running, municipality, make_user):
    from registry.accounts import service

    vendor = make_user("someone", org="hanbit")
    with pytest.raises(Forbidden):
        record_adoption(vendor, municipality, running, "production", date(2024, 1, 1))
    with pytest.raises(Forbidden, match="not a municipality"):
        record_adoption(vendor, service.get_org("hanbit"), running, "production", date(2024, 1, 1))


def test_pending_releases_cannot_be_adopted(publish, municipality):
    pending = publish("parking-share", "2.0.0", pending=True)
    with pytest.raises(InvalidInput, match="not published"):
        record_adoption(owner(), municipality, pending, "piloting", date(2024, 1, 1))


def test_yank_alerts_adopters_in_app_by_mail_and_signed_webhook(app, client, running, municipality, receiver,
                                                                 vendor_tokens):
    app.config["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
    secret = set_webhook(owner(), municipality, receiver.url)
    db.session.commit()
    response = client.post("/api/v1/solutions/parking-share/releases/1.0.0/yank", json={"reason": "booking bug"},
                           headers={"Authorization": f"Bearer {vendor_tokens('hanbit')}"})
    assert response.status_code == 200, response.json

    [note] = notes("adoption.yanked")
    assert note.org_id == municipality.id and "booking bug" in note.message
    assert note.link.endswith("/solutions/parking-share/1.0.0")
    assert db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == "cheonan@example.org"))
    [(headers, body)] = receiver.received
    payload = Webhook(secret).verify(body, headers)
    assert (payload["event"], payload["solution"], payload["version"], payload["reason"]) == \
        ("release.yanked", "parking-share", "1.0.0", "booking bug")


def test_retired_adopters_and_other_versions_are_not_alerted(publish, running, municipality, make_user):
    from registry.accounts import service

    other = publish("parking-share", "1.1.0")
    gm_user = make_user("gwangmyeong")
    gm = service.create_org("gwangmyeong", "광명시", "municipality")
    service.add_member(gm, gm_user, "owner")
    db.session.commit()
    record_adoption(gm_user, gm, other, "production", date(2024, 6, 1))
    db.session.commit()
    record_adoption(owner(), municipality, running, "retired", date(2024, 7, 1))
    db.session.commit()
    states.transition_release(running, "yank", reason="x")
    states.transition_release(other, "yank", reason="y")
    db.session.commit()  # the yank events' "alerts" handler tells the adopters
    assert [n.org_id for n in notes("adoption.yanked")] == [gm.id]
    assert (alerts.notify_yank(running), alerts.notify_yank(other)) == (0, 1)
    db.session.rollback()


def test_new_findings_alert_adopters(running, municipality):
    assert alerts.notify_new_findings(running, [{"vulnerability_id": "GHSA-xxxx-yyyy-zzzz", "severity": "high"}]) == 1
    assert alerts.notify_new_findings(running, []) == 0
    db.session.commit()
    [note] = notes("adoption.vulnerability")
    assert "GHSA-xxxx-yyyy-zzzz (high)" in note.message


def test_a_newer_version_passing_review_alerts_adopters_of_older_ones(publish, running, municipality):
    newer = publish("parking-share", "1.1.0", pending=True)
    assert notes("adoption.superseded") == []
    states.transition_release(newer, "approve")
    db.session.commit()
    [note] = notes("adoption.superseded")
    assert note.org_id == municipality.id and "1.1.0" in note.message and "1.0.0" in note.message

    # Unyanking is no new publication, and an older version is no news.
    states.transition_release(newer, "yank", reason="r")
    db.session.commit()
    states.transition_release(newer, "unyank")
    older = publish("parking-share", "0.9.0")
    db.session.commit()
    assert len(notes("adoption.superseded")) == 1
    assert older.state == "published"


def test_adopters_already_on_the_new_version_are_not_told(publish, running, municipality):
    newest = publish("parking-share", "1.1.0", pending=True)
    record_adoption(owner(), municipality, get_release("parking-share", "1.0.0"), "production",
                    date(2024, 5, 1))
    db.session.commit()
    db.session.add(Adoption(org_id=municipality.id, solution_id=newest.solution_id, release_id=newest.id,
                            stage="piloting", deployed_on=date(2024, 8, 1)))
    db.session.commit()
    states.transition_release(newest, "approve")
    db.session.commit()
    assert notes("adoption.superseded") == []


def test_followers_hear_of_new_releases(client, publish, make_user):
    publish("parking-share", "1.0.0")
    make_user("citizen")
    login(client, "citizen")
    token = csrf_token(client, "/solutions/parking-share")
    response = client.post("/solutions/parking-share/subscription",
                           data={"follow-csrf_token": token, "action": "follow"})
    assert response.status_code == 302
    assert "Stop following" in client.get("/solutions/parking-share?lang=en").get_data(as_text=True)

    newer = publish("parking-share", "1.1.0", pending=True)
    states.transition_release(newer, "approve")
    db.session.commit()
    [note] = notes("subscription.release")
    assert note.user_id is not None and "parking-share 1.1.0" in note.message

    client.post("/solutions/parking-share/subscription", data={"follow-csrf_token": token, "action": "unfollow"})
    third = publish("parking-share", "1.2.0", pending=True)
    states.transition_release(third, "approve")
    db.session.commit()
    assert len(notes("subscription.release")) == 1


def test_follow_over_the_api(client, publish, make_user, make_token):
    publish("parking-share", "1.0.0")
    user = make_user("fan", org="hanbit", member_role="member")
    token = make_token(user, "hanbit", ["read"])
    headers = {"Authorization": f"Bearer {token}"}
    assert client.put("/api/v1/solutions/parking-share/subscription", headers=headers).json == \
        {"solution": "parking-share", "subscribed": True}
    assert client.delete("/api/v1/solutions/parking-share/subscription", headers=headers).json["subscribed"] is False
    assert client.put("/api/v1/solutions/nothing-here/subscription", headers=headers).status_code == 404
    assert client.put("/api/v1/solutions/parking-share/subscription").status_code == 401


def test_webhook_settings_are_for_owners_and_validated(client, municipality, make_user):
    from registry.accounts import service

    member = make_user("clerk")
    service.add_member(municipality, member, "member")
    db.session.commit()
    with pytest.raises(Forbidden, match="owners"):
        set_webhook(member, municipality, "https://hooks.example.org/x")
    with pytest.raises(InvalidInput, match="https://"):
        set_webhook(owner(), municipality, "ftp://hooks.example.org")

    login(client, "cheonan")
    token = csrf_token(client, "/orgs/cheonan/datahub")
    response = client.post("/orgs/cheonan/webhook", data={"webhook-csrf_token": token,
                                                          "webhook-url": "https://hooks.example.org/solreg"})
    assert response.status_code == 200
    db.session.refresh(municipality)
    assert municipality.webhook_url == "https://hooks.example.org/solreg"
    assert municipality.webhook_secret.startswith("whsec_")
    client.post("/orgs/cheonan/webhook", data={"webhook-csrf_token": token, "webhook-url": ""})
    db.session.refresh(municipality)
    assert municipality.webhook_url is None and municipality.webhook_secret is None


def test_adoption_api(client, running, municipality, make_token):
    token = make_token(owner(), "cheonan", ["adopt"])
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/orgs/cheonan/adoptions", headers=headers, json={
        "solution": "parking-share", "version": "1.0.0", "stage": "piloting", "deployed_on": "2024-02-01"})
    assert created.status_code == 201, created.json
    assert created.json["adoption"] == {"org": "cheonan", "solution": "parking-share", "version": "1.0.0",
                                        "stage": "piloting", "deployed_on": "2024-02-01",
                                        "release_state": "published",
                                        "recorded_at": created.json["adoption"]["recorded_at"]}
    listed = client.get("/api/v1/orgs/cheonan/adoptions").json["adoptions"]
    assert [(a["version"], a["stage"]) for a in listed] == [("1.0.0", "piloting")]
    for body, status in [({"solution": "parking-share", "version": "9.9.9", "stage": "piloting",
                           "deployed_on": "2024-01-01"}, 404),
                         ({"solution": "parking-share", "version": "1.0.0", "stage": "piloting",
                           "deployed_on": "yesterday"}, 400),
                         ({"solution": "parking-share", "stage": "piloting"}, 400)]:
        response = client.post("/api/v1/orgs/cheonan/adoptions", headers=headers, json=body)
        assert response.status_code == status, response.json
        assert response.json["errors"][0]["detail"]
    other = client.post("/api/v1/orgs/hanbit/adoptions", headers=headers, json={
        "solution": "parking-share", "version": "1.0.0", "stage": "piloting", "deployed_on": "2024-02-01"})
    assert other.status_code == 403


def test_adoption_form_on_the_solution_page(client, publish, municipality):
    publish("parking-share", "1.0.0")
    login(client, "cheonan")
    page = client.get("/solutions/parking-share?lang=en").get_data(as_text=True)
    assert "Record a deployment" in page
    token = csrf_token(client, "/solutions/parking-share")
    response = client.post("/solutions/parking-share/adoptions", data={
        "adopt-csrf_token": token, "adopt-org": "cheonan", "adopt-version": "1.0.0", "adopt-stage": "production",
        "adopt-deployed_on": "2024-04-02"})
    assert response.status_code == 302
    page = client.get("/solutions/parking-share?lang=en").get_data(as_text=True)
    assert "천안시 · 1.0.0 · In production" in page
    bad = client.post("/solutions/parking-share/adoptions?lang=en", data={
        "adopt-csrf_token": token, "adopt-org": "cheonan", "adopt-version": "1.0.0", "adopt-stage": "production",
        "adopt-deployed_on": (date.today() + timedelta(days=40)).isoformat()})
    assert bad.status_code == 400 and "in the future" in bad.get_data(as_text=True)


def test_an_osv_import_alerts_adopters_of_affected_releases(app, running, municipality):
    """The sample package pins requests 2.31.0; GHSA-9wx4-h78v-vm56 affects requests < 2.32.0."""
    from pathlib import Path

    from registry.sbom.osv import import_osv

    records = Path(__file__).resolve().parents[1] / "fixtures" / "osv" / "records"
    import_osv(records)
    db.session.commit()
    alerts_sent = notes("adoption.vulnerability")
    assert len(alerts_sent) == 1 and "GHSA-9wx4-h78v-vm56" in alerts_sent[0].message
    import_osv(records)  # nothing new the second time: no second alert
    db.session.commit()
    assert len(notes("adoption.vulnerability")) == 1


def test_a_pre_release_does_not_supersede_a_stable_version(publish, running, municipality):
    candidate = publish("parking-share", "2.0.0-rc.1", pending=True, summary={"ko": "2.0 후보판", "en": "2.0 candidate"})
    states.transition_release(candidate, "approve")
    db.session.commit()
    assert notes("adoption.superseded") == []
    assert alerts.notify_superseded(candidate) == 0
    stable = publish("parking-share", "2.0.0", pending=True)
    states.transition_release(stable, "approve")
    db.session.commit()
    [note] = notes("adoption.superseded")
    assert "2.0.0 " in note.message and "1.0.0" in note.message


def test_before_anything_stable_a_newer_pre_release_is_news(publish, municipality):
    beta = publish("parking-share", "0.9.0-beta.1")
    record_adoption(owner(), municipality, beta, "piloting", date(2024, 5, 1))
    db.session.commit()
    newer = publish("parking-share", "0.9.0-beta.2", pending=True)
    states.transition_release(newer, "approve")
    db.session.commit()
    [note] = notes("adoption.superseded")
    assert "0.9.0-beta.2" in note.message and note.org_id == municipality.id


def test_a_deprecation_tells_the_cities_running_it_where_to_move(app, client, publish, running, municipality,
                                                                 receiver, vendor_tokens, make_user):
    from registry.accounts import service

    publish("parking-hub", "2.0.0")
    retired = service.create_org("gwangmyeong", "광명시", "municipality")
    service.add_member(retired, make_user("gwangmyeong"), "owner")
    db.session.commit()
    record_adoption(owner("gwangmyeong"), retired, running, "retired", date(2024, 7, 1))
    app.config["WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
    secret = set_webhook(owner(), municipality, receiver.url)
    db.session.commit()
    response = client.post("/api/v1/solutions/parking-share/state", headers={
        "Authorization": f"Bearer {vendor_tokens('hanbit')}"},
        json={"state": "deprecated", "successor": "parking-hub", "reason": "통합 주차 허브로 옮겨 갑니다"})
    assert response.status_code == 200, response.json

    [note] = notes("adoption.deprecated")  # the retired city is not told
    assert note.org_id == municipality.id and note.link.endswith("/solutions/parking-share")
    assert note.message == ("운영 중인 parking-share 솔루션에 사용 중단이 권고되었습니다. 후속 솔루션은 parking-hub입니다. "
                            "사유: 통합 주차 허브로 옮겨 갑니다")
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == "cheonan@example.org"))
    assert mail.subject == "사용 중단 권고: parking-share" and "its successor is parking-hub" in mail.body
    [(headers, body)] = receiver.received
    payload = Webhook(secret).verify(body, headers)
    assert (payload["event"], payload["solution"], payload["successor"], payload["running"], payload["reason"]) == \
        ("solution.deprecated", "parking-share", "parking-hub", ["1.0.0"], "통합 주차 허브로 옮겨 갑니다")
    assert payload["successor_link"].endswith("/solutions/parking-hub")


def test_archiving_tells_the_cities_running_it_and_reactivating_tells_nobody(publish, running, municipality):
    from registry.releases.service import get_solution, set_solution_state

    vendor = owner("hanbit-owner")
    set_solution_state(vendor, get_solution("parking-share"), "archived")
    db.session.commit()
    [note] = notes("adoption.archived")
    assert note.org_id == municipality.id and "보관" in note.message and "parking-share" in note.message
    set_solution_state(vendor, get_solution("parking-share"), "active")
    db.session.commit()
    assert len(notes("adoption.archived")) == 1 and notes("adoption.active") == []
    assert alerts.notify_solution_state(get_solution("parking-share"), "active", None) == 0
