"""Job queue latency: enqueue to running of small jobs on `jxc worker`, against RQ itself, taken in turn.

Both sides run on the same Redis in the same run: JXC's worker (the app booted once, a work-horse forked
per job, the job's row claimed in the database) with an empty job kind, and a plain `rq worker` running
an empty function. Both workers wait side by side and their jobs are taken in turn, one of each per round (which
side goes first alternating), so both sample the same minutes of a shared machine's load: measured one side after
the other (as before), a change of load between the halves moved the p95 ratio of the same code between 0.7 and
6.8. Each job is enqueued once the previous one has finished, its worker says it is idle again and IDLE has
passed, so the figures are queue latency, not waiting behind the previous job or the worker's own work between
jobs. The bench looks for a job's end every 2 ms on both sides (its looks, a query each on JXC's side, are not
what is measured). Prints p50 / p95 of both, the load average, and the ratio of the p95s (target <= 2).
Run: .venv/bin/python tests/benchmarks/bench_jobs.py  (or `make bench`; JXC_BENCH_JOBS jobs of each side, default
80). Needs PostgreSQL and Redis.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.conftest import PG_URL  # noqa: E402
from tests.servers import ARTIFACTS, BIN, jxc_init, jxc_worker, server_env  # noqa: E402

REDIS_URL = os.environ.get("JXC_BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
JOBS = int(os.environ.get("JXC_BENCH_JOBS", "80"))  # of each side: the p95 is the 4th slowest (the 3rd of 50 before)
WARM = 5  # the first few of each side warm the workers up
MARK = "jxc-bench-mark:"
# seconds between a worker's saying it is idle again and the next enqueue. RQ's worker says so once it has reaped
# the work-horse; JXC's then reads the metadata in force (`JxcWorker.execute_job`, ~10 ms) before it listens again.
# With 50 ms from the job's end, as before, the JXC worker at load 8-12 was often not listening yet when the next
# job came (it was 70 ms after the job's row said done, at the median): that job waited behind the last one
IDLE = 0.2
POLL = 0.002  # seconds between looks for a job's end
TIMEOUT = 30


def p(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def idle(connection: redis.Redis, queue: str) -> Callable[[], bool]:
    """Is the (only) worker on `queue` idle, as it tells RQ?"""
    from rq import Queue, Worker

    workers = Worker.all(connection=connection, queue=Queue(queue, connection=connection))
    assert len(workers) == 1, f"{len(workers)} workers on {queue}"
    key = workers[0].key
    return lambda: connection.hget(key, "state") == b"idle"


def wait_for(done: Callable[[], bool], sent: float, who: str) -> None:
    """Poll `done` every POLL seconds until true; TIMEOUT seconds after `sent` say which worker did not run it."""
    while not done():
        time.sleep(POLL)
        if time.time() - sent > TIMEOUT:
            raise RuntimeError(f"{who} did not run the job (see test-artifacts/bench-*.log)")


@contextmanager
def rq_side(queue: str) -> Iterator[Callable[[str], float]]:
    """A plain `rq worker` running rq_empty.mark_started; yields run(key): one job's enqueue-to-start seconds."""
    from rq import Queue, Worker

    connection = redis.Redis.from_url(REDIS_URL)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests" / "benchmarks"), JXC_BENCH_REDIS_URL=REDIS_URL)
    log = open(ARTIFACTS / f"bench-rq-{queue}.log", "wb")  # noqa: SIM115 - closed below
    worker = subprocess.Popen([str(BIN / "rq"), "worker", "-u", REDIS_URL, queue], env=env, stdout=log, stderr=log)
    rq_queue = Queue(queue, connection=connection)

    def run(key: str) -> float:
        sent = time.time()
        job = rq_queue.enqueue("rq_empty.mark_started", key, result_ttl=60)
        wait_for(lambda: bool(connection.exists(MARK + key)) and job.is_finished, sent, "rq worker")
        wait_for(is_idle, sent, "rq worker")
        return float(connection.get(MARK + key)) - sent  # type: ignore[arg-type]

    try:
        started = time.time()
        wait_for(lambda: bool(Worker.all(connection=connection, queue=rq_queue)), started, "rq worker")
        is_idle = idle(connection, queue)
        yield run
    finally:
        worker.terminate()
        worker.wait(timeout=15)
        log.close()


