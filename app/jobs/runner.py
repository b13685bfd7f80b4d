"""Run one job: claim it, run its kind's function as its user, and close it with its effects or none.

The job's writes and the row's move to `done` commit in one transaction, so a process killed at any
point leaves either everything or nothing; a cancel, a failure or a lost claim rolls the work back.
`perform(job_id)` is what RQ calls in the work-horse; the in-process pool calls `run_job`.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from typing import Any

from flask import Flask, current_app
from flask_appbuilder.security.sqla.models import User

from app.errors import ServiceError, ValidationFailed
from app.extensions import db, registry_holder, write_intent
from app.i18n import t
from app.jobs import live, store
from app.jobs.context import JobCancelled, JobContext
from app.jobs.kinds import get_kind
from app.services.records.settings import settings_read_at
from app.services.users.access import access_for, security_read_at

log = logging.getLogger(__name__)

_process = {"token": secrets.token_hex(4)}
_booted: dict[str, Flask] = {}  # the app a worker booted once (set by app.jobs.worker)


def _new_token() -> None:
    _process["token"] = secrets.token_hex(4)


os.register_at_fork(after_in_child=_new_token)


def runner_id() -> str:
    """host:pid:token of this process (the token tells a restarted process from the one before)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_process['token']}"


def use_booted_app(app: Flask) -> None:
    """Run RQ jobs in this (already built) app instead of building one per job."""
    _booted["app"] = app


def perform(job_id: int) -> str:
    """RQ's entry point, in the work-horse: run the job in the app `jxc worker` booted once."""
    app = _booted.get("app")
    if app is None:
        raise RuntimeError("JXC jobs run under `jxc worker`, which boots the app once (not a bare `rq worker`)")
    with app.app_context():
        return run_job(job_id)


class _Heartbeat(threading.Thread):
    """Beats a running job's heart every few seconds until stopped."""

    def __init__(self, app: Flask, job_id: int, every: float) -> None:
        super().__init__(name=f"jxc-job-{job_id}-heartbeat", daemon=True)
        self.app, self.job_id, self.every = app, job_id, every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                with self.app.app_context():
                    live.beat(self.job_id)
            except Exception:  # noqa: BLE001 - a missed beat is retried; the reaper waits several
                log.warning("job %s: heartbeat failed", self.job_id, exc_info=True)


def _final_values(ctx: JobContext | None, result: Any = None, message: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {"message": message}
    if ctx is not None:
        snap = ctx.snapshot()
        values.update(
            done=snap["done"],
            total=snap["total"],
            counts=json.dumps(snap["counts"], ensure_ascii=False),
            log="\n".join(snap["log"]),
            result_file=ctx.result_file,
            error_file=ctx.error_file,
        )
    if result is not None:
        values["result"] = json.dumps(result, ensure_ascii=False, default=str)
    return values


def _failure_message(exc: BaseException, ctx: JobContext | None) -> str:
    """What the user reads: a service error's own words (every cell error logged), else a plain sentence."""
    if isinstance(exc, ValidationFailed) and ctx is not None:
        for error in exc.errors[:LOGGED_CELL_ERRORS]:
            ctx.log(f"{error.row if error.row is not None else ''} {error.field}: {error.message}".strip())
    if isinstance(exc, ValidationFailed) and exc.summary:
        return exc.summary
    if isinstance(exc, ServiceError) and exc.message:
        return exc.message
    return t("jobs.crashed", error=type(exc).__name__)


LOGGED_CELL_ERRORS = 100


def in_force(session: Any) -> None:
    """The metadata, settings and roles in force now, as a request reads them first: a field added, a switch or
    a role changed in another process since this one last looked (a `jxc worker` boots once) counts in this job."""
    stamps = registry_holder().refresh_if_stale(session.connection())
    settings_read_at(session, stamps.settings)
    security_read_at(session, stamps.security)


def run_job(job_id: int) -> str:
    """Run a queued job in this app context; return its final status ('skipped' if it was not ours)."""
    from app.backups.maintenance import settle_connections

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settle_connections(app, wait=True)  # workers pause while a restore replaces the database
    row = store.claim(job_id, runner_id())
    if row is None:
        return "skipped"
    attempt = row.attempts
    if row.cancel_requested or live.cancel_requested(job_id):  # cancelled while it waited in the queue
        store.close(job_id, attempt, store.CANCELLED, {"message": t("jobs.cancelled_msg")})
        return store.CANCELLED
    live.clear(job_id)
    kind = get_kind(row.kind)
    if kind is None:
        store.close(job_id, attempt, store.FAILED, {"message": t("jobs.unknown_kind", kind=row.kind)})
        return store.FAILED
    heart = _Heartbeat(app, job_id, float(app.config.get("JXC_JOB_HEARTBEAT_SECONDS", 5)))
    heart.start()
    session = db.session
    token = write_intent.set(kind.writes)
    ctx: JobContext | None = None
    try:
        in_force(session)
        user = session.get(User, row.user_id) if row.user_id is not None else None
        ctx = JobContext(job_id, json.loads(row.args), user, access_for(user), session)
        ctx.publish(force=True)
        result = kind.run(ctx)
        ctx.publish(force=True)
        if live.cancel_requested(job_id):
            raise JobCancelled
        values = _final_values(ctx, result)
        if kind.writes:
            closed = store.close_in(session, job_id, attempt, store.DONE, values)
            if closed:
                session.commit()
            else:  # cancelled, reaped or retried meanwhile: none of this attempt's work stays
                session.rollback()
        else:
            session.rollback()
            closed = store.close(job_id, attempt, store.DONE, values)
        return store.DONE if closed else "lost"
    except JobCancelled:
        session.rollback()
        store.close(job_id, attempt, store.CANCELLED, _final_values(ctx, message=t("jobs.cancelled_msg")))
        return store.CANCELLED
    except Exception as exc:  # noqa: BLE001 - any failure ends the job failed, with its work rolled back
        session.rollback()
        if not isinstance(exc, ServiceError):
            log.exception("job %s (%s) failed", job_id, row.kind)
        # a refusal may say what it refused (an import's cells), kept as the failed job's result
        kept = getattr(exc, "result", None) if isinstance(exc, ServiceError) else None
        store.close(job_id, attempt, store.FAILED, _final_values(ctx, kept, message=_failure_message(exc, ctx)))
        return store.FAILED
    finally:
        heart.stopped.set()
        write_intent.reset(token)
        db.session.remove()
