"""Submit, cancel and retry jobs; dispatch them after the asking transaction commits; settle dead ones.

    from app.jobs import submit

    job_id = submit("item_recount", {"ids": [1, 2, 3]}, access)   # in the request's transaction
    db.session.commit()                                           # only now does the job go to a queue

A rollback drops both the job row and its dispatch: a job is never run for work that did not happen.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.i18n import t
from app.jobs import backends, live, store
from app.jobs.kinds import get_kind
from app.processes import pid_gone

log = logging.getLogger(__name__)

_PENDING = "jxc_jobs_to_dispatch"
DEFAULT_TIMEOUT = 3600


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the outer transaction still decides
        return
    by_app: dict[Flask, list[tuple[int, int]]] = {}
    for app, job_id, timeout in session.info.pop(_PENDING, []):
        by_app.setdefault(app, []).append((job_id, timeout))
    for app, jobs in by_app.items():
        dispatch(app, jobs)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction: its jobs are gone with it
        session.info.pop(_PENDING, None)


def dispatch(app: Flask, jobs: Sequence[tuple[int, int]]) -> None:
    """Hand committed, queued jobs ((id, timeout) each) to their backend; a job the queue refuses ends failed.

    With Redis but no live worker on the queue (none started, or it crashed), a process that runs jobs (a web or
    scheduler process) runs them on its own pool, as without Redis, rather than leave them queued with nobody to
    take them. Whether a worker listens is asked once for them all."""
    if not jobs:
        return
    if backends.backend_name(app) == backends.THREAD:
        for job_id, _timeout in jobs:
            backends.push_thread(app, job_id)
        return
    try:
        here = backends.runs_jobs_here(app) and not backends.workers_listening(app)
    except backends.QueueUnavailable as exc:
        _fail(app, [job_id for job_id, _timeout in jobs], exc)
        return
    if here:
        _run_here(app, [job_id for job_id, _timeout in jobs])
        return
    for job_id, timeout in jobs:
        try:
            backends.push_rq(app, job_id, timeout)
        except backends.QueueUnavailable as exc:
            _fail(app, [job_id], exc)


def _fail(app: Flask, job_ids: list[int], exc: backends.QueueUnavailable) -> None:
    with app.app_context():
        for job_id in job_ids:
            store.mark_failed(job_id, exc.message)


def _run_here(app: Flask, job_ids: list[int]) -> None:
    log.warning("jobs %s: no worker listens on queue %s; run in this process", job_ids, backends.queue_name(app))
    with app.app_context():
        for job_id in job_ids:
            store.set_backend(job_id, backends.THREAD)
    for job_id in job_ids:
        backends.push_thread(app, job_id)


def waited_seconds(row: Any) -> int:
    """How long a queued job has been waiting to start."""
    return max(0, int((utcnow() - row.created_at).total_seconds())) if row.created_at else 0


def worker_notice(app: Flask | None = None) -> str | None:
    """What an admin is told when jobs go to Redis but no worker listens (they then run in the web processes), or
    when Redis does not answer; None when all is well or there is no Redis."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if backends.backend_name(app) != backends.RQ:
        return None
    try:
        return None if backends.workers_listening(app) else t("jobs.no_worker", queue=backends.queue_name(app))
    except backends.QueueUnavailable as exc:
        return exc.message


def take_stranded(app: Flask, rows: Sequence[Any] | None = None) -> list[int]:
    """Run here the jobs left waiting on a queue no live worker listens on (the worker died after they were queued,
    or a process that runs no jobs queued them) for JXC_JOB_WAIT_SECONDS or longer: among `rows`, the jobs a page or
    the API has just read (`read_jobs`), else every queued one (the scheduler's look, `run_due` in
    app/schedules/cron.py). Only a process that runs jobs takes them, and it asks Redis once, only when some job
    has waited that long. A job taken is marked `thread` at once (the next read leaves it); two processes taking it
    at once run it once (`store.claim`), and a worker that comes back later finds it claimed and skips it."""
    if backends.backend_name(app) != backends.RQ or not backends.runs_jobs_here(app):
        return []
    if rows is None:
        rows = store.queued_rows(db.session, backends.RQ)
        db.session.rollback()
    wait = float(app.config["JXC_JOB_WAIT_SECONDS"])
    stranded = [
        r.id for r in rows if r.status == store.QUEUED and r.backend == backends.RQ and waited_seconds(r) >= wait
    ]
    try:
        if not stranded or backends.workers_listening(app):
            return []
    except backends.QueueUnavailable:
        return []
    _run_here(app, stranded)
    return stranded


def _json_args(args: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return json.loads(json.dumps(dict(args)))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"job arguments must be JSON values: {exc}") from exc


def submit(kind_name: str, args: Mapping[str, Any], access: Any, *, key: str | None = None) -> int:
    """Queue a job of `kind_name` for the user of `access`, in the caller's transaction; return its id.

    The job runs as that user after the caller commits. `key` (an idempotency key) returns the job
    already submitted with it instead of a second one. Raises Forbidden when the kind's `allowed` says
    no, NotFound for an unknown kind, QueueUnavailable (503) when Redis is down.
    """
    kind = get_kind(kind_name)
    if kind is None:
        raise NotFound(t("jobs.unknown_kind", kind=kind_name))
    if not kind.allowed(access, args):
        raise Forbidden(t("forbidden"))
    values = _json_args(args)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    backends.check_queue(app)
    session = db.session
    session.connection()  # begin the caller's transaction now: the savepoint below must sit inside it
    if key:
        existing = store.find_by_key(session, kind_name, access.user_id, key)
        if existing is not None:
            return existing
    try:
        with session.begin_nested():
            job_id = store.insert_job(
                session,
                kind=kind_name,
                user_id=access.user_id,
                username=access.username,
                args=values,
                key=key,
                max_attempts=1 + kind.retries,
                backend=backends.backend_name(app),
            )
    except IntegrityError:  # the same key submitted at the same moment by another request
        found = store.find_by_key(session, kind_name, access.user_id, key or "")
        if found is None:
            raise
        return found
    session.info.setdefault(_PENDING, []).append((app, job_id, kind.timeout))
    return job_id


