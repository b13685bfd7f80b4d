"""Set-based posting of very large documents, PostgreSQL (issues 13 and 19).

A fresh database with the demo data gets N new items (half of them FIFO) by bare SQL; an opening balance
(期初单) of N lines puts 10 of each in WH01, then a stocktake of N lines counts them (gains and losses,
about a third unchanged). Both documents are drafts made by bare SQL (then ANALYZE, `analyze`) and posted
through the posting service in this process (PostingService.submit: the document's lock, costing, the ledger, the lines'
cost and amount, audit, commit). Then the ledger invariants are checked over the database, by SQL.

Floor, measured in the same run: the stocktake's own writes as bare SQL in one transaction (the stock
moves inserted with executemany, the balance rows locked and updated by one statement per chunk, the
lines' price and amount updated likewise), rolled back. Gated: the stocktake's posting time at most
3x the floor.

Run: .venv/bin/python tests/benchmarks/bench_stocktake_posting.py [--lines 100000]   (default 20,000 lines,
BENCH_STOCKTAKE_LINES; the issue's size is 100,000, which takes longer than make bench's budget here)
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.templates import demo_database  # noqa: E402
from tests.conftest import PG_URL  # noqa: E402

LINES = 20_000  # make bench's size (its 10 minutes); the is --lines 100000
PASSWORD = "bench-pass-123"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=int(os.environ.get("BENCH_STOCKTAKE_LINES", LINES)))
    parser.add_argument("--profile", default="", help="write a cProfile of the stocktake's posting here")
    args = parser.parse_args()
    name = f"posting_stocktake_{uuid.uuid4().hex[:8]}"
    instance = Path(tempfile.mkdtemp(prefix="posting-stocktake-"))
    try:
        failed = run(demo_database(name, instance), instance, args.lines, args.profile)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if failed:
        raise SystemExit(1)


def run(url: str, instance: Path, count: int, profile: str = "") -> bool:
    import logging

    os.environ["JXC_ADMIN_PASSWORD"] = PASSWORD
    from sqlalchemy import insert, select, text

    from app import create_app
    from app.extensions import db, registry
    from app.services.posting.service import PostingService
    from app.services.users.access import access_for

    logging.disable(logging.WARNING)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench-" + "0" * 40})
    with app.app_context():
        reg = registry()
        session = db.session
        admin = app.appbuilder.sm.find_user(username="admin")
        warehouse = session.execute(text("SELECT id FROM warehouse WHERE code = 'WH01'")).scalar()
        item_ids = make_items(session, reg, count)
        now = datetime(2026, 11, 1)
        opening = make_document(
            session,
            reg,
            "opening_balance",
            {"date": date(2026, 11, 1), "warehouse_id": warehouse},
            [
                {"item_id": i, "warehouse_id": warehouse, "qty": Decimal(10), "price": Decimal("3.3333") + k % 7}
                for k, i in enumerate(item_ids)
            ],
            now,
            admin.id,
        )
        counted = [Decimal(10 + (k % 3) - 1) + Decimal("0.5") * (k % 2) for k in range(count)]
        stocktake = make_document(
            session,
            reg,
            "stocktake",
            {"date": date(2026, 11, 20), "warehouse_id": warehouse, "scope": "listed", "snapshot_at": now},
            [
                {"item_id": i, "book_qty": Decimal(10), "counted_qty": counted[k], "reason": "miscount"}
                for k, i in enumerate(item_ids)
            ],
            now,
            admin.id,
        )
        session.commit()
        analyze(session)

        def post(model: str, pk: int) -> float:
            access = access_for(admin)
            profiler = None
            if profile and model == "stocktake":
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            started = time.perf_counter()
            PostingService(session, access).submit(model, pk)
            elapsed = time.perf_counter() - started
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)
            return elapsed

        opening_s = post("opening_balance", opening)
        stocktake_s = post("stocktake", stocktake)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        problems = invariant_problems(session)
        moves = session.execute(text("SELECT count(*) FROM stock_move WHERE document_model = 'stocktake'")).scalar()
        floor_s = floor(session, reg, stocktake, warehouse)
        del select, insert
        session.remove()
        db.engine.dispose()
    ratio = stocktake_s / floor_s
    print(f"posting a very large document, {count} lines, PostgreSQL (half the items FIFO):")
    print(f"  opening balance: {opening_s:.1f} s ({count / opening_s:.0f} lines/s)")
    print(f"  stocktake: {stocktake_s:.1f} s ({count / stocktake_s:.0f} lines/s), {moves} moves")
    print(f"  floor (its moves, balances and lines as bare SQL in one transaction): {floor_s:.1f} s")
    print(f"  peak RSS {rss_mb:.0f} MB; ledger invariant problems: {len(problems)}")
    for problem in problems[:10]:
        print(f"    {problem}")
    print(f"RATIO\tposting.stocktake.{count // 1000}k\t{ratio:.2f}\t3")
    return bool(problems)  # a missed target is printed, not a failure


def make_items(session, reg, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    """`count` new items copied from a demo item (every other one FIFO), by bare SQL; their ids."""
    from sqlalchemy import insert, select

    item = reg.cls("item").__table__
    template = dict(session.execute(select(item).limit(1)).mappings().one())
    for key in ("id", "barcode"):
        template.pop(key, None)
    prefix = uuid.uuid4().hex[:4].upper()
    rows = []
    for k in range(count):
        row = dict(template)
        row.update(
            sku=f"T{prefix}{k:07d}",
            name=f"盘点商品 {k}",
            costing="fifo" if k % 2 else "moving_average",
            track_batch=False,
            track_serial=False,
            cost_price=Decimal(0),
        )
        rows.append(row)
    for start in range(0, count, 5000):
        session.execute(insert(item), rows[start : start + 5000])
    return list(session.execute(select(item.c.id).where(item.c.sku.like(f"T{prefix}%")).order_by(item.c.id)).scalars())


def make_document(session, reg, model: str, header: dict, lines: list[dict], now: datetime, user: int) -> int:  # type: ignore[no-untyped-def]
    """A draft of `model` with these lines, by bare SQL; its id."""
    from sqlalchemy import insert

    doc = reg.cls(model).__table__
    line = reg.cls(f"{model}_line").__table__
    stamp = {"created_at": now, "updated_at": now, "created_by_id": user, "updated_by_id": user, "version": 1}
    number = f"BENCH-{model}-{uuid.uuid4().hex[:6]}"
    pk = session.execute(
        insert(doc).values(number=number, status="draft", **header, **stamp).returning(doc.c.id)
    ).scalar()
    rows = [{"parent_id": pk, "line_no": n + 1, **values, **stamp} for n, values in enumerate(lines)]
    for start in range(0, len(rows), 5000):
        session.execute(insert(line), rows[start : start + 5000])
    return pk


def analyze(session) -> None:  # type: ignore[no-untyped-def]
    """Statistics for the tables the setup just filled, as autovacuum would have gathered them by the time a
    clerk posts (this server runs with autovacuum off). Without them the planner takes `warehouse_id = 1
    AND batch = ''` for a few rows and the floor's own lock query scans every balance row per chunk."""
    from sqlalchemy import text

    session.execute(text("ANALYZE"))
    session.commit()


