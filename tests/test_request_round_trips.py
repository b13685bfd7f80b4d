"""Round trips a request does not need: pooled connections are pinged on checkout only after a rest
(app.extensions.install_idle_ping), so a request that follows another right away costs no ping, and a rested
connection the server ended is replaced before use."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import text

import app.extensions as extensions
from app.extensions import db
from tests.conftest import PG_URL


def _counting_pings(monkeypatch: Any) -> list[int]:
    calls: list[int] = []
    real = db.engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        calls.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counted)
    return calls


def test_a_connection_back_a_moment_ago_is_not_pinged_a_rested_one_is(app, monkeypatch):
    with app.app_context():
        pings = _counting_pings(monkeypatch)
        monkeypatch.setattr(extensions, "PING_AFTER_IDLE", 3600.0)
        for _ in range(3):
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
        assert pings == []
        monkeypatch.setattr(extensions, "PING_AFTER_IDLE", 0.0)
        for _ in range(2):
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
        assert len(pings) == 2


def test_a_rested_connection_the_server_ended_is_replaced_before_use(app, monkeypatch):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        return  # SQLite has no server to end a connection
    with app.app_context():
        db.engine.dispose()
        with db.engine.connect() as conn:
            old_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (old_pid,))  # waits until it has ended
        monkeypatch.setattr(extensions, "PING_AFTER_IDLE", 0.0)
        with db.engine.connect() as conn:
            new_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        assert new_pid != old_pid
