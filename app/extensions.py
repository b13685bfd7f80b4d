"""Extension objects shared by the app factory, CLI and jobs (created unbound, bound per app)."""

from __future__ import annotations

import contextvars
import os
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

db = SQLA()
csrf = CSRFProtect()

# Set while a request or job is about to write: SQLite then takes the write lock at BEGIN, so two
# writers never interleave read-check-write (SQLite's FOR UPDATE compiles to nothing).
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("jxc_write_intent", default=False)


def install_sqlite_behaviour(engine: Engine) -> None:
    """WAL, foreign keys, busy timeout, and BEGIN IMMEDIATE for write transactions on SQLite."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        owner_only(engine.url.database)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


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
