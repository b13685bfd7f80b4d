"""What every process of the app does about jobs when it starts: load the kinds, settle what died."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import inspect

from app.extensions import db
from app.jobs import backends, queue
from app.jobs.kinds import load_kind_modules

log = logging.getLogger(__name__)


def install_jobs(app: Flask) -> None:
    """Import the job kinds; settle jobs whose process died; without Redis, resume the queued ones."""
    load_kind_modules()
    with app.app_context(), db.engine.connect() as conn:
        ready = inspect(conn).has_table("jxc_job")  # not before the first `jxc init`
    if not ready:
        return
    settled = queue.reap(app)
    if settled:
        log.warning("jobs cut off by a restart: %s", settled)
    # Only a process that serves runs in-process jobs (a `jxc` command would exit in the middle of one).
    if backends.runs_jobs_here(app):
        queue.resume_in_process(app)
