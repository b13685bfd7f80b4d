"""Report speed against hand-written SQL, PostgreSQL: inventory_summary for one month, stock_as_of a date,
sales_analysis by customer for a year, and the dashboard.

Bulk-loads a fresh database (`jxc init --demo` first) with INSERT ... SELECT generate_series: sales deliveries
of two lines each, the ledger entries those lines posted (document_line_id, model, date and item agree, so gross
profit's cost is real) and the rest of the ledger lines as receipts, transfers, stocktakes and adjustments, a
return against every 50th delivery and a monthly receipt from each customer settling the month before last
(so the overdue list is what a business has, not every invoice open). The ledger's indexes are dropped for
the load and built again after it, and foreign-key triggers are off for it (the rows are made consistent), then
VACUUM ANALYZE. Each report is timed through the runner (as the admin, in process; median of --repeat runs
after a warm-up) against the same aggregate written as one SQL query: the same filters, the same groups,
the same rules (an opening balance is opening stock, a reversal nets its kind, returns net sales, the
receivables walk that settles the oldest invoices first), down to the figures the page shows. Each ratio is
printed as a RATIO line (target 2).

No index or snapshot is added for reports: the ledger's date, document and (item, warehouse) indexes and the
documents' date and parent indexes are what the reports use, so a posting pays nothing extra for them.

The reorder page (补货建议) is timed the same way, after the four reports, over --reorder-items more items
(100,000; none has stock, 98 in 100 have a reorder point, so about 98,000 suggestions): a page of 50 through the
runner as the page and API ask for it (ordered, paged, counted and totalled in the database) against the same by
hand, first, deep and filtered; the items are deleted afterwards.

Run: .venv/bin/python tests/benchmarks/bench_reports.py [--full | --moves 1000000 --sales 200000]
(defaults are the issue's size divided by 10, 100,000 ledger lines and 20,000 sales lines, so `make bench`
stays short on a shared machine; --full is the issue's 1,000,000 and 200,000).
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

from tests.benchmarks.templates import demo_database  # noqa: E402
from tests.conftest import PG_URL  # noqa: E402
from tests.servers import SECRET_KEY  # noqa: E402

DAYS = 700  # the documents span 2025-01-01 .. 2026-12-01; the reports look at November 2026
FIRST = dt.date(2025, 1, 1)
DOCS_SQL = """
INSERT INTO sales_delivery (number, status, approval_step, date, partner_id, warehouse_id, total_qty, total_amount,
                            prices_include_tax, total_tax, total_with_tax, version, created_at)
SELECT 'BXS' || g.n, 'submitted', 0, DATE '2025-01-01' + (g.n * %(days)s / %(docs)s),
       (%(customers)s::int[])[1 + g.n %% cardinality(%(customers)s::int[])],
       (%(warehouses)s::int[])[1 + g.n %% cardinality(%(warehouses)s::int[])],
       4, 40, false, 5.2, 45.2, 1, now()
FROM generate_series(1, %(docs)s) AS g(n)
"""
LINES_SQL = """
INSERT INTO sales_delivery_line (parent_id, line_no, item_id, qty, unit_ratio, base_qty, price, tax_rate, amount,
                                 tax_amount, amount_with_tax, version, created_at)
SELECT d.id, l.k, (%(items)s::int[])[1 + (d.id + l.k) %% cardinality(%(items)s::int[])], 2, 1, 2, 10, 13, 20,
       2.6, 22.6, 1, now()
FROM sales_delivery d CROSS JOIN generate_series(1, 2) AS l(k) WHERE d.number LIKE 'BXS%%'
"""
RETURNS_SQL = """
INSERT INTO sales_return (number, status, approval_step, date, partner_id, warehouse_id, source_number, total_qty,
                          total_amount, prices_include_tax, total_tax, total_with_tax, version, created_at)
SELECT 'BXR' || d.id, 'submitted', 0, d.date + 3, d.partner_id, d.warehouse_id, d.number, 1, 10, false, 1.3, 11.3, 1,
       now()
