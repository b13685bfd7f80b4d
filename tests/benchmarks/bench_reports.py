"""Report speed against hand-written SQL, PostgreSQL: inventory_summary for one month, stock_as_of a date,
sales_analysis by customer for a year, and the dashboard.

Bulk-loads ledger lines and sales documents with INSERT ... SELECT generate_series into a fresh database
(`jxc init --demo` first), VACUUM ANALYZE, then times each report through the runner (as the admin, in
process) and the same aggregate written as one SQL query, and prints both and their ratio (target: 2x).
No index or snapshot is added for reports: the ledger's (item, warehouse), date and document indexes are
what the reports use, so a posting pays nothing extra.

Run: .venv/bin/python tests/benchmarks/bench_reports.py [--moves 1000000] [--sales 200000]
(defaults are small, 100,000 and 20,000, so it runs in a few minutes on a shared machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import PG_URL  # noqa: E402
from tests.servers import SECRET_KEY, jxc_init  # noqa: E402

MOVES_SQL = """
INSERT INTO stock_move (item_id, warehouse_id, batch, qty, unit_cost, value, qty_after, value_after, document_model,
                        document_number, document_line_id, posted_at, move_key, date, version, created_at)
SELECT (%(items)s::int[])[1 + g.n %% cardinality(%(items)s::int[])],
       (%(warehouses)s::int[])[1 + g.n / 7 %% cardinality(%(warehouses)s::int[])],
       '', CASE WHEN g.n %% 3 = 0 THEN -2 ELSE 3 END, 5, CASE WHEN g.n %% 3 = 0 THEN -10 ELSE 15 END, 0, 0,
       (ARRAY['purchase_receipt','sales_delivery','stock_transfer','stocktake','stock_adjustment'])[1 + g.n %% 5],
       'B' || g.n, g.n, now(), 'bench:' || g.n, DATE '2025-01-01' + (g.n * 730 / %(total)s), 1, now()
FROM generate_series(1, %(total)s) AS g(n)
"""
DOCS_SQL = """
INSERT INTO sales_delivery (number, status, approval_step, date, partner_id, warehouse_id, total_qty, total_amount,
                            prices_include_tax, total_tax, total_with_tax, version, created_at)
SELECT 'BXS' || g.n, 'submitted', 0, DATE '2025-01-01' + (g.n * 700 / %(docs)s),
       (%(customers)s::int[])[1 + g.n %% cardinality(%(customers)s::int[])], %(warehouse)s,
       4, 40, false, 0, 40, 1, now()
FROM generate_series(1, %(docs)s) AS g(n)
"""
LINES_SQL = """
INSERT INTO sales_delivery_line (parent_id, line_no, item_id, qty, unit_ratio, base_qty, price, tax_rate, amount,
                                 tax_amount, amount_with_tax, version, created_at)
SELECT d.id, l.k, (%(items)s::int[])[1 + (d.id + l.k) %% cardinality(%(items)s::int[])], 2, 1, 2, 10, 0, 20, 0, 20, 1,
       now()
FROM sales_delivery d CROSS JOIN generate_series(1, 2) AS l(k) WHERE d.number LIKE 'BXS%%'
"""
HAND = {
    "inventory_summary": """
        SELECT item_id, warehouse_id, document_model, date < %(start)s AS before, qty > 0 AS inbound,
               sum(qty), sum(value)
        FROM stock_move WHERE date <= %(end)s GROUP BY 1, 2, 3, 4, 5""",
    "stock_as_of": """
        SELECT item_id, warehouse_id, sum(qty), sum(value) FROM stock_move WHERE date <= %(end)s GROUP BY 1, 2""",
    "sales_analysis": """
        SELECT d.partner_id, sum(l.base_qty), sum(l.amount), sum(l.tax_amount), sum(l.amount_with_tax)
        FROM sales_delivery_line l JOIN sales_delivery d ON d.id = l.parent_id
        WHERE d.status = 'submitted' AND d.date BETWEEN %(year_start)s AND %(end)s GROUP BY 1""",
}


def timed(work: Callable[[], Any], repeat: int) -> float:
    """Median seconds of `repeat` runs after one warm-up."""
    work()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    """Load, time, print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=100_000)
    parser.add_argument("--sales", type=int, default=20_000, help="sales lines (two per delivery)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    name = f"jxc_bench_reports_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    try:
        run(url, args)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(url: str, args: argparse.Namespace) -> None:
    """The benchmark on one database."""
    instance = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    jxc_init(url, instance, demo=True, log_name="bench-reports-init")
    with psycopg.connect(url, autocommit=True) as conn:
        items = [r[0] for r in conn.execute("SELECT id FROM item")]
        warehouses = [r[0] for r in conn.execute("SELECT id FROM warehouse")]
        customers = [r[0] for r in conn.execute("SELECT id FROM partner WHERE kind IN ('customer', 'both')")]
        start = time.perf_counter()
        conn.execute(MOVES_SQL, {"items": items, "warehouses": warehouses, "total": args.moves})
        conn.execute(DOCS_SQL, {"docs": args.sales // 2, "customers": customers, "warehouse": warehouses[0]})
        conn.execute(LINES_SQL, {"items": items})
        conn.execute("VACUUM ANALYZE")
        print(f"loaded {args.moves} ledger lines, {args.sales} sales lines in {time.perf_counter() - start:.1f} s")
    from app import create_app
    from app.extensions import db
    from app.services.users.access import access_for
    from reports.dashboard import dashboard
    from reports.runner import run_report

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": SECRET_KEY})
    end = dt.date(2026, 11, 30)
    dates = {"start": dt.date(2026, 11, 1), "end": end, "year_start": dt.date(2025, 12, 1)}
    cases = {
        "inventory_summary": {"period": "2026-11-01..2026-11-30"},
        "stock_as_of": {"date": "2026-11-30"},
        "sales_analysis": {"period": "2025-12-01..2026-11-30", "by": "customer"},
    }
    print(f"{'report':<20}{'runner s':>10}{'SQL s':>10}{'ratio':>8}")
    with app.app_context():
        access = access_for(app.appbuilder.sm.find_user(username="admin"))
        raw = db.session.connection().connection.dbapi_connection
        for report, params in cases.items():
            ours = timed(lambda r=report, p=params: run_report(db.session, access, r, p), args.repeat)
            hand = timed(lambda r=report: raw.execute(HAND[r], dates).fetchall(), args.repeat)
            print(f"{report:<20}{ours:>10.3f}{hand:>10.3f}{ours / hand:>8.2f}")
        board = timed(lambda: dashboard(db.session, access, end), args.repeat)
        print(f"{'dashboard':<20}{board:>10.3f}{'':>10}{'':>8}  (no single SQL equivalent: every tile)")


if __name__ == "__main__":
    main()
