"""The database handle and the declarative base every model derives from."""

import functools
from collections.abc import Callable
from datetime import datetime, timezone
from enum import StrEnum

from flask import g, has_request_context, request, session
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import JSON, CheckConstraint, DateTime, Executable, MetaData, Select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import registry as orm_registry
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware datetimes in and out; SQLite keeps no offset, so store naive UTC everywhere."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use registry.db.utcnow()")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    registry = orm_registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dict: JSON, list: JSON, datetime: UTCDateTime},
    )


REPLICA = "replica"  # the bind of REGISTRY_DATABASE_REPLICA_URL, when one is configured


class RoutingSession(FlaskSession):
    """Sends the SELECTs of a view marked `replica_reads` to the read replica, everything else to the primary.

    Once such a request asks for anything but a SELECT (a write, or a connection to write on), the rest
    of it reads the primary too, so it never reads around its own writes.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and has_request_context() and g.get("replica_reads"):
            engines = db.engines
            if isinstance(clause, Select) and REPLICA in engines:
                return engines[REPLICA]
            if mapper is not None or clause is not None:  # not a SELECT; a bare get_bind() only asks the dialect
                g.replica_reads = False
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})


def reading_replica() -> bool:
    """Whether this request's SELECTs go to the replica: caches of what was read must be kept apart by it."""
    return has_request_context() and bool(g.get("replica_reads")) and REPLICA in db.engines


def replica_reads(view: Callable) -> Callable:
    """A public catalog read: its anonymous GETs may be served from the replica (a little behind the primary).

    Signed-in users and API tokens read the primary, so what they just did is there when they look.
    """
    @functools.wraps(view)
    def routed(*args, **kwargs):
        g.replica_reads = (request.method in ("GET", "HEAD") and "Authorization" not in request.headers
                           and "_user_id" not in session)
        return view(*args, **kwargs)
    return routed


def one_of(column: str, values: type[StrEnum]) -> CheckConstraint:
    """A CHECK, named after the column, that it holds one of the enum's values (NULL passes, as in any CHECK).

    The column stays a String: adding a value means adding it to the enum and writing a migration that
    replaces the constraint, with no engine-specific ENUM type to alter."""
    listed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


def utcnow() -> datetime:
    """Timezone-aware now; stored as UTC on both engines."""
    return datetime.now(timezone.utc)


def write_apart(statement: Executable) -> None:
    """Run one small bookkeeping write (a token's last use, a download count) in a transaction of its own.

    Not in the request's session: there it would hold SQLite's write lock, or a PostgreSQL row lock,
    until the request commits, and everything else the request does would happen under that lock.
    """
    with db.engine.begin() as connection:
        connection.execute(statement)


def begin_write() -> None:
    """Start the request's write transaction here, waiting (busy_timeout) for SQLite's write lock.

    Call it after the reading and checking, right before the final writes. The driver would begin the
    transaction only at the first INSERT or UPDATE; taking the lock first also puts the reads that
    lead up to those writes into the same transaction, so no other writer commits in between. On
    PostgreSQL constraints, row locks and the audit advisory lock do that work, so nothing is needed.
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
