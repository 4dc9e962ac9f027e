"""The reuse dashboard in Chromium: drawn from the registry alone (no request leaves 127.0.0.1), no
serious or critical axe violation, no page wider than the window, in Korean first and in English."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import axe_violations, describe_violations

pytestmark = pytest.mark.browser

WIDTHS = [(1280, 800), (390, 844)]


def _funding(programme: str, year: int, municipality: str) -> dict:
    return {"programme": programme, "year": year, "fundedBy": "국토교통부 (MOLIT)", "municipality": municipality}


@pytest.fixture
def seeded(live_server, publish_live):
    """Like the demo: 천안시's parking sharing run by 천안시 and 광명시, 광명시's air-quality dashboard by itself."""
    from registry.accounts import service as accounts
    from registry.catalog.adoption import record_adoption
    from registry.releases.service import get_release

    for slug, name, province in [("cheonan", "천안시", "south-chungcheong"), ("gwangmyeong", "광명시", "gyeonggi")]:
        live_server.seed(accounts.create_org, slug, name, "municipality", province)
        live_server.user(f"{slug}-officer", org=slug)
    publish_live("parking-share", "1.1.0", categories=["mobility", "parking"],
                 funding=_funding("small-strong-population", 2023, "천안시"))
    publish_live("air-quality-dashboard", "3.0.1", categories=["environment"], funding=_funding("hub", 2021, "광명시"))
    publish_live("flood-alert", "2.1.0", categories=["safety", "disaster"],
                 funding=_funding("small-strong-climate", 2024, "천안시"))
    for city, name, version, stage, when in [
            ("cheonan", "parking-share", "1.1.0", "production", date(2025, 9, 1)),
            ("gwangmyeong", "parking-share", "1.1.0", "piloting", date(2025, 10, 20)),
            ("gwangmyeong", "air-quality-dashboard", "3.0.1", "production", date(2025, 7, 15)),
            ("cheonan", "flood-alert", "2.1.0", "retired", date(2025, 11, 3))]:
        live_server.seed(lambda city=city, name=name, version=version, stage=stage, when=when: record_adoption(
            accounts.get_user(f"{city}-officer"), accounts.get_org(city), get_release(name, version), stage, when))


def keep_on_loopback(page) -> list[str]:
    """Let the page reach 127.0.0.1 only; returns the list of every other URL it asked for (refused)."""
    elsewhere: list[str] = []

    def only_here(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_here)
    return elsewhere


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_dashboard_draws_offline_passes_axe_and_fits_the_window(live_server, seeded, new_browser_page, language):
    page = new_browser_page()
    elsewhere = keep_on_loopback(page)
    page.goto(f"{live_server.url}/lang/{language}")
    problems = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        assert page.goto(f"{live_server.url}/reuse").status == 200
        page.wait_for_load_state("networkidle")
        scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if scroll > client:
            problems.append(f"/reuse at {width}px is {scroll}px wide")
    assert problems == []
    assert elsewhere == []

    heading = {"ko": "공공 재원 솔루션의 재사용 현황", "en": "Reuse of funded solutions"}[language]
    assert page.locator("h1").inner_text() == heading
    # 1 of 3 solutions reused (parking sharing, by 광명시); the retired flood alert is not counted.
    assert page.locator("dl.stats dd").first.inner_text() == "3"
    assert "33%" in page.locator("dl.stats").inner_text()
    assert page.locator(".korea-map path").count() == 17
    assert page.locator(".korea-map path.shade-4").count() == 1  # 경기도: two adoptions
    gyeonggi = {"ko": "경기도", "en": "Gyeonggi"}[language]
    row = page.locator("#by_province-caption").locator("xpath=..").locator("tr", has_text=gyeonggi)
    assert row.locator("td").all_inner_texts() == ["1", "0", "2", "1"]
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)


def test_the_nav_leads_to_the_dashboard_and_its_csv_downloads(live_server, seeded, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/lang/ko")
    page.goto(live_server.url)
    page.click("nav >> text=재사용 현황")
    page.wait_for_url("**/reuse")
    with page.expect_download() as download:
        page.locator("#by_province-h").locator("xpath=..").locator("text=CSV 내려받기").click()
    assert download.value.suggested_filename == "reuse-by_province.csv"
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "key,label,solutions,reused,adoptions,municipalities"
    assert "gyeonggi,경기도,1,0,2,1" in text


def test_the_loopback_check_does_catch_a_request_elsewhere(live_server, browser_page):
    """Guard against a silently broken harness: a request to another host must be caught (and refused).
    (An image from elsewhere on a page is no test of it: the Content-Security-Policy stops that first.)"""
    from playwright.sync_api import Error

    page = browser_page
    elsewhere = keep_on_loopback(page)
    with pytest.raises(Error):
        page.goto("http://tiles.example.org/7/109/49.png")
    assert elsewhere == ["http://tiles.example.org/7/109/49.png"]
