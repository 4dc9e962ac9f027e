"""Browser hardening headers on every response: pages, JSON, files, errors."""

from __future__ import annotations

import pytest

from registry.db import db
from registry.releases import states
from registry.releases.service import get_release
from tests.helpers import login


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_common_headers(response) -> None:
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert directives(response)["frame-ancestors"] == ["'none'"]
    assert "Strict-Transport-Security" not in response.headers  # plain http


@pytest.fixture
def published(upload, vendor_token):
    response = upload(vendor_token)
    assert response.status_code == 201, response.json
    states.transition_release(get_release("parking-share", "1.2.0"), "approve")
    db.session.commit()


def test_pages_allow_only_the_registrys_own_scripts_and_styles(client):
    response = client.get("/")
    assert response.status_code == 200
    assert_common_headers(response)
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


@pytest.mark.parametrize("path, accept", [
    ("/no-such-page", "text/html"), ("/no-such-page", "application/json"), ("/api/v1/no-such-thing", "*/*"),
    ("/healthz", "*/*"), ("/static/style.css", "*/*"), ("/schema/solution/v1.json", "*/*"),
    ("/solutions/없는-솔루션", "text/html"),
])
def test_every_kind_of_response_is_hardened(client, path, accept):
    response = client.get(path, headers={"Accept": accept})
    assert_common_headers(response)


def test_form_errors_and_posts_are_hardened(client):
    response = client.post("/login", data={"username": "김", "password": "x"})  # no CSRF token
    assert_common_headers(response)


def test_non_html_responses_are_sandboxed(client):
    response = client.get("/healthz")
    policy = directives(response)
    assert policy["default-src"] == ["'none'"] and "sandbox" in policy


def test_package_files_are_downloads_that_never_render(client, published):
    for kind in ("archive", "sbom"):
        response = client.get(f"/api/v1/solutions/parking-share/releases/1.2.0/{kind}")
        assert response.status_code == 200, kind
        assert response.headers["Content-Disposition"].startswith("attachment"), kind
        assert_common_headers(response)
        assert "sandbox" in directives(response), kind


def test_raw_text_views_are_sandboxed(client, published):
    response = client.get("/api/v1/solutions/parking-share/releases/1.2.0/publiccode.yml")
    assert response.status_code == 200
    assert_common_headers(response)
    assert "sandbox" in directives(response) and directives(response)["default-src"] == ["'none'"]


def test_signed_in_pages_are_hardened(client, make_user):
    make_user("kim-reviewer", role="reviewer")
    assert login(client, "kim-reviewer").status_code == 302
    response = client.get("/review/")
    assert response.status_code == 200
    assert_common_headers(response)
    assert directives(response)["script-src"] == ["'self'"]


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://registry.example.go.kr")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_forwarded_proto_is_trusted_only_behind_a_configured_proxy(app_config, make_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    direct = make_app(app_config).test_client().get("/healthz", headers=forwarded)
    assert "Strict-Transport-Security" not in direct.headers  # anyone can send the header

    behind_proxy = make_app({**app_config, "PROXY_FIX": 1})
    seen = {}

    @behind_proxy.before_request
    def _remember_address():
        from flask import request

        seen["remote_addr"] = request.remote_addr

    response = behind_proxy.test_client().get("/healthz", headers=forwarded)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert seen["remote_addr"] == "203.0.113.7"
