"""WCAG 2.1 AA with axe-core (no serious or critical violations) and keyboard use of the catalog."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations, describe_violations, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(live_server, publish_live):
    publish_live("parking-share")
    live_server.user("cheonan", org="cheonan", org_kind="municipality")
    live_server.user("reviewer", role="reviewer", org="agency", org_kind="agency", member_role="member")


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("path", ["/", "/search?q=주차", "/search?q=&category=parking", "/search?q=nothing-matches",
                                  "/solutions/parking-share", "/login", "/feeds-missing-page"])
def test_public_pages_have_no_serious_violations(live_server, seeded, browser_page, path, language):
    page = browser_page
    page.goto(f"{live_server.url}/lang/{language}")
    page.goto(live_server.url + path)
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)


@pytest.mark.parametrize("user, path", [
    ("cheonan", "/solutions/parking-share"),  # with the adoption form and the follow button
    ("cheonan", "/orgs/cheonan/datahub"),
    ("reviewer", "/review/"),
])
def test_signed_in_pages_have_no_serious_violations(live_server, seeded, browser_page, user, path):
    page = browser_page
    sign_in(page, live_server.url, user)
    assert page.goto(live_server.url + path).status == 200
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)


def test_search_by_keyboard_alone(live_server, seeded, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/lang/en")
    page.goto(live_server.url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # visible focus
    for _ in range(12):
        if page.evaluate("document.activeElement.id") == "home-q":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "home-q"
    page.keyboard.type("parking")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=parking")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Smart Parking Sharing":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/solutions/parking-share")


def test_the_axe_check_does_catch_violations(live_server, browser_page):
    """Guard against a silently broken harness: a page with known faults must fail the check."""
    page = browser_page
    page.goto(live_server.url + "/login")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<img src="/static/none.png"><input type="text" id="unlabelled">');
    }""")
    found = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "label"} <= found
