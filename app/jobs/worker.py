"""`jxc worker`: an RQ worker that boots the app once and forks a work-horse per job.

The parent builds the app (metadata, FAB, the registry: 1-2 s) before the first job, and brings the metadata up
to date after each one (a field added live meanwhile); each work-horse is a
fork of it, so a job starts in milliseconds. A forked child must not use the parent's database
connections: right after the fork the child drops its copy of the pool without closing the sockets
(`engine.dispose(close=False)`), and opens its own. When a work-horse dies (kill -9, out of memory) the
parent settles its job at once: queued again if its kind retries, else failed. When the whole worker
dies, the next worker (or web process) to start settles it.

It beats every JXC_WORKER_BEAT_SECONDS (5 s), idle and busy alike: RQ's heartbeat, which RQ sends from this parent
while a work-horse runs a job (every `job_monitoring_interval`) and between waits for a job when idle. Another process
counts it as live while that beat is at most two beats late (`backends.workers_listening`), so a job queued behind a
worker that died on another host is taken by a web or scheduler process within seconds, not RQ's minutes.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from rq import Queue, Worker

from app.extensions import db
from app.jobs import backends, queue
from app.jobs.runner import in_force, use_booted_app

log = logging.getLogger(__name__)


class JxcWorker(Worker):
    """RQ's forking worker with the app booted in the parent and dead work-horses' jobs settled."""

    max_connection_wait_time = 5.0  # back off at most 5 s between tries while Redis is away
    jxc_app: Flask

    @property
    def dequeue_timeout(self) -> int:
        """Wait for a job one beat at most, then beat again. RQ's own wait is worker_ttl less 15 s: with worker_ttl set
        to the beat (the beat RQ promises when idle) that would be 1 s, a round trip to Redis every second."""
        return self.job_monitoring_interval

    def execute_job(self, job: Any, queue: Any) -> None:
        """Run the job in a work-horse, then bring the metadata in force in this parent, so the next work-horse
        forks with it instead of rebuilding it for every job after a field was added (each work-horse checks
        again first: `runner.in_force`). After the job, not before it: the read is off the way from enqueue to
        running (before it, it took a third of that time)."""
        try:
            super().execute_job(job, queue)
        finally:
            try:
                with self.jxc_app.app_context():
                    in_force(db.session)
            except Exception:  # noqa: BLE001 - the work-horse reads it again; the worker must not stop for this
                log.exception("reading the metadata in force failed")
            finally:
                with self.jxc_app.app_context():
                    db.session.remove()

    def handle_work_horse_killed(self, job: Any, retpid: Any, ret_val: Any, rusage: Any) -> None:
        """The work-horse died without finishing: settle the JXC job it was running."""
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)
        job_id = job.args[0] if job.args else None
        if isinstance(job_id, int):
            queue.reap(self.jxc_app, job_id=job_id, process_died=True)

    def run_maintenance_tasks(self) -> None:
        """RQ's registry cleaning, plus settling JXC jobs whose process died or went silent."""
        super().run_maintenance_tasks()
        try:
            queue.reap(self.jxc_app)
        except Exception:  # noqa: BLE001 - maintenance must not stop the worker
            log.exception("reaping dead jobs failed")


def _fresh_connections_in_child(app: Flask) -> None:
    with app.app_context():
        engine = db.engine

    def after_fork() -> None:
        engine.dispose(close=False)

    os.register_at_fork(after_in_child=after_fork)


def make_worker(app: Flask, queue_names: list[str] | None = None, name: str | None = None) -> JxcWorker:
    """A worker on REDIS_URL for the app's queue (or the given queues), its app booted."""
    from redis import Redis

    url = app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set: without Redis, jobs run inside the web processes")
    app.config["JXC_WORKER"] = True  # it queues what it settles on RQ, never on a pool of its own
    use_booted_app(app)
    _fresh_connections_in_child(app)
    names = queue_names or [backends.queue_name(app)]
    connection = Redis.from_url(url)
    beat = backends.heartbeat_seconds(app)
    worker = JxcWorker(
        [Queue(n, connection=connection) for n in names],
        connection=connection,
        name=name,
        maintenance_interval=int(app.config.get("JXC_JOB_STALE_SECONDS", 60)),
        worker_ttl=beat,  # the beat promised when idle (the key lives 60 s more: RQ's slack)
        job_monitoring_interval=beat,  # the beat while a work-horse runs a job
    )
    worker.jxc_app = app
    return worker
