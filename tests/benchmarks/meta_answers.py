"""The answers built from metadata only: server time, CPU and SQL of `GET /api/v1/meta/models`, every
model's `_info`, the list of reports and a few import templates; PostgreSQL, the demo data, the app in
process (Flask's test client).

Two readers: admin, and a salesperson (masks and fewer models). Each call is made REPEAT times after one
warm-up; the figures are medians, summed over the calls of a kind. With `--old PATH` (another checkout, e.g.
/work/main) the same calls are made by that tree's app and this one's, alternately in fresh processes on one
demo database, ROUNDS times: old and new under the same load. Not a `bench_` script: `make bench` does not run
it (it gates nothing).

Run: .venv/bin/python tests/benchmarks/meta_answers.py [--old /work/main] [--rounds 2] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ("item", "partner", "warehouse", "sales_order")  # import templates asked for (xlsx, kept already)
SALES_USER = "bench_meta_sales"


def worker(tree: Path, url: str, instance: Path, repeat: int) -> dict[str, Any]:
    """Figures of one tree's app: {kind: [calls, server ms, cpu ms, sql ms, statements]} per reader."""
    sys.path.insert(0, str(tree))
    sys.path.insert(1, str(ROOT))
    from sqlalchemy import event

    from app import create_app
    from app.extensions import registry
    from tests.benchmarks.bench_grid import SqlLog
    from tests.servers import ADMIN_PASSWORD, SECRET_KEY

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": SECRET_KEY})
    sql = SqlLog()
    with app.app_context():
        from app.extensions import db
        from app.services.users.accounts import create_user

        event.listen(db.engine, "before_cursor_execute", sql.before)
        event.listen(db.engine, "after_cursor_execute", sql.after)
        if app.appbuilder.sm.find_user(username=SALES_USER) is None:
            create_user(SALES_USER, "salesperson", ADMIN_PASSWORD)
        models = sorted(registry().meta.models)
    out: dict[str, Any] = {}
    for username in ("admin", SALES_USER):
        client = app.test_client(use_cookies=False)
        login = client.post(
            "/api/v1/security/login", json={"username": username, "password": ADMIN_PASSWORD, "provider": "db"}
        )
        headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
        paths = {
            "meta/models": ["/api/v1/meta/models"],
            "reports/": ["/api/v1/reports/"],
            "_info": [f"/api/v1/{key}/_info" for key in models],
            "imports/template": [f"/api/v1/imports/template/{key}" for key in TEMPLATES],
        }
        for kind, urls in paths.items():
            totals = [0, 0.0, 0.0, 0.0, 0]
            for path in urls:
                client.get(path, headers=headers)  # warm-up: an answer kept is kept from here
                servers, cpus, sqls, counts = [], [], [], []
                for _ in range(repeat):
                    sql.reset()
                    cpu, wall = time.process_time(), time.perf_counter()
                    response = client.get(path, headers=headers)
                    servers.append(time.perf_counter() - wall)
                    cpus.append(time.process_time() - cpu)
                    sqls.append(sql.seconds)
                    counts.append(sql.count)
                if response.status_code != 200:
                    continue  # a model the salesperson may not read: not a call to time
                totals[0] += 1
                totals[1] += statistics.median(servers) * 1000
                totals[2] += statistics.median(cpus) * 1000
                totals[3] += statistics.median(sqls) * 1000
                totals[4] += int(statistics.median(counts))
            out[f"{'admin' if username == 'admin' else 'salesperson'} {kind}"] = totals
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    return out


def main() -> None:
    """A demo database, then each tree's worker in turn; the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, help="another checkout to compare with")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--worker", nargs=3, metavar=("TREE", "URL", "INSTANCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        tree, url, instance = args.worker
        print(json.dumps(worker(Path(tree), url, Path(instance), args.repeat)))
        return
    sys.path.insert(0, str(ROOT))
    import psycopg

    from tests.benchmarks.templates import demo_database
    from tests.conftest import PG_URL

    name = f"jxc_benchmeta_{uuid.uuid4().hex[:8]}"
    instance = Path(tempfile.mkdtemp(prefix="jxc-benchmeta-"))
    trees = [("old", args.old), ("new", ROOT)] if args.old else [("new", ROOT)]
    try:
        url = demo_database(name, instance, "benchmeta-init")
        print(f"load before: {os.getloadavg()[0]:.2f}")
        for round_no in range(1, args.rounds + 1):
            for label, tree in trees:
                run = subprocess.run(
                    [sys.executable, __file__, "--repeat", str(args.repeat), "--worker", str(tree), url, str(instance)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                figures = json.loads(run.stdout.strip().splitlines()[-1])
                print(f"round {round_no} {label} (load {os.getloadavg()[0]:.2f})")
                print(
                    f"  {'calls':30} {'n':>3} {'server ms':>9} {'cpu ms':>7} {'sql ms':>7} {'stmts':>5} {'srv/sql':>7}"
                )
                for kind, (n, server, cpu, sql_ms, stmts) in figures.items():
                    ratio = server / max(sql_ms, 1e-6)
                    print(f"  {kind:30} {n:>3} {server:9.1f} {cpu:7.1f} {sql_ms:7.1f} {stmts:>5} {ratio:7.2f}")
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
