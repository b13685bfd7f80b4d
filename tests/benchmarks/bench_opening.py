"""Posting a large opening balance (期初单), PostgreSQL and SQLite (issue 13).

A fresh database with the demo data gets N new items (half of them FIFO) by bare SQL and a draft opening balance
of N stock lines (10 of each into WH01 at a unit cost of 3.3333 to 9.3333, their amounts to the cent as the form
computes them), by bare SQL, then ANALYZE (`bench_stocktake_posting.analyze`). It is posted through the posting
service in this process (PostingService.submit: the document's lock, the lines in chunks of 5,000, the ledger,
the items' cost price, audit, commit); then the ledger invariants are checked by SQL and each stock's balance is
compared with its line's quantity and amount, to the cent.

Floor, measured in the same run: the ledger's bare insert of the same moves and balances (`insert_rows`: COPY on
PostgreSQL, executemany on SQLite), their rows built from the lines in the timing, in one transaction committed
(the balances under another batch, the moves under other keys, deleted after), the least of three. Printed:
RATIO posting.opening.<N>k.<backend> = posting time / floor (target 3).

Run: .venv/bin/python tests/benchmarks/bench_opening.py [--lines 20000] [--backend postgresql|sqlite|both]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_stocktake_posting import (  # noqa: E402
    analyze,
    invariant_problems,
    make_document,
    make_items,
)
from tests.benchmarks.spreadsheet_floor import demo_app  # noqa: E402

LINES = 20_000
CENT = Decimal("0.01")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=int(os.environ.get("BENCH_OPENING_LINES", LINES)))
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--profile", default="", help="write a cProfile of the posting here (<backend> appended)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    failed = False
    for backend in ("postgresql", "sqlite") if args.backend == "both" else (args.backend,):
        with demo_app(backend, "bench_opening") as app:
            failed |= run(app, backend, args.lines, f"{args.profile}.{backend}" if args.profile else "")
    if failed:
        raise SystemExit(1)


def run(app, backend: str, count: int, profile: str) -> bool:  # type: ignore[no-untyped-def]
    """Post an opening balance of `count` lines on this database; print its time, the floor's and the ratio.
    True when the ledger disagrees with the lines or its invariants."""
    from sqlalchemy import text

    from app.extensions import db, registry
    from app.services.posting.service import PostingService
    from app.services.users.access import access_for

    with app.app_context():
        reg, session, admin = registry(), db.session, app.appbuilder.sm.find_user(username="admin")
        warehouse = session.execute(text("SELECT id FROM warehouse WHERE code = 'WH01'")).scalar()
        item_ids = make_items(session, reg, count)
        lines = []
        for k, item_id in enumerate(item_ids):
            qty, price = Decimal(10), Decimal("3.3333") + k % 7
            amount = (qty * price).quantize(CENT, rounding=ROUND_HALF_UP)
            lines.append(
                {"item_id": item_id, "warehouse_id": warehouse, "qty": qty, "unit_ratio": Decimal(1)}
                | {"base_qty": qty, "price": price, "amount": amount}
            )
        header, day = {"date": date(2026, 11, 1), "warehouse_id": warehouse}, datetime(2026, 11, 1)
        opening = make_document(session, reg, "opening_balance", header, lines, day, admin.id)
        session.commit()
        analyze(session)
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        PostingService(session, access_for(admin)).submit("opening_balance", opening)
        posting_s = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        problems = invariant_problems(session) + disagreements(session, reg, lines, warehouse)
        floor_s = floor(session, reg, lines)
        session.remove()
        db.engine.dispose()
    print(f"posting an opening balance of {count} stock lines, {backend} (half the items FIFO):")
    print(f"  posting: {posting_s:.1f} s ({count / posting_s:.0f} lines/s)")
    print(f"  floor (the ledger's bare insert of its moves and balances, committed; least of 3): {floor_s:.2f} s")
    print(f"  ledger problems: {len(problems)}")
    for problem in problems[:10]:
        print(f"    {problem}")
    print(f"RATIO\tposting.opening.{count // 1000}k.{backend}\t{posting_s / floor_s:.2f}\t3")
    return bool(problems)


def disagreements(session, reg, lines: list[dict], warehouse: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Each line's stock whose balance is not its quantity and amount (to the cent), or is not its only move."""
    from sqlalchemy import func, select

    balance, move = reg.cls("stock_balance").__table__, reg.cls("stock_move").__table__
    moves = dict(
        session.execute(
            select(move.c.item_id, func.count()).where(move.c.warehouse_id == warehouse).group_by(move.c.item_id)
        ).all()
    )
    found = {
        item_id: (qty, value, moves.get(item_id, 0))
        for item_id, qty, value in session.execute(
            select(balance.c.item_id, balance.c.qty, balance.c.value).where(balance.c.warehouse_id == warehouse)
        )
    }
    session.rollback()
    return [
        f"item {line['item_id']}: {found.get(line['item_id'])} for {line['qty']} / {line['amount']}"
        for line in lines
        if found.get(line["item_id"]) != (line["qty"], line["amount"], 1)
    ]


def floor(session, reg, lines: list[dict]) -> float:  # type: ignore[no-untyped-def]
    """Seconds for the ledger's bare insert of the opening's moves and balances (their rows built from the lines in
    the timing) and the commit, as the posting commits; the least of three (the rows deleted after each)."""
    from sqlalchemy import delete

    from app.clock import utcnow
    from app.services.records.bulk import insert_rows

    move_table, balance_table = reg.cls("stock_move").__table__, reg.cls("stock_balance").__table__
    session.rollback()
    times = []
    for _ in range(3):
        started = time.perf_counter()
        now = utcnow()
        moves, balances = [], []
        for n, line in enumerate(lines):
            qty, value = line["qty"], line["amount"]
            moves.append(
                {"item_id": line["item_id"], "warehouse_id": line["warehouse_id"], "batch": "", "qty": qty}
                | {"unit_cost": line["price"], "value": value, "qty_after": qty, "value_after": value}
                | {"document_model": "opening_balance", "document_number": "FLOOR", "document_line_id": n}
                | {"posted_at": now, "reverses": None, "move_key": f"floor:{n}", "date": date(2026, 11, 1)}
                | {"version": 1, "created_at": now, "updated_at": now, "created_by_id": None, "updated_by_id": None}
                | {"direction": "in"}
            )
            balances.append(
                {"item_id": line["item_id"], "warehouse_id": line["warehouse_id"], "batch": "FLOOR", "qty": qty}
                | {"value": value, "reserved_qty": Decimal(0), "avg_cost": line["price"], "costing": "moving_average"}
                | {"version": 1, "created_at": now, "updated_at": now}
            )
            if len(moves) == 5000:
                insert_rows(session, move_table, moves)
                insert_rows(session, balance_table, balances)
                moves, balances = [], []
        insert_rows(session, move_table, moves)
        insert_rows(session, balance_table, balances)
        session.commit()
        times.append(time.perf_counter() - started)
        session.execute(delete(move_table).where(move_table.c.document_number == "FLOOR"))
        session.execute(delete(balance_table).where(balance_table.c.batch == "FLOOR"))
        session.commit()
    return min(times)


if __name__ == "__main__":
    main()