FROM sales_delivery d WHERE d.number LIKE 'BXS%%' AND d.id %% 50 = 0
"""
RETURN_LINES_SQL = """
INSERT INTO sales_return_line (parent_id, line_no, item_id, qty, unit_ratio, base_qty, price, tax_rate, amount,
                               tax_amount, amount_with_tax, version, created_at)
SELECT r.id, 1, l.item_id, 1, 1, 1, 10, 13, 10, 1.3, 11.3, 1, now()
FROM sales_return r JOIN sales_delivery d ON d.number = r.source_number
JOIN sales_delivery_line l ON l.parent_id = d.id AND l.line_no = 1 WHERE r.number LIKE 'BXR%%'
"""
PAYMENTS_SQL = """
INSERT INTO payment (number, status, approval_step, date, partner_id, direction, amount, version, created_at)
SELECT 'BXP' || d.partner_id || '-' || to_char(date_trunc('month', d.date), 'YYYYMM'), 'submitted', 0,
       (date_trunc('month', d.date) + interval '2 months')::date, d.partner_id, 'receipt', sum(d.total_with_tax), 1,
       now()
FROM sales_delivery d WHERE d.number LIKE 'BXS%%' AND d.date < DATE '2026-10-01'
GROUP BY d.partner_id, date_trunc('month', d.date)
"""
# the ledger: first the entries the delivery and return lines posted, then other kinds up to --moves lines
SALES_MOVES_SQL = """
INSERT INTO stock_move (item_id, warehouse_id, batch, qty, unit_cost, value, qty_after, value_after, document_model,
                        document_number, document_line_id, posted_at, move_key, date, version, created_at)
SELECT l.item_id, d.warehouse_id, '', -l.base_qty, 6, -6 * l.base_qty, 0, 0, 'sales_delivery', d.number, l.id, now(),
       'sales_delivery:' || l.id || ':out', d.date, 1, now()
FROM sales_delivery_line l JOIN sales_delivery d ON d.id = l.parent_id WHERE d.number LIKE 'BXS%%'
UNION ALL
SELECT l.item_id, d.warehouse_id, '', l.base_qty, 6, 6 * l.base_qty, 0, 0, 'sales_return', d.number, l.id, now(),
       'sales_return:' || l.id || ':in', d.date, 1, now()
FROM sales_return_line l JOIN sales_return d ON d.id = l.parent_id WHERE d.number LIKE 'BXR%%'
"""
OTHER_MOVES_SQL = """
INSERT INTO stock_move (item_id, warehouse_id, batch, qty, unit_cost, value, qty_after, value_after, document_model,
                        document_number, document_line_id, posted_at, move_key, date, version, created_at)
SELECT (%(items)s::int[])[1 + g.n %% cardinality(%(items)s::int[])],
       (%(warehouses)s::int[])[1 + g.n / 7 %% cardinality(%(warehouses)s::int[])],
       '', CASE WHEN g.n %% 4 = 0 THEN -2 ELSE 3 END, 5, CASE WHEN g.n %% 4 = 0 THEN -10 ELSE 15 END, 0, 0,
       (ARRAY['purchase_receipt', 'stock_transfer', 'stocktake', 'stock_adjustment', 'purchase_receipt'])[1 + g.n %% 5],
       'BXM' || g.n, g.n, now(), 'bench:' || g.n, DATE '2025-01-01' + (g.n * %(days)s / %(total)s), 1, now()
FROM generate_series(1, %(total)s) AS g(n)
"""

# items for the reorder page: none has stock, so every one with a reorder point (98 in 100) is a suggestion
REORDER_ITEMS_SQL = """
INSERT INTO item (sku, name, category_id, unit_id, purchase_price, reorder_point, reorder_qty, max_stock,
                  default_supplier_id, active, version, created_at)
