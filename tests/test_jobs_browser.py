"""The jobs page in Chromium with a progress bar moving, and Redis stopped and started under a running app
(browsing, editing and posting go on; queue actions answer 503 in Chinese within 2 s; the queue comes back).

One gunicorn server, one `jxc worker` and a redis-server of this module's own on a free port (the
shared Redis is never stopped), on a SQLite database with the demo data.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import unique
from in_browser import headless_chromium, signed_in
from playwright.sync_api import expect
from servers import ARTIFACTS, HttpApi, free_port, job_env, jxc_server, jxc_worker

pytestmark = pytest.mark.slow  # run early: see tests/conftest.py

QUEUE = f"jxc-test-{uuid.uuid4().hex[:8]}"


class OwnRedis:
    """A redis-server this module starts, stops and starts again on one port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        import redis

        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, own_redis: OwnRedis) -> Iterator[Any]:
    """(server, worker): the web and a worker sharing the instance folder, jobs on our own Redis."""
    instance = tmp_path_factory.mktemp("jobs-browser") / "instance"
    url = f"sqlite:///{instance / 'jxc.db'}"
    env = job_env(own_redis.url, QUEUE)
    with (
        jxc_server(url, instance, name="jobs-web", extra_env=env, demo=True) as server,
        jxc_worker(url, instance, own_redis.url, QUEUE, name="jobs-worker") as worker,
    ):
        yield server, worker


@pytest.fixture(scope="module")
def api(stack: Any) -> HttpApi:
    return HttpApi(stack[0].url)


def wait_job(api: HttpApi, job_id: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, job = api.get(f"/api/v1/jobs/{job_id}")
        assert status == 200, job
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_jobs_page_shows_a_progress_bar_moving(stack, api):
    server = stack[0]
    for chromium in headless_chromium():
        context, page, console = signed_in(chromium, server.url)
        status, body = api.post("/api/v1/jobs/", {"kind": "test_steps", "args": {"steps": 8, "delay": 0.4}})
        assert status == 202, body
        job_id = body["job_id"]
        page.goto(server.url + "/jobs/")
        bar = page.locator(f'tr[data-job="{job_id}"] .jxc-job-bar')
        seen: list[int] = []
        deadline = time.monotonic() + 45  # the worker may be slow to take the job on a busy machine
        while time.monotonic() < deadline:
            value = int(bar.get_attribute("aria-valuenow") or 0)
            if not seen or value != seen[-1]:
                seen.append(value)
                if 0 < value < 100 and len(seen) == 3:
                    ARTIFACTS.mkdir(exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / "jobs-page-running.png"), full_page=True)
            if value == 100:
                break
            time.sleep(0.1)
        assert seen[-1] == 100 and seen == sorted(seen), seen
        assert len([v for v in seen if 0 < v < 100]) >= 2, seen  # the bar moved, not just jumped to the end
        row = page.locator(f'tr[data-job="{job_id}"]')
        expect(row.locator(".jxc-job-status")).to_have_text("已完成")  # the status follows the bar's last poll
        expect(row.locator(".jxc-job-count")).to_have_text("8 / 8")
        page.screenshot(path=str(ARTIFACTS / "jobs-page-done.png"), full_page=True)
        console.check()
        context.close()


def test_redis_stopped_and_started_under_a_running_app(stack, api, own_redis):
    status, before = api.post("/api/v1/jobs/", {"kind": "test_files", "args": {"fail": True}})
    assert status == 202 and wait_job(api, before["job_id"])["status"] == "failed"
    own_redis.stop()
    try:
        started = time.monotonic()
        status, body = api.post("/api/v1/jobs/", {"kind": "test_steps", "args": {"steps": 1}})
        elapsed = time.monotonic() - started
        assert status == 503 and "Redis" in body["message"] and "稍后再试" in body["message"], body
        assert elapsed < 2, elapsed
        status, body = api.post(f"/api/v1/jobs/{before['job_id']}/retry", {})
        assert status == 503, body
        # browsing, the jobs themselves, editing and posting go on
        assert api.get(f"/api/v1/jobs/{before['job_id']}")[0] == 200
        assert api.get("/api/v1/jobs/")[0] == 200
        assert api.get("/api/v1/item/?q=(page_size:5)")[0] == 200
        code = unique("RD")
        status, category = api.post("/api/v1/category/", {"code": code, "name": "Redis 停了也能改"})
        assert status == 201, category
        assert api.put(f"/api/v1/category/{category['id']}", {"name": "改好了"})[0] == 200
        status, receipt = api.post(
            "/api/v1/purchase_receipt/",
            {
                "date": "2026-11-25",
                "partner": "S001",
                "warehouse": "WH01",
                "lines": [{"item": "SP0001", "qty": "2", "price": "3.5"}],
            },
        )
        assert status == 201, receipt
        status, posted = api.post(f"/api/v1/purchase_receipt/{receipt['id']}/submit", {})
        assert status == 200, posted
    finally:
        own_redis.start()
    status, body = api.post("/api/v1/jobs/", {"kind": "test_steps", "args": {"steps": 2}})
    assert status == 202, body
    assert wait_job(api, body["job_id"], timeout=30)["status"] == "done"  # the worker came back by itself
    assert stack[1].process.poll() is None
