"""Flask extensions, created unbound and initialised in the app factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app, g, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import COOKIE_NAME, LoginManager, user_accessed
from flask_wtf.csrf import CSRFProtect


class RegistryLoginManager(LoginManager):
    """Flask-Login's manager; a request that can name no user (an empty session and no remember-me
    cookie: an anonymous reader) gets its anonymous user at once.

    Flask-Login would reach the same answer the long way: hash the address and User-Agent for session
    protection (skipped for an empty session anyway), look for `_user_id`, then for the cookie. With a
    request or header loader (the registry sets neither) the long way is taken, as those could name
    a user without a session."""

    def _load_user(self):
        if (not session and self._request_callback is None and self._header_callback is None
                and current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) not in request.cookies):
            user_accessed.send(current_app._get_current_object())
            session.get("_user_id")  # read as Flask-Login reads it, so the answer still says Vary: Cookie
            g._login_user = self.anonymous_user()
            return None
        return super()._load_user()


login_manager = RegistryLoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class Migrations:
    """`app.extensions["migrate"]` until a migration runs: Flask-Migrate (with alembic and mako, about
    11 MB and 0.6 s) is imported only then, never in a web worker, which no request needs it for.

    `directory` and `db` are known at once (`upgrade(directory=...)` reads only those); any other
    attribute (`migrate.get_config`, `configure_args`, what registry/migrations/env.py reads) first
    puts Flask-Migrate's own record in its place and reads it there."""

    def __init__(self, app: Flask, db: Any, directory: Path) -> None:
        self.app, self.db, self.directory = app, db, str(directory)

    def __getattr__(self, name: str) -> Any:  # only for what __init__ did not set
        from flask_migrate import Migrate

        Migrate(self.app, self.db, directory=self.directory)  # replaces this in app.extensions["migrate"]
        return getattr(self.app.extensions["migrate"], name)


class _DbCommands(click.Command):
    """`flask db ...`: Flask-Migrate's command group, imported when `db` is invoked (or completed);
    `flask --help` lists it without."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        from flask_migrate.cli import db as db_cli_group

        return db_cli_group.make_context(info_name, args, parent=parent, **extra)


def init_migrations(app: Flask, db: Any, directory: Path) -> None:
    # alembic logs each of its plugins at INFO when imported: once at start-up, before the registry's
    # logging was set, they went unseen; imported later, they would open every `flask db` command.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    app.extensions["migrate"] = Migrations(app, db, directory)
    app.cli.add_command(_DbCommands("db", help="Perform database migrations."))
