"""Every page of the demo each kind of person can reach, in Korean, at 1280 × 800 and 390 × 844:
no serious or critical axe-core violation (WCAG 2.1 A/AA), no page wider than the window, and Korean
text breaking between words (word-break: keep-all).

One registry holding the demo (`make demo`'s content) and one Chromium serve the whole module; each
person signs in once, then walks their pages.
"""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from registry.ops.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.browser.conftest import axe_violations, describe_violations

pytestmark = pytest.mark.browser

WIDTHS = [(1280, 800), (390, 844)]
PUBLIC = ["/", "/search?q=주차", "/search?q=&category=parking", "/search?q=없는-솔루션", "/solutions/parking-share",
          "/solutions/parking-share/1.1.0", "/solutions/bus-route-optimizer",  # deprecated: the successor banner
          "/components", "/reuse", "/transparency", "/solutions/missing-solution"]
SIGNED_IN = [*PUBLIC, "/account", "/notifications"]
REVIEW = ["/review/", "/review/releases/{pending}", "/review/releases/{pending}/files",
          "/review/releases/{pending}/files/parking_share/finder.py", "/review/releases/{pending}/diff",
          "/review/releases/{failing}", "/solutions/parking-share/compare/1.1.0...1.2.0"]
# Who signs in (None: nobody), and the pages that person walks.
BY_ROLE = {
    "anonymous": (None, [*PUBLIC, "/login", "/unsubscribe/{unsubscribe}"]),
    "municipality": ("cheonan", [*SIGNED_IN, "/orgs/cheonan/datahub"]),  # data hub, webhook delivery log; fit
    "vendor": ("vendor", [*SIGNED_IN, "/review/mine", "/account/two-factor",
                          "/solutions/parking-share/compare/1.1.0...1.2.0"]),  # the solution page: lifecycle form
    "reviewer": ("reviewer", [*SIGNED_IN, *REVIEW]),
    "admin": ("admin", [*SIGNED_IN, *REVIEW, "/review/reasons", "/admin/audit/", "/admin/outbox",
                        "/admin/license-policy"]),
}


@pytest.fixture(scope="module")
def demo(demo_server) -> dict[str, str]:
    """The demo, plus what it has no example of: a webhook with a delivery log for 천안시 and an
    unsubscribe link; returns the ids the paths need."""
    from sqlalchemy import select

    from registry.accounts import service as accounts
    from registry.db import db, utcnow
    from registry.notifications import service as notifications
    from registry.notifications import webhooks
    from registry.notifications.models import WebhookDelivery
    from registry.releases.service import get_release

    def _seed() -> dict[str, str]:
        org = accounts.get_org("cheonan")
        org.webhook_url, org.webhook_secret = "https://hooks.cheonan.example/registry", webhooks.new_secret()
        now = utcnow()
        for event, status, attempts, code, error in [
                ("release.vulnerable", "delivered", 1, 204, None),
                ("solution.deprecated", "retrying", 3, 503, "HTTP 503"),
                ("release.yanked", "failed", 9, None, "ConnectionRefusedError: [Errno 111] Connection refused")]:
            db.session.add(WebhookDelivery(
                org_id=org.id, webhook_id=webhooks.new_message_id(), event=event, body="{}", status=status,
                attempts=attempts, last_status_code=code, last_error=error, latency_ms=120 if code else None,
                next_try_at=now + timedelta(minutes=5) if status == "retrying" else None))
        assert db.session.scalar(select(WebhookDelivery).limit(1)) is not None
        return {"pending": str(get_release("parking-share", "1.2.0").id),
                "failing": str(get_release("drt-ageing-town", "1.1.0").id),
                "unsubscribe": notifications.unsubscribe_token(accounts.get_user("cheonan").id)}

    return demo_server.seed(_seed)


def check(page, what: str) -> list[str]:
    """The page as it is now, at both widths: axe's serious and critical violations, overflow, word breaks."""
    problems = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if scroll > client:
            problems.append(f"{what} at {width}px is {scroll}px wide (window {client}px)")
        # Korean text only: a file path or a digest may break anywhere.
        breaking = page.evaluate("""() => [...document.querySelectorAll('main p, main h1, main h2, main td, main li, nav a')]
            .filter(e => /[\uac00-\ud7a3]/.test(e.textContent) && getComputedStyle(e).wordBreak !== 'keep-all')
            .map(e => e.tagName)""")
        if breaking:
            problems.append(f"{what}: word-break is not keep-all on {sorted(set(breaking))}")
        violations = axe_violations(page)
        if violations:
            problems.append(f"{what} at {width}px:\n{describe_violations(violations)}")
    return problems


def sign_in(page, base: str, username: str) -> list[str]:
    """Through the login form (and the two-factor step of staff), checking those pages on the way."""
    page.goto(f"{base}/lang/ko")
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: url.split("?")[0] != f"{base}/login")
    problems = []
    if "/login/two-factor" in page.url:
        problems += check(page, "/login/two-factor")
        page.fill("input[name=code]", pyotp.TOTP(DEMO_TOTP_SECRET).now())
        page.click("main form button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
    return problems


@pytest.mark.parametrize("role", list(BY_ROLE))
def test_every_page_passes_axe_and_fits_the_window(role, demo_server, demo, module_browser):
    username, paths = BY_ROLE[role]
    context = module_browser.new_context(locale="ko-KR")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        problems = sign_in(page, demo_server.url, username) if username else []
        page.goto(f"{demo_server.url}/lang/ko")
        for path in paths:
            url = demo_server.url + path.format(**demo)
            response = page.goto(url)
            expected = 404 if "missing" in path else 200
            if response.status != expected:
                problems.append(f"{path} answered {response.status}, not {expected}")
            problems += check(page, path)
        if role == "vendor":  # the lifecycle form's confirm step (nothing changes until it is confirmed)
            page.goto(f"{demo_server.url}/solutions/parking-share")
            lifecycle = page.locator("#lifecycle")
            lifecycle.locator("select[name=state-state]").select_option("deprecated")
            lifecycle.locator("input[name=state-reason]").fill("통합 주차 허브로 옮겨 갑니다")
            lifecycle.locator("button[type=submit]").click()
            page.wait_for_url(lambda url: url.split("#")[0] == f"{demo_server.url}/solutions/parking-share/state")
            problems += check(page, "/solutions/parking-share/state (confirm step)")
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
