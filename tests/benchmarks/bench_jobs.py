"""Job queue latency: enqueue to running for 50 small jobs on `jxc worker`, against RQ itself.

Both sides run on the same Redis in the same run: JXC's worker (the app booted once, a work-horse forked
per job, the job's row claimed in the database) with an empty job kind, and a plain `rq worker` running
an empty function. Each job is enqueued once the previous one has finished and its worker is idle again,
so the figures are queue latency, not waiting behind other jobs. Prints p50 / p95 of both and the ratio
of the p95s (target <= 2).
Run: .venv/bin/python tests/benchmarks/bench_jobs.py  (or `make bench`). Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.conftest import PG_URL  # noqa: E402
from tests.servers import ARTIFACTS, BIN, jxc_init, jxc_worker, server_env  # noqa: E402

REDIS_URL = os.environ.get("JXC_BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
JOBS = 50
MARK = "jxc-bench-mark:"
IDLE = 0.05  # seconds between a job's end and the next enqueue: the worker is back to waiting


def p(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def rq_baseline(queue: str) -> list[float]:
    """Enqueue-to-start latencies of a plain `rq worker` running rq_empty.mark_started."""
    from rq import Queue

    connection = redis.Redis.from_url(REDIS_URL)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests" / "benchmarks"), JXC_BENCH_REDIS_URL=REDIS_URL)
    log = open(ARTIFACTS / f"bench-rq-{queue}.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen([str(BIN / "rq"), "worker", "-u", REDIS_URL, queue], env=env, stdout=log, stderr=log)
    try:
        rq_queue = Queue(queue, connection=connection)
        latencies = []
        for n in range(JOBS + 5):
            key = f"{queue}-{n}"
            sent = time.time()
            job = rq_queue.enqueue("rq_empty.mark_started", key, result_ttl=60)
            while (started := connection.get(MARK + key)) is None or not job.is_finished:
                time.sleep(0.0005)
                if time.time() - sent > 30:
                    raise RuntimeError("rq worker did not run the job (see test-artifacts/bench-rq-*.log)")
            time.sleep(IDLE)
            if n >= 5:  # the first few warm the worker up
                latencies.append(float(started) - sent)
        return latencies
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        log.close()


def jxc_latencies(url: str, instance: Path, queue: str) -> list[float]:
    """Enqueue-to-running latencies of `jxc worker` running the empty kind (the job row's started_at)."""
    env = server_env(url, instance)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "JXC_INSTANCE", "SECRET_KEY", "JXC_ADMIN_PASSWORD")})
    os.environ.update({"REDIS_URL": REDIS_URL, "JXC_QUEUE": queue, "JXC_JOB_MODULES": "job_kinds"})
    from app import create_app
    from app.extensions import db
    from app.jobs import store, submit
    from app.services.users.access import access_for

    app = create_app({"JXC_RUNS_JOBS": False})
    latencies = []
    with app.test_request_context():
        access = access_for(app.appbuilder.sm.find_user(username="admin"))
        for n in range(JOBS + 5):
            sent = time.time()
            job_id = submit("test_empty", {}, access)
            db.session.commit()
            while True:
                row = store.get_job(db.session, job_id)
                db.session.rollback()
                if row.status == store.DONE:
                    break
                time.sleep(0.0005)
                if time.time() - sent > 30:
                    raise RuntimeError("jxc worker did not start the job")
            started = row.started_at.replace(tzinfo=__import__("datetime").UTC).timestamp()
            if n >= 5:
                latencies.append(started - sent)
            time.sleep(IDLE)
    return latencies


def main() -> None:
    """Fresh database, both workers on their own queues, print the figures."""
    name = f"jxc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    instance = Path(tempfile.mkdtemp(prefix="jxc-bench-"))
    tag = uuid.uuid4().hex[:8]
    try:
        jxc_init(url, instance, log_name="bench-jobs-init")
        baseline = rq_baseline(f"bench-rq-{tag}")
        with jxc_worker(url, instance, REDIS_URL, f"bench-jxc-{tag}", name="bench-worker"):
            ours = jxc_latencies(url, instance, f"bench-jxc-{tag}")
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"jobs: {JOBS} each, enqueue -> running, one at a time")
    print(f"rq worker, empty function:  p50 {p(baseline, 0.5):6.1f} ms  p95 {p(baseline, 0.95):6.1f} ms")
    print(f"jxc worker, empty job kind: p50 {p(ours, 0.5):6.1f} ms  p95 {p(ours, 0.95):6.1f} ms")
    print(f"mean {statistics.mean(ours) * 1000:.1f} ms vs {statistics.mean(baseline) * 1000:.1f} ms")
    ratio = p(ours, 0.95) / p(baseline, 0.95)
    print(f"ratio p95 jxc / rq: {ratio:.2f}x (target <= 2x)")
    print(f"RATIO\tjobs.latency_p95_vs_rq\t{ratio:.2f}\t2")


if __name__ == "__main__":
    main()