@contextmanager
def jxc_side(url: str, instance: Path, queue: str) -> Iterator[Callable[[str], float]]:
    """`jxc worker` running the empty kind; yields run(key): one job's enqueue-to-running seconds (the job row's
    started_at, set by the work-horse as it claims the job)."""
    env = server_env(url, instance)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "JXC_INSTANCE", "SECRET_KEY", "JXC_ADMIN_PASSWORD")})
    os.environ.update({"REDIS_URL": REDIS_URL, "JXC_QUEUE": queue, "JXC_JOB_MODULES": "job_kinds"})
    from app import create_app
    from app.extensions import db
    from app.jobs import store, submit
    from app.services.users.access import access_for

    app = create_app({"JXC_RUNS_JOBS": False})
    with jxc_worker(url, instance, REDIS_URL, queue, name="bench-worker"), app.test_request_context():
        access = access_for(app.appbuilder.sm.find_user(username="admin"))
        is_idle = idle(redis.Redis.from_url(REDIS_URL), queue)

        def finished(job_id: int) -> bool:
            row = store.get_job(db.session, job_id)
            db.session.rollback()
            return row is not None and row.status == store.DONE

        def run(key: str) -> float:
            sent = time.time()
            job_id = submit("test_empty", {}, access)
            db.session.commit()
            wait_for(lambda: finished(job_id), sent, "jxc worker")
            wait_for(is_idle, sent, "jxc worker")
            row = store.get_job(db.session, job_id)
            db.session.rollback()
            return row.started_at.replace(tzinfo=dt.UTC).timestamp() - sent

        yield run


def main() -> None:
    """Fresh database, both workers waiting on their own queues, their jobs in turn, print the figures."""
    name = f"jxc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    instance = Path(tempfile.mkdtemp(prefix="jxc-bench-"))
    tag = uuid.uuid4().hex[:8]
    baseline: list[float] = []
    ours: list[float] = []
    try:
        jxc_init(url, instance, log_name="bench-jobs-init")
        load = os.getloadavg()[0]
        with rq_side(f"bench-rq-{tag}") as rq_run, jxc_side(url, instance, f"bench-jxc-{tag}") as jxc_run:
            for n in range(WARM + JOBS):
                sides = [(rq_run, baseline), (jxc_run, ours)]
                for run, into in sides if n % 2 else sides[::-1]:
                    seconds = run(f"{tag}-{n}")
                    if n >= WARM:
                        into.append(seconds)
                    time.sleep(IDLE)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"jobs: {JOBS} of each, enqueue -> running, one at a time, the two sides in turn")
    print(f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"rq worker, empty function:  p50 {p(baseline, 0.5):6.1f} ms  p95 {p(baseline, 0.95):6.1f} ms")
    print(f"jxc worker, empty job kind: p50 {p(ours, 0.5):6.1f} ms  p95 {p(ours, 0.95):6.1f} ms")
    print(f"mean {statistics.mean(ours) * 1000:.1f} ms vs {statistics.mean(baseline) * 1000:.1f} ms")
    print(f"ratio p50 jxc / rq: {p(ours, 0.5) / p(baseline, 0.5):.2f}x")
    ratio = p(ours, 0.95) / p(baseline, 0.95)
    print(f"ratio p95 jxc / rq: {ratio:.2f}x (target <= 2x)")
    print(f"RATIO\tjobs.latency_p95_vs_rq\t{ratio:.2f}\t2")


if __name__ == "__main__":
    main()
