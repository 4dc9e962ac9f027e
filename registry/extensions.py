"""Flask extensions, created unbound and initialised in the app factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
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
