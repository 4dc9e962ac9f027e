"""Screenshots of the main pages at 1280 × 800 and 390 × 844, from a running demo (`make demo`).

    .venv/bin/python docs/screenshots/capture.py [http://127.0.0.1:5000]

Needs Chromium at /usr/bin/chromium and Korean fonts (Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyotp
from playwright.sync_api import Page, sync_playwright

from registry.ops.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET

OUT = Path(__file__).resolve().parent
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
# (file name, who is signed in, path); "{review}" is the first release in the review queue.
PAGES = [("home", None, "/"), ("search", None, "/search?q=주차"), ("solution", None, "/solutions/parking-share"),
         ("datahub", "cheonan", "/orgs/cheonan/datahub"), ("account", "vendor", "/account"),
         ("my-releases", "vendor", "/review/mine"), ("review-queue", "reviewer", "/review/"),
         ("review", "reviewer", "{review}")]


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if "two-factor" in page.url:
        page.fill("input[name=code]", pyotp.TOTP(DEMO_TOTP_SECRET).now())
        page.click("main form button[type=submit]")
        page.wait_for_load_state()


def main(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        pages: dict[str | None, Page] = {}
        for name, user, path in PAGES:
            if user not in pages:
                pages[user] = browser.new_context(locale="ko-KR").new_page()
                if user:
                    sign_in(pages[user], base, user)
            page = pages[user]
            if path == "{review}":
                page.goto(f"{base}/review/")
                path = page.locator("main a[href^='/review/releases/']").first.get_attribute("href")
            for label, (width, height) in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": height})
                page.goto(base + path)
                page.screenshot(path=OUT / f"{name}-{label}.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000")
