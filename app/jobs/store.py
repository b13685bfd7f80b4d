"""The job rows: create, claim, finish, requeue, cancel, and read them back for those who may see them.

Every status change is one conditional UPDATE (`WHERE status = ... AND attempts = ...`), so a job
cancelled, reaped or retried meanwhile is never finished by a process that lost track of it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row

from app.clock import utcnow
from app.extensions import db
from app.jobs import live
from app.jobs.tables import job

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATUSES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
ACTIVE = (QUEUED, RUNNING)
FINISHED = (DONE, FAILED, CANCELLED)


def insert_job(
    session: Any,
    *,
    kind: str,
    user_id: int | None,
    username: str,
    args: dict[str, Any],
    key: str | None,
    max_attempts: int,
    backend: str,
) -> int:
    """Add a queued job in the caller's transaction; return its id."""
    values = {
        "kind": kind,
        "user_id": user_id,
        "username": username,
        "status": QUEUED,
        "args": json.dumps(args, ensure_ascii=False, sort_keys=True),
        "idempotency_key": key,
        "done": 0,
        "attempts": 0,
        "max_attempts": max_attempts,
        "backend": backend,
        "cancel_requested": False,
        "created_at": utcnow(),
    }
    return int(session.execute(insert(job).values(**values).returning(job.c.id)).scalar_one())


def find_by_key(session: Any, kind: str, user_id: int | None, key: str) -> int | None:
    """The job already submitted with this idempotency key, if any."""
    query = select(job.c.id).where(job.c.kind == kind, job.c.idempotency_key == key)
    query = query.where(job.c.user_id.is_(None) if user_id is None else job.c.user_id == user_id)
    return session.execute(query).scalar()


def get_job(session: Any, job_id: int) -> Row[Any] | None:
    """One job row."""
    return session.execute(select(job).where(job.c.id == job_id)).first()


def claim(job_id: int, runner: str) -> Row[Any] | None:
    """queued -> running for this process (committed at once); None when someone else has it or it went."""
    now = utcnow()
    with db.engine.begin() as conn:
        claimed = conn.execute(
            update(job)
            .where(job.c.id == job_id, job.c.status == QUEUED)
            .values(
                status=RUNNING,
                attempts=job.c.attempts + 1,
                runner=runner,
                started_at=now,
                heartbeat_at=now,
                finished_at=None,
                message=None,
            )
        ).rowcount
        if not claimed:
            return None
        return conn.execute(select(job).where(job.c.id == job_id)).first()


def close_in(session: Any, job_id: int, attempt: int, status: str, values: dict[str, Any]) -> bool:
    """running -> done / failed / cancelled inside `session`'s transaction (the job's own, when it wrote)."""
    moved = session.execute(
        update(job)
        .where(job.c.id == job_id, job.c.status == RUNNING, job.c.attempts == attempt)
        .values(status=status, finished_at=utcnow(), **values)
    ).rowcount
    return bool(moved)


def close(job_id: int, attempt: int, status: str, values: dict[str, Any]) -> bool:
    """running -> done / failed / cancelled in a transaction of its own."""
    with db.engine.begin() as conn:
        return close_in(conn, job_id, attempt, status, values)


def requeue(job_id: int, attempt: int) -> bool:
    """running -> queued again (a dead worker's job that may be retried)."""
    with db.engine.begin() as conn:
        moved = conn.execute(
            update(job)
            .where(job.c.id == job_id, job.c.status == RUNNING, job.c.attempts == attempt)
            .values(status=QUEUED, runner=None, heartbeat_at=None, done=0)
        ).rowcount
    return bool(moved)


def cancel_queued(session: Any, job_id: int) -> bool:
    """queued -> cancelled (it never started)."""
    moved = session.execute(
        update(job)
        .where(job.c.id == job_id, job.c.status == QUEUED)
        .values(status=CANCELLED, finished_at=utcnow(), cancel_requested=True)
    ).rowcount
    return bool(moved)


def mark_failed(job_id: int, message: str) -> None:
    """A queued or running job that cannot go on (its queue refused it, its kind is gone)."""
    with db.engine.begin() as conn:
        conn.execute(
            update(job)
            .where(job.c.id == job_id, job.c.status.in_(ACTIVE))
            .values(status=FAILED, message=message, finished_at=utcnow())
        )


def set_backend(job_id: int, backend: str) -> None:
    """Say where a queued job goes (a web process taking a job no worker would run)."""
    with db.engine.begin() as conn:
        conn.execute(update(job).where(job.c.id == job_id, job.c.status == QUEUED).values(backend=backend))


def running_rows(session: Any) -> list[Row[Any]]:
    """Every running job (for the reaper)."""
    return list(session.execute(select(job).where(job.c.status == RUNNING)))


def queued_rows(session: Any, backend: str) -> list[Row[Any]]:
    """Queued jobs of one backend, oldest first: what deciding where they run needs (id, kind, status, backend,
    created_at)."""
    query = (
        select(job.c.id, job.c.kind, job.c.status, job.c.backend, job.c.created_at)
        .where(job.c.status == QUEUED, job.c.backend == backend)
        .order_by(job.c.id)
    )
    return list(session.execute(query))


def list_jobs(session: Any, user_id: int | None, everyone: bool, limit: int = 100) -> list[Row[Any]]:
    """The newest jobs of a user (or of everyone, for an admin)."""
    query = select(job).order_by(job.c.id.desc()).limit(limit)
    if not everyone:
        query = query.where(job.c.user_id == user_id)
    return list(session.execute(query))


def active_of(session: Any, user_id: int | None, kind: str, **args: Any) -> int | None:
    """The newest queued or running job of a user and kind whose arguments hold `args` (a page left and opened
    again finds the import it started)."""
    query = select(job.c.id, job.c.args).where(job.c.user_id == user_id, job.c.kind == kind, job.c.status.in_(ACTIVE))
    for job_id, text in session.execute(query.order_by(job.c.id.desc())):
        held = _loads(text, {})
        if all(held.get(key) == value for key, value in args.items()):
            return int(job_id)
    return None


def count_by_status(session: Any) -> dict[str, int]:
    """How many jobs are in each status (for `jxc jobs`)."""
    rows = session.execute(select(job.c.status, func.count()).group_by(job.c.status))
    return {status: int(n) for status, n in rows}


def _loads(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def as_json(row: Row[Any]) -> dict[str, Any]:
    """The public shape of a job (API, page, CLI); a running job's progress is read live."""
    progress = {"done": row.done, "total": row.total, "counts": _loads(row.counts, {}), "log": row.log or ""}
    if row.status == RUNNING:
        published = live.read_progress(row.id)
        if published:
            progress = {
                "done": published.get("done", 0),
                "total": published.get("total"),
                "counts": published.get("counts", {}),
                "log": "\n".join(published.get("log", [])),
            }
    done, total = progress["done"] or 0, progress["total"]
    if row.status == DONE and total is None:
        percent: int | None = 100
    elif total:
        percent = max(0, min(100, int(done * 100 / total)))
    else:
        percent = None
    return {
        "id": row.id,
        "kind": row.kind,
        "user": row.username,
        "status": row.status,
        "done": done,
        "total": total,
        "percent": percent,
        "counts": progress["counts"],
        "log": [line for line in progress["log"].split("\n") if line],
        "message": row.message or "",
        "result": _loads(row.result, None),
        "result_file": row.result_file,
        "error_file": row.error_file,
        "attempts": row.attempts,
        "cancel_requested": bool(row.cancel_requested),
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }
