"""What a job's function gets: its arguments, its user's Access, the session, and ways to report.

def run(ctx: JobContext) -> dict:
    ctx.total(len(rows))
    for n, row in enumerate(rows, 1):
        RecordService(ctx.session, ctx.access).create(...)   # as the user: permissions, masks, scope
        ctx.count("created")
        ctx.progress(n)              # published a few times a second; stops the job if cancelled
    ctx.log("done")
    ctx.attach("result.xlsx", data)   # or ctx.attach_error_report("errors.xlsx", data)
    return {"created": len(rows)}
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.jobs import live
from app.jobs.files import store_file

PUBLISH_EVERY = 0.25  # seconds between two progress writes
CANCEL_CHECK_EVERY = 0.5  # seconds between two looks at the cancel flag
LOG_KEEP = 200  # log lines kept per job
LOG_LINE_MAX = 500


class JobCancelled(Exception):
    """Raised inside a job when its user cancelled it; its transaction is rolled back."""


class JobContext:
    """A running job seen from its function (see the module docstring)."""

    def __init__(self, job_id: int, args: Mapping[str, Any], user: Any, access: Any, session: Any) -> None:
        self.job_id = job_id
        self.args = dict(args)
        self.user = user
        self.access = access
        self.session = session
        self._done = 0
        self._total: int | None = None
        self._counts: dict[str, int] = {}
        self._log: list[str] = []
        self.result_file: str | None = None
        self.error_file: str | None = None
        self._published = 0.0
        self._checked = time.monotonic()

    def total(self, total: int | None) -> None:
        """How many steps the job has (None: unknown, the bar shows activity only)."""
        self._total = total
        self.publish(force=True)

    def progress(self, done: int, total: int | None = None) -> None:
        """Steps done so far; publishes now and then and raises JobCancelled if the job was cancelled."""
        self._done = done
        if total is not None:
            self._total = total
        self.publish(force=self._total is not None and done >= self._total)
        self.check_cancelled()

    def count(self, name: str, n: int = 1) -> None:
        """Add to a named count (created, updated, skipped, errors ...)."""
        self._counts[name] = self._counts.get(name, 0) + n

    def log(self, line: str) -> None:
        """Add a line to the job's log (the last lines are kept)."""
        self._log.append(str(line)[:LOG_LINE_MAX])
        del self._log[:-LOG_KEEP]
        self.publish()

    def attach(self, name: str, data: bytes | Path) -> str:
        """Store the job's result file (bytes or a file to copy); return its stored name."""
        self.result_file = store_file(self.job_id, name, data)
        return self.result_file

    def attach_error_report(self, name: str, data: bytes | Path) -> str:
        """Store the job's error report (kept even when the job fails)."""
        self.error_file = store_file(self.job_id, name, data)
        return self.error_file

    def check_cancelled(self) -> None:
        """Raise JobCancelled when a cancel was asked for (looked up at most twice a second)."""
        now = time.monotonic()
        if now - self._checked < CANCEL_CHECK_EVERY:
            return
        self._checked = now
        if live.cancel_requested(self.job_id):
            raise JobCancelled

    def snapshot(self) -> dict[str, Any]:
        """The progress as published."""
        return {"done": self._done, "total": self._total, "counts": dict(self._counts), "log": list(self._log)}

    def publish(self, force: bool = False) -> None:
        """Write the progress where other processes see it (throttled unless forced)."""
        now = time.monotonic()
        if not force and now - self._published < PUBLISH_EVERY:
            return
        self._published = now
        live.write_progress(self.job_id, self.snapshot())
