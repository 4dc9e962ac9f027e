"""The application factory."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from babel import Locale
from flask import Flask, Request, Response, has_request_context, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from sqlalchemy import event
from sqlalchemy.engine import Engine

from registry.config import load_settings
from registry.db import db
from registry.extensions import babel, csrf, init_migrations, limiter, login_manager
from registry.publishing.uploads import RegistryRequest
from registry.web import LOCALES, PARSED_LOCALES

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = RegistryFlask(
        "registry",
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.request_class = RegistryRequest
    app.session_interface = CookieSessions()
    app.config.update(load_settings(app.instance_path, config))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    init_migrations(app, db, Path(__file__).parent / "migrations")
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)

    from registry.storage import make_storage

    app.extensions["blob_storage"] = make_storage(app.config)

    from registry import models  # noqa: F401  (every table known to SQLAlchemy and Alembic)
    from registry.accounts.service import load_session_user

    login_manager.user_loader(load_session_user)

    from registry.ops.input_guards import register_input_guards

    app.after_request(_end_unit_of_work)  # first registered, so it runs last
    register_input_guards(app)
    _register_blueprints(app)
    _register_cli(app)
    _explain_database_errors_on_the_command_line()
    from registry.ops.views import register_error_handlers, register_request_logging

    register_error_handlers(app)
    register_request_logging(app)
    from registry.ops.security import register_security

    register_security(app)
    from registry.ops.templating import register_template_helpers

    register_template_helpers(app)
    from registry import events, handlers, jobs

    jobs.init_app(app, handlers)
    # Services flush, the request (or job, or command) commits; what it emitted is enqueued when it ends.
    app.teardown_request(events.dispatch_if_emitted)
    app.teardown_appcontext(events.dispatch_if_emitted)
    return app


def _end_unit_of_work(response):
    """The request is the unit of work: commit what it wrote if it succeeded, roll it back if it was refused.

    A view that swallows a refusal and redirects rolls back itself. Registered before every other
    after_request function, so it runs after them (Flask runs them in reverse).

    A request that read nothing and wrote nothing (an anonymous read answered from a cache) began no
    transaction and holds no pending object: there is nothing to end, and no session is even made."""
    if not wrote_or_read():
        return response
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def wrote_or_read() -> bool:
    """Whether this request's session has a transaction to end or objects waiting to be flushed.

    `Session.add` does not begin a transaction, so pending objects count on their own; changes to
    loaded or deleted objects imply the transaction that loaded them."""
    if not db.session.registry.has():
        return False
    session = db.session()
    return session.in_transaction() or bool(session.new) or bool(session.deleted) or bool(session.dirty)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions; a request without the cookie (an anonymous read) gets its empty
    session without a signer being built for it, as there is nothing to verify."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """An empty session nobody changed sets and deletes no cookie: Flask would only add
        `Vary: Cookie` if it was read, after working out every cookie attribute it then does not use."""
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


class RegistryFlask(Flask):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._plain_functions: set[Callable[..., Any]] = set()
        super().__init__(*args, **kwargs)

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask asks this of every hook and view on every request, and each time inspects the function
        for being a coroutine; a plain function, once known, is returned at once."""
        try:
            if func in self._plain_functions:
                return func
        except TypeError:  # an unhashable callable: asked each time, as Flask does
            return super().ensure_sync(func)
        synchronous = super().ensure_sync(func)
        if synchronous is func:
            self._plain_functions.add(func)
        return synchronous


def select_locale() -> Locale:
    """Asked by flask-babel the first time a request needs its language (a translated message, a
    localized text, a cache key), then remembered for the request; answers with a parsed Locale."""
    if not has_request_context():  # e.g. a message formatted by a CLI command
        return PARSED_LOCALES["ko"]
    chosen = request.args.get("lang") or session.get("lang") or request.cookies.get("lang")
    return PARSED_LOCALES[chosen] if chosen in LOCALES else PARSED_LOCALES["ko"]


