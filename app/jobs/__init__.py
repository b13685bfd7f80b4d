"""Background jobs: RQ on REDIS_URL (`jxc worker`), or an in-process thread pool without it.

The interface other subsystems use (see docs/jobs.md):

- define a kind: `@job_kind(name, label=..., allowed=...)` on a function of a `JobContext` (app.jobs.kinds);
- submit one: `submit(kind, args, access)` in the asking transaction; it is queued after commit;
- report from inside: `ctx.total(n)`, `ctx.progress(done)`, `ctx.count(name)`, `ctx.log(line)`,
  `ctx.attach(name, data)`, `ctx.attach_error_report(name, data)` (app.jobs.context).
"""

from __future__ import annotations

from app.jobs.backends import QueueUnavailable
from app.jobs.context import JobCancelled, JobContext
from app.jobs.kinds import JobKind, define_kind, get_kind, job_kind
from app.jobs.queue import submit

__all__ = [
    "JobCancelled",
    "JobContext",
    "JobKind",
    "QueueUnavailable",
    "define_kind",
    "get_kind",
    "job_kind",
    "submit",
]
