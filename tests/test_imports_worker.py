"""An import on RQ with real Redis and a real `jxc worker` (PostgreSQL): kill -9 of the work-horse in the
middle of the rows leaves nothing half-applied (no item, no audit row, no import record)."""

from __future__ import annotations

import io
import os
import signal
import time
import uuid

import pytest
import servers
from conftest import REDIS_URL, unique
from openpyxl import Workbook
from servers import jxc_worker
from sqlalchemy import func, select
from test_jobs import job_row, wait_for
from test_jobs_worker import runner_pid

pytestmark = [pytest.mark.parametrize("backend", ["postgresql"], indirect=True), pytest.mark.slow]
IMPORTS_REDIS = REDIS_URL.rsplit("/", 1)[0] + "/7"  # the import tests' own Redis database
ROWS = 3000


def test_kill_9_mid_import_leaves_nothing_half_applied(app, backend, admin_api, monkeypatch):
    from app.extensions import db, registry
    from importers.tables import import_run

    queue = f"jxc-imp-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(servers, "START_TIMEOUT", 120)  # a worker boots the whole app: slow on a busy machine
    monkeypatch.setitem(app.config, "REDIS_URL", IMPORTS_REDIS)
    monkeypatch.setitem(app.config, "JXC_QUEUE", queue)
    tag = unique("K")
    book = Workbook()
    book.active.append(["sku", "name", "unit"])
    for n in range(ROWS):
        book.active.append([f"{tag}-{n:05d}", f"中途被杀 {n}", "PCS"])
    data = io.BytesIO()
    book.save(data)
    with jxc_worker(backend.url, backend.instance, IMPORTS_REDIS, queue, name="worker-imports"):
        response = admin_api.post(
            "/api/v1/imports/",
            data={"model": "item", "file": (io.BytesIO(data.getvalue()), "big.xlsx")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        job_id = response.get_json()["job_id"]
        deadline = time.monotonic() + 60
        while (job := job_row(app, job_id))["done"] < 200:  # some rows written in its transaction
            assert job["status"] in ("queued", "running") and time.monotonic() < deadline, job
            time.sleep(0.05)
        os.kill(runner_pid(app, job_id), signal.SIGKILL)
        job = wait_for(app, job_id, timeout=15)
    assert job["status"] == "failed" and "意外退出" in job["message"], job
    with app.app_context():
        items = registry().cls("item")
        assert db.session.scalar(select(func.count()).where(items.sku.like(f"{tag}-%"))) == 0
        assert db.session.scalar(select(func.count()).select_from(import_run).where(import_run.c.job_id == job_id)) == 0
