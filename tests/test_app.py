"""The request as unit of work (registry/app.py): a request that used no transaction ends none; one that
wrote commits; a request without a session cookie gets an empty session."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import Response, request
from sqlalchemy import event, select, text

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



# --- what a request works out only when something asks ---------------------------------------------

def test_a_request_that_needs_no_language_does_not_pick_one(client, counted):
    assert client.get("/schema/solution/v1.json").status_code == 200
    assert counted["locale"] == 0


def test_an_error_page_is_in_the_reader_s_language(app, client):
    assert "카탈로그로 돌아가기" in client.get("/solutions/no-such-thing").get_data(as_text=True)
    english = app.test_client()
    english.set_cookie("lang", "en")
    assert "Back to the catalog" in english.get("/solutions/no-such-thing").get_data(as_text=True)


@pytest.mark.parametrize("headers", [{}, {"If-None-Match": '"other"'}, {"If-None-Match": '"abc"'},
                                     {"If-Match": '"other"'}, {"Range": "bytes=0-3"},
                                     {"If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT"},
                                     {"If-Unmodified-Since": "Wed, 21 Oct 2015 07:28:00 GMT"},
                                     {"Range": "bytes=0-1", "If-Range": '"abc"'}])
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_conditional_answers_as_make_conditional_does(app, headers, method):
    from registry.web import conditional

    def answered(make):
        with app.test_request_context("/x", method=method, headers=headers):
            response = Response(b"{}", mimetype="application/json")
            response.set_etag("abc")
            response = make(response)
            return response.status_code, {k: v for k, v in response.headers.items() if k != "Date"}, \
                "Date" in response.headers

    assert answered(conditional) == answered(lambda r: r.make_conditional(request))


def test_ensure_sync_remembers_plain_functions_only(app):
    def plain():
        return None

    async def coroutine():
        return None

    assert app.ensure_sync(plain) is plain and app.ensure_sync(plain) is plain
    for _ in range(2):  # without asgiref Flask refuses an async function, each time it is asked
        try:
            wrapped = app.ensure_sync(coroutine)
        except RuntimeError:
            continue
        assert wrapped is not coroutine


def test_each_connection_is_configured_for_its_engine(app):
    from registry.catalog.models import SearchDocument

    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # The same search statement many times over: PostgreSQL must not be handed a prepared statement it
        # could plan once for every search term (psycopg would prepare from the sixth execution).
        for term in ["solution"] * 8 + ["데이터"]:
            db.session.execute(select(SearchDocument.solution_id).where(SearchDocument.body.like(f"%{term}%")))
        assert db.session.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar() == 0
        db.session.rollback()  # what the pool does when a connection returns: the setting stays
        assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
    else:
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 10000
