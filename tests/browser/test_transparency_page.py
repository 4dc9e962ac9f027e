"""The transparency log page, with witnesses that cosigned the latest head, an older one and none:
no serious or critical axe-core violation, and no wider than the window at 1280 × 800 or 390 × 844."""

from __future__ import annotations

import time

import pytest

from registry.spec import note
from tests.browser.conftest import axe_violations, describe_violations

pytestmark = pytest.mark.browser

WIDTHS = [(1280, 800), (390, 844)]


@pytest.fixture
def witnessed(live_server):
    from registry.transparency import service, witnesses
    from registry.transparency.models import LeafKind

    signers = {name: note.Signer.generate(f"witness.{slug}.go.kr/registry", note.ALG_COSIGNATURE_V1)
               for name, slug in (("경기도", "gg"), ("행정안전부", "mois"), ("충청남도", "chungnam"))}

    def grow() -> str:
        service.append(LeafKind.KEY_REVOKED, {"keyid": f"k{service.log_size()}", "username": "한빛"})
        return service.latest_checkpoint()

    def cosign(signed: str, signer: note.Signer) -> None:
        opened = note.parse(signed)
        line = note.cosign(opened.text, signer, int(time.time()))
        witnesses.record_cosignatures(note.Note(opened.text, (*opened.signatures, line)).encode())

    def seed() -> None:
        for name, signer in signers.items():
            witnesses.add_witness(name, signer.verifier.encode())
        older = grow()
        cosign(older, signers["충청남도"])
        cosign(grow(), signers["경기도"])

    live_server.seed(seed)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_transparency_page_is_accessible_and_fits_the_window(live_server, witnessed, browser_page, language):
    page = browser_page
    page.goto(f"{live_server.url}/lang/{language}")
    problems = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        assert page.goto(f"{live_server.url}/transparency").status == 200
        scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if scroll > client:
            problems.append(f"/transparency at {width}px is {scroll}px wide")
    assert problems == []
    assert page.locator("tbody tr").count() == 3
    if language == "ko":
        assert page.get_by_text("증인 3곳 중 1곳이 최신 헤드에 공동 서명했습니다.").is_visible()
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)


def test_the_footer_links_to_the_transparency_page(live_server, browser_page):
    page = browser_page
    page.goto(f"{live_server.url}/lang/en")
    page.goto(live_server.url)
    page.get_by_role("link", name="Transparency log").click()
    page.wait_for_url("**/transparency")
    assert page.get_by_role("heading", level=1).inner_text() == "Transparency log"
