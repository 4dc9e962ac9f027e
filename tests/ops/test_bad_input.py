"""Hostile input must be a 4xx with a reason, never a 500: NUL bytes in parameters, integers larger than the
database holds, on SQLite and PostgreSQL alike. The route walks find the siblings of the cases first seen."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

HUGE = "99999999999999999999"  # > 2**64
NUL_ARGS = {key: "주차\x00" for key in ("q", "page", "action", "purl", "sort", "next", "lang", "category")}


@pytest.fixture
def app_config(app_config):
    # The walks reach the views, not the CSRF check in front of them.
    return {**app_config, "WTF_CSRF_ENABLED": False}


@pytest.fixture
def admin_client(app, client, make_user, make_token):
    admin = make_user("boss", role="admin", org="hanbit")
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + make_token(admin, "hanbit", ["publish", "yank", "read", "review"])
    assert client.post("/login", data={"username": "boss", "password": "correct-horse-1"}).status_code == 302
    return client


def _url(rule, **values) -> str:
    """The rule's path with `values` for its int arguments and an ordinary word for the others."""
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>",
                  lambda m: values.get("int", HUGE) if m[1] == "int" else "parking-share", rule.rule)


def _int_rules(app):
    return [r for r in app.url_map.iter_rules() if any(isinstance(c, IntegerConverter) for c in r._converters.values())]


def test_every_route_with_an_integer_refuses_one_too_big(app, admin_client):
    rules = _int_rules(app)
    assert len(rules) >= 8
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = admin_client.open(_url(rule), method=method)
            assert response.status_code in (404, 405), (method, rule.rule, response.status_code)


def test_ids_at_the_edge_of_the_database_integer(app, admin_client):
    for release_id in (2**31 - 1, 2**31, 2**63 - 1, 2**63):
        assert admin_client.get(f"/review/releases/{release_id}").status_code == 404, release_id
        assert admin_client.get(f"/api/v1/reviews/{release_id}").status_code == 404, release_id


def test_every_get_route_refuses_nul_in_its_query(app, admin_client):
    rules = [r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint != "static"]
    assert len(rules) >= 20
    for rule in rules:
        response = admin_client.get(_url(rule, int="1"), query_string=NUL_ARGS)
        assert response.status_code == 400, (rule.rule, response.status_code)


def test_nul_in_web_search_is_a_page_with_a_reason(client):
    response = client.get("/search?q=%00")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "제어 문자" in response.get_data(as_text=True)


def test_nul_in_api_search_is_a_json_error_on_the_field(client):
    response = client.get("/api/v1/solutions?q=%00")
    assert response.status_code == 400
    [error] = response.get_json()["errors"]
    assert error["field"] == "q" and error["code"] == "invalid" and "U+0000" in error["detail"]


def test_nul_in_a_form_field_is_refused(client, make_user):
    make_user("kim")
    response = client.post("/login", data={"username": "kim\x00", "password": "correct-horse-1"})
    assert response.status_code == 400
    assert "제어 문자" in response.get_data(as_text=True)


def test_nul_in_a_json_body_is_refused(admin_client):
    response = admin_client.post("/api/v1/reviews/1", json={"decision": "approve", "comment": "좋음\x00"})
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["field"] == "comment"


def test_tab_and_newline_are_still_text(client):
    assert client.get("/search", query_string={"q": "주차\t공유\n"}).status_code == 200


def test_huge_page_numbers_are_not_a_500(admin_client):
    for path in ("/search", "/admin/audit/", "/api/v1/solutions"):
        response = admin_client.get(path, query_string={"page": HUGE})
        assert response.status_code < 500, (path, response.status_code)
