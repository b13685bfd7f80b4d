"""Item import against its floor: a JXC_BENCH_ROWS-row item xlsx (default 100,000; 8 columns) created through
the import pipeline (read, match, validate with one query per link column, RecordService, audit, the
import record for undo), against the floor measured in the same run on the same rows: the calamine read
of the file plus a bare bulk insert of the rows into a scratch table (executemany on SQLite, COPY on
PostgreSQL). Prints both times, the ratio (target under 3) and the process's peak RSS (target under 500 MB),
each also as a `RATIO<TAB>name<TAB>value<TAB>target` line.

Run: .venv/bin/python tests/benchmarks/bench_import.py [sqlite|postgresql]   (or `make bench`: SQLite)
"""

from __future__ import annotations

import io
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import xlsxwriter

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.conftest import PASSWORD, PG_URL  # noqa: E402

ROWS = int(os.environ.get("JXC_BENCH_ROWS", "100000"))
HEADER = ["商品编码", "商品名称", "规格型号", "商品分类", "基本单位", "零售价", "采购价", "安全库存"]


def make_file(tag: str) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for n in range(1, ROWS + 1):
        sheet.write_row(n, 0, [f"{tag}{n:07d}", f"基准商品 {n}", "500ml", "饮料", "PCS", "12.50", "8.8", n % 100])
    book.close()
    return out.getvalue()


def floor(app: object, data: bytes, backend: str) -> float:
    """calamine read + a bare bulk insert of the same rows (the least any import must do)."""
    from python_calamine import CalamineWorkbook
    from sqlalchemy import text

    from app.extensions import db

    started = time.perf_counter()
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()[1:]
    with app.app_context():  # type: ignore[attr-defined]
        conn = db.engine.raw_connection()
        cur = conn.cursor()
        columns = ", ".join(f"c{n} text" for n in range(len(HEADER)))
        cur.execute(f"CREATE TABLE bench_floor ({columns})")
        values = [tuple(str(v) for v in row) for row in rows]
        if backend == "postgresql":
            with cur.copy("COPY bench_floor FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in values:
                    copy.write_row(row)
        else:
            cur.executemany("INSERT INTO bench_floor VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
        conn.commit()
        elapsed = time.perf_counter() - started
        cur.execute("DROP TABLE bench_floor")
        conn.commit()
        conn.close()
        with db.engine.connect() as check:
            check.execute(text("SELECT 1"))
    return elapsed


def main() -> None:
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    os.environ["JXC_ADMIN_PASSWORD"] = PASSWORD
    from app import create_app
    from app.setup import init_database

    tmp = Path(tempfile.mkdtemp(prefix="jxc-bench-import-"))
    database = f"sqlite:///{tmp / 'jxc.db'}"
    pg_name = None
    if backend == "postgresql":
        pg_name = f"jxc_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        database = f"{PG_URL.rsplit('/', 1)[0]}/{pg_name}"
    try:
        app = create_app({"DATABASE_URL": database, "INSTANCE_PATH": str(tmp), "SECRET_KEY": "bench-" + "x" * 40})
        init_database(app, demo=True)
        data = make_file("BI")
        floor_seconds = floor(app, data, backend)
        from app.extensions import db, write_intent
        from app.services.users.access import access_for
        from importers.service import import_file

        with app.app_context():
            write_intent.set(True)
            access = access_for(app.appbuilder.sm.find_user(username="admin"))
            started = time.perf_counter()
            outcome = import_file(db.session, access, "item", data, "bench.xlsx")
            db.session.commit()
            import_seconds = time.perf_counter() - started
        assert outcome.applied and outcome.created == ROWS, outcome.summary()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"bench_import [{backend}] {ROWS} item rows, create")
        print(f"  floor (calamine read + bare bulk insert): {floor_seconds:8.2f} s")
        rate = ROWS / import_seconds
        ratio = import_seconds / floor_seconds
        print(f"  import (validate, RecordService, audit):  {import_seconds:8.2f} s  ({rate:,.0f} rows/s)")
        print(f"  ratio: {ratio:.1f}x (target < 3x)   peak RSS: {peak_mb:.0f} MB (target < 500 MB)")
        print(f"RATIO\timport.items.{backend}\t{ratio:.2f}\t3")
        print(f"RATIO\timport.items.{backend}.peak_rss_mb\t{peak_mb:.0f}\t500")
    finally:
        if pg_name:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
