"""The release JSON carries its checks (status, summary, details, when they ran) for the publishing
organization and reviewers only; another vendor, a municipality or nobody gets "checks": null, and
pending releases of another organization stay invisible. "My releases" shows them too."""

from __future__ import annotations

from tests.helpers import login
from tests.review.conftest import auth

RELEASE = "/api/v1/solutions/parking-share/releases/1.2.0"


def test_the_publishing_org_reads_its_checks(client, upload, vendor_token):
    response = upload(vendor_token)
    assert response.status_code == 201, response.json
    uploaded = {c["name"]: c["status"] for c in response.json["release"]["checks"]}
    # With a worker the heavy ones are "running" in this answer; the suite runs jobs at the commit.
    assert uploaded["archive"] == "pass" and uploaded["vulnerabilities"] in ("running", "pass")
    checks = client.get(RELEASE, headers=auth(vendor_token)).json["release"]["checks"]
    statuses = {c["name"]: c["status"] for c in checks}
    assert statuses["vulnerabilities"] == "pass" and statuses["licenses"] in ("pass", "warn", "fail")
    assert all(c["ran_at"] for c in checks)


def test_another_vendor_never_sees_the_checks(client, upload, vendor_token, make_user, make_token):
    assert upload(vendor_token).status_code == 201
    rival = make_token(make_user("rival", org="dasan"), "dasan", ["publish", "read"])
    assert client.get(RELEASE, headers=auth(rival)).status_code == 404  # pending: not theirs to see
    reviewer = make_user("reviewer", role="reviewer", org="agency", org_kind="agency", member_role="member")
    review = make_token(reviewer, "agency", ["review"])
    assert client.get(RELEASE, headers=auth(review)).json["release"]["checks"]
    assert client.post(f"/api/v1/reviews/{client.get(RELEASE, headers=auth(review)).json['release']['id']}",
                       json={"decision": "approve", "comment": "확인했습니다"}, headers=auth(review)).status_code == 200
    assert client.get(RELEASE, headers=auth(rival)).json["release"]["checks"] is None  # published, still not theirs
    assert client.get(RELEASE).json["release"]["checks"] is None
    solution = client.get("/api/v1/solutions/parking-share", headers=auth(rival)).json["solution"]
    assert [r["checks"] for r in solution["releases"]] == [None]
    assert client.get(RELEASE, headers=auth(vendor_token)).json["release"]["checks"]


def test_my_releases_lists_the_checks(app, upload, vendor_token):
    assert upload(vendor_token).status_code == 201
    browser = app.test_client()
    assert login(browser, "vendor").status_code == 302
    page = browser.get("/review/mine").get_data(as_text=True)
    assert 'data-check="vulnerabilities"' in page and 'data-check="manifest"' in page
    assert "자동 검사" in page
