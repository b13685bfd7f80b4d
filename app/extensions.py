"""Extension objects shared by the app factory, CLI and jobs (created unbound, bound per app)."""

from __future__ import annotations

import contextvars
import functools
import os
import re
import time
from pathlib import Path
from typing import Any

from flask import current_app
from flask_appbuilder.models.sqla.base import SQLA
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from app.meta.registry import Registry, RegistryHolder
from app.meta.sqltypes import SQLITE_NORMALISE
from app.meta.types import normalise_text

db = SQLA()
csrf = CSRFProtect()

# Set while a request or job is about to write: SQLite then takes the write lock at BEGIN, so two
# writers never interleave read-check-write (SQLite's FOR UPDATE compiles to nothing).
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("jxc_write_intent", default=False)


def install_sqlite_behaviour(engine: Engine, throwaway: bool = False) -> None:
    """WAL, foreign keys, busy timeout, the function of `NormalisedText`, and BEGIN IMMEDIATE for write transactions
    on SQLite. `throwaway`: a copy only one session uses and nobody keeps (a check's, app/services/records/snapshot.py):
    its journal in memory (a rollback still undoes a savepoint), nothing synced to disk."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=MEMORY" if throwaway else "PRAGMA journal_mode=WAL")
        if throwaway:
            cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        dbapi_connection.create_function(SQLITE_NORMALISE, 1, _normalised, deterministic=True)
        owner_only(engine.url.database)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def _normalised(value: Any) -> Any:
    """SQLite's side of `NormalisedText`: a text as `normalise_text` reads it (NULL stays NULL)."""
    return None if value is None else normalise_text(value)


PING_AFTER_IDLE = 1.0  # seconds a pooled connection may rest and still be handed out without a ping


