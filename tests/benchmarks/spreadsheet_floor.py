"""What the spreadsheet benchmarks share: a workbook written fast, the floor an upload of it is measured
against, and a demo app on a scratch database of either backend.

The floor is the least any upload of the file must do: read it (calamine) and bulk-insert its rows (COPY on
PostgreSQL, executemany on SQLite), in the same run on the same rows: into a bare table of text columns
(`floor_seconds`), or into a copy of the table they go to with every index and foreign key it has
(`indexed_floor_seconds`, the item import's floor: they are the schema's cost, paid by any writer of those rows).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import xlsxwriter

from tests.benchmarks.templates import demo_database
from tests.conftest import PASSWORD, PG_URL


def xlsx(rows: Iterator[list[Any]] | list[list[Any]]) -> bytes:
    """A one-sheet workbook of these rows (xlsxwriter's constant-memory mode)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet()
    for n, row in enumerate(rows):
        sheet.write_row(n, 0, row)
    book.close()
    return out.getvalue()


def floor_seconds(app: Any, data: bytes, backend: str) -> float:
    """Seconds to read the workbook and bulk-insert its rows (below the header) into a scratch table."""
    from python_calamine import CalamineWorkbook

    from app.extensions import db

    started = time.perf_counter()
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()[1:]
    width = max((len(row) for row in rows), default=1)
    values = [tuple(str(v) for v in row) + ("",) * (width - len(row)) for row in rows]
    with app.app_context():
        conn = db.engine.raw_connection()
        cur = conn.cursor()
        cur.execute(f"CREATE TABLE bench_floor ({', '.join(f'c{n} text' for n in range(width))})")
        if backend == "postgresql":
            with cur.copy("COPY bench_floor FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:  # in one transaction: the app's SQLite connections autocommit each statement unless BEGIN is sent
            cur.execute("BEGIN")
            cur.executemany(f"INSERT INTO bench_floor VALUES ({', '.join('?' * width)})", values)
        conn.commit()
        elapsed = time.perf_counter() - started
        cur.execute("DROP TABLE bench_floor")
        conn.commit()
        conn.close()
    return elapsed


def indexed_floor_seconds(
    app: Any, data: bytes, backend: str, table: str, columns: list[str], to_row: Callable[[int, list[Any]], tuple]
) -> tuple[float, int]:
    """`floor_seconds` into a copy of `table` with every index and foreign key it has (what the schema's own
    indexes and constraints cost a bare bulk insert of the same rows: the floor of an import into `table`; on
    SQLite the copy is made from the table's own CREATE statements, on PostgreSQL by LIKE and the foreign keys
    added), and how many indexes the copy has (its primary key's too). `to_row(n, cells)` gives the values of
    `columns`."""
    from python_calamine import CalamineWorkbook

    from app.extensions import db

    copy_name = f"bench_{table}_indexed"
    with app.app_context():
        conn = db.engine.raw_connection()
        cur = conn.cursor()
        if backend == "postgresql":  # its indexes, checks and foreign keys (LIKE copies no foreign key)
            cur.execute(f"CREATE TABLE {copy_name} (LIKE {table} INCLUDING INDEXES INCLUDING CONSTRAINTS)")
            cur.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                (table,),
            )
            for (definition,) in cur.fetchall():
                cur.execute(f"ALTER TABLE {copy_name} ADD {definition}")
        else:  # the table's own CREATE statements (its INTEGER PRIMARY KEY, every index), renamed
            found = cur.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL", (table,))
            for name, sql in sorted(found.fetchall(), key=lambda r: r[0] != table):
                renamed = re.sub(rf'\b(TABLE|ON) "?{table}"? ', rf"\1 {copy_name} ", sql, count=1)
                if name != table:
                    renamed = re.sub(rf'\bINDEX "?{name}"? ', f"INDEX {copy_name}_{name} ", renamed, count=1)
                cur.execute(renamed)
        if backend == "postgresql":
            cur.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", (copy_name,))
        else:  # and its INTEGER PRIMARY KEY, the table's own b-tree
            cur.execute("SELECT count(*) + 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (copy_name,))
        indexes = cur.fetchone()[0]
        conn.commit()
        started = time.perf_counter()
        cells = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()[1:]
        values = [to_row(n, row) for n, row in enumerate(cells, start=1)]
        quoted = ", ".join(columns)
        if backend == "postgresql":
            with cur.copy(f"COPY {copy_name} ({quoted}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            cur.execute("BEGIN")
            cur.executemany(f"INSERT INTO {copy_name} ({quoted}) VALUES ({', '.join('?' * len(columns))})", values)
        conn.commit()
        elapsed = time.perf_counter() - started
        cur.execute(f"DROP TABLE {copy_name}")
        conn.commit()
        conn.close()
    return elapsed, indexes


@contextmanager
def demo_app(backend: str, prefix: str) -> Iterator[Any]:
    """The app on a new database (`jxc init --demo`: an SQLite file, or a PostgreSQL database named
    `<prefix>_<hex>`), dropped with its instance folder afterwards."""
    os.environ["JXC_ADMIN_PASSWORD"] = PASSWORD
    from app import create_app
    from app.setup import init_database

    instance = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    url = f"sqlite:///{instance / 'jxc.db'}"
    name = f"{prefix}_{uuid.uuid4().hex[:8]}" if backend == "postgresql" else None
    try:
        if name:  # the demo data: a copy of its template (templates.py)
            url = demo_database(name, instance)
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench-" + "x" * 40})
        if not name:
            init_database(app, demo=True)
        yield app
    finally:
        if name:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(instance, ignore_errors=True)
