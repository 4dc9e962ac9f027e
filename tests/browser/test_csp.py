"""The Content-Security-Policy in a real browser: it blocks injected inline scripts, handlers,
styles and eval, and the registry's own pages run under it without a single violation."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string

from registry.releases import states
from registry.releases.service import get_release
from tests.browser.conftest import sign_in
from tests.publishing.packages import build_archive, package_files

pytestmark = pytest.mark.browser

# Installed before any page script runs (Playwright injects it outside the page's CSP).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI), true);
"""
INJECTED = """{% extends "base.html" %}{% block content %}
<script>window.injected = "실행됨";</script>
<button id="handler" onclick="window.clicked = true">누르기</button>
<a id="js-link" href="javascript:window.followed = true">링크</a>
<p id="styled" style="color: rgb(255, 0, 0)">빨강</p>
<style>#styled { font-size: 99px; }</style>
<script src="/test-only/eval.js"></script>
{% endblock %}"""
# A script from the registry itself may run, but not turn text into code.
EVAL_SCRIPT = """
try { eval("window.evaluated = true"); } catch (error) { window.evalRefused = error.name; }
"""
README = """# 스마트 주차

| 구역 | 대수 |
|:--|--:|
| 가 | 12 |

![추적 픽셀](https://tracker.example/pixel.gif) <script>window.injected = "README";</script>
"""


def watch(page) -> list[str]:
    """Start recording CSP violations and console errors of `page`; returns the live list of problems."""
    problems: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    # A page without an icon makes the browser ask for /favicon.ico; that 404 is not a policy matter.
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" and not message.location["url"].endswith("/favicon.ico") else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


def violations(page) -> list[str]:
    return page.evaluate("window.__violations")


def test_injected_inline_script_handler_style_and_eval_are_blocked(live_server, browser_page):
    @live_server.app.get("/test-only/injected")
    def _injected():
        return render_template_string(INJECTED)

    @live_server.app.get("/test-only/eval.js")
    def _eval_script():
        return EVAL_SCRIPT, 200, {"Content-Type": "text/javascript"}

    page = browser_page
    problems = watch(page)
    page.goto(f"{live_server.url}/test-only/injected")
    page.click("#handler")
    page.click("#js-link")
    assert page.evaluate("[window.injected, window.clicked, window.followed]") == [None, None, None]
    assert page.evaluate("[window.evaluated, window.evalRefused]") == [None, "EvalError"]
    styled = page.locator("#styled")
    assert styled.evaluate("e => getComputedStyle(e).color") != "rgb(255, 0, 0)"
    assert styled.evaluate("e => getComputedStyle(e).fontSize") != "99px"
    blocked = {v.split()[0] for v in violations(page)}
    assert {"script-src-elem", "script-src-attr", "style-src-elem", "style-src-attr", "script-src"} <= blocked, blocked
    assert any("Content Security Policy" in p for p in problems)  # the browser reports it too


@pytest.fixture
def catalog(live_server):
    """One published solution whose README has a table, a remote image and a script; one pending."""
    live_server.user("hanbit-owner", org="hanbit")
    live_server.user("kim-reviewer", role="reviewer", org="agency", org_kind="agency", member_role="member")
    token = live_server.token("hanbit-owner", "hanbit", ["publish", "read"])
    files = package_files("parking-share", "1.2.0")
    files["README.md"] = README.encode()
    live_server.upload(token, build_archive(files, root="parking-share-1.2.0"), "parking-share")
    live_server.seed(lambda: states.transition_release(get_release("parking-share", "1.2.0"), "approve"))
    files = package_files("parking-share", "1.3.0")
    live_server.upload(token, build_archive(files, root="parking-share-1.3.0"), "parking-share")


def test_the_registrys_pages_work_under_the_policy(live_server, catalog, browser_page):
    page = browser_page
    problems = watch(page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(live_server.url)
    page.locator("#home-q").fill("주차")
    page.locator("#home-q").press("Enter")  # the search form still submits (form-action 'self')
    page.wait_for_url(re.compile(r"/search\?q="))
    assert page.locator("ul.hits .hit-title").count() == 1
    assert violations(page) == []

    page.click("ul.hits .hit-title a")
    page.wait_for_url("**/solutions/parking-share*")
    readme = page.locator("#readme-h + .markdown")
    assert readme.locator("img").count() == 0
    assert readme.locator("a[href='https://tracker.example/pixel.gif']").inner_text() == "추적 픽셀"
    assert readme.locator("td.align-right").evaluate("e => getComputedStyle(e).textAlign") == "right"
    assert page.evaluate("window.injected") is None
    assert violations(page) == []

    page.goto(f"{live_server.url}/login")
    assert violations(page) == []
    sign_in(page, live_server.url, "kim-reviewer")  # the login form still posts
    page.goto(f"{live_server.url}/review/")
    page.click("text=parking-share 1.3.0")
    page.wait_for_url("**/review/releases/*")
    assert page.locator("table.checks tr.check").count() >= 8
    assert violations(page) == []
    page.goto(f"{live_server.url}/account")
    page.click("header button[type=submit]")  # sign out, a form in the header
    page.wait_for_load_state()
    assert page.locator("header a[href='/login']").count() == 1
    assert violations(page) == []

    assert problems == []
    assert all(url.startswith(live_server.url) for url in requested), [u for u in requested
                                                                         if not u.startswith(live_server.url)]
