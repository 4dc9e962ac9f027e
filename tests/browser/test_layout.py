"""No page is wider than the window at 1280 × 800 or 390 × 844, for each kind of person, and Korean
text breaks between words (word-break: keep-all), never inside one."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in

WIDTHS = [(1280, 800), (390, 844)]
COMMON = ["/", "/search?q=주차", "/solutions/parking-share", "/solutions/missing-solution", "/reuse", "/transparency"]
BY_ROLE = {
    "anonymous": COMMON,
    "municipality": [*COMMON, "/orgs/cheonan/datahub", "/account", "/notifications"],
    "vendor": [*COMMON, "/account", "/review/mine", "/notifications"],
    "reviewer": [*COMMON, "/review/", "/review/releases/{pending}", "/account", "/notifications"],
    "admin": [*COMMON, "/admin/audit/", "/review/", "/review/releases/{pending}"],
}
# A long unbroken Korean title and summary: the words that used to break mid-word.
KOREAN_TITLE = {"ko": "빈 주차장을 찾아 바로 예약하는 스마트시티 주차 공유 레지스트리 서비스", "en": "Smart Parking Sharing"}


def _seed(live_server, publish_live) -> dict[str, str]:
    publish_live("parking-share", "1.0.0", title=KOREAN_TITLE)
    pending = publish_live("parking-share", "1.1.0", pending=True, title=KOREAN_TITLE)
    live_server.user("cheonan-officer", org="cheonan", org_kind="municipality")
    live_server.user("reviewer", role="reviewer", org="agency", org_kind="agency", member_role="member")
    live_server.user("admin", role="admin", org="agency", org_kind="agency")
    return {"pending": str(pending["id"])}


USERS = {"municipality": "cheonan-officer", "vendor": "hanbit-owner", "reviewer": "reviewer", "admin": "admin"}


@pytest.mark.parametrize("role", list(BY_ROLE))
def test_no_page_overflows_and_korean_keeps_words_whole(role, live_server, publish_live, new_browser_page):
    ids = _seed(live_server, publish_live)
    page = new_browser_page()
    if role != "anonymous":
        sign_in(page, live_server.url, USERS[role], language="ko")
    problems = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        for path in BY_ROLE[role]:
            page.goto(live_server.url + path.format(**ids))
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            if scroll > client:
                problems.append(f"{path} at {width}px is {scroll}px wide")
            breaking = page.evaluate("""() => [...document.querySelectorAll('main p, main h1, main h2, main td, main li, nav a')]
                .filter(e => getComputedStyle(e).wordBreak !== 'keep-all').map(e => e.tagName)""")
            if breaking:
                problems.append(f"{path}: word-break is not keep-all on {sorted(set(breaking))}")
    assert problems == []


def test_the_header_links_stay_whole_words_on_a_phone(live_server, publish_live, new_browser_page):
    _seed(live_server, publish_live)
    page = new_browser_page()
    sign_in(page, live_server.url, "admin", language="ko")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/")
    # One line per link: a link no taller than its line height has not wrapped letter by letter.
    heights = page.evaluate("""() => [...document.querySelectorAll('.site-header li')].map(e =>
        e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight))""")
    assert heights and max(heights) < 1.9, heights
