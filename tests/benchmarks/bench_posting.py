"""Posting throughput: 10-line sales deliveries through HTTP, 16 concurrent clients, PostgreSQL.

Prints documents per second and latency percentiles, then checks the ledger invariants.
Run: .venv/bin/python tests/benchmarks/bench_posting.py  (or `make bench`).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import PG_URL  # noqa: E402
from tests.ledger_helpers import ledger_problems  # noqa: E402
from tests.servers import HttpApi, jxc_init, jxc_servers  # noqa: E402

CLIENTS = 16
DOCUMENTS = 320
LINES = 10


def main() -> None:
    """Set up a fresh database, post DOCUMENTS deliveries with CLIENTS threads, print the figures."""
    name = f"jxc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    instance = Path(tempfile.mkdtemp(prefix="jxc-bench-"))
    try:
        jxc_init(url, instance, demo=True, log_name="bench-init")
        with jxc_servers(url, instance, ["bench-a", "bench-b"], {"GUNICORN_CMD_ARGS": "--threads 8"}) as servers:
            apis = [HttpApi(s.url) for s in servers]
            skus = []
            for _ in range(40):
                sku = f"B{uuid.uuid4().hex[:8].upper()}"
                assert apis[0].post("/api/v1/item/", {"sku": sku, "name": sku, "unit": "PCS"})[0] == 201
                skus.append(sku)
            status, body = apis[0].post(
                "/api/v1/purchase_receipt/",
                {
                    "date": "2026-11-25",
                    "partner": "S001",
                    "warehouse": "WH01",
                    "lines": [{"item": s, "qty": "100000", "price": "3.5"} for s in skus],
                },
            )
            assert status == 201, body
            assert apis[0].post(f"/api/v1/purchase_receipt/{body['id']}/submit", {})[0] == 200
            drafts = []
            for index in range(DOCUMENTS):
                lines = [
                    {"item": skus[(index + k * 3) % len(skus)], "qty": "1.5", "price": "9.9"} for k in range(LINES)
                ]
                status, body = apis[index % 2].post(
                    "/api/v1/sales_delivery/",
                    {"date": "2026-11-25", "partner": "K001", "warehouse": "WH01", "lines": lines},
                )
                assert status == 201, body
                drafts.append(body["id"])

            def submit(job: tuple[int, int]) -> tuple[int, float]:
                started = time.perf_counter()
                status, _ = apis[job[0] % 2].post(f"/api/v1/sales_delivery/{job[1]}/submit", {})
                return status, time.perf_counter() - started

            started = time.perf_counter()
            with ThreadPoolExecutor(CLIENTS) as pool:
                results = list(pool.map(submit, enumerate(drafts)))
            elapsed = time.perf_counter() - started
        from app import create_app

        checker = create_app(
            {
                "DATABASE_URL": url,
                "INSTANCE_PATH": str(instance),
                "SECRET_KEY": "servers-test-secret-key-0123456789abcdef0123456789",
            }
        )
        problems = ledger_problems(checker)
        with checker.app_context():
            from app.extensions import db

            db.engine.dispose()
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    latencies = sorted(latency for _, latency in results)
    statuses = {status for status, _ in results}
    p50 = statistics.median(latencies)
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"posting: {DOCUMENTS} deliveries x {LINES} lines, {CLIENTS} clients, 2 gunicorn processes x 8 threads, "
        "PostgreSQL"
    )
    print(f"  throughput {DOCUMENTS / elapsed:.1f} documents/s ({DOCUMENTS * LINES / elapsed:.0f} lines/s)")
    print(f"  latency p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    print(f"  statuses {sorted(statuses)}; ledger invariant problems: {len(problems)}")
    if statuses != {200} or problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
