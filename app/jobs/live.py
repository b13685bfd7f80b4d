"""A running job's live state: progress, heartbeat and cancel requests, visible to other processes at once.

On PostgreSQL they are written to the job's row over a connection of their own, committed at once,
beside the job's own transaction. SQLite has one writer at a time and a job that writes holds that lock
until it commits, so there they go to small files in the job's folder (the database is on this machine
anyway): live.json (its modification time is the heartbeat) and a `cancel` flag.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from typing import Any

from sqlalchemy import select, update

from app.clock import utcnow
from app.extensions import db
from app.jobs.files import job_dir
from app.jobs.tables import job

RUNNING = "running"


def uses_files() -> bool:
    """True when live state goes to files (SQLite), False when to the row (PostgreSQL)."""
    return db.engine.dialect.name == "sqlite"


def write_progress(job_id: int, snapshot: dict[str, Any]) -> None:
    """Publish done / total / counts / log of a running job (and beat its heart)."""
    if uses_files():
        folder = job_dir(job_id, create=True)
        partial = folder / ".live.json.partial"
        partial.write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, folder / "live.json")
        return
    values = {
        "done": snapshot["done"],
        "total": snapshot["total"],
        "counts": json.dumps(snapshot["counts"], ensure_ascii=False),
        "log": "\n".join(snapshot["log"]),
        "heartbeat_at": utcnow(),
    }
    with db.engine.begin() as conn:
        conn.execute(update(job).where(job.c.id == job_id, job.c.status == RUNNING).values(**values))


def beat(job_id: int) -> None:
    """Say the job's process is alive."""
    if uses_files():
        path = job_dir(job_id, create=True) / "live.json"
        if path.exists():
            os.utime(path)
        else:
            path.write_text("{}", encoding="utf-8")
        return
    with db.engine.begin() as conn:
        conn.execute(update(job).where(job.c.id == job_id, job.c.status == RUNNING).values(heartbeat_at=utcnow()))


def read_progress(job_id: int) -> dict[str, Any] | None:
    """The progress published in files (SQLite), or None (PostgreSQL: the row has it)."""
    if not uses_files():
        return None
    try:
        data = json.loads((job_dir(job_id) / "live.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data or None


def last_beat(row: Any) -> dt.datetime | None:
    """When a running job last showed life (UTC)."""
    if uses_files():
        try:
            stamp = (job_dir(row.id) / "live.json").stat().st_mtime
        except OSError:
            return row.started_at
        return dt.datetime.fromtimestamp(stamp, dt.UTC).replace(tzinfo=None)
    return row.heartbeat_at or row.started_at


def request_cancel(job_id: int) -> None:
    """Ask a job to stop: a running one at its next progress report (its work is then rolled back), a queued
    one when a runner picks it up."""
    if uses_files():
        (job_dir(job_id, create=True) / "cancel").write_text("1", encoding="utf-8")
        return
    with db.engine.begin() as conn:
        active = job.c.status.in_(("queued", RUNNING))
        conn.execute(update(job).where(job.c.id == job_id, active).values(cancel_requested=True))


def cancel_requested(job_id: int) -> bool:
    """Has someone asked the job to stop?"""
    if uses_files():
        return (job_dir(job_id) / "cancel").exists()
    with db.engine.connect() as conn:
        return bool(conn.execute(select(job.c.cancel_requested).where(job.c.id == job_id)).scalar())


def clear(job_id: int) -> None:
    """Forget an earlier attempt's progress (a retried job starts afresh)."""
    if uses_files():
        with contextlib.suppress(OSError):
            (job_dir(job_id) / "live.json").unlink()