def invariant_problems(session) -> list[str]:  # type: ignore[no-untyped-def]
    """The ledger invariants by SQL: each balance is the sum of its moves, the last move's running
    quantity and value are the balance's, and no running quantity of a stock breaks the chain."""
    from sqlalchemy import text

    problems = [
        f"balance {row}"
        for row in session.execute(
            text(
                "SELECT b.item_id, b.qty, b.value, m.qty, m.value FROM stock_balance b "
                "JOIN (SELECT item_id, warehouse_id, batch, sum(qty) AS qty, sum(value) AS value FROM stock_move "
                "GROUP BY item_id, warehouse_id, batch) m USING (item_id, warehouse_id, batch) "
                "WHERE b.qty <> m.qty OR b.value <> m.value"
            )
        )
    ]
    problems += [
        f"chain {row}"
        for row in session.execute(
            text(
                "SELECT id, item_id FROM (SELECT id, item_id, qty_after, value_after, qty, value, "
                "lag(qty_after, 1, 0) OVER w AS before_qty, lag(value_after, 1, 0) OVER w AS before_value "
                "FROM stock_move WINDOW w AS (PARTITION BY item_id, warehouse_id, batch ORDER BY id)) s "
                "WHERE qty_after <> before_qty + qty OR value_after <> before_value + value"
            )
        )
    ]
    problems += [
        f"fifo {row}"
        for row in session.execute(
            text(
                "SELECT b.item_id, b.qty, l.qty, b.value, l.value FROM stock_balance b "
                "JOIN (SELECT item_id, warehouse_id, batch, sum(remaining_qty) AS qty, sum(remaining_value) AS value "
                "FROM jxc_cost_layer WHERE is_open GROUP BY item_id, warehouse_id, batch) l "
                "USING (item_id, warehouse_id, batch) "
                "WHERE b.costing = 'fifo' AND (b.qty <> l.qty OR b.value <> l.value)"
            )
        )
    ]
    session.rollback()
    return problems


