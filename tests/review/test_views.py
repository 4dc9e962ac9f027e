"""The review pages: queue, release review, decisions by form, claims, reasons, the publisher's view."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from sqlalchemy import select

from registry.db import db
from registry.releases.models import Release
from registry.review import service
from registry.review.models import Review, ReviewReason
from tests.helpers import csrf_token, login
from tests.review.test_service import BUSL, decide


@pytest.fixture
def signed_in(app):
    """A fresh browser-like client signed in as `username` (English pages)."""

    def _client(username: str):
        client = app.test_client()
        client.get("/lang/en")
        assert login(client, username).status_code == 302
        return client

    return _client


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def decide_form(client, release_id: int, status: int, **fields):
    token = csrf_token(client, f"/review/releases/{release_id}")
    response = client.post(f"/review/releases/{release_id}/decide", data={"csrf_token": token, **fields})
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response


def test_queue_is_for_reviewers_only(app, client, pending, make_user, signed_in):
    assert client.get("/review/").status_code == 302  # to the sign-in page
    make_user("clerk", org="cheonan", org_kind="municipality")
    page(signed_in("clerk"), "/review/", 403)
    page(signed_in("vendor"), f"/review/releases/{pending.id}", 403)


def test_the_queue_page_pages_and_keeps_its_filters(client, release_of, reviewer_token, signed_in, monkeypatch):
    assert decide(client, reviewer_token, release_of("1.2.0").id).status_code == 200
    release_of("1.3.0")
    release_of("1.4.0")
    monkeypatch.setattr(service, "QUEUE_PAGE_SIZE", 1)
    reviewer = signed_in("reviewer")
    html = page(reviewer, "/review/?kind=update&page=2")
    rows = re.findall(r'<tr class="queue-entry[^"]*" data-release-id="\d+">(.*?)</tr>', html, re.S)
    assert len(rows) == 1 and "1.4.0" in rows[0]
    previous = re.search(r'<a rel="prev" href="([^"]+)"', html).group(1)
    assert "kind=update" in previous and "page=1" in previous
    assert "2 of 2 pending releases shown" in html
    assert len(re.findall(r'class="queue-entry', page(reviewer, "/review/?page=abc"))) == 1  # a bad page: the first


def test_queue_marks_failing_checks_and_shows_waiting_time_and_holder(release_of, reviewer, signed_in):
    ok = release_of("1.2.0")
    failing = release_of("1.3.0", BUSL)
    service.claim(reviewer, ok)
    db.session.commit()
    html = page(signed_in("reviewer"), "/review/?lang=en")
    rows = re.findall(r'<tr class="queue-entry([^"]*)" data-release-id="(\d+)">(.*?)</tr>', html, re.S)
    assert [int(r[1]) for r in rows] == [ok.id, failing.id]  # oldest first
    assert "failing" not in rows[0][0] and "failing" in rows[1][0]
    assert "failing checks" in rows[1][2]
    assert "reviewer" in rows[0][2] and re.search(r"\d+ seconds?|\d+ minutes?", rows[0][2])
    filtered = page(signed_in("reviewer"), "/review/?checks=fail")
    assert f'data-release-id="{failing.id}"' in filtered and f'data-release-id="{ok.id}"' not in filtered
    page(signed_in("reviewer"), "/review/?kind=sometimes", 400)


def test_release_page_shows_checks_failing_first_and_the_new_solution_banner(release_of, reviewer, signed_in):
    release = release_of("1.2.0", BUSL)
    html = page(signed_in("reviewer"), f"/review/releases/{release.id}")
    checks = re.findall(r'data-check="([a-z]+)"', html)
    assert checks[0] == "licenses" and set(checks) >= {"manifest", "vulnerabilities", "provenance"}
    assert "New solution" in html and "Required entity types" in html and "OffStreetParking" in html
    assert "2 components." in html


def test_release_page_shows_the_diff_of_an_update(client, release_of, reviewer_token, signed_in):
    from tests.publishing.packages import manifest
    from tests.review.test_diff import FLOATING

    base = release_of("1.2.0")
    assert decide(client, reviewer_token, base.id).status_code == 200
    m = manifest()
    update = release_of("1.3.0", [("requests", "2.32.3", "Apache-2.0")], legal={"license": "MIT", "copyrightOwner": "x"},
                        dataHub={**m["dataHub"], "entities": [*m["dataHub"]["entities"], FLOATING]})
    html = page(signed_in("reviewer"), f"/review/releases/{update.id}")
    assert "Changes since 1.2.0" in html and "New solution" not in html
    assert "Apache-2.0 → MIT" in html
    assert "entity types that hold personal data" in html and "FloatingPopulation" in html
    assert "<code>legal.license</code>" in html
    assert re.search(r"Upgraded</h4>\s*<ul[^>]*><li><code>requests</code> 2\.31\.0 → 2\.32\.3", html)
    assert re.search(r"Components removed</h4>\s*<ul[^>]*><li><code>flask</code>", html)


def test_request_changes_by_form_needs_a_comment_and_csrf(pending, reviewer, signed_in):
    reviewer = signed_in("reviewer")
    html = decide_form(reviewer, pending.id, 400, decision="request_changes", comment="").get_data(as_text=True)
    assert "a comment is required" in html
    forged = reviewer.post(f"/review/releases/{pending.id}/decide", data={"decision": "approve"})
    assert forged.status_code == 400
    db.session.expire_all()
    assert db.session.get(Release, pending.id).state == "pending_review"
    response = decide_form(reviewer, pending.id, 302, decision="request_changes", comment="Add install steps")
    assert response.headers["Location"].endswith("/review/")
    db.session.expire_all()
    assert db.session.get(Release, pending.id).state == "changes_requested"
    assert db.session.scalar(select(Review.comment)) == "Add install steps"


def test_deciding_a_decided_release_by_form_is_409(pending, reviewer, signed_in):
    reviewer = signed_in("reviewer")
    token = csrf_token(reviewer, f"/review/releases/{pending.id}")
    decide_form(reviewer, pending.id, 302, decision="approve")
    response = reviewer.post(f"/review/releases/{pending.id}/decide", data={"csrf_token": token, "decision": "reject",
                                                                            "comment": "too late"})
    assert response.status_code == 409 and "cannot reject a release that is published" in response.get_data(as_text=True)


def test_a_reviewer_of_the_same_org_sees_why_and_is_refused(pending, make_user, signed_in):
    make_user("insider", role="reviewer", org="hanbit", member_role="member")
    insider = signed_in("insider")
    html = page(insider, f"/review/releases/{pending.id}")
    assert "another reviewer has to decide" in html and 'action="/review/releases/%d/decide"' % pending.id not in html
    token = csrf_token(insider, "/review/")  # any page's token works for the session
    response = insider.post(f"/review/releases/{pending.id}/decide",
                            data={"csrf_token": token, "decision": "approve"})
    assert response.status_code == 403


def test_a_claim_shows_who_holds_it_and_blocks_the_others(pending, reviewer2, reviewer, signed_in):
    first = signed_in("reviewer")
    token = csrf_token(first, f"/review/releases/{pending.id}")
    assert first.post(f"/review/releases/{pending.id}/claim", data={"csrf_token": token}).status_code == 302
    assert "You are reviewing this release" in page(first, f"/review/releases/{pending.id}")
    second = signed_in("reviewer2")
    html = page(second, f"/review/releases/{pending.id}")
    assert "reviewer is reviewing this release" in html
    token2 = csrf_token(second, "/review/")
    response = second.post(f"/review/releases/{pending.id}/decide", data={"csrf_token": token2, "decision": "approve"})
    assert response.status_code == 409 and "reviewer is reviewing this release" in response.get_data(as_text=True)
    claim = second.post(f"/review/releases/{pending.id}/claim", data={"csrf_token": token2})
    assert claim.status_code == 409
    assert first.post(f"/review/releases/{pending.id}/unclaim", data={"csrf_token": token}).status_code == 302
    decide_form(second, pending.id, 302, decision="approve")


def test_admins_edit_reasons_and_reviewers_pick_them(make_user, pending, reviewer, signed_in):
    make_user("admin", role="admin")
    page(signed_in("reviewer"), "/review/reasons", 403)
    admin = signed_in("admin")
    token = csrf_token(admin, "/review/reasons")
    assert admin.post("/review/reasons", data={"new-text_ko": "문서 부족"}).status_code == 400  # no CSRF
    missing = admin.post("/review/reasons", data={"new-csrf_token": token, "new-text_ko": "문서 부족", "new-text_en": ""})
    assert missing.status_code == 400 and "This field is required." in missing.get_data(as_text=True)
    added = admin.post("/review/reasons", data={"new-csrf_token": token, "new-text_ko": "문서 부족",
                                                "new-text_en": "Documentation missing", "new-active": "y"})
    assert added.status_code == 302
    reason = db.session.scalar(select(ReviewReason))
    assert (reason.text_ko, reason.text_en, reason.active) == ("문서 부족", "Documentation missing", True)
    edited = admin.post(f"/review/reasons/{reason.id}", data={f"r{reason.id}-csrf_token": token,
                                                             f"r{reason.id}-text_ko": "설치 문서 부족",
                                                             f"r{reason.id}-text_en": "Install docs missing",
                                                             f"r{reason.id}-active": "y"})
    assert edited.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReviewReason, reason.id).text_en == "Install docs missing"

    reviewer = signed_in("reviewer")
    assert "Install docs missing" in page(reviewer, f"/review/releases/{pending.id}")
    decide_form(reviewer, pending.id, 302, decision="request_changes", reasons=str(reason.id), comment="see reason")
    assert db.session.scalar(select(Review)).reasons[0]["en"] == "Install docs missing"


def test_the_publisher_sees_comments_reasons_position_and_what_answers_what(
        client, release_of, reviewer_token, make_user, signed_in):
    admin = make_user("admin", role="admin")
    reason = service.save_reason(admin, "보안 점검 필요", "Security review needed")
    db.session.commit()
    first = release_of("1.2.0")
    response = decide(client, reviewer_token, first.id, "request_changes", "Please pin the base image", [reason.id])
    review_id = response.json["review"]["id"]
    release_of("1.2.1")
    vendor = signed_in("vendor")
    html = page(vendor, "/review/mine")
    assert "Please pin the base image" in html and "Security review needed" in html
    assert f"Answers review #{review_id}" in html and "Position 1 in the review queue" in html
    assert "Changes requested" in html and "Pending review" in html
    review_page = page(signed_in("reviewer"), f"/review/releases/{db.session.scalar(select(Release.id).where(Release.version == '1.2.1'))}")
    assert f"Answers review #{review_id}" in review_page
    stranger = signed_in(make_user("stranger", org="elsewhere").username)
    assert "Please pin the base image" not in page(stranger, "/review/mine")


def test_the_publisher_status_partial_shows_only_to_the_org(app, client, pending, reviewer_token, make_user):
    from flask_login import login_user, logout_user

    decide(client, reviewer_token, pending.id, "request_changes", "Rename the chart")
    include = '{% include "review/_publisher_status.html" %}'
    release = db.session.get(Release, pending.id)
    with app.test_request_context("/?lang=en"):
        login_user(db.session.scalar(select(type(release.uploader)).where(type(release.uploader).username == "vendor")))
        html = render_template_string(include, release=release)
        assert "Rename the chart" in html and "Changes requested" in html
        logout_user()
        login_user(make_user("stranger", org="elsewhere"))
        assert render_template_string(include, release=release).strip() == ""
