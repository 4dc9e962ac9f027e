"""Shared fixtures of the browser tests: a real registry server on 127.0.0.1 with its own
migrated SQLite database, Playwright pages driving Debian's chromium, and seeding helpers.

Without /usr/bin/chromium the tests are skipped, unless REGISTRY_REQUIRE_BROWSER=1 (CI), where
they fail. The catalog engineer may append fixtures at the end of this file.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from registry import create_app
from registry.db import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct-horse-1"
# Reviewers and admins must use two-factor sign-in: seeded staff are enrolled with this secret.
STAFF_TOTP_SECRET = "BROWSERTESTSTAFFTOTPSECRETBASE32"


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing; install it with `apt-get install -y chromium`"
    if os.environ.get("REGISTRY_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class LiveServer:
    url: str
    app: Flask

    def seed(self, function, *args, **kwargs):
        """Run `function` inside the server app's context and commit (for seeding data)."""
        with self.app.app_context():
            result = function(*args, **kwargs)
            db.session.commit()
            return result

    def user(self, username: str, *, role: str | None = None, org: str | None = None, org_kind: str = "vendor",
             member_role: str = "owner") -> str:
        """Create a user (password PASSWORD), optionally as a member of `org` (created if missing)."""
        from registry.accounts import service

        def _create():
            user = service.create_user(username, f"{username}@example.org", PASSWORD, role)
            if org:
                from sqlalchemy import select

                from registry.accounts.models import Organization

                existing = db.session.scalar(select(Organization).where(Organization.slug == org))
                service.add_member(existing or service.create_org(org, org.title(), org_kind), user, member_role)
            if user.is_staff:
                from registry.db import utcnow

                user.totp_secret, user.totp_confirmed_at = STAFF_TOTP_SECRET, utcnow()
            return username

        return self.seed(_create)

    def token(self, username: str, org: str, scopes: list[str]) -> str:
        from registry.accounts import service

        return self.seed(lambda: service.issue_token(service.get_user(username), service.get_org(org), scopes).raw)

    def upload(self, token: str, data: bytes, name: str) -> dict:
        """Publish through the real HTTP API; returns the release JSON."""
        response = requests.post(f"{self.url}/api/v1/solutions/{name}/releases",
                                 files={"archive": (f"{name}.tar.gz", data)},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()["release"]


def _migrated_app(folder: Path, **settings) -> Flask:
    from flask_migrate import upgrade

    app = create_app({
        "DATABASE_URL": f"sqlite:///{folder / 'live.db'}", "STORAGE_PATH": str(folder / "blobs"),
        "SECRET_KEY": "browser-test-secret", "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": True,
        # Jobs (reindex, alerts, mail) run where they are enqueued: no worker process beside the server.
        "QUEUE_URL": "immediate", "REVIEW_CODE_CHECKS": False,
        **settings,
    })
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    return app


@pytest.fixture
def live_server(tmp_path) -> Iterator[LiveServer]:
    """A real registry on 127.0.0.1 (werkzeug, threaded) with a freshly migrated SQLite database."""
    yield from _serve(_migrated_app(tmp_path))


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory) -> Iterator[LiveServer]:
    """One registry per test module holding what `make demo` loads (the sample releases, adoptions,
    advisories, 천안시's data hub profile, a deprecation), with the automated review checks on."""
    from registry.ops.demo import load_demo

    app = _migrated_app(tmp_path_factory.mktemp("demo"), REVIEW_CODE_CHECKS=True)
    with app.app_context():
        load_demo(echo=lambda *_: None)
    yield from _serve(app)


def _chromium():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def module_browser():
    """One Chromium for a whole module (the page walks open many pages: no launch per test)."""
    yield from _chromium()


def _serve(app: Flask) -> Iterator[LiveServer]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def browser():
    yield from _chromium()


@pytest.fixture
def new_browser_page(browser):
    """A factory of pages, each in its own browser context (its own cookies: one per person)."""
    contexts = []

    def _page():
        context = browser.new_context(locale="en-US")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield _page
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_browser_page):
    return new_browser_page()


def sign_in(page, base_url: str, username: str, *, language: str = "en") -> None:
    """Sign in through the login form, then switch the interface language."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: url.split("?")[0] != f"{base_url}/login")
    if "/login/two-factor" in page.url:  # an enrolled reviewer or admin: the code from the authenticator
        import pyotp

        page.fill("input[name=code]", pyotp.TOTP(STAFF_TOTP_SECRET).now())
        page.click("main form button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{base_url}/lang/{language}")


# --- appended by the catalog engineer: axe-core checks and published solutions ---------------

# Loaded from the registry's own static files: the Content-Security-Policy refuses inline scripts.
AXE_SCRIPT = "/static/vendor/axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core's WCAG 2.1 A/AA rules on the page as it is now; the violations of these impacts."""
    if not page.evaluate("typeof axe !== 'undefined'"):  # once per page load
        page.add_script_tag(url=AXE_SCRIPT)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [v for v in result["violations"] if v["impact"] in impacts]


def describe_violations(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} -> "
                     + "; ".join(n["target"][0] if isinstance(n["target"][0], str) else str(n["target"])
                                 for n in v["nodes"][:5]) for v in violations)


@pytest.fixture
def publish_live(live_server):
    """Upload a real package through the live server's API (manifest changes as keywords) and,
    unless pending=True, approve it; returns the release JSON."""
    from tests.publishing.packages import archive

    tokens: dict[str, str] = {}

    def _publish(name: str = "parking-share", version: str = "1.0.0", *, org: str = "hanbit", pending: bool = False,
                 **changes) -> dict:
        if org not in tokens:
            live_server.user(f"{org}-owner", org=org)
            tokens[org] = live_server.token(f"{org}-owner", org, ["publish", "yank", "read"])
        release = live_server.upload(tokens[org], archive(name, version, **changes), name)
        if not pending:
            from registry.releases import states
            from registry.releases.service import get_release

            live_server.seed(lambda: states.transition_release(get_release(name, version), "approve"))
        release["token"] = tokens[org]
        return release

    return _publish
