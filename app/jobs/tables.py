"""The job table: one row per background job, whichever backend runs it (RQ or the in-process pool)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, Text

from app.meta.tables import core_metadata

# Status moves queued -> running -> done | failed | cancelled (running -> queued again on a retry).
job = Table(
    "jxc_job",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("user_id", Integer),
    Column("username", String(128)),
    Column("status", String(16), nullable=False),
    Column("args", Text, nullable=False),  # JSON
    Column("idempotency_key", String(128)),
    Column("done", Integer, nullable=False),
    Column("total", Integer),
    Column("counts", Text),  # JSON {name: n}
    Column("log", Text),  # newline-separated, the last lines kept
    Column("message", Text),  # why it failed, in the user's words
    Column("result", Text),  # JSON the kind's function returned
    Column("result_file", String(255)),
    Column("error_file", String(255)),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("backend", String(16), nullable=False),  # "rq" or "thread"
    Column("runner", String(128)),  # host:pid:token of the process running it
    Column("cancel_requested", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("started_at", DateTime),
    Column("heartbeat_at", DateTime),
    Column("finished_at", DateTime),
    Index("ix_jxc_job_user", "user_id", "id"),
    Index("ix_jxc_job_status", "status"),
    Index("uq_jxc_job_idempotency", "kind", "user_id", "idempotency_key", unique=True),
)
