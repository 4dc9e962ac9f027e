"""The request as unit of work (registry/app.py): a request that used no transaction ends none; one that
wrote commits; a request without a session cookie gets an empty session."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response
from sqlalchemy import event, select

from registry.accounts.models import Organization
from registry.app import _end_unit_of_work
from registry.db import db

URL = "/api/v1/solutions?q=" + quote("주차")


def test_an_anonymous_cached_search_touches_no_database(app_config, make_app):
    quiet = make_app({**app_config, "SEARCH_STATE_TTL": 3600.0})
    client = quiet.test_client()
    assert client.get(URL).status_code == 200  # fills the caches
    with quiet.app_context():
        engine = db.engine
    seen = []
    for name in ("checkout", "begin", "commit", "rollback", "before_cursor_execute"):
        event.listen(engine.pool if name == "checkout" else engine, name,
                     lambda *args, _name=name, **kw: seen.append(_name))
    response = client.get(URL)
    assert response.status_code == 200 and response.headers["Vary"] == "Cookie"
    assert "Set-Cookie" not in response.headers
    assert seen == []


def test_a_request_that_only_added_an_object_still_commits(app_config, make_app):
    other = make_app(app_config)
    with other.test_request_context("/"):
        db.session.add(Organization(slug="added-only", name="Added", kind="vendor"))
        _end_unit_of_work(Response(status=200))
    with other.app_context():
        assert db.session.scalar(select(Organization.slug).where(Organization.slug == "added-only")) == "added-only"


def test_a_refused_request_rolls_back_what_it_added(app_config, make_app):
    other = make_app(app_config)
    with other.test_request_context("/"):
        db.session.add(Organization(slug="refused", name="Refused", kind="vendor"))
        _end_unit_of_work(Response(status=400))
    with other.app_context():
        assert db.session.scalar(select(Organization.slug).where(Organization.slug == "refused")) is None
