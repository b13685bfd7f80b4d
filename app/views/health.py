"""`GET /healthz`: can this web process serve? For a load balancer or an uptime monitor; no sign-in.

    200 {"status": "ok", "database": "up", "queue": "up", "worker": "live"}
    200 {"status": "degraded", "database": "up", "queue": "down", "worker": "none"}   (jobs run in the web processes)
    503 {"status": "down", "database": "down", "queue": ..., "worker": ...}

One query to the database (a row of the metadata state, which any working install has) and, with REDIS_URL, one
round trip to Redis (the queue's workers and their heartbeats: `backends.workers_listening`). The request reads no
session, sign-in or stamps (`probe`), is never rate-limited (no limit applies to it), and the answer names nothing
of the installation: no versions, paths, host names, counts or users. During a restore the maintenance hook answers
503 first, without the database.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, read_only_connection
from app.jobs.backends import queue_health
from app.web.context import probe

log = logging.getLogger(__name__)

PATH = "/healthz"
PROBE = "SELECT 1 FROM jxc_meta_state LIMIT 1"  # a table every initialised database has: the file, the schema


def _database_answers() -> bool:
    lazy = current_app.extensions.get("jxc_lazy_begin")
    try:
        connection = read_only_connection(db.session) if lazy else db.session.connection()
        connection.exec_driver_sql(PROBE).all()
    except SQLAlchemyError as exc:
        log.warning("health: the database does not answer: %s", exc)
        try:
            db.session.rollback()
        except SQLAlchemyError:  # the connection is gone; the session is discarded at teardown
            log.debug("rollback on a lost connection failed", exc_info=True)
        return False
    return True


@probe
def health() -> Any:
    """The database, the job queue (Redis) and a live `jxc worker`, as words; 503 only when the database is down
    (without Redis or a worker the web processes run the jobs themselves)."""
    database = _database_answers()
    queue, worker = queue_health(current_app)
    status = "down" if not database else "ok" if queue != "down" and worker != "none" else "degraded"
    response = jsonify(status=status, database="up" if database else "down", queue=queue, worker=worker)
    response.status_code = 200 if database else 503
    return response


def install_health(app: Flask) -> None:
    """Serve GET /healthz."""
    app.add_url_rule(PATH, "health", health, methods=["GET"])
