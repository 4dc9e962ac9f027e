"""A solution's lifecycle in a real browser: the publisher deprecates it through the form and its
confirm step, readers then see the banner with the link to the successor, and the city running it
finds the alert in its notifications. Every page on the way passes axe and fits a laptop and a phone."""

from __future__ import annotations

from datetime import date

import pytest

from tests.browser.conftest import axe_violations, describe_violations, sign_in

pytestmark = pytest.mark.browser

WIDTHS = [(1280, 800), (390, 844)]
REASON = "통합 주차 허브로 옮겨 갑니다"


def texts(ko: str, en: str) -> dict:
    return {"ko": ko, "en": en}


@pytest.fixture
def running(live_server, publish_live):
    """cheonan runs hanbit's parking-share 1.0.0; hanbit also publishes parking-hub, its successor."""
    publish_live("parking-share")
    publish_live("parking-hub", title=texts("통합 주차 허브", "Parking Hub"))
    live_server.user("cheonan-officer", org="cheonan", org_kind="municipality")

    def _adopt():
        from registry.accounts import service as accounts
        from registry.catalog.adoption import record_adoption
        from registry.releases.service import get_release

        record_adoption(accounts.get_user("cheonan-officer"), accounts.get_org("cheonan"),
                        get_release("parking-share", "1.0.0"), "production", date(2025, 9, 1))

    live_server.seed(_adopt)


def check_page(page, what: str) -> list[str]:
    """axe's serious and critical violations, and horizontal overflow at both widths."""
    problems = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if scroll > client:
            problems.append(f"{what} at {width}px is {scroll}px wide")
        violations = axe_violations(page)
        if violations:
            problems.append(f"{what} at {width}px: {describe_violations(violations)}")
    return problems


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_publisher_deprecates_through_the_form_and_readers_see_the_successor(
        live_server, running, new_browser_page, language):
    page = new_browser_page()
    sign_in(page, live_server.url, "hanbit-owner", language=language)
    page.goto(f"{live_server.url}/solutions/parking-share")
    lifecycle = page.locator("#lifecycle")
    problems = check_page(page, "the solution page with its lifecycle form")

    lifecycle.locator("select[name=state-state]").select_option("deprecated")
    lifecycle.locator("select[name=state-successor]").select_option("parking-hub")
    lifecycle.locator("input[name=state-reason]").fill(REASON)
    lifecycle.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: url.split("#")[0] == f"{live_server.url}/solutions/parking-share/state")
    assert page.locator("main dd").filter(has_text="Cheonan").count() == 1  # who will be told
    problems += check_page(page, "the confirm step")
    page.locator("main form button[type=submit]").click()

    page.wait_for_url(f"{live_server.url}/solutions/parking-share")
    banner = page.locator("#solution-state")
    assert ("사용 중단 권고" if language == "ko" else "Deprecated") in banner.inner_text()
    problems += check_page(page, "the deprecated solution's page")
    assert problems == []
    banner.get_by_role("link", name="parking-hub").click()
    page.wait_for_url(f"{live_server.url}/solutions/parking-hub")

    city = new_browser_page()
    sign_in(city, live_server.url, "cheonan-officer", language="ko")
    city.goto(f"{live_server.url}/notifications")
    assert "후속 솔루션은 parking-hub입니다" in city.locator("main").inner_text()


def test_a_refusal_is_shown_on_the_form(live_server, running, new_browser_page):
    page = new_browser_page()
    sign_in(page, live_server.url, "hanbit-owner", language="ko")
    page.goto(f"{live_server.url}/solutions/parking-share")
    lifecycle = page.locator("#lifecycle")
    lifecycle.locator("select[name=state-state]").select_option("archived")
    lifecycle.locator("select[name=state-successor]").select_option("parking-hub")  # only a deprecation names one
    lifecycle.locator("button[type=submit]").click()
    error = page.locator("#lifecycle .error")
    assert "후속 솔루션은 사용 중단을 권고할 때만 지정합니다" in error.inner_text()
    assert check_page(page, "the form with its error") == []
    page.goto(f"{live_server.url}/solutions/parking-share")
    assert page.locator("#solution-state").count() == 0
