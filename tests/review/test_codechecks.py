"""Code checks on an upload: recorded as job checks after the commit (REVIEW_CODE_CHECKS on here), shown on
the review page with links to the lines, and the "needs attention" list against the previous release."""

from __future__ import annotations

import pytest

from registry.spec.codechecks import CHECKS
from tests.review.samples import sample_files, sample_package
from tests.spec.test_codechecks import AWS_KEY

# --- at upload, on the review page ----------------------------------------------------------


@pytest.fixture
def app_config(app_config):
    return {**app_config, "REVIEW_CODE_CHECKS": True}  # off elsewhere in the suite: they take seconds

@pytest.fixture
def reviewer_client(app, reviewer):
    from tests.helpers import login

    client = app.test_client()
    assert login(client, "reviewer").status_code == 302
    return client


def test_upload_records_code_checks_and_the_page_links_the_lines(upload, vendor_token, reviewer_client):
    from registry.db import db
    from registry.releases.models import Release

    config = f"# 주차장 설정\nregion = ap-northeast-2\naws_access_key_id = {AWS_KEY}\n".encode()
    response = upload(vendor_token, sample_package("0.1.0", files={"config/settings.ini": config}))
    assert response.status_code == 201, response.json
    release = db.session.get(Release, response.json["release"]["id"])
    checks = {c.name: c for c in release.checks}
    assert set(CHECKS) <= checks.keys()
    secrets = checks["secrets"]
    assert secrets.status == "fail" and secrets.summary.endswith("(detect-secrets).")
    assert {"path": "config/settings.ini", "line": 3, "message": "AWS Access Key", "severity": "fail"} in \
        secrets.details["findings"]
    assert AWS_KEY not in str(secrets.details)

    page = reviewer_client.get(f"/review/releases/{release.id}").get_data(as_text=True)
    assert f'href="/review/releases/{release.id}/files/config/settings.ini#L3"' in page
    assert "커밋된 비밀 정보로 보이는 항목" in page  # Korean by default
    reviewer_client.get("/lang/en")
    page = reviewer_client.get(f"/review/releases/{release.id}").get_data(as_text=True)
    assert "possible secret(s) committed: AWS Access Key" in page and AWS_KEY not in page


def test_needs_attention_lists_removed_files_and_a_licence_change(upload, vendor_token, reviewer_token, client,
                                                                 reviewer_client):
    from registry.db import db
    from registry.releases.models import Release
    from tests.review.conftest import auth

    def release(version: str, **changes) -> Release:
        response = upload(vendor_token, sample_package(version, **changes))
        assert response.status_code == 201, response.json
        return db.session.get(Release, response.json["release"]["id"])

    base = release("0.1.0")
    assert client.post(f"/api/v1/reviews/{base.id}", json={"decision": "approve"},
                       headers=auth(reviewer_token)).status_code == 200
    manifest = sample_files()["solution.yaml"].decode().replace("license: Apache-2.0", "license: MIT")
    update = release("0.1.1", remove=("parking_share/ngsi.py",), files={
        "solution.yaml": manifest.replace("version: 1.2.0\n", "version: 0.1.1\n", 1).encode(),
        "LICENSE": sample_files("flood-alert")["LICENSE"]})
    reviewer_client.get("/lang/en")
    page = reviewer_client.get(f"/review/releases/{update.id}").get_data(as_text=True)
    attention = page.split('class="notice needs-attention"', 1)[1].split("</section>", 1)[0]
    assert "File removed: <code>parking_share/ngsi.py</code>" in attention
    assert "Licence changed: <code>Apache-2.0 → MIT</code>" in attention
    assert "New dependency" not in attention
    first = reviewer_client.get(f"/review/releases/{base.id}").get_data(as_text=True)
    assert "needs-attention" not in first
