"""A reviewer reads the code in a real browser: opens a release, walks the file tree, opens a file,
opens the diff against the previous published release and sees the changed line."""

from __future__ import annotations

import pytest
import requests

from tests.browser.conftest import axe_violations, sign_in
from tests.review.samples import sample_files, sample_package

pytestmark = pytest.mark.browser

OLD_LINE = "from collections import Counter"
NEW_LINE = "from collections import Counter, defaultdict  # 거리 계산"


@pytest.fixture
def seeded(live_server):
    live_server.user("vendor", org="hanbit")
    live_server.user("reviewer", role="reviewer", org="agency", org_kind="agency", member_role="member")
    vendor = live_server.token("vendor", "hanbit", ["publish", "read"])
    review = live_server.token("reviewer", "agency", ["review"])
    base = live_server.upload(vendor, sample_package("0.1.0"), "parking-share")
    approved = requests.post(f"{live_server.url}/api/v1/reviews/{base['id']}", json={"decision": "approve"},
                             headers={"Authorization": f"Bearer {review}"}, timeout=30)
    assert approved.status_code == 200, approved.text
    finder = sample_files()["parking_share/finder.py"].decode()
    assert OLD_LINE in finder.splitlines()
    update = live_server.upload(vendor, sample_package("0.1.1", remove=("LICENSE",), files={
        "parking_share/finder.py": finder.replace(OLD_LINE, NEW_LINE, 1).encode(),
        "dist/old.tar.gz": sample_package("0.1.0")}), "parking-share")
    return live_server, update


def test_reviewer_walks_the_files_and_reads_the_diff(seeded, new_browser_page):
    server, update = seeded
    page = new_browser_page()
    sign_in(page, server.url, "reviewer")
    page.goto(f"{server.url}/review/releases/{update['id']}")
    page.click("a.files-link")
    page.wait_for_url(f"**/review/releases/{update['id']}/files")
    tree = page.locator("ul.file-tree").first
    assert "parking_share/" in tree.inner_text() and "LICENSE" not in tree.inner_text()
    page.locator("details.dir.generated summary", has_text="dist/").click()  # collapsed: opened by hand
    assert page.locator("a", has_text="old.tar.gz").is_visible()
    page.click("text=finder.py")
    page.wait_for_url("**/files/parking_share/finder.py")
    line = page.locator("table.code tr", has_text=NEW_LINE)
    assert line.count() == 1 and line.get_attribute("id").startswith("L")
    assert axe_violations(page) == []

    page.click("nav.file-nav >> text=Changes since the previous release")
    page.wait_for_url(f"**/review/releases/{update['id']}/diff")
    assert "Changes from 0.1.0 to 0.1.1" in page.locator("h2#source-diff-h").inner_text()
    article = page.locator("article.file-diff[data-path='parking_share/finder.py']")
    changed = article.locator(".row.replace")
    assert changed.locator("code.old").inner_text() == OLD_LINE
    assert changed.locator("code.new").inner_text() == NEW_LINE
    assert "removed" in page.locator("article.file-diff[data-path='LICENSE']").inner_text()
    generated = page.locator("details.generated")
    assert "1 generated or vendored file" in generated.locator("summary").inner_text()
    assert not generated.locator("a", has_text="dist/old.tar.gz").is_visible()  # collapsed by default
    assert axe_violations(page) == []
