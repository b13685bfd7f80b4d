"""With Redis, real processes (PostgreSQL, the deployment that runs workers): a `jxc worker` counts as live while its
heartbeat keeps time, through a job longer than the window, and stops counting within that window once it is killed
on another host, so the next job runs at once; `jxc cron` runs a due schedule's job (its mail sent) and a job left
waiting on the queue itself when no live worker listens, with no web request."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from typing import Any

import job_kinds  # noqa: F401  registers the test kinds in this process too
import pytest
import redis
from conftest import REDIS_URL
from servers import BIN, ROOT, job_env, jxc_worker, server_env
from test_jobs import job_row, wait_for
from test_jobs_no_worker import backend_of
from test_schedules import FIRST, new_schedule, runs_of

pytestmark = [pytest.mark.parametrize("backend", ["postgresql"], indirect=True), pytest.mark.slow]
BEAT = 1  # the worker's heartbeat in these tests (JXC_WORKER_BEAT_SECONDS): dead after 1 + 2 x 1 s without one


@pytest.fixture
def queue_name(app: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test app on Redis, on a queue of this test's own."""
    name = f"jxc-live-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "JXC_QUEUE", name)
    monkeypatch.setitem(app.config, "JXC_WORKER_BEAT_SECONDS", BEAT)
    return name


def live_workers(app: Any) -> int:
    from app.jobs import backends

    return backends.workers_listening(app)


def test_a_worker_counts_while_it_beats_and_not_long_after_it_died_on_another_host(
    app, backend, queue_name, admin_api, monkeypatch
):
    monkeypatch.setenv("JXC_WORKER_BEAT_SECONDS", str(BEAT))  # the worker's environment
    with jxc_worker(backend.url, backend.instance, REDIS_URL, queue_name, "worker-live") as worker:
        assert app.test_client().get("/healthz").get_json()["worker"] == "live"
        # a job longer than the window (4 s against 3): the worker's parent beats while its work-horse works
        submitted = admin_api.post("/api/v1/jobs/", json={"kind": "test_steps", "args": {"steps": 8, "delay": 0.5}})
        job_id = submitted.get_json()["job_id"]
        counted = []
        while job_row(app, job_id)["status"] in ("queued", "running"):
            counted.append(live_workers(app))
            time.sleep(0.2)
        assert wait_for(app, job_id)["status"] == "done" and backend_of(app, job_id) == "rq"
        assert len(counted) > 10 and min(counted) == 1, counted
        # it dies, on a host that is not this one (its registry entry as RQ wrote it, but another host's name):
        # no process of ours to look for, only its heartbeat
        connection = redis.Redis.from_url(REDIS_URL)
        pid = str(worker.process.pid).encode()
        (key,) = [k for k in connection.smembers(f"rq:workers:{queue_name}") if connection.hget(k, "pid") == pid]
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)
        connection.hset(key, "hostname", "another-host")
        killed = time.monotonic()
        while live_workers(app) and time.monotonic() - killed < 30:
            time.sleep(0.1)
        gone_after = time.monotonic() - killed
        assert gone_after < BEAT * 3 + 2, gone_after  # RQ's key lives 60 s more: it is not what counts
        assert connection.exists(key)
    health = app.test_client().get("/healthz").get_json()
    assert (health["queue"], health["worker"]) == ("up", "none")
    submitted = admin_api.post("/api/v1/jobs/", json={"kind": "test_steps", "args": {"steps": 1, "delay": 0}})
    job_id = submitted.get_json()["job_id"]
    assert wait_for(app, job_id, timeout=15)["status"] == "done" and backend_of(app, job_id) == "thread"


def test_jxc_cron_runs_due_jobs_itself_when_no_worker_listens(app, backend, queue_name, admin_api, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)  # the smtp fixture turned Redis off for the app
    fields = {"params": {"report": "sales_order"}, "recipients": ["admin"], "skip_empty": False}
    item = new_schedule(admin_api, monkeypatch, **fields)
    # a job left on the queue by a worker that died (queued by a process that runs no jobs, as a worker leaves it)
    monkeypatch.setitem(app.config, "JXC_RUNS_JOBS", False)
    submitted = admin_api.post("/api/v1/jobs/", json={"kind": "test_steps", "args": {"steps": 2, "delay": 0}})
    waiting = submitted.get_json()["job_id"]
    assert job_row(app, waiting)["status"] == "queued" and backend_of(app, waiting) == "rq"
    env = server_env(backend.url, backend.instance) | job_env(REDIS_URL, queue_name)
    env |= {"JXC_CLOCK": FIRST, "JXC_JOB_WAIT_SECONDS": "0", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port)}
    env |= {"SMTP_SECURITY": "none", "MAIL_FROM": "jxc@example.com"}
    done = subprocess.run(  # noqa: S603 - our own command
        [str(BIN / "jxc"), "cron", "--once"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (run,) = runs_of(app, item["name"])
    assert run.status == "done", (run, done.stdout, done.stderr[-3000:])
    assert backend_of(app, run.job_id) == "thread"
    assert [str(m["To"]) for m in smtp.about(item["title"])] == ["admin@example.com"]
    assert job_row(app, waiting)["status"] == "done" and backend_of(app, waiting) == "thread"
