"""CPU time per posted line of one JXC tree, in this process (used by bench_posting.py).

    python tests/benchmarks/posting_cpu.py --root TREE [--documents N] [--lines L] [--profile FILE]

Builds a fresh PostgreSQL database with the demo data using the JXC code found in TREE (this tree, or
an older commit unpacked elsewhere), receives 40 items, makes N draft deliveries of L lines, then
submits them one after the other through the API (the Flask test client: request, access checks,
posting, audit, commit) and prints one JSON line: the process CPU seconds and wall seconds of the
submits, per line. PostgreSQL's own CPU is not counted (it is another process).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

PASSWORD = "bench-pass-123"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument(
        "--pg", default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--documents", type=int, default=60)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    root = Path(args.root).resolve()
    sys.path.insert(0, str(root))
    os.chdir(root)
    import psycopg

    name = f"posting_cpu_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{args.pg.rsplit('/', 1)[0]}/{name}"
    try:
        result = measure(url, args.documents, args.lines, args.profile)
    finally:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(result))


def measure(url: str, documents: int, lines: int, profile: str) -> dict[str, float]:
    """Set up the data, submit every draft, return the figures."""
    import logging

    os.environ["JXC_ADMIN_PASSWORD"] = PASSWORD
    from app import create_app
    from app.setup import init_database

    logging.disable(logging.WARNING)
    instance = Path(tempfile.mkdtemp(prefix="posting-cpu-"))
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench-" + "0" * 40})
    init_database(app, demo=True)
    with app.app_context():
        from sqlalchemy import text

        from app.extensions import db

        # the demo customer has a credit limit that many deliveries would pass
        db.session.execute(text("UPDATE partner SET credit_limit = NULL WHERE code = 'K001'"))
        db.session.commit()
    client = app.test_client()
    response = client.post("/api/v1/security/login", json={"username": "admin", "password": PASSWORD, "provider": "db"})
    assert response.status_code == 200, response.get_data(as_text=True)
    headers = {"Authorization": f"Bearer {response.get_json()['access_token']}"}

    def post(path: str, body: dict) -> tuple[int, dict]:
        answer = client.post(path, json=body, headers=headers)
        return answer.status_code, answer.get_json()

    skus = []
    for _ in range(40):
        sku = f"C{uuid.uuid4().hex[:8].upper()}"
        assert post("/api/v1/item/", {"sku": sku, "name": sku, "unit": "PCS"})[0] == 201
        skus.append(sku)
    status, body = post(
        "/api/v1/purchase_receipt/",
        {
            "date": "2026-11-25",
            "partner": "S001",
            "warehouse": "WH01",
            "lines": [{"item": s, "qty": "100000", "price": "3.5"} for s in skus],
        },
    )
    assert status == 201, body
    assert post(f"/api/v1/purchase_receipt/{body['id']}/submit", {})[0] == 200
    drafts = []
    for index in range(documents + 5):
        rows = [{"item": skus[(index + k * 3) % len(skus)], "qty": "1.5", "price": "9.9"} for k in range(lines)]
        status, body = post(
            "/api/v1/sales_delivery/", {"date": "2026-11-25", "partner": "K001", "warehouse": "WH01", "lines": rows}
        )
        assert status == 201, body
        drafts.append(body["id"])
    for pk in drafts[:5]:  # warm-up: first-use caches of both trees
        assert post(f"/api/v1/sales_delivery/{pk}/submit", {})[0] == 200
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    for pk in drafts[5:]:
        status, body = post(f"/api/v1/sales_delivery/{pk}/submit", {})
        assert status == 200, body
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    with app.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    count = documents * lines
    return {"lines": count, "cpu_s": cpu, "wall_s": wall, "cpu_ms_per_line": cpu * 1000 / count}


if __name__ == "__main__":
    main()
