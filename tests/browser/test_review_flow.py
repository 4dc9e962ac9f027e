"""The review workflow in a real browser against a real server: a reviewer requests changes,
the vendor reads the comment and publishes a fix, a second reviewer approves it, and a reviewer
of the publishing organization is refused."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import sign_in
from tests.publishing.packages import archive

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(live_server):
    live_server.user("vendor", org="hanbit")
    live_server.user("reviewer", role="reviewer", org="agency", org_kind="agency", member_role="member")
    live_server.user("reviewer2", role="reviewer", org="agency", org_kind="agency", member_role="member")
    live_server.user("insider", role="reviewer", org="hanbit", member_role="member")
    token = live_server.token("vendor", "hanbit", ["publish", "read"])
    first = live_server.upload(token, archive("parking-share", "1.2.0"), "parking-share")
    return live_server, token, first


def test_request_changes_then_fix_then_approve(seeded, new_browser_page):
    server, vendor_token, first = seeded

    # A reviewer opens the queue and the release, sees checks and the diff, and requests changes.
    reviewer = new_browser_page()
    sign_in(reviewer, server.url, "reviewer")
    reviewer.goto(f"{server.url}/review/")
    reviewer.click("text=parking-share 1.2.0")
    reviewer.wait_for_url(f"**/review/releases/{first['id']}")
    assert reviewer.locator("table.checks tr.check").count() >= 8
    assert reviewer.locator("tr.check[data-check=licenses] .badge").inner_text() == "pass"
    assert "New solution" in reviewer.locator("p.new-solution").inner_text()
    assert "OffStreetParking" in reviewer.locator("section.diff").inner_text()
    reviewer.check("input[name=decision][value=request_changes]")
    reviewer.click("section.decide button[type=submit]")
    assert "a comment is required" in reviewer.locator("section.decide .error").inner_text()  # refused without one
    reviewer.check("input[name=decision][value=request_changes]")
    reviewer.fill("textarea[name=comment]", "Please document the booking API.")
    reviewer.click("section.decide button[type=submit]")
    reviewer.wait_for_url("**/review/")
    assert "Decision recorded" in reviewer.locator(".flash").inner_text()

    # The vendor signs in and reads the comment.
    vendor = new_browser_page()
    sign_in(vendor, server.url, "vendor")
    vendor.goto(f"{server.url}/review/mine")
    card = vendor.locator(f"#release-{first['id']}")
    assert "Please document the booking API." in card.inner_text()
    assert "Changes requested" in card.inner_text()

    # The vendor publishes the next version through the API.
    fix = server.upload(vendor_token, archive("parking-share", "1.2.1"), "parking-share")
    vendor.reload()
    assert "Answers review #1" in vendor.locator(f"#release-{fix['id']}").inner_text()

    # A reviewer of the publishing organization sees the release but cannot decide.
    insider = new_browser_page()
    sign_in(insider, server.url, "insider")
    insider.goto(f"{server.url}/review/releases/{fix['id']}")
    assert "another reviewer has to decide" in insider.locator("p.own-org").inner_text()
    assert insider.locator("section.decide form").count() == 0
    refused = insider.request.post(f"{server.url}/review/releases/{fix['id']}/decide",
                                   form={"decision": "approve", "csrf_token": _csrf(insider)})
    assert refused.status == 403

    # A second reviewer finds the fix in the queue and approves it.
    second = new_browser_page()
    sign_in(second, server.url, "reviewer2")
    second.goto(f"{server.url}/review/")
    row = second.locator(f"tr[data-release-id='{fix['id']}']")
    assert "answers review #1" in row.inner_text()
    row.locator("a").click()
    assert "Answers review #1" in second.locator("p.answers").inner_text()
    assert "Changes since" not in second.locator("section.diff h2").inner_text()  # nothing published yet
    second.check("input[name=decision][value=approve]")
    second.click("section.decide button[type=submit]")
    second.wait_for_url("**/review/")
    assert "is published" in second.locator(".flash").inner_text()

    release = requests.get(f"{server.url}/api/v1/solutions/parking-share/releases/1.2.1", timeout=10).json()["release"]
    assert release["state"] == "published"
    assert [r["decision"] for r in release["reviews"]] == ["approve"]


def _csrf(page) -> str:
    return page.locator("input[name=csrf_token]").first.get_attribute("value")