def install_idle_ping(engine: Engine) -> None:
    """Ping a pooled connection on checkout only when it has rested PING_AFTER_IDLE seconds or more; one that
    fails the ping is replaced (the pool tries again). SQLAlchemy's pool_pre_ping pinged at every checkout: a
    round trip per request, as dear as a statement on a loaded machine. A connection the server ended within
    the last second fails its request once (503) and SQLAlchemy then renews the whole pool, as on any
    disconnect."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["jxc_rested_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        rested_since = record.info.pop("jxc_rested_since", None)
        if rested_since is None or time.monotonic() - rested_since < PING_AFTER_IDLE:
            return  # new, or back in the pool a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure of the ping means a dead connection
            raise DisconnectionError() from exc
        if not alive:
            raise DisconnectionError()


# Execution options of a read-only request's connection on PostgreSQL (see install_lazy_begin).
LAZY_BEGIN = {"isolation_level": "AUTOCOMMIT", "jxc_lazy_begin": True}
# A plain SELECT, or the grid's count estimate: `EXPLAIN (FORMAT JSON) SELECT ...` (records/explain.py) plans the
# SELECT and runs nothing (no ANALYZE), so it reads as its SELECT does; it began a transaction of its own, a
# BEGIN and the closing ROLLBACK, two round trips on every grid page of more than 1,000 rows.
_PLAIN_READ = re.compile(r"\s*(?:EXPLAIN\s*\(\s*FORMAT\s+JSON\s*\)\s*)?SELECT\b", re.IGNORECASE)
# What a SELECT may do besides reading: row locks, sequences, advisory locks, settings, notifications,
# a transaction id, large objects. A false match only begins the transaction sooner.
_NOT_ONLY_READ = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+|KEY\s+)?(?:UPDATE|SHARE)\b|nextval|setval|advisory|set_config|pg_notify|txid|xact|\blo_",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def only_reads(statement: str) -> bool:
    """Is the SQL a plain SELECT that neither locks nor writes (see `_NOT_ONLY_READ`)? Kept per statement text:
    the statements are SQLAlchemy's compiled ones, the same few texts over and over, and the search costs
    about 0.1 ms on a sign-in query's 1,200 characters (more on a grid page's), for every statement of every
    read-only request."""
    return bool(_PLAIN_READ.match(statement)) and not _NOT_ONLY_READ.search(statement)


def install_lazy_begin(engine: Engine) -> bool:
    """PostgreSQL: a read-only request (`LAZY_BEGIN`, set by the request hooks) sends no BEGIN and no ROLLBACK.

    psycopg begins a transaction with a BEGIN of its own round trip before the first statement, and the
    session's close ends it with a ROLLBACK: two of the four round trips of a request that reads only the
    stamps and its sign-in, each a wait for a core on a loaded machine. A read-only request's connection is
    in autocommit until a statement that is not a plain SELECT (a write, SAVEPOINT, SET LOCAL, FOR UPDATE, a
    sequence, an advisory lock, a server-side cursor): the transaction begins before that statement and
    runs to the commit or the closing ROLLBACK as in any other request. Under READ COMMITTED every statement
    reads its own snapshot anyway, so the reads before it see what they would have seen in the transaction;
    what a transaction adds to reads (row locks, advisory locks, SET LOCAL) begins it. The connection leaves
    autocommit when it goes back to the pool (SQLAlchemy resets the isolation level it was given).

    Such a request prepares no statement (`read_only_connection`): psycopg prepares a statement at its fifth
    execution on a connection, a count its ROLLBACK used to reset at the end of every read; kept across
    requests, it prepared the grid's searches, which PostgreSQL may then plan once for every pattern."""
    if engine.dialect.name != "postgresql":
        return False
    from psycopg import ServerCursor

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_before_write(conn: Any, cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        if not conn._execution_options.get("jxc_lazy_begin"):  # noqa: SLF001 - a dict look-up per statement
            return
        raw = cursor.connection
        if raw.autocommit and (many or isinstance(cursor, ServerCursor) or not only_reads(statement)):
            raw.autocommit = False  # psycopg sends BEGIN before this statement

    @event.listens_for(engine, "checkin")
    def _prepare_again(dbapi_connection: Any, record: Any) -> None:
        if "jxc_prepare_threshold" in record.info and dbapi_connection is not None:
            dbapi_connection.prepare_threshold = record.info.pop("jxc_prepare_threshold")

    return True


def read_only_connection(session: Any) -> Any:
    """The session's connection for a read-only request: autocommit until a statement that is not a plain
    SELECT, no statement prepared (see install_lazy_begin)."""
    connection = session.connection(execution_options=LAZY_BEGIN)
    info = connection.connection.info  # the pooled connection's, kept until its checkin
    if "jxc_prepare_threshold" not in info:
        raw = connection.connection.driver_connection
        info["jxc_prepare_threshold"] = raw.prepare_threshold
        raw.prepare_threshold = None
    return connection


def core_reads(session: Any) -> Any:
    """The session's connection, for a Core SELECT of plain rows: what `Session.execute` does first (pending
    changes flushed) without its ORM execution layers around the statement (a third of a page's link labels)."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    return session.connection()


def begin_now(connection: Any) -> None:
    """Begin the transaction of a lazily begun connection before writing past SQLAlchemy (a COPY)."""
    raw = connection.connection.driver_connection
    if connection.get_execution_options().get("jxc_lazy_begin") and raw.autocommit:
        raw.autocommit = False


def owner_only(database: str | None) -> None:
    """The SQLite file and its journals readable by their owner only: the live database is the business."""
    if not database or database == ":memory:":
        return
    for suffix in ("", "-wal", "-shm"):
        path = Path(database + suffix)
        if path.exists() and path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
            path.chmod(0o600)


def registry_holder() -> RegistryHolder:
    """The app's registry holder (set by create_app)."""
    return current_app.extensions["jxc_registry"]


def registry() -> Registry:
    """The registry in force for this app (requests, CLI commands and jobs alike)."""
    return registry_holder().current
