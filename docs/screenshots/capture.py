"""Screenshots of the main pages in Korean at 1280 × 800 and 390 × 844 (one window high each).

    .venv/bin/python docs/screenshots/capture.py                         # loads the demo and serves it itself
    .venv/bin/python docs/screenshots/capture.py http://127.0.0.1:5000   # or shoots a running `make demo`

Without a URL the demo registry is loaded into a scratch folder and served on 127.0.0.1 for the
shots only (nothing is left behind). Needs Chromium at /usr/bin/chromium and Korean fonts (Debian:
fonts-noto-cjk).
"""

from __future__ import annotations

import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pyotp
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the registry of this checkout, whatever is installed
from registry.ops.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET  # noqa: E402

OUT = Path(__file__).resolve().parent
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
# (file name, who is signed in, path); "{review}" is parking-share's release waiting in the review queue.
PAGES = [("home", None, "/"), ("search", None, "/search?q=주차"), ("solution", None, "/solutions/parking-share"),
         ("reuse", None, "/reuse"), ("transparency", None, "/transparency"),
         ("datahub", "cheonan", "/orgs/cheonan/datahub"), ("notifications", "cheonan", "/notifications"),
         ("account", "vendor", "/account"), ("my-releases", "vendor", "/review/mine"),
         ("review-queue", "reviewer", "/review/"), ("review", "reviewer", "{review}"),
         ("review-diff", "reviewer", "{review}/diff")]


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


def shoot(base: str) -> list[Path]:
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        pages: dict[str | None, Page] = {}
        review = None
        for name, user, path in PAGES:
            if user not in pages:
                pages[user] = browser.new_context(locale="ko-KR").new_page()
                pages[user].goto(f"{base}/lang/ko")
                if user:
                    sign_in(pages[user], base, user)
            page = pages[user]
            if "{review}" in path:
                if review is None:
                    page.goto(f"{base}/review/")
                    review = page.locator("main a[href^='/review/releases/']", has_text="parking-share").first \
                        .get_attribute("href")
                path = path.format(review=review)
            for label, (width, height) in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": height})
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                target = OUT / f"{name}-{label}.png"
                page.screenshot(path=target)  # the window only: one screen, not the whole page
                written.append(target)
        browser.close()
    return written


@contextmanager
def demo_registry() -> Iterator[str]:
    """The demo loaded into a scratch folder, served on 127.0.0.1 (a free port) while the block runs."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from registry import create_app
    from registry.db import db
    from registry.ops.demo import load_demo

    with tempfile.TemporaryDirectory(prefix="solreg-shots-") as scratch:
        folder = Path(scratch)
        app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'demo.db'}", "STORAGE_PATH": str(folder / "blobs"),
                          "SECRET_KEY": "screenshots", "QUEUE_URL": "immediate", "RATELIMIT_ENABLED": False,
                          "LOG_KEY_PATH": str(folder / "log_key")})
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            load_demo(echo=print)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.engine.dispose()


def main(argv: list[str]) -> None:
    if argv:
        written = shoot(argv[0])
    else:
        with demo_registry() as base:
            written = shoot(base)
    for path in written:
        print(f"{path.relative_to(OUT.parents[1])}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
