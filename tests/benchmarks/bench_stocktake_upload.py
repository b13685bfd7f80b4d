"""A stocktake counts upload: a JXC_BENCH_COUNT_ROWS-row counts xlsx (default 10,000: each of half as many items
counted in two locations) previewed (the API's dry_run: every cell checked, rows added up, the variance against
the snapshot) and then applied into a draft stocktake through the phone's count batches (RecordService, one
line per item with its locations), against a floor measured in the same run on the same rows: the calamine
read of the file plus a bare bulk insert of the rows into a scratch table (executemany on SQLite, COPY on
PostgreSQL). Prints the times, the rows a second and the ratios to the floor; the issue sets no target for
them (the 100,000-line posting has its own benchmark), so no RATIO line is printed.

Run: .venv/bin/python tests/benchmarks/bench_stocktake_upload.py [sqlite|postgresql]
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.benchmarks.spreadsheet_floor import demo_app, floor_seconds, xlsx  # noqa: E402

ROWS = int(os.environ.get("JXC_BENCH_COUNT_ROWS", "10000"))
ITEMS = max(ROWS // 2, 1)


def main() -> None:
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    with demo_app(backend, "jxc_bench_stocktake") as app:
        from app.extensions import db, write_intent
        from app.services.records.write import RecordService
        from app.services.users.access import access_for
        from importers.service import import_file
        from importers.stocktake import preview_counts, upload_counts

        items = xlsx(
            [["商品编码", "商品名称", "基本单位"]] + [[f"BC{n:07d}", f"盘点商品 {n}", "PCS"] for n in range(ITEMS)]
        )
        counts = xlsx(
            [["商品编码", "实盘数量", "库位"]]
            + [[f"BC{n % ITEMS:07d}", n % 9 + 1, f"A-{n // ITEMS:02d}"] for n in range(ROWS)]
        )
        floor_seconds(app, counts, backend)  # warm: the first read loads calamine and opens the database
        floor = floor_seconds(app, counts, backend)
        with app.app_context():
            write_intent.set(True)
            access = access_for(app.appbuilder.sm.find_user(username="admin"))
            made = import_file(db.session, access, "item", items, "items.xlsx")
            assert made.applied, made.summary()
            db.session.commit()
            take = RecordService(db.session, access).create("stocktake", {"warehouse": "WH01", "lines": []})
            db.session.commit()
            take_id = take.id
            started = time.perf_counter()
            preview = preview_counts(db.session, access, take_id, counts, "counts.xlsx")
            db.session.rollback()
            preview_seconds = time.perf_counter() - started
            assert preview["applicable"] and len(preview["lines"]) == ITEMS, preview["errors"][:5]
            started = time.perf_counter()
            result = upload_counts(db.session, access, take_id, counts, "counts.xlsx")
            apply_seconds = time.perf_counter() - started
            assert result["rows"] == ROWS and len(result["counted"]) == ITEMS
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"bench_stocktake_upload [{backend}] {ROWS} count rows over {ITEMS} items (two locations each)")
        print(f"  floor (calamine read + bare bulk insert): {floor:8.2f} s")
        for name, seconds in (
            ("preview (dry run, variance):           ", preview_seconds),
            ("apply (count batches, RecordService):  ", apply_seconds),
        ):
            rate, ratio = ROWS / seconds, seconds / floor
            print(f"  {name}  {seconds:8.2f} s  ({rate:,.0f} rows/s, {ratio:.1f}x the floor)")
        print(f"  peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