SELECT 'BXI' || lpad(g.n::text, 7, '0'), '补货商品 ' || g.n,
       (%(categories)s::int[])[1 + g.n %% cardinality(%(categories)s::int[])], %(unit)s, 3,
       CASE WHEN g.n %% 50 = 0 THEN NULL ELSE 10 + g.n %% 40 END, g.n %% 3 * 12,
       CASE WHEN g.n %% 4 = 0 THEN 0 ELSE 200 END,
       (%(suppliers)s::int[])[1 + g.n %% cardinality(%(suppliers)s::int[])], true, 1, now()
FROM generate_series(1, %(items)s) AS g(n)
"""
# the reorder page by hand: every item's position, the suggestions counted and totalled (REORDER_TOTALS), one page
# of them in the page's order with the default supplier's code and name (REORDER_ROWS); two statements, as one
# with window aggregates is slower
REORDER_LOW = """
WITH stock AS (
    SELECT item_id, sum(qty) AS qty, sum(reserved_qty) AS reserved FROM stock_balance {stock_where} GROUP BY 1),
ordered AS (
    SELECT l.item_id, sum(coalesce(l.base_qty, l.qty) - coalesce(l.received_qty, 0) - coalesce(l.closed_qty, 0)) AS qty
    FROM purchase_order_line l JOIN purchase_order o ON o.id = l.parent_id
    WHERE o.status = 'submitted' {order_where} GROUP BY 1),
positions AS (
    SELECT i.id, i.sku, i.name, i.default_supplier_id, i.abc_class, i.reorder_point, i.reorder_qty, i.max_stock,
           coalesce(s.qty, 0) AS on_hand, greatest(coalesce(o.qty, 0), 0) AS on_order,
           coalesce(s.reserved, 0) AS reserved,
           coalesce(s.qty, 0) + greatest(coalesce(o.qty, 0), 0) - coalesce(s.reserved, 0) AS projected
    FROM item i LEFT JOIN stock s ON s.item_id = i.id LEFT JOIN ordered o ON o.item_id = i.id
    WHERE i.active IS NOT false {item_where}),
low AS (
    SELECT *{suggested}
    FROM positions WHERE reorder_point IS NOT NULL AND projected < reorder_point
      AND (coalesce(nullif(max_stock, 0), reorder_point) > projected OR coalesce(reorder_qty, 0) > 0))
"""
SUGGESTED = """,
    greatest(coalesce(nullif(max_stock, 0), reorder_point) - projected, coalesce(reorder_qty, 0), 0) AS suggested"""
REORDER_TOTALS = """
SELECT count(*), sum(on_hand), sum(on_order), sum(reserved), sum(projected), sum(suggested) FROM low"""
REORDER_ROWS = """
SELECT t.*, p.code, p.name AS supplier_name FROM (
    SELECT * FROM low ORDER BY abc_class IS NULL OR abc_class = '', abc_class, sku COLLATE "C", id
    LIMIT 50 OFFSET %(offset)s) t
