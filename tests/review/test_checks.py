"""The registry of checks (registry/review/checks.py) and its jobs: a check that raises is an `error` row,
one past its budget `timed_out`, never a 500; approval waits while a check runs; reviewers (and only
they) run a check again, audited; a job delivered twice computes nothing twice."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select, update

from registry.audit.models import AuditEvent
from registry.db import db
from registry.releases.models import Check, Release
from registry.review import checks
from registry.review.models import Review
from registry.spec import codechecks
from tests.helpers import csrf_token, login
from tests.review.conftest import auth


def rows(release_id: int) -> dict[str, Check]:
    db.session.expire_all()
    return {c.name: c for c in db.session.scalars(select(Check).where(Check.release_id == release_id))}


def broken_vulnerabilities(monkeypatch, message: str = "OSV 색인을 읽을 수 없습니다\n(두 번째 줄)"):
    def run(release, given, seconds):
        raise RuntimeError(message)

    monkeypatch.setitem(checks.CHECKS, "vulnerabilities", checks.CheckKind("vulnerabilities", checks.JOB, 120, run))


def mark_running(release_id: int, name: str = "vulnerabilities") -> None:
    """As the upload leaves it until a worker has run the job."""
    db.session.execute(update(Check).where(Check.release_id == release_id, Check.name == name)
                       .values(status="running", summary="queued", details={}))
    db.session.commit()


def rerun_url(release: Release, name: str = "vulnerabilities") -> str:
    return f"/api/v1/solutions/{release.solution.name}/releases/{release.version}/checks/{name}/rerun"


def test_every_check_is_in_the_registry_with_where_it_runs_and_a_budget():
    assert {k.name for k in checks.CHECKS.values() if k.where == checks.UPLOAD} == {
        "manifest", "archive", "datahub", "deploy", "provenance", "dependencies"}
    assert {k.name for k in checks.CHECKS.values() if k.where == checks.JOB} == {
        *codechecks.CHECKS, "licenses", "vulnerabilities"}
    assert all(k.seconds > 0 for k in checks.CHECKS.values())


def test_upload_runs_the_heavy_checks_after_the_commit(release_of):
    release = release_of()
    found = rows(release.id)
    assert found["licenses"].status == "pass" and found["vulnerabilities"].status == "pass"
    assert not any(c.status == "running" for c in found.values())


def test_a_check_that_raises_is_an_error_row_with_its_one_line_not_a_500(monkeypatch, upload, vendor_token):
    from tests.review.conftest import package

    broken_vulnerabilities(monkeypatch)
    response = upload(vendor_token, package())
    assert response.status_code == 201, response.json
    check = rows(response.json["release"]["id"])["vulnerabilities"]
    assert check.status == "error"
    assert check.summary == "The check failed to run: RuntimeError: OSV 색인을 읽을 수 없습니다"
    assert check.details["params"] == {"error": "RuntimeError: OSV 색인을 읽을 수 없습니다"}
    assert rows(response.json["release"]["id"])["licenses"].status == "pass"  # the others still ran


def test_a_check_past_its_budget_is_timed_out(monkeypatch, release_of):
    def slow(release, given, seconds):
        time.sleep(0.2)
        return checks.Outcome("pass", "느리지만 통과")

    monkeypatch.setattr(codechecks, "GRACE", 0)
    monkeypatch.setitem(checks.CHECKS, "licenses", checks.CheckKind("licenses", checks.JOB, 0.05, slow))
    check = rows(release_of().id)["licenses"]
    assert check.status == "timed_out"
    assert check.details["timed_out"]["seconds"] == 0.05 and check.details["result"] == "pass"


def test_a_job_delivered_twice_computes_nothing_twice(release_of, monkeypatch):
    release = release_of()
    before = rows(release.id)["vulnerabilities"].ran_at
    broken_vulnerabilities(monkeypatch)  # would be an error if it ran again
    assert checks.run_job_checks(release.id, ["vulnerabilities"]) == []
    assert rows(release.id)["vulnerabilities"].status == "pass"
    assert rows(release.id)["vulnerabilities"].ran_at == before


# --- approval waits ---------------------------------------------------------------------------


def test_approve_while_a_check_runs_is_409_and_nothing_changes(client, pending, reviewer_token):
    mark_running(pending.id)
    audits = db.session.scalar(select(func.count(AuditEvent.id)))
    response = client.post(f"/api/v1/reviews/{pending.id}", json={"decision": "approve", "comment": "좋습니다"},
                           headers=auth(reviewer_token))
    assert response.status_code == 409
    error = response.json["errors"][0]
    assert error["code"] == "checks-running" and "vulnerabilities" in error["detail"] and error["hint"]
    db.session.expire_all()
    assert db.session.get(Release, pending.id).state == "pending_review"
    assert db.session.scalar(select(func.count(Review.id))) == 0
    assert db.session.scalar(select(func.count(AuditEvent.id))) == audits
    # Asking for changes needs no finished checks.
    response = client.post(f"/api/v1/reviews/{pending.id}", json={"decision": "request_changes",
                                                                  "comment": "설치 안내를 보완해 주세요"},
                           headers=auth(reviewer_token))
    assert response.status_code == 200


def test_the_review_page_says_checks_are_running_and_the_form_refuses_in_korean(app, pending, reviewer):
    mark_running(pending.id)
    browser = app.test_client()
    assert login(browser, "reviewer").status_code == 302
    page = browser.get(f"/review/releases/{pending.id}").get_data(as_text=True)
    assert "검사 진행 중" in page
    token = csrf_token(browser, f"/review/releases/{pending.id}")
    response = browser.post(f"/review/releases/{pending.id}/decide", data={"csrf_token": token, "decision": "approve"})
    assert response.status_code == 409
    assert "아직 진행 중인 검사가 있습니다" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Release, pending.id).state == "pending_review"
    browser.get("/lang/en")
    assert "Checks running" in browser.get(f"/review/releases/{pending.id}").get_data(as_text=True)


# --- re-run -----------------------------------------------------------------------------------


@pytest.fixture
def errored(monkeypatch, release_of) -> Release:
    broken_vulnerabilities(monkeypatch)
    release = release_of()
    assert rows(release.id)["vulnerabilities"].status == "error"
    monkeypatch.undo()
    return release


def test_rerun_needs_a_reviewer_token(client, errored, vendor_token):
    assert client.post(rerun_url(errored)).status_code == 401
    assert client.post(rerun_url(errored), headers=auth(vendor_token)).status_code == 403
    assert rows(errored.id)["vulnerabilities"].status == "error"


def test_rerun_by_a_reviewer_stores_a_new_result_and_is_audited(client, errored, reviewer_token):
    before = rows(errored.id)["vulnerabilities"].ran_at
    response = client.post(rerun_url(errored), headers=auth(reviewer_token))
    assert response.status_code == 202, response.json
    assert response.json["check"]["name"] == "vulnerabilities"
    check = rows(errored.id)["vulnerabilities"]
    assert check.status == "pass" and check.ran_at > before  # the job ran after the commit
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "check.rerun")).one()
    assert audit.details["check"] == "vulnerabilities" and audit.details["previous"]["status"] == "error"


def test_a_passing_or_unknown_check_is_not_run_again(client, errored, reviewer_token):
    response = client.post(rerun_url(errored, "licenses"), headers=auth(reviewer_token))
    assert response.status_code == 409 and response.json["errors"][0]["code"] == "check-not-rerunnable"
    assert client.post(rerun_url(errored, "manifest"), headers=auth(reviewer_token)).status_code == 404
    assert client.post(rerun_url(errored, "없는-검사"), headers=auth(reviewer_token)).status_code == 404


def test_the_review_page_reruns_a_broken_check_with_its_form(app, errored, reviewer):
    browser = app.test_client()
    assert login(browser, "reviewer").status_code == 302
    page = browser.get(f"/review/releases/{errored.id}").get_data(as_text=True)
    action = f"/review/releases/{errored.id}/checks/vulnerabilities/rerun"
    assert f'action="{action}"' in page
    assert f'action="/review/releases/{errored.id}/checks/licenses/rerun"' not in page  # it passed
    assert browser.post(action).status_code == 400  # no CSRF token
    assert rows(errored.id)["vulnerabilities"].status == "error"
    token = csrf_token(browser, f"/review/releases/{errored.id}")
    response = browser.post(action, data={"csrf_token": token})
    assert response.status_code == 302
    assert rows(errored.id)["vulnerabilities"].status == "pass"


def test_a_vendor_cannot_rerun_from_the_web(app, errored):
    browser = app.test_client()
    assert login(browser, "vendor").status_code == 302
    token = csrf_token(browser, "/review/mine")
    response = browser.post(f"/review/releases/{errored.id}/checks/vulnerabilities/rerun", data={"csrf_token": token})
    assert response.status_code == 403
    assert rows(errored.id)["vulnerabilities"].status == "error"