def may_see(access: Any, row: Any) -> bool:
    """A user sees their own jobs; an admin sees everyone's."""
    return bool(access.is_admin or (row.user_id is not None and row.user_id == access.user_id))


def job_for(access: Any, job_id: int) -> Any:
    """The job row if the user may see it, else NotFound (a job of someone else looks missing)."""
    row = store.get_job(db.session, job_id)
    if row is None or not may_see(access, row):
        raise NotFound(t("jobs.not_found"))
    return row


def read_jobs(access: Any, limit: int = 100, job_id: int | None = None) -> list[Any]:
    """What the jobs page and the API show: one job (`job_id`, NotFound when the user may not see it) or the newest
    `limit` the user may see. The one place the web takes the jobs among them left waiting by a dead worker
    (`take_stranded`)."""
    rows = [job_for(access, job_id)] if job_id is not None else jobs_for(access, limit)
    take_stranded(current_app._get_current_object(), rows)  # type: ignore[attr-defined]
    return rows


def jobs_for(access: Any, limit: int = 100) -> list[Any]:
    """The jobs the user may see, newest first."""
    return store.list_jobs(db.session, access.user_id, access.is_admin, limit)


def cancel(access: Any, job_id: int) -> str:
    """Cancel a job: a queued one never starts, a running one stops at its next progress report and its
    work is rolled back. Returns the status now ('cancelled', or 'queued' / 'running' until the job
    itself stops). On SQLite nothing here waits for the write lock a running job may hold."""
    row = job_for(access, job_id)
    if row.status not in store.ACTIVE:
        raise Conflict(t("jobs.not_active"))
    db.session.rollback()  # end this request's read before anything else writes
    live.request_cancel(job_id)
    if row.status == store.QUEUED and not live.uses_files() and store.cancel_queued(db.session, job_id):
        db.session.commit()
        return store.CANCELLED
    return row.status


def retry(access: Any, job_id: int) -> int:
    """Submit a failed or cancelled job again, with the same arguments, as the user asking; return the new id."""
    row = job_for(access, job_id)
    if row.status not in (store.FAILED, store.CANCELLED):
        raise Conflict(t("jobs.not_retryable"))
    new_id = submit(row.kind, json.loads(row.args), access)
    db.session.commit()
    return new_id


def result_path(access: Any, job_id: int, which: str) -> tuple[Any, str]:
    """(path, stored name) of a job's result file or error report, for those who may see the job."""
    from app.jobs.files import file_path

    row = job_for(access, job_id)
    kind = get_kind(row.kind)
    stored = row.result_file if which == "result" else row.error_file
    if kind is not None and not access.is_admin and not kind.allowed(access, json.loads(row.args)):
        raise NotFound(t("jobs.not_found"))
    path = file_path(row.id, stored) if stored else None
    if path is None:
        raise NotFound(t("jobs.no_file"))
    return path, stored


def _process_gone(runner: str | None) -> bool:
    """True when the runner was a process of this host that no longer exists (or an earlier life of ours)."""
    from app.jobs.runner import runner_id

    if not runner or runner.count(":") < 2:
        return False
    host, pid_text, token = runner.rsplit(":", 2)
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return runner != runner_id()
    return pid_gone(pid)


def settle_dead(app: Flask, row: Any) -> str:
    """A running job whose process died: cancelled if asked, queued again if its kind retries, else failed."""
    live_cancel = live.cancel_requested(row.id) or bool(row.cancel_requested)
    if live_cancel:
        store.close(row.id, row.attempts, store.CANCELLED, {"message": t("jobs.cancelled_msg")})
        return store.CANCELLED
    if row.attempts < row.max_attempts and store.requeue(row.id, row.attempts):
        log.warning("job %s: its process died; queued again (attempt %s of %s)", row.id, row.attempts, row.max_attempts)
        dispatch(app, [(row.id, _timeout(row.kind))])
        return store.QUEUED
    store.close(row.id, row.attempts, store.FAILED, {"message": t("jobs.died")})
    log.warning("job %s: its process died; marked failed", row.id)
    return store.FAILED


def reap(app: Flask | None = None, job_id: int | None = None, process_died: bool = False) -> dict[int, str]:
    """Settle running jobs whose process is gone (this host) or silent too long (any host)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    stale = dt.timedelta(seconds=float(app.config.get("JXC_JOB_STALE_SECONDS", 60)))
    settled: dict[int, str] = {}
    with app.app_context():
        rows = store.running_rows(db.session)
        db.session.rollback()
        now = utcnow()
        for row in rows:
            if job_id is not None and row.id != job_id:
                continue
            beat = live.last_beat(row)
            dead = process_died or _process_gone(row.runner) or (beat is not None and now - beat > stale)
            if dead:
                settled[row.id] = settle_dead(app, row)
    return settled


def _timeout(kind_name: str) -> int:
    kind = get_kind(kind_name)
    return kind.timeout if kind else DEFAULT_TIMEOUT


def resume_in_process(app: Flask) -> list[int]:
    """At start-up: the queued in-process jobs a previous life of the app left behind run again, on this process's
    pool (with Redis: on a worker if one listens now, else here)."""
    with app.app_context():
        rows = store.queued_rows(db.session, backends.THREAD)
        db.session.rollback()
    dispatch(app, [(row.id, _timeout(row.kind)) for row in rows])
    return [row.id for row in rows]
