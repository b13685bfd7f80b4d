"""Where queued jobs go: RQ on REDIS_URL, or a small thread pool in this process when REDIS_URL is unset.

Both run the same `run_job`; the job's row in the database is the truth either way (the page and the
API read it, never Redis), so browsing jobs works with Redis down and only queueing needs it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app

from app.errors import ServiceError
from app.i18n import t
from app.processes import pid_gone

log = logging.getLogger(__name__)

RQ, THREAD = "rq", "thread"
PERFORM = "app.jobs.runner.perform"
REDIS_TIMEOUT = 1.0  # seconds: a queue action answers 503 well within 2 s when Redis is down


class QueueUnavailable(ServiceError):
    """503: the job queue (Redis) cannot be reached; nothing was queued."""

    status = 503

    def __init__(self) -> None:
        super().__init__(t("jobs.queue_down"))


def backend_name(app: Flask | None = None) -> str:
    """'rq' when REDIS_URL is set, else 'thread'."""
    return RQ if (app or current_app).config.get("REDIS_URL") else THREAD


def queue_name(app: Flask | None = None) -> str:
    """The RQ queue's name (JXC_QUEUE, default 'jxc')."""
    return str((app or current_app).config.get("JXC_QUEUE") or "jxc")


_redis: dict[str, Any] = {}
_lock = threading.Lock()


def redis_for(url: str) -> Any:
    """A Redis client for web-side queue actions: short timeouts so a dead Redis answers fast."""
    from redis import Redis

    with _lock:
        if url not in _redis:
            _redis[url] = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
        return _redis[url]


def check_queue(app: Flask | None = None) -> None:
    """Raise QueueUnavailable unless jobs can be queued now (Redis answers, or there is no Redis)."""
    app = app or current_app
    if backend_name(app) != RQ:
        return
    from redis import RedisError

    try:
        redis_for(app.config["REDIS_URL"]).ping()
    except RedisError as exc:
        log.warning("job queue unavailable: %s", exc)
        raise QueueUnavailable from exc


def runs_jobs_here(app: Flask) -> bool:
    """True in a process that serves and may run jobs on its own pool (the web), not in `jxc worker` or a command."""
    return bool(app.config.get("JXC_RUNS_JOBS", True)) and not app.config.get("JXC_WORKER")


# RQ sets a worker's key to expire this long after the worker's next heartbeat is due (`Worker.heartbeat`: the
# time till the next beat + 60 s), so the key's remaining time says, on Redis's own clock, how late its beat is.
RQ_KEY_SLACK = 60
# One round trip: every worker key listed for the queue, with its remaining time (ms) and the host and pid RQ keeps.
_WORKERS_OF_QUEUE = """
local found = {}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fields = redis.call('HMGET', key, 'hostname', 'pid')
  found[#found + 1] = {redis.call('PTTL', key), fields[1], fields[2]}
end
return found
"""


def heartbeat_seconds(app: Flask | None = None) -> int:
    """How often `jxc worker` beats, idle and while a job runs (JXC_WORKER_BEAT_SECONDS, whole seconds)."""
    return int((app or current_app).config["JXC_WORKER_BEAT_SECONDS"])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _live(pttl_ms: int, hostname: Any, pid: Any, late_ms: float) -> bool:
    """A listed worker is live while its heartbeat is at most `late_ms` overdue (the key's remaining time above
    RQ's slack less that) and, when it runs on this host, its process exists."""
    if pttl_ms <= 0 or pttl_ms < RQ_KEY_SLACK * 1000 - late_ms:  # <= 0: the key gone (-2), or never expiring (-1)
        return False
    pid_text = _text(pid)
    return not (_text(hostname) == socket.gethostname() and pid_text.isdigit() and pid_gone(int(pid_text)))


def workers_listening(app: Flask | None = None) -> int:
    """How many live workers listen on the app's queue, in one round trip to Redis: RQ's registry of the queue's
    workers, less those whose heartbeat is more than two beats (2 x JXC_WORKER_BEAT_SECONDS) overdue and those of
    this host whose process is gone. Raises QueueUnavailable when Redis is down."""
    from redis import RedisError
    from rq.worker_registration import WORKERS_BY_QUEUE_KEY

    app = app or current_app
    late_ms = 2000 * heartbeat_seconds(app)
    try:
        found = redis_for(app.config["REDIS_URL"]).eval(_WORKERS_OF_QUEUE, 1, WORKERS_BY_QUEUE_KEY % queue_name(app))
    except RedisError as exc:
        log.warning("job queue unavailable: %s", exc)
        raise QueueUnavailable from exc
    return sum(1 for pttl, hostname, pid in found if _live(int(pttl), hostname, pid, late_ms))


def queue_health(app: Flask) -> tuple[str, str]:
    """(queue, worker) as `GET /healthz` reports them, in one round trip to Redis at most: without REDIS_URL
    ("in_process", "in_process"); Redis not answering ("down", "none"); else ("up", "live" or "none")."""
    if backend_name(app) != RQ:
        return "in_process", "in_process"
    try:
        live = workers_listening(app)
    except QueueUnavailable:
        return "down", "none"
    return "up", "live" if live else "none"


def push_rq(app: Flask, job_id: int, timeout: int) -> None:
    """Put one job on the RQ queue (raises QueueUnavailable when Redis is down)."""
    from redis import RedisError
    from rq import Queue

    try:
        queue = Queue(queue_name(app), connection=redis_for(app.config["REDIS_URL"]))
        queue.enqueue_call(func=PERFORM, args=(job_id,), timeout=timeout, result_ttl=0, failure_ttl=7 * 86400)
    except RedisError as exc:
        log.warning("job %s not queued: %s", job_id, exc)
        raise QueueUnavailable from exc


_pool: dict[int, ThreadPoolExecutor] = {}  # per process (a forked child gets its own)


def _executor(app: Flask) -> ThreadPoolExecutor:
    with _lock:
        pool = _pool.get(os.getpid())
        if pool is None:
            size = int(app.config.get("JXC_JOB_THREADS", 2))
            pool = _pool[os.getpid()] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="jxc-job")
        return pool


def _run_in_thread(app: Flask, job_id: int) -> None:
    from app.jobs.runner import run_job

    try:
        with app.app_context():
            run_job(job_id)
    except Exception:  # noqa: BLE001 - a pool thread must not die silently
        log.exception("in-process job %s crashed", job_id)


def wait_for_pool() -> None:
    """Wait for this process's in-process jobs to end (a command that ran some before it exits)."""
    with _lock:
        pool = _pool.pop(os.getpid(), None)
    if pool is not None:
        pool.shutdown(wait=True)


def push_thread(app: Flask, job_id: int) -> Any:
    """Run one job on this process's pool; returns the Future (tests wait on it)."""
    return _executor(app).submit(_run_in_thread, app, job_id)