def _register_blueprints(app: Flask) -> None:
    # Each domain's api.py adds its endpoints to the one API blueprint.
    from registry.accounts import api as _accounts_api  # noqa: F401
    from registry.accounts.views import bp as accounts_bp
    from registry.audit.views import bp as audit_bp
    from registry.catalog import api as _catalog_api  # noqa: F401
    from registry.catalog.views import bp as catalog_bp
    from registry.mirror import api as _mirror_api  # noqa: F401
    from registry.notifications import api as _notifications_api  # noqa: F401
    from registry.notifications.views import bp as notifications_bp
    from registry.ops import openapi as _openapi  # noqa: F401
    from registry.ops.views import bp as ops_bp
    from registry.publishing.api import files_bp
    from registry.review import api as _review_api  # noqa: F401
    from registry.review.views import bp as review_bp
    from registry.sbom import api as _sbom_api  # noqa: F401
    from registry.sbom.views import bp as sbom_bp
    from registry.transparency import api as _transparency_api  # noqa: F401
    from registry.transparency.views import bp as transparency_bp
    from registry.web import api_bp

    # The API authenticates with bearer tokens, never cookies, so CSRF does not apply to it.
    csrf.exempt(api_bp)
    limiter.limit(lambda: app.config["RATELIMIT_API"], key_func=api_rate_key)(api_bp)
    for bp in (ops_bp, accounts_bp, catalog_bp, review_bp, sbom_bp, notifications_bp, audit_bp, transparency_bp,
               api_bp, files_bp):
        app.register_blueprint(bp)


def _explain_database_errors_on_the_command_line() -> None:
    """`flask --app registry ...` with an unreachable database: one line with a hint, not a traceback."""
    script = Path(sys.argv[0])
    if not (script.name.startswith("flask") or script.parent.name == "flask"):
        return
    previous = sys.excepthook

    def hook(kind, error, tb):
        from sqlalchemy.exc import OperationalError

        if isinstance(error, OperationalError):
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            print(f"Error: cannot use the database: {reason}\n"
                  "Hint: check REGISTRY_DATABASE_URL and that the database server is running.", file=sys.stderr)
            raise SystemExit(1)
        previous(kind, error, tb)

    sys.excepthook = hook


def api_rate_key() -> str:
    """Count API calls per token (or per address when there is none)."""
    import hashlib

    header = request.headers.get("Authorization", "")
    if header:
        return "token:" + hashlib.sha256(header.encode()).hexdigest()[:24]
    return "ip:" + (request.remote_addr or "")


def _register_cli(app: Flask) -> None:
    from registry.accounts.cli import orgs_cli, tokens_cli, users_cli
    from registry.mirror.cli import mirror_cli
    from registry.ops.demo import demo_command
    from registry.ops.storage_cli import storage_cli
    from registry.releases.backfill import backfill_command
    from registry.sbom.cli import osv_cli
    from registry.transparency.cli import audit_cli, log_cli

    log_cli.add_command(backfill_command)  # it logs releases, a domain above the log's own

    for command in (users_cli, orgs_cli, tokens_cli, storage_cli, audit_cli, osv_cli, demo_command, log_cli, mirror_cli):
        app.cli.add_command(command)


@event.listens_for(Engine, "connect")
def _configure_connection(dbapi_connection, connection_record):
    """Every new connection of every engine."""
    module = type(dbapi_connection).__module__
    if module.startswith("psycopg"):
        # No server-side prepared statements: psycopg prepares a statement from its sixth execution, and
        # PostgreSQL may then plan it once for any parameters. The registry's data is skewed (a search
        # term in half the catalog or in three solutions, a facet value of most or few), so a plan made
        # for one search term served the next: `데이터` after five searches for `solution` took 100 ms
        # instead of 30 at 50k solutions (bench/results/search.md). Each statement is planned for its own
        # parameters; it also keeps connections usable through a transaction-pooling pgbouncer.
        dbapi_connection.prepare_threshold = None
        # No parallel query: the registry's statements are short and many run at once. Starting a Gather's
        # workers cost more than they saved even on an idle machine (one-syllable searches at 50k: 36 -> 24 ms
        # without them, bench/results/search.md), and under load they take the cores of other requests.
        # Committed, so that the pool's rollback on return does not undo it.
        dbapi_connection.execute("SET max_parallel_workers_per_gather = 0")
        dbapi_connection.commit()
    elif module.startswith("sqlite3"):
        # A writer waits up to 10 s for the write lock instead of failing at once (set first, so the
        # journal_mode switch waits too); WAL lets readers run while one writer writes; foreign keys are
        # off by default in SQLite.
        # Transactions stay lazy on purpose: the driver issues BEGIN only before the first INSERT/UPDATE/
        # DELETE, so reads take no lock, and a write transaction starts by waiting for the lock. (A BEGIN at
        # the first read would instead fail with "database is locked", without waiting, when another writer
        # commits before this one's first write.) registry.db.begin_write takes the lock for a final write.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