LEFT JOIN partner p ON p.id = t.default_supplier_id"""

INBOUND = """((reverses IS NULL AND (qty > 0 OR (qty = 0 AND value >= 0)))
              OR (reverses IS NOT NULL AND (qty < 0 OR (qty = 0 AND value < 0))))"""
OPENING = "(date < %(start)s OR document_model = 'opening_balance')"
IN_KINDS = {"purchase": "purchase_receipt", "return": "sales_return", "transfer": "stock_transfer", "gain": "stocktake"}
OUT_KINDS = {"sales": "sales_delivery", "return": "purchase_return", "transfer": "stock_transfer", "loss": "stocktake"}


def _kinds(kinds: dict[str, str], side: str, sign: str) -> str:
    out = [
        f"{sign}sum(qty) FILTER (WHERE NOT {OPENING} AND {'' if side == 'in' else 'NOT '}{INBOUND}"
        f" AND document_model = '{model}') AS {side}_{kind}"
        for kind, model in kinds.items()
    ]
    listed = ", ".join(f"'{m}'" for m in kinds.values())
    out.append(
        f"{sign}sum(qty) FILTER (WHERE NOT {OPENING} AND {'' if side == 'in' else 'NOT '}{INBOUND}"
        f" AND document_model NOT IN ({listed})) AS {side}_other"
    )
    return ",\n".join(out)


SALES_LINES = """
    SELECT d.date, d.partner_id, l.item_id, l.id AS line_id, 'sales_delivery' AS model,
           l.base_qty AS qty, l.amount, l.tax_amount, l.amount_with_tax
    FROM sales_delivery_line l JOIN sales_delivery d ON d.id = l.parent_id
    WHERE d.status = 'submitted' AND d.date BETWEEN {start} AND {end}
    UNION ALL
    SELECT d.date, d.partner_id, l.item_id, l.id, 'sales_return', -l.base_qty, -l.amount, -l.tax_amount,
           -l.amount_with_tax
    FROM sales_return_line l JOIN sales_return d ON d.id = l.parent_id
    WHERE d.status = 'submitted' AND d.date BETWEEN {start} AND {end}"""

# what is still owed per customer: the receivables walk of app/services/money/receivables.py, by hand
OPEN_RECEIVABLES = """
    docs AS (
        SELECT l.partner_id, 'opening_balance' AS model, o.number, o.date, l.receivable_amount AS amount,
               l.due_date AS due, o.created_at AS created, 0 AS src, o.id AS doc_id, l.line_no
        FROM opening_balance_line l JOIN opening_balance o ON o.id = l.parent_id
        WHERE o.status = 'submitted' AND l.receivable_amount > 0 AND l.partner_id IS NOT NULL
        UNION ALL
        SELECT partner_id, 'sales_delivery', number, date, coalesce(total_with_tax, 0), NULL, created_at, 1, id, 0
        FROM sales_delivery WHERE status = 'submitted'
        UNION ALL
        SELECT partner_id, 'sales_return', number, date, -coalesce(total_with_tax, 0), NULL, created_at, 2, id, 0
        FROM sales_return WHERE status = 'submitted'
        UNION ALL
        SELECT partner_id, 'payment', number, date, -coalesce(amount, 0), NULL, created_at, 3, id, 0
        FROM payment WHERE status = 'submitted' AND direction = 'receipt'),
    paid AS (
        SELECT pl.source_number AS number, sum(pl.allocated_amount) AS total
        FROM payment_line pl JOIN payment p ON p.id = pl.parent_id
        WHERE p.status = 'submitted' AND (pl.source_model = 'sales_delivery' OR pl.source_model IS NULL)
        GROUP BY 1),
    paid_opening AS (
        SELECT pl.source_number AS number, p.partner_id, sum(pl.allocated_amount) AS total
        FROM payment_line pl JOIN payment p ON p.id = pl.parent_id
        WHERE p.status = 'submitted' AND pl.source_model = 'opening_balance' GROUP BY 1, 2),
    returned AS (
        SELECT source_number AS number, sum(total_with_tax) AS total FROM sales_return
        WHERE status = 'submitted' GROUP BY 1),
    positives AS (
        SELECT d.partner_id, d.date, d.due, d.created, d.number, d.src, d.doc_id, d.line_no, d.amount,
               least(d.amount, coalesce(p.total, 0) + coalesce(r.total, 0)) AS own,
               least(d.amount, coalesce(p.total, 0) + coalesce(r.total, 0)) AS own_key
        FROM docs d LEFT JOIN paid p ON p.number = d.number LEFT JOIN returned r ON r.number = d.number
        WHERE d.model = 'sales_delivery' AND d.amount > 0
        UNION ALL
        SELECT partner_id, date, due, created, number, src, doc_id, line_no, amount,
               CASE WHEN s < 0 THEN CASE WHEN before = 0 THEN s ELSE 0 END
                    ELSE least(greatest(s - before, 0), amount) END,
               CASE WHEN rn = 1 THEN s ELSE 0 END
        FROM (SELECT d.*, least(sum(d.amount) OVER k, coalesce(po.total, 0)) AS s,
                     sum(d.amount) OVER (k ORDER BY d.date, d.created, d.number, d.src, d.doc_id, d.line_no
                                         ROWS UNBOUNDED PRECEDING) - d.amount AS before,
                     row_number() OVER (k ORDER BY d.date, d.created, d.number, d.src, d.doc_id, d.line_no) AS rn
              FROM docs d LEFT JOIN paid_opening po ON po.number = d.number AND po.partner_id = d.partner_id
              WHERE d.model = 'opening_balance' AND d.amount > 0
              WINDOW k AS (PARTITION BY d.partner_id, d.number)) o
        UNION ALL
        SELECT partner_id, date, due, created, number, src, doc_id, line_no, amount, 0, 0
        FROM docs WHERE model NOT IN ('sales_delivery', 'opening_balance') AND amount > 0),
    credits AS (SELECT partner_id, -sum(amount) AS total FROM docs WHERE amount < 0 GROUP BY 1),
    walk AS (
        SELECT p.partner_id, p.date, p.due, p.amount - p.own AS rem,
               greatest(coalesce(c.total, 0) - sum(p.own_key) OVER (PARTITION BY p.partner_id), 0) AS credit,
               sum(p.amount - p.own) OVER (PARTITION BY p.partner_id
                   ORDER BY p.date, p.created, p.number, p.src, p.doc_id, p.line_no ROWS UNBOUNDED PRECEDING) AS through
        FROM positives p LEFT JOIN credits c ON c.partner_id = p.partner_id),
    open_items AS (
        SELECT partner_id, date, due,
               rem - (least(credit, through) - least(credit, through - rem)) AS open
        FROM walk)"""


def hand_sql(documents: list[str]) -> dict[str, str]:
    """The same aggregates as one SQL query each."""
    sales_year = SALES_LINES.format(start="%(year_start)s", end="%(end)s")
    pending = " UNION ALL ".join(
        f"SELECT '{m}' AS model, id, number, date FROM {m} WHERE status = 'pending'" for m in documents
    )
    posted = " OR ".join(f"EXISTS (SELECT 1 FROM {m} WHERE status = 'submitted')" for m in documents)
    return {
        "inventory_summary": f"""
            SELECT * FROM (
                SELECT item_id, warehouse_id,
                       coalesce(sum(qty) FILTER (WHERE {OPENING}), 0) AS opening_qty,
                       coalesce(sum(value) FILTER (WHERE {OPENING}), 0) AS opening_value,
                       {_kinds(IN_KINDS, "in", "")},
                       coalesce(sum(qty) FILTER (WHERE NOT {OPENING} AND {INBOUND}), 0) AS in_qty,
                       coalesce(sum(value) FILTER (WHERE NOT {OPENING} AND {INBOUND}), 0) AS in_value,
                       {_kinds(OUT_KINDS, "out", "-")},
                       coalesce(-sum(qty) FILTER (WHERE NOT {OPENING} AND NOT {INBOUND}), 0) AS out_qty,
                       coalesce(-sum(value) FILTER (WHERE NOT {OPENING} AND NOT {INBOUND}), 0) AS out_value,
                       sum(qty) AS closing_qty, sum(value) AS closing_value
                FROM stock_move WHERE date <= %(end)s GROUP BY item_id, warehouse_id) s
            WHERE opening_qty <> 0 OR in_qty <> 0 OR out_qty <> 0 OR closing_value <> 0""",
        "stock_as_of": """
            SELECT item_id, warehouse_id, sum(qty), sum(value), round(sum(value) / nullif(sum(qty), 0), 4)
            FROM stock_move WHERE date <= %(end)s GROUP BY item_id, warehouse_id
            HAVING sum(qty) <> 0 OR sum(value) <> 0""",
        "sales_analysis": f"""
            SELECT partner_id, sum(qty), sum(amount), sum(tax_amount), sum(amount_with_tax)
            FROM ({sales_year}) s GROUP BY partner_id""",
        "dashboard": f"""
            WITH sales AS ({SALES_LINES.format(start="%(trend_start)s", end="%(month_end)s")}),
            cost AS (
                SELECT s.date, -sum(m.value) AS cost FROM sales s
                JOIN stock_move m ON m.document_line_id = s.line_id AND m.document_model = s.model
                WHERE s.date BETWEEN %(prev_start)s AND %(prev_end)s OR s.date BETWEEN %(start)s AND %(end)s
                GROUP BY s.date),
            {OPEN_RECEIVABLES},
            overdue AS (
                SELECT o.partner_id, sum(o.open) AS amount FROM open_items o JOIN partner p ON p.id = o.partner_id
                WHERE o.open > 0 AND p.kind IN ('customer', 'both')
                  AND coalesce(o.due, o.date + coalesce(p.payment_terms_days, 0)) < %(end)s
                GROUP BY o.partner_id),
            stock AS (SELECT item_id, sum(qty) AS qty, sum(reserved_qty) AS reserved FROM stock_balance GROUP BY 1),
            ordered AS (
                SELECT l.item_id, sum(coalesce(l.base_qty, l.qty) - coalesce(l.received_qty, 0)
                                      - coalesce(l.closed_qty, 0)) AS qty
                FROM purchase_order_line l JOIN purchase_order o ON o.id = l.parent_id
                WHERE o.status = 'submitted' GROUP BY 1),
            positions AS (
                SELECT i.reorder_point, i.reorder_qty, i.max_stock,
                       coalesce(s.qty, 0) + greatest(coalesce(o.qty, 0), 0) - coalesce(s.reserved, 0) AS projected
                FROM item i LEFT JOIN stock s ON s.item_id = i.id LEFT JOIN ordered o ON o.item_id = i.id
                WHERE i.active IS NOT false)
            SELECT
                (SELECT sum(amount) FROM sales WHERE date BETWEEN %(start)s AND %(end)s) AS sales_mtd,
                (SELECT sum(amount) FROM sales WHERE date BETWEEN %(prev_start)s AND %(prev_end)s) AS sales_before,
                (SELECT sum(amount) FROM sales WHERE date = %(end)s) AS sales_today,
                (SELECT json_agg(t ORDER BY month) FROM (
                    SELECT to_char(date, 'YYYY-MM') AS month, sum(amount) AS amount FROM sales GROUP BY 1) t) AS trend,
                (SELECT json_agg(t) FROM (
                    SELECT partner_id, sum(amount) AS amount FROM sales WHERE date BETWEEN %(start)s AND %(month_end)s
                    GROUP BY 1 ORDER BY 2 DESC LIMIT 5) t) AS top_customers,
                (SELECT json_agg(t) FROM (
                    SELECT item_id, sum(amount) AS amount FROM sales WHERE date BETWEEN %(start)s AND %(month_end)s
                    GROUP BY 1 ORDER BY 2 DESC LIMIT 5) t) AS top_items,
                (SELECT sum(amount) FROM sales WHERE date BETWEEN %(start)s AND %(end)s)
                  - (SELECT sum(cost) FROM cost WHERE date BETWEEN %(start)s AND %(end)s) AS profit_mtd,
                (SELECT sum(amount) FROM sales WHERE date BETWEEN %(prev_start)s AND %(prev_end)s)
                  - (SELECT sum(cost) FROM cost WHERE date BETWEEN %(prev_start)s AND %(prev_end)s) AS profit_before,
                (SELECT sum(value) FROM stock_balance) AS stock_value,
                (SELECT count(*) FROM positions WHERE reorder_point IS NOT NULL AND projected < reorder_point
                    AND greatest(coalesce(nullif(max_stock, 0), reorder_point) - projected,
                                 coalesce(reorder_qty, 0), 0) > 0) AS below_reorder,
                (SELECT json_build_object('customers', count(*), 'amount', sum(amount)) FROM overdue) AS overdue,
                (SELECT json_agg(t ORDER BY date, number) FROM ({pending}) t) AS approvals,
                NOT ({posted}) AS first_steps""",
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
    parser.add_argument("--moves", type=int, default=100_000, help="ledger lines (default 100,000)")
    parser.add_argument("--sales", type=int, default=20_000, help="sales lines, two per delivery (default 20,000)")
    parser.add_argument("--full", action="store_true", help="the issue's size: 1,000,000 and 200,000")
    parser.add_argument("--reorder-items", type=int, default=100_000, help="items for the reorder page (100,000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the loaded database (its name is printed)")
    parser.add_argument("--database", help="time against a database kept by --keep (no load)")
    args = parser.parse_args()
    if args.full:
        args.moves, args.sales = 1_000_000, 200_000
    if args.database:
        run(f"{PG_URL.rsplit('/', 1)[0]}/{args.database}", args)
        return
    name = f"reportbench_{uuid.uuid4().hex[:8]}"
    try:
        run(demo_database(name, Path(tempfile.mkdtemp(prefix="bench-reports-"))), args)
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load(conn: psycopg.Connection, args: argparse.Namespace) -> None:
    """The documents and the ledger, in bulk."""
    items = [r[0] for r in conn.execute("SELECT id FROM item")]
    warehouses = [r[0] for r in conn.execute("SELECT id FROM warehouse")]
    customers = [r[0] for r in conn.execute("SELECT id FROM partner WHERE kind IN ('customer', 'both')")]
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'stock_move' AND indexname <> 'stock_move_pkey'"
    ).fetchall()
    for index, _ in indexes:
        conn.execute(f'DROP INDEX "{index}"')
    conn.execute("SET session_replication_role = replica")  # no foreign-key triggers: the rows are consistent
    docs = {"docs": args.sales // 2, "days": DAYS, "customers": customers, "warehouses": warehouses}
    conn.execute(DOCS_SQL, docs)
    conn.execute(LINES_SQL, {"items": items})
    conn.execute(RETURNS_SQL, {})
    conn.execute(RETURN_LINES_SQL, {})
    conn.execute(PAYMENTS_SQL, {})
    conn.execute(SALES_MOVES_SQL, {})
    done = conn.execute("SELECT count(*) FROM stock_move").fetchone()[0]  # type: ignore[index]
    rest = max(args.moves - done, 0)
    conn.execute(OTHER_MOVES_SQL, {"items": items, "warehouses": warehouses, "total": rest, "days": DAYS})
    conn.execute("SET session_replication_role = DEFAULT")
    for _, definition in indexes:
        conn.execute(definition)
    conn.execute("VACUUM ANALYZE")


def run(url: str, args: argparse.Namespace) -> None:
    """The benchmark on one database."""
    instance = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    with psycopg.connect(url, autocommit=True) as conn:
        start = time.perf_counter()
        if not args.database:
            load(conn, args)
        moves = conn.execute("SELECT count(*) FROM stock_move").fetchone()[0]  # type: ignore[index]
        lines = conn.execute("SELECT count(*) FROM sales_delivery_line").fetchone()[0]  # type: ignore[index]
        print(f"loaded {moves} ledger lines, {lines} sales lines in {time.perf_counter() - start:.1f} s")
    from app import create_app
    from app.extensions import db
    from app.services.users.access import access_for
    from reports.dashboard import dashboard
    from reports.runner import run_report

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": SECRET_KEY})
    end = dt.date(2026, 11, 30)
    dates = {
        "start": dt.date(2026, 11, 1),
        "end": end,
        "month_end": dt.date(2026, 11, 30),
        "year_start": dt.date(2025, 12, 1),
        "trend_start": dt.date(2025, 12, 1),
        "prev_start": dt.date(2026, 10, 1),
        "prev_end": dt.date(2026, 10, 30),
    }
    cases: dict[str, dict[str, str] | None] = {
        "inventory_summary": {"period": "2026-11-01..2026-11-30"},
        "stock_as_of": {"date": "2026-11-30"},
        "sales_analysis": {"period": "2025-12-01..2026-11-30", "by": "customer"},
        "dashboard": None,
    }
    print(f"{'report':<20}{'runner s':>10}{'SQL s':>10}{'ratio':>8}")
    ratios = []
    with app.app_context():
        access = access_for(app.appbuilder.sm.find_user(username="admin"))
        documents = sorted(m.key for m in access.registry.meta.models.values() if m.kind == "document")
        hand = hand_sql(documents)
        raw = db.session.connection().connection.dbapi_connection
        for report, params in cases.items():
            if params is None:
                ours = timed(lambda: dashboard(db.session, access, end), args.repeat)
            else:
                ours = timed(lambda r=report, p=params: run_report(db.session, access, r, p), args.repeat)
            floor = timed(lambda r=report: raw.execute(hand[r], dates).fetchall(), args.repeat)
            print(f"{report:<20}{ours:>10.3f}{floor:>10.3f}{ours / floor:>8.2f}")
            ratios.append((report, ours / floor))
        ratios += reorder_pages(url, access, raw, args.repeat, args.reorder_items)
    size = "1m" if (moves, lines) == (1_000_000, 200_000) else f"{moves}_{lines}"
    for report, ratio in ratios:
        print(f"RATIO\treports.{report}.{size}\t{ratio:.2f}\t2")


def reorder_pages(url: str, access: Any, raw: Any, repeat: int, items: int) -> list[tuple[str, float]]:
    """The reorder page's suggestions (50 a page, counted and totalled) through the runner, as the page and the
    API ask for them (reports.views.reorder_suggestions), against REORDER_LOW's two statements: the first page,
    a deep page and the first page of one category; the unpaged run (every suggestion, as the page was built
    before) once. Over `items` more items, loaded here and deleted afterwards."""
    with psycopg.connect(url, autocommit=True) as conn:
        categories = [r[0] for r in conn.execute("SELECT id FROM category")]
        suppliers = [r[0] for r in conn.execute("SELECT id FROM partner WHERE kind IN ('supplier', 'both')")]
        unit = conn.execute("SELECT min(id) FROM unit").fetchone()[0]  # type: ignore[index]
        conn.execute(
            REORDER_ITEMS_SQL, {"categories": categories, "suppliers": suppliers, "unit": unit, "items": items}
        )
        conn.execute("VACUUM ANALYZE item")
    try:
        return _time_reorder_pages(access, raw, repeat)
    finally:  # the four reports are timed without them; a kept database is left as it was loaded
        raw.rollback()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM item WHERE sku LIKE 'BXI%'")


def _time_reorder_pages(access: Any, raw: Any, repeat: int) -> list[tuple[str, float]]:
    from app.extensions import db
    from reports.context import Page
    from reports.runner import run_report
    from reports.views import reorder_suggestions

    category_id, category = raw.execute("SELECT id, code FROM category ORDER BY code LIMIT 1").fetchone()
    _, count = reorder_suggestions(db.session, access, {}, Page(0, 50))
    deep = count // 2 // 50 * 50
    cases = {
        "first": ({}, 0, {}),
        "deep": ({}, deep, {}),
        "category": ({"category": category}, 0, {"item_where": f"AND i.category_id = {int(category_id)}"}),
    }
    start = time.perf_counter()
    whole = run_report(db.session, access, "reorder", {})
    print(
        f"reorder: {count} suggestions; deep page from {deep}; all of them unpaged {time.perf_counter() - start:.1f} s"
    )
    assert len(whole.rows) == count
    out = []
    for name, (filters, offset, where) in cases.items():
        where = {"stock_where": "", "order_where": "", "item_where": "", **where}
        low = REORDER_LOW.format(suggested=SUGGESTED, **where)
        rows = REORDER_LOW.format(suggested="", **where) + REORDER_ROWS  # the page's quantities come from its rows

        def by_hand(low: str = low, rows: str = rows, offset: int = offset) -> None:
            raw.execute(low + REORDER_TOTALS).fetchall()
            raw.execute(rows, {"offset": offset}).fetchall()

        ours = timed(lambda f=filters, o=offset: reorder_suggestions(db.session, access, f, Page(o, 50)), repeat)
        floor = timed(by_hand, repeat)
        print(f"{'reorder_page.' + name:<20}{ours:>10.3f}{floor:>10.3f}{ours / floor:>8.2f}")
        out.append((f"reorder_page.{name}", ours / floor))
    return out


if __name__ == "__main__":
    main()
