"""What the spreadsheet benchmarks share: a workbook written fast, the floor an upload of it is measured
against, and a demo app on a scratch database of either backend.

The floor is the least any upload of the file must do: read it (calamine) and bulk-insert its rows into a
bare table of text columns (COPY on PostgreSQL, executemany on SQLite), in the same run on the same rows.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import xlsxwriter

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


@contextmanager
def demo_app(backend: str, prefix: str) -> Iterator[Any]:
    """The app on a new database (`jxc init --demo`: an SQLite file, or a PostgreSQL database named
    `<prefix>_<hex>`), dropped with its instance folder afterwards."""
    os.environ["JXC_ADMIN_PASSWORD"] = PASSWORD
    from app import create_app
    from app.setup import init_database

    instance = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    url = f"sqlite:///{instance / 'jxc.db'}"
    name = None
    if backend == "postgresql":
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    try:
        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench-" + "x" * 40})
        init_database(app, demo=True)
        yield app
    finally:
        if name:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(instance, ignore_errors=True)
