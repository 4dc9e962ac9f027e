"""Release states: yank and unyank through the API, and the state machine refusing the rest."""

import pytest
from sqlalchemy import select

from registry.db import db
from registry.errors import Conflict, InvalidInput
from registry.publishing import service, states
from registry.publishing.models import Release, Solution
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
    assert service.latest_published(solution).version == "1.10.0"


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
