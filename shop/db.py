"""Declarative base with a constraint naming convention, shared column helpers."""

import contextvars
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    """Turn on foreign keys and let SQLAlchemy, not pysqlite, manage transactions."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # pysqlite's own transaction handling breaks SAVEPOINT; we emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _request_may_write() else "BEGIN")


#: True in a thread that writes outside any request (a bulk import's job, shop.bulk.jobs):
#: its transactions take SQLite's write lock up front, as a POST's do.
background_writer: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "background_writer", default=False
)


def _request_may_write() -> bool:
    """A POST, or a background writer, takes SQLite's write lock up front.

    Two requests that both read and then write under a plain BEGIN deadlock on the upgrade
    to a write lock, and SQLite fails one at once ("database is locked") whatever the busy
    timeout. Taking the lock first makes the second wait, then see the first one's result.
    """
    from flask import has_request_context, request

    if background_writer.get():
        return True
    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")


def engine_options(config) -> dict:
    """SQLAlchemy engine options for the configured database.

    Every backend pings a pooled connection before use (pool_pre_ping), so a database that
    restarted while the app kept running costs one failed ping, not an error page: the pool
    drops the dead connections and opens new ones. On PostgreSQL a connection attempt gives up
    after DATABASE_CONNECT_TIMEOUT seconds, so a database that is down answers with the
    maintenance page (503, shop.pages.errors) at once instead of holding the worker; a statement
    is cancelled after DATABASE_STATEMENT_TIMEOUT_MS when set (serve-prod.sh sets it for the
    web workers, not for migrations).
    """
    url = config["SQLALCHEMY_DATABASE_URI"]
    options = {"pool_pre_ping": True, **config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    if url.startswith("postgresql"):
        connect_args = {"connect_timeout": int(config.get("DATABASE_CONNECT_TIMEOUT", 2))}
        statement_timeout = int(config.get("DATABASE_STATEMENT_TIMEOUT_MS") or 0)
        if statement_timeout > 0:
            connect_args["options"] = f"-c statement_timeout={statement_timeout}"
        options["connect_args"] = {**connect_args, **options.get("connect_args", {})}
    return options
