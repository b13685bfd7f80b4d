"""Background jobs in-process (no REDIS_URL), on SQLite and PostgreSQL: submit through the API, progress,
all-or-nothing effects, cancel, retry, files, who sees what, dispatch only after commit, and jobs cut
off by a restart settled at start-up. The RQ worker and Redis faults are in test_jobs_worker.py."""

from __future__ import annotations

import json
import os
import socket
import stat
import time
from typing import Any

import job_kinds  # noqa: F401  registers the test kinds
import pytest
from conftest import unique
from sqlalchemy import select

DONE_STATES = ("done", "failed", "cancelled")


@pytest.fixture
def in_process(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app with jobs on its in-process pool (whatever REDIS_URL the suite runs with)."""
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    return app


def job_row(app: Any, job_id: int) -> dict[str, Any]:
    """The job as the API shows it, read straight from the database."""
    from app.extensions import db
    from app.jobs import store

    with app.app_context():
        row = store.get_job(db.session, job_id)
        return store.as_json(row) if row is not None else {}


def wait_for(app: Any, job_id: int, states: tuple[str, ...] = DONE_STATES, timeout: float = 20) -> dict[str, Any]:
    """Poll the job until its status is one of `states`."""
    deadline = time.monotonic() + timeout
    while True:
        job = job_row(app, job_id)
        if job.get("status") in states or time.monotonic() > deadline:
            assert job.get("status") in states, job
            return job
        time.sleep(0.05)


def categories(app: Any, prefix: str) -> list[str]:
    """Codes of the categories a test job created."""
    from app.extensions import db, registry

    with app.app_context():
        cls = registry().cls("category")
        return sorted(db.session.execute(select(cls.code).where(cls.code.like(f"{prefix}-%"))).scalars())


def test_a_job_runs_as_its_user_and_commits_its_work_with_its_status(in_process, api_as):
    prefix = unique("JC")
    response = api_as("clerk").post(
        "/api/v1/jobs/", json={"kind": "test_categories", "args": {"prefix": prefix, "n": 3}}
    )
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["job_id"]
    job = wait_for(in_process, job_id)
    assert (job["status"], job["done"], job["total"], job["percent"]) == ("done", 3, 3, 100)
    assert job["counts"] == {"created": 3} and job["result"] == {"created": 3}
    assert categories(in_process, prefix) == [f"{prefix}-1", f"{prefix}-2", f"{prefix}-3"]
    body = api_as("clerk").get(f"/api/v1/jobs/{job_id}").get_json()
    assert body["status"] == "done" and body["status_label"] and body["user"] == "u_clerk"
    # the job's writes went through the write path as the clerk: audited under the clerk's name
    from app.extensions import db
    from app.services.records.tables import audit_log

    with in_process.app_context():
        query = select(audit_log.c.username).where(audit_log.c.model == "category", audit_log.c.after.contains(prefix))
        assert sorted(db.session.execute(query).scalars()) == ["u_clerk"] * 3
    # own jobs only; the admin sees everyone's
    assert api_as("salesperson").get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert job_id not in [j["id"] for j in api_as("salesperson").get("/api/v1/jobs/").get_json()["result"]]
    assert api_as("admin").get(f"/api/v1/jobs/{job_id}").status_code == 200


def test_who_may_run_a_kind_is_the_kinds_own_rule(in_process, api_as):
    answer = api_as("purchaser").post("/api/v1/jobs/", json={"kind": "test_categories", "args": {"prefix": "X"}})
    assert answer.status_code == 403  # the purchaser only reads categories
    assert api_as("clerk").post("/api/v1/jobs/", json={"kind": "test_crash", "args": {}}).status_code == 404
    assert api_as("clerk").post("/api/v1/jobs/", json={"kind": "test_steps", "args": [1]}).status_code == 422


def test_a_failed_job_leaves_nothing_and_says_why(in_process):
    from app.extensions import db
    from app.jobs import submit
    from app.services.users.access import access_for

    code = unique("JX")
    with in_process.test_request_context():
        job_id = submit("test_crash", {"code": code}, access_for(in_process.appbuilder.sm.find_user(username="admin")))
        db.session.commit()
    job = wait_for(in_process, job_id)
    assert job["status"] == "failed" and "RuntimeError" in job["message"] and "Traceback" not in job["message"]
    assert categories(in_process, code) == [] and not _category_exists(in_process, code)


def _category_exists(app: Any, code: str) -> bool:
    from app.extensions import db, registry

    with app.app_context():
        cls = registry().cls("category")
        return db.session.query(cls.id).filter(cls.code == code).first() is not None


def test_a_rolled_back_transaction_never_runs_its_job(in_process):
    from app.extensions import db
    from app.jobs import store, submit
    from app.services.users.access import access_for

    prefix = unique("JR")
    with in_process.test_request_context():
        access = access_for(in_process.appbuilder.sm.find_user(username="admin"))
        dropped = submit("test_categories", {"prefix": prefix, "n": 1}, access)
        db.session.rollback()
        kept = submit("test_steps", {"steps": 1}, access)  # the next commit dispatches only this one
        db.session.commit()
    assert wait_for(in_process, kept)["status"] == "done"
    time.sleep(0.3)
    with in_process.app_context():
        assert store.get_job(db.session, dropped) is None or store.get_job(db.session, dropped).id == kept
    assert categories(in_process, prefix) == []


def test_cancel_stops_a_running_job_and_undoes_its_work(in_process, api_as):
    prefix = unique("JK")
    clerk = api_as("clerk")
    args = {"prefix": prefix, "n": 20, "delay": 0.04}
    job_id = clerk.post("/api/v1/jobs/", json={"kind": "test_categories", "args": args}).get_json()["job_id"]
    seen = wait_for(in_process, job_id, ("running",))
    deadline = time.monotonic() + 10
    while seen["done"] < 2 and time.monotonic() < deadline:  # some categories written, not committed
        time.sleep(0.05)
        seen = job_row(in_process, job_id)
    assert 2 <= seen["done"] < 20, seen  # progress is published while the job's transaction is open
    answer = clerk.post(f"/api/v1/jobs/{job_id}/cancel")
    assert answer.status_code == 200 and answer.get_json()["status"] == "running"
    job = wait_for(in_process, job_id)
    assert job["status"] == "cancelled" and categories(in_process, prefix) == []
    assert clerk.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 409
    retried = clerk.post(f"/api/v1/jobs/{job_id}/retry")
    assert retried.status_code == 202, retried.get_json()
    new_id = retried.get_json()["job_id"]
    assert new_id != job_id
    assert wait_for(in_process, new_id, timeout=30)["status"] == "done"
    assert len(categories(in_process, prefix)) == 20


def test_result_and_error_report_are_owner_only_files(in_process, api_as):
    clerk = api_as("clerk")
    job_id = clerk.post("/api/v1/jobs/", json={"kind": "test_files", "args": {"fail": True}}).get_json()["job_id"]
    job = wait_for(in_process, job_id)
    assert job["status"] == "failed" and job["message"] == "1 行有误" and job["log"] == ["2 qty: 数量必须大于 0"]
    body = clerk.get(f"/api/v1/jobs/{job_id}").get_json()
    assert body["result_url"] == f"/api/v1/jobs/{job_id}/result"
    report = clerk.get(body["error_report_url"])
    assert report.status_code == 200 and report.data == b"row,message\n2,bad\n"
    assert "attachment" in report.headers["Content-Disposition"]
    report.close()
    result = clerk.get(body["result_url"])
    assert result.status_code == 200 and result.data == b"sku,qty\nA,1\n"
    result.close()
    assert api_as("warehouse").get(body["result_url"]).status_code == 404
    by_admin = api_as("admin").get(body["error_report_url"])
    assert by_admin.status_code == 200
    by_admin.close()
    folder = os.path.join(in_process.config["INSTANCE_PATH"], "files", "jobs", str(job_id))
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(folder, "result.csv")).st_mode) == 0o600
    # a queued or finished job without that file answers 404, not 500
    done = clerk.post("/api/v1/jobs/", json={"kind": "test_steps", "args": {"steps": 1}}).get_json()["job_id"]
    wait_for(in_process, done)
    assert clerk.get(f"/api/v1/jobs/{done}/result").status_code == 404


def test_jobs_page_lists_own_jobs_with_their_bars(in_process, api_as, login_as):
    job_id = (
        api_as("clerk").post("/api/v1/jobs/", json={"kind": "test_steps", "args": {"steps": 2}}).get_json()["job_id"]
    )
    wait_for(in_process, job_id)
    page = login_as("clerk").get("/jobs/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-job="{job_id}"' in html and "测试：分步" in html and 'aria-valuenow="100"' in html
    assert f'data-job="{job_id}"' not in login_as("warehouse").get("/jobs/").get_data(as_text=True)


def _insert_running(app: Any, kind: str, args: dict[str, Any], runner: str, max_attempts: int) -> int:
    from sqlalchemy import insert

    from app.clock import utcnow
    from app.extensions import db
    from app.jobs.tables import job

    with app.app_context():
        values = {
            "kind": kind,
            "user_id": app.appbuilder.sm.find_user(username="admin").id,
            "username": "admin",
            "status": "running",
            "args": json.dumps(args),
            "done": 1,
            "attempts": 1,
            "max_attempts": max_attempts,
            "backend": "thread",
            "runner": runner,
            "cancel_requested": False,
            "created_at": utcnow(),
            "started_at": utcnow(),
            "heartbeat_at": utcnow(),
        }
        job_id = db.session.execute(insert(job).values(**values).returning(job.c.id)).scalar_one()
        db.session.commit()
        return int(job_id)


def test_jobs_cut_off_by_a_restart_are_settled_at_start_up(in_process):
    from app.jobs.startup import install_jobs

    dead = f"{socket.gethostname()}:{2**22 + 7}:gone"  # a pid above the kernel's limit: no such process
    prefix = unique("JS")
    failed = _insert_running(in_process, "test_steps", {"steps": 1}, dead, max_attempts=1)
    retried = _insert_running(in_process, "test_categories_retry", {"prefix": prefix, "n": 2}, dead, max_attempts=2)
    alive = _insert_running(in_process, "test_steps", {"steps": 1}, f"{socket.gethostname()}:1:other", 1)
    install_jobs(in_process)  # what a restarted web process does
    job = wait_for(in_process, failed)
    assert job["status"] == "failed" and "意外退出" in job["message"]
    job = wait_for(in_process, retried)
    assert (job["status"], job["attempts"]) == ("done", 2) and categories(in_process, prefix) == [
        f"{prefix}-1",
        f"{prefix}-2",
    ]
    assert job_row(in_process, alive)["status"] == "running"  # pid 1 lives: not ours to settle
    from app.extensions import db
    from app.jobs import store

    with in_process.app_context():
        store.close(alive, 1, store.FAILED, {"message": "test cleanup"})
        db.session.commit()
