"""Jobs on RQ with real Redis and a real `jxc worker` (PostgreSQL, the deployment that runs workers):
progress seen moving by another process, kill -9 of the work-horse and of the whole worker mid-job
(the job ends failed or retried, its writes all or nothing, never stuck running)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import Any

import job_kinds  # noqa: F401  registers the test kinds in this process too
import pytest
from conftest import REDIS_URL, unique
from servers import jxc_worker, start_worker, stop_worker
from test_jobs import categories, job_row, wait_for

pytestmark = [pytest.mark.parametrize("backend", ["postgresql"], indirect=True), pytest.mark.slow]
JOBS_REDIS = REDIS_URL.rsplit("/", 1)[0] + "/3"  # the jobs tests' own Redis database


@pytest.fixture(scope="module")
def queue_name() -> str:
    """A queue of this test session's own (other runs share the Redis server)."""
    return f"jxc-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def worker(backend: Any, queue_name: str) -> Any:
    """One `jxc worker` on the test database for the module."""
    with jxc_worker(backend.url, backend.instance, JOBS_REDIS, queue_name, name="worker-test") as running:
        yield running


@pytest.fixture
def on_rq(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The test app submitting to RQ (the worker's queue)."""

    def use(queue: str) -> Any:
        monkeypatch.setitem(app.config, "REDIS_URL", JOBS_REDIS)
        monkeypatch.setitem(app.config, "JXC_QUEUE", queue)
        return app

    return use


def submit_as_admin(app: Any, kind: str, args: dict[str, Any]) -> int:
    """Submit and commit one job as the admin."""
    from app.extensions import db
    from app.jobs import submit
    from app.services.users.access import access_for

    with app.test_request_context():
        job_id = submit(kind, args, access_for(app.appbuilder.sm.find_user(username="admin")))
        db.session.commit()
    return job_id


def runner_pid(app: Any, job_id: int) -> int:
    """The pid of the process running the job (its work-horse)."""
    from app.extensions import db
    from app.jobs import store

    with app.app_context():
        return int(store.get_job(db.session, job_id).runner.rsplit(":", 2)[1])


def wait_done_at_least(app: Any, job_id: int, done: int, timeout: float = 15) -> dict[str, Any]:
    """Wait until a running job reports `done` steps."""
    deadline = time.monotonic() + timeout
    while (job := job_row(app, job_id))["done"] < done or job["status"] != "running":
        assert time.monotonic() < deadline and job["status"] in ("queued", "running"), job
        time.sleep(0.02)
    return job


def test_progress_is_seen_moving_from_another_process(on_rq, worker, queue_name):
    app = on_rq(queue_name)
    job_id = submit_as_admin(app, "test_steps", {"steps": 6, "delay": 0.27})  # one publish a step
    seen: list[int] = []
    deadline = time.monotonic() + 20
    while (job := job_row(app, job_id))["status"] in ("queued", "running") and time.monotonic() < deadline:
        if job["status"] == "running" and (not seen or job["done"] != seen[-1]):
            seen.append(job["done"])
        time.sleep(0.03)
    assert job["status"] == "done" and job["done"] == 6, job
    assert seen == sorted(seen) and len([d for d in seen if 0 < d < 6]) >= 3, seen


def test_kill_9_of_the_work_horse_fails_or_retries_the_job_with_nothing_half_applied(on_rq, worker, queue_name):
    app = on_rq(queue_name)
    prefix = unique("KH")
    job_id = submit_as_admin(app, "test_categories", {"prefix": prefix, "n": 40, "delay": 0.05})
    wait_done_at_least(app, job_id, 3)
    horse = runner_pid(app, job_id)
    assert horse != worker.process.pid
    os.kill(horse, signal.SIGKILL)
    job = wait_for(app, job_id, timeout=10)
    assert job["status"] == "failed" and "意外退出" in job["message"], job
    assert categories(app, prefix) == []  # three were written in its transaction: none stayed
    assert worker.process.poll() is None  # the worker lives on and takes the next job

    prefix = unique("KR")
    job_id = submit_as_admin(app, "test_categories_retry", {"prefix": prefix, "n": 6, "delay": 0.1})
    wait_done_at_least(app, job_id, 2)
    os.kill(runner_pid(app, job_id), signal.SIGKILL)
    job = wait_for(app, job_id, ("done", "failed"), timeout=20)
    assert (job["status"], job["attempts"]) == ("done", 2), job
    assert categories(app, prefix) == [f"{prefix}-{n}" for n in range(1, 7)]  # each once: the first try left none


def test_kill_9_of_the_whole_worker_is_settled_by_the_next_one(on_rq, backend):
    queue = f"jxc-test-{uuid.uuid4().hex[:8]}"
    app = on_rq(queue)
    prefix = unique("KW")
    doomed = start_worker(backend.url, backend.instance, JOBS_REDIS, queue, name="worker-doomed")
    try:
        job_id = submit_as_admin(app, "test_categories", {"prefix": prefix, "n": 40, "delay": 0.05})
        wait_done_at_least(app, job_id, 3)
        horse = runner_pid(app, job_id)
        os.kill(doomed.process.pid, signal.SIGKILL)
        os.kill(horse, signal.SIGKILL)
        doomed.process.wait(timeout=10)
    finally:
        stop_worker(doomed)
    time.sleep(0.2)
    assert job_row(app, job_id)["status"] == "running"  # nobody has noticed yet
    with jxc_worker(backend.url, backend.instance, JOBS_REDIS, queue, name="worker-next"):
        job = wait_for(app, job_id, timeout=10)
    assert job["status"] == "failed" and "意外退出" in job["message"], job
    assert categories(app, prefix) == []
