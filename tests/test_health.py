"""GET /healthz for a load balancer or an uptime monitor, on SQLite and PostgreSQL: no sign-in, one query, never
rate-limited, nothing about the installation in it; 200 while the database answers, whatever the job queue (Redis
up, down, or none: the web processes then run the jobs), 503 when the database is down or a restore runs."""

from __future__ import annotations

import time
import uuid
from typing import Any

from conftest import REDIS_URL
from servers import free_port
from sqlalchemy import event
from test_faults import database_down

FIELDS = {"status", "database", "queue", "worker"}


def probe(app: Any, client: Any = None) -> tuple[int, dict[str, Any], list[str], Any]:
    """(status code, body, the statements it sent, the response) of one GET /healthz."""
    from app.extensions import db

    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement != "BEGIN":  # SQLite's own BEGIN of every read, in this process: not a round trip
            sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = (client or app.test_client()).get("/healthz")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return response.status_code, response.get_json(), sent, response


def test_health_answers_anyone_with_one_query_and_names_nothing(app, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")  # jobs in the web processes
    code, body, sent, response = probe(app)
    assert (code, body) == (200, {"status": "ok", "database": "up", "queue": "in_process", "worker": "in_process"})
    assert len(sent) == 1, sent  # no stamps, no sign-in, no session: the probe's own query
    assert "Set-Cookie" not in response.headers and response.headers["Cache-Control"] == "no-store"
    assert response.content_length < 100  # four words: no version, path, host, count or user
    # a signed-in browser's cookie changes nothing: still one query, no sign-in read
    code, body, sent, response = probe(app, login_as("clerk"))
    assert code == 200 and set(body) == FIELDS and len(sent) == 1, sent
    # a monitor polling fast is never limited
    client = app.test_client()
    assert {client.get("/healthz").status_code for _ in range(60)} == {200}


def test_redis_up_without_a_worker_or_down_is_still_200(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "JXC_QUEUE", f"jxc-health-{uuid.uuid4().hex[:8]}")  # nobody listens on it
    code, body, sent, _response = probe(app)
    assert (code, body) == (200, {"status": "degraded", "database": "up", "queue": "up", "worker": "none"})
    assert len(sent) == 1
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nobody listens there
    started = time.monotonic()
    code, body, _sent, _response = probe(app)
    assert (code, body) == (200, {"status": "degraded", "database": "up", "queue": "down", "worker": "none"})
    assert time.monotonic() - started < 2


def test_database_down_or_a_restore_is_503(app, monkeypatch):
    from app.backups.maintenance import maintenance_mode

    monkeypatch.setitem(app.config, "REDIS_URL", "")
    with database_down(app):
        code, body, _sent, _response = probe(app)
    assert (code, body) == (503, {"status": "down", "database": "down", "queue": "in_process", "worker": "in_process"})
    assert probe(app)[0] == 200  # back without a restart
    with maintenance_mode(app.config["INSTANCE_PATH"], "restore"):
        code, body, sent, response = probe(app)
    assert code == 503 and response.is_json and sent == []  # the database being replaced is not touched
    assert probe(app)[0] == 200