def floor(session, reg, stocktake: int, warehouse: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds for the stocktake's own writes as bare SQL in one transaction (rolled back): its moves
    inserted, its balance rows locked and updated and its lines' price and amount set, per chunk."""
    from sqlalchemy import text

    connection = session.connection()
    raw = connection.connection.driver_connection
    lines = session.execute(
        text("SELECT id, item_id, counted_qty - book_qty FROM stocktake_line WHERE parent_id = :p ORDER BY line_no"),
        {"p": stocktake},
    ).all()
    session.rollback()
    started = time.perf_counter()
    with raw.transaction(force_rollback=True), raw.cursor() as cur:
        for start in range(0, len(lines), 5000):
            part = lines[start : start + 5000]
            items = sorted(item for _, item, _ in part)
            rows = cur.execute(
                "SELECT id, item_id, qty, value FROM stock_balance WHERE item_id = ANY(%s) AND warehouse_id = %s "
                "AND batch = '' ORDER BY item_id FOR UPDATE",
                (items, warehouse),
            ).fetchall()
            balance = {item: (bid, qty, value) for bid, item, qty, value in rows}
            moves, updates, costs = [], [], []
            for line_id, item, diff in part:
                bid, qty, value = balance[item]
                cost = (value / qty).quantize(Decimal("0.0001")) if qty else Decimal(0)
                move_value = (diff * cost).quantize(Decimal("0.0001"))
                moves.append((item, warehouse, line_id, diff, cost, move_value, qty + diff, value + move_value))
                updates.append((bid, qty + diff, value + move_value))
                costs.append((line_id, cost, move_value.quantize(Decimal("0.01"))))
            cur.executemany(
                "INSERT INTO stock_move (item_id, warehouse_id, batch, document_model, document_number, date, "
                "document_line_id, qty, unit_cost, value, qty_after, value_after, move_key, direction, posted_at, "
                "version, created_at, updated_at) VALUES (%s, %s, '', 'stocktake', 'FLOOR', '2026-11-20', %s, %s, "
                "%s, %s, %s, %s, 'floor:' || %s, 'in', now(), 1, now(), now())",
                [(*m, m[2]) for m in moves],
            )
            cur.execute(
                "UPDATE stock_balance b SET qty = v.qty, value = v.value, version = b.version + 1 "
                "FROM unnest(%s::int[], %s::numeric[], %s::numeric[]) AS v(id, qty, value) WHERE b.id = v.id",
                ([u[0] for u in updates], [u[1] for u in updates], [u[2] for u in updates]),
            )
            cur.execute(
                "UPDATE stocktake_line l SET price = v.price, amount = v.amount, version = l.version + 1 "
                "FROM unnest(%s::int[], %s::numeric[], %s::numeric[]) AS v(id, price, amount) WHERE l.id = v.id",
                ([c[0] for c in costs], [c[1] for c in costs], [c[2] for c in costs]),
            )
        elapsed = time.perf_counter() - started
    return elapsed


if __name__ == "__main__":
    main()
