"""Fixtures: a fresh app and database per test, on SQLite and (when configured) PostgreSQL.

The schema is built once per session by running the Alembic migrations — the only way a
schema is ever made — and then reset between tests (SQLite: copy the migrated file;
PostgreSQL: truncate every table).
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from registry import (
    create_app,
    models,  # noqa: F401  (every mapper can resolve its relationships, even without an app)
)
from registry.config import normalize_database_url
from registry.db import db
from tests.publishing.packages import archive

POSTGRES_URL = os.environ.get("REGISTRY_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app({"DATABASE_URL": url, "STORAGE_PATH": str(instance / "blobs"), "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("sqlite-template")
    path = base / "template.db"
    _migrate(f"sqlite:///{path}", base)
    return path


def empty_postgres_database(suffix: str) -> str:
    """The URL of a new, empty database on the configured server (made again if it exists)."""
    if not POSTGRES_URL:
        pytest.skip("REGISTRY_TEST_POSTGRES_URL is not set")
    base = make_url(normalize_database_url(POSTGRES_URL))
    name = f"{base.database}_{suffix}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def migrated_postgres_database(suffix: str, tmp_path_factory) -> str:
    """A fresh database `<configured name>_<suffix>` on the configured server, migrated; its URL."""
    url = empty_postgres_database(suffix)
    _migrate(url, tmp_path_factory.mktemp("pg-migrate"))
    return url


def second_database_url(request, name: str, postgres_fixture: str) -> str:
    """Another migrated database on the test's engine, for a second app: a copy of the SQLite
    template, or the PostgreSQL database that the session fixture `postgres_fixture` made."""
    if request.getfixturevalue("db_url").startswith("sqlite"):
        path = request.getfixturevalue("tmp_path") / f"{name}.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue(postgres_fixture)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory, worker_id) -> str:
    """A database of this test worker's own on the configured server, migrated once."""
    return migrated_postgres_database(worker_id, tmp_path_factory)


def _truncate_all(engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "registry.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def app_config(db_url, tmp_path) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": db_url,
        "STORAGE_PATH": str(tmp_path / "blobs"),
        "SECRET_KEY": "test-secret",
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": True,
        # Staff sign in with a password alone here; tests/accounts/test_two_factor.py covers the default (on).
        "REQUIRE_2FA_FOR_STAFF": False,
        # Jobs run where they are enqueued: fast and deterministic; tests/jobs run real workers.
        "QUEUE_URL": "immediate",
        # Seconds per upload; tests/review/test_codechecks.py (and the browser review test) turn them on.
        "REVIEW_CODE_CHECKS": False,
    }


_DISPATCH_ON_COMMIT = {"on": False}


def _dispatch_on_commit(session) -> None:
    """Unit tests call services and commit outside any request, so no request's end dispatches their
    events; here each commit of the app's session does, as a request's end would. tests/jobs (marked
    explicit_dispatch) check that requests, jobs and the worker dispatch by themselves."""
    from registry.events import dispatch_if_emitted

    if _DISPATCH_ON_COMMIT["on"] and session is db.session():
        dispatch_if_emitted()


@pytest.fixture
def app(app_config, request):
    app = create_app(app_config)

    def _fresh_globals():
        # Requests made while this fixture's app context is pushed share its `g`, where
        # Flask-Login, Flask-WTF and Flask-Babel cache per-request state; a real request
        # always starts with a fresh one.
        for key in list(g):
            g.pop(key)

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_globals)
    _DISPATCH_ON_COMMIT["on"] = not request.node.get_closest_marker("explicit_dispatch")
    if not event.contains(Session, "after_commit", _dispatch_on_commit):
        event.listen(Session, "after_commit", _dispatch_on_commit)

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            _truncate_all(db.engine)
        yield app
        _DISPATCH_ON_COMMIT["on"] = False
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            _truncate_all(db.engine)
        engine = db.engine
    # After the context's teardown, which may still connect (events it emitted are dispatched there):
    # disposing inside it left one PostgreSQL connection open per test, until the server refused more.
    engine.dispose()


@pytest.fixture
def make_app():
    """Apps a test builds beside `app` (another configuration, a mirror, a restart); their engines are
    disposed when the test ends, so no PostgreSQL connection outlives it."""
    made = []

    def _make(config: dict):
        made.append(create_app(config))
        return made[-1]

    yield _make
    for extra in made:
        with extra.app_context():
            engine = db.engine
        engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(app):
    """Create a user (and optionally an org membership) through the real service."""
    from registry.accounts import service

    def _make(username="vendor", *, role=None, org=None, org_kind="vendor", member_role="owner", password="correct-horse-1"):
        user = service.create_user(username, f"{username}@example.org", password, role)
        if org:
            from sqlalchemy import select

            from registry.accounts.models import Organization

            o = db.session.scalar(select(Organization).where(Organization.slug == org)) or service.create_org(org, org.title(), org_kind)
            service.add_member(o, user, member_role)
        db.session.commit()
        return user

    return _make


@pytest.fixture
def make_token(app):
    from registry.accounts import service

    def _make(user, org_slug, scopes=("publish",), **kw):
        issued = service.issue_token(user, service.get_org(org_slug), list(scopes), **kw)
        db.session.commit()
        db.session.commit()
        return issued.raw

    return _make

@pytest.fixture
def vendor_token(make_user, make_token):
    user = make_user("vendor", org="hanbit")
    return make_token(user, "hanbit", ["publish", "yank", "read"])


@pytest.fixture
def upload(client):
    """POST a release archive (default: the full example package) through the real API."""

    def _upload(token, data=None, name="parking-share", **fields):
        data = archive() if data is None else data
        form = {"archive": (io.BytesIO(data), f"{name}.tar.gz")}
        for key, value in fields.items():
            form[key] = (io.BytesIO(value), key) if isinstance(value, bytes) else value
        return client.post(f"/api/v1/solutions/{name}/releases", data=form,
                           headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")

    return _upload


@pytest.fixture
def counted(app, monkeypatch):
    """Counts of the locale selector's runs and of Flask-Login's long way to a user (its session-protection
    hash of address and User-Agent is its first step)."""
    from registry.extensions import login_manager

    calls = {"locale": 0, "login": 0}
    babel_config = app.extensions["babel"]
    selector, identifier = babel_config.locale_selector, login_manager._session_identifier_generator

    def count(name, function):
        def counting(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return counting

    monkeypatch.setattr(babel_config, "locale_selector", count("locale", selector))
    monkeypatch.setattr(login_manager, "_session_identifier_generator", count("login", identifier))
    return calls
