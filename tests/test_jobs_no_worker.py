"""Jobs with REDIS_URL set but no `jxc worker` on the queue (none started, or it crashed), real Redis, SQLite and
PostgreSQL: a job is never left queued with nobody to take it. The web process runs it on its own pool, a job left
waiting in Redis by a worker that died is taken once it has waited a while (and says it is waiting till then), the
admin is told the worker is not running; with a worker listening, jobs still go to it."""

from __future__ import annotations

import os
import signal
import uuid
from typing import Any

import job_kinds  # noqa: F401  registers the test kinds in this process too
import pytest
import servers
from conftest import REDIS_URL, unique
from servers import jxc_worker
from test_imports import check_job, finished, workbook
from test_jobs import job_row, wait_for

pytestmark = pytest.mark.slow
NO_WORKER_REDIS = REDIS_URL.rsplit("/", 1)[0] + "/9"  # this module's own Redis database
NO_WORKER = "后台任务程序未运行"


@pytest.fixture
def queue_name(app: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The app on Redis, on a queue of this test's own that no worker listens on."""
    name = f"jxc-nw-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.config, "REDIS_URL", NO_WORKER_REDIS)
    monkeypatch.setitem(app.config, "JXC_QUEUE", name)
    return name


def rq_queued(name: str) -> int:
    """How many jobs wait in RQ's queue `name`."""
    import redis
    from rq import Queue

    return len(Queue(name, connection=redis.Redis.from_url(NO_WORKER_REDIS)))


def backend_of(app: Any, job_id: int) -> str:
    from app.extensions import db
    from app.jobs import store

    with app.app_context():
        return str(store.get_job(db.session, job_id).backend)


def test_without_a_worker_an_import_check_and_an_export_run_in_the_web_process(app, queue_name, admin_api):
    tag = unique("NW")
    checked = check_job(admin_api, "item", workbook([["sku", "name", "unit"], [f"{tag}-1", "无人值守", "PCS"]]))
    assert checked["status"] == "done" and checked["result"]["created"] == 1, checked
    assert checked["counts"].get("errors", 0) == 0, checked
    params = [["filter[0][field]", "sku"], ["filter[0][type]", "like"], ["filter[0][value]", "SP000"]]
    args = {"model": "item", "params": params, "columns": "sku,name", "format": "csv"}
    submitted = admin_api.post("/api/v1/jobs/", json={"kind": "export", "args": args})
    assert submitted.status_code == 202, submitted.get_data(as_text=True)
    job = finished(admin_api, submitted.get_json()["job_id"], timeout=15)
    assert job["status"] == "done" and job["result"]["rows"] > 0 and job["result_url"], job
    assert backend_of(app, job["id"]) == "thread" and rq_queued(queue_name) == 0  # nothing left for a worker


def test_a_job_left_in_the_queue_says_it_waits_then_the_web_process_takes_it(
    app, queue_name, admin_api, login_as, monkeypatch
):
    # queued by a process that runs no jobs (`jxc cron`), as a worker that died afterwards would leave it
    monkeypatch.setitem(app.config, "JXC_RUNS_JOBS", False)
    submitted = admin_api.post("/api/v1/jobs/", json={"kind": "test_steps", "args": {"steps": 2, "delay": 0}})
    job_id = submitted.get_json()["job_id"]
    assert rq_queued(queue_name) == 1
    monkeypatch.setitem(app.config, "JXC_JOB_WAIT_SECONDS", 0)
    waiting = admin_api.get(f"/api/v1/jobs/{job_id}").get_json()
    assert waiting["status"] == "queued" and waiting["message"].startswith("排队等待中，已等待"), waiting
    assert "waited" in waiting
    page = login_as("admin").get("/jobs/").get_data(as_text=True)
    assert NO_WORKER in page and queue_name in page  # the admin is told on the jobs page
    monkeypatch.setitem(app.config, "JXC_JOB_WAIT_SECONDS", 3600)
    assert admin_api.get(f"/api/v1/jobs/{job_id}").get_json()["message"] == ""  # a moment's wait: no words yet
    monkeypatch.setitem(app.config, "JXC_RUNS_JOBS", True)  # the web process that reads it
    monkeypatch.setitem(app.config, "JXC_JOB_WAIT_SECONDS", 0)
    job = finished(admin_api, job_id, timeout=15)
    assert job["status"] == "done" and job["done"] == 2, job
    assert backend_of(app, job_id) == "thread"


def test_the_scheduler_takes_a_job_left_in_the_queue_with_nobody_reading_it(app, queue_name, admin_api, monkeypatch):
    from app.schedules.cron import run_due

    monkeypatch.setitem(app.config, "JXC_RUNS_JOBS", False)  # queued as a worker that died afterwards leaves it
    job_id = admin_api.post("/api/v1/jobs/", json={"kind": "test_steps", "args": {"steps": 1}}).get_json()["job_id"]
    assert rq_queued(queue_name) == 1
    monkeypatch.setitem(app.config, "JXC_RUNS_JOBS", True)  # the scheduler's look (`jxc cron`, or `jxc serve`'s)
    monkeypatch.setitem(app.config, "JXC_JOB_WAIT_SECONDS", 0)
    run_due(app)
    job = wait_for(app, job_id, timeout=15)  # read from the database, not through a page or the API
    assert job["status"] == "done" and backend_of(app, job_id) == "thread"


def test_with_a_worker_listening_jobs_go_to_it(app, backend, queue_name, admin_api, login_as, monkeypatch):
    monkeypatch.setattr(servers, "START_TIMEOUT", 120)  # a worker boots the whole app: slow on a busy machine
    with jxc_worker(backend.url, backend.instance, NO_WORKER_REDIS, queue_name, name="worker-nw") as worker:
        assert NO_WORKER not in login_as("admin").get("/jobs/").get_data(as_text=True)
        checked = check_job(admin_api, "item", workbook([["sku", "name", "unit"], [unique("NW"), "有人值守", "PCS"]]))
        assert checked["status"] == "done", checked
        submitted = admin_api.post("/api/v1/jobs/", json={"kind": "test_steps", "args": {"steps": 2, "delay": 0}})
        job = finished(admin_api, submitted.get_json()["job_id"], timeout=30)
        assert job["status"] == "done", job
        for job_id in (checked["id"], job["id"]):
            assert backend_of(app, job_id) == "rq", job_row(app, job_id)
        from app.extensions import db
        from app.jobs import store

        with app.app_context():
            pids = {int(store.get_job(db.session, i).runner.rsplit(":", 2)[1]) for i in (checked["id"], job["id"])}
        assert os.getpid() not in pids and worker.process.pid not in pids  # the worker's work-horses ran them
        # the worker crashes: RQ lists it till its key expires (90 s), but its process is gone, so nobody waits
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)
        submitted = admin_api.post("/api/v1/jobs/", json={"kind": "test_steps", "args": {"steps": 1, "delay": 0}})
        after = finished(admin_api, submitted.get_json()["job_id"], timeout=15)
        assert after["status"] == "done" and backend_of(app, after["id"]) == "thread", after


def test_the_wait_for_a_worker_is_a_setting_of_the_environment(monkeypatch, tmp_path):
    from app.config import build_config

    settings = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"}
    monkeypatch.delenv("JXC_JOB_WAIT_SECONDS", raising=False)
    assert build_config(settings)["JXC_JOB_WAIT_SECONDS"] == 10
    monkeypatch.setenv("JXC_JOB_WAIT_SECONDS", "2.5")  # an admin's, as README says: read at start-up
    assert build_config(settings)["JXC_JOB_WAIT_SECONDS"] == 2.5
