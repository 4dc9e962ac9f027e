"""Release states: yank and unyank through the API, and the state machine refusing the rest."""

import pytest
from sqlalchemy import select

from registry.db import db
from registry.errors import Conflict, InvalidInput
from registry.releases import states
from registry.releases.models import Release, Solution
from registry.releases.versions import latest_published
from tests.publishing.packages import archive


def publish_now(release: Release):
    states.transition_release(release, "approve")
    db.session.commit()


def post(client, token, url, json=None):
    return client.post(url, json=json or {}, headers={"Authorization": f"Bearer {token}"})


def test_yank_needs_reason_and_unyank_restores(client, upload, vendor_token):
    upload(vendor_token)
    release = db.session.scalar(select(Release))
    url = "/api/v1/solutions/parking-share/releases/1.2.0"
    assert post(client, vendor_token, url + "/yank", {"reason": "x"}).status_code == 409  # still pending
    publish_now(release)
    response = post(client, vendor_token, url + "/yank", {"reason": ""})
    assert response.status_code == 400 and response.json["errors"][0]["field"] == "reason"
    response = post(client, vendor_token, url + "/yank", {"reason": "CVE-2026-1234 in booking"})
    assert response.status_code == 200 and response.json["release"]["state"] == "yanked"
    # still downloadable by exact version, with a warning, but no longer "latest"
    download = client.get(url + "/archive")
    assert download.status_code == 200 and "yanked" in download.headers["Warning"]
    assert client.get("/api/v1/solutions/parking-share").json["solution"]["latest_version"] is None
    assert post(client, vendor_token, url + "/yank", {"reason": "again"}).status_code == 409
    response = post(client, vendor_token, url + "/unyank")
    assert response.status_code == 200 and response.json["release"]["state"] == "published"
    assert response.json["release"]["yank_reason"] is None


def test_yank_requires_scope_and_owner(client, upload, vendor_token, make_user, make_token):
    upload(vendor_token)
    publish_now(db.session.scalar(select(Release)))
    url = "/api/v1/solutions/parking-share/releases/1.2.0/yank"
    publisher_only = make_token(make_user("pub", org="hanbit"), "hanbit", ["publish"])
    assert post(client, publisher_only, url, {"reason": "r"}).status_code == 403
    other = make_token(make_user("other", org="elsewhere"), "elsewhere", ["yank"])
    assert post(client, other, url, {"reason": "r"}).status_code == 403


def test_latest_is_highest_published_semver(upload, vendor_token):
    for version in ("1.2.0", "1.10.0", "1.9.0"):
        assert upload(vendor_token, archive("parking-share", version)).status_code == 201
    for release in db.session.scalars(select(Release)):
        publish_now(release)
    solution = db.session.scalar(select(Solution))
    assert latest_published(solution.releases).version == "1.10.0"


@pytest.mark.parametrize("state,event", [
    ("published", "approve"), ("rejected", "approve"), ("changes_requested", "reject"), ("yanked", "yank"),
    ("pending_review", "unyank"), ("rejected", "yank"),
])
def test_state_machine_refuses_other_transitions(state, event):
    release = Release(state=state)
    with pytest.raises(Conflict):
        states.transition_release(release, event, reason="r")


def test_solution_states(app, make_user):
    solution = Solution(name="x", normalized_name="x", state="active")
    states.transition_solution(solution, "deprecated")
    states.transition_solution(solution, "archived")
    with pytest.raises(Conflict):
        states.transition_solution(solution, "deprecated")
    with pytest.raises(InvalidInput):
        states.transition_solution(solution, "deleted")


KOREAN_REASON = "예약 모듈의 보안 취약점(CVE-2026-1234) 때문에 회수합니다"


def _published(client, upload, vendor_token) -> str:
    upload(vendor_token)
    publish_now(db.session.scalar(select(Release)))
    return "/api/v1/solutions/parking-share/releases/1.2.0"


def test_a_korean_yank_reason_keeps_downloads_working_with_ascii_headers(client, upload, vendor_token):
    from urllib.parse import unquote

    url = _published(client, upload, vendor_token)
    response = post(client, vendor_token, url + "/yank", {"reason": KOREAN_REASON + " 100% 확실"})
    assert response.status_code == 200 and response.json["release"]["yank_reason"] == KOREAN_REASON + " 100% 확실"
    for kind in ("archive", "sbom"):
        download = client.get(f"{url}/{kind}")
        assert download.status_code == 200
        for name, value in download.headers.items():
            assert value.isascii() and value.isprintable(), (name, value)
        assert download.headers["Warning"] == '299 - "yanked"'
        assert unquote(download.headers["Yank-Reason"]) == KOREAN_REASON + " 100% 확실"
    assert client.get(url).json["release"]["yank_reason"] == KOREAN_REASON + " 100% 확실"


@pytest.mark.parametrize("reason", [
    "보안 문제\r\nSet-Cookie: session=stolen", "보안 문제\n", "널\x00문자", "탭\t문자", "C1\x85제어", "줄\u2028나눔",
    "가" * 501,
])
def test_yank_reasons_with_control_characters_or_too_long_are_refused(client, upload, vendor_token, reason):
    from registry.audit.models import AuditEvent

    url = _published(client, upload, vendor_token)
    response = post(client, vendor_token, url + "/yank", {"reason": reason})
    assert response.status_code == 400, response.json
    [error] = response.json["errors"]
    assert error["field"] == "reason" and error["detail"]
    db.session.expire_all()
    release = db.session.scalar(select(Release))
    assert (release.state, release.yank_reason) == ("published", None)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "release.yank")) is None
    assert "Warning" not in client.get(url + "/archive").headers


def test_the_longest_allowed_reason_is_accepted(client, upload, vendor_token):
    url = _published(client, upload, vendor_token)
    assert post(client, vendor_token, url + "/yank", {"reason": "가" * 500}).status_code == 200
