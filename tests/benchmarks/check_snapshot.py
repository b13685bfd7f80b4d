"""What the copy an import's check runs against costs on SQLite (app/services/records/snapshot.py), by database size.

The demo database (`jxc init --demo`), grown to each size in JXC_SNAPSHOT_MB (default "50,200,500") by
copies of its own history rows (audit_log, stock_move: what grows in a business's database), then, at each size,
JXC_BENCH_ROUNDS (3) rounds of:

- the copy alone (`snapshot`: sqlite3's backup API into a new file), wall and CPU time, while another connection
  writes (BEGIN IMMEDIATE, an insert, COMMIT) every 50 ms: the longest such write, to show the copy stops no writer;
- a check of a 200-item file through `import_file(dry_run=True)` (the copy, the check on it, the copy deleted).

Prints the load (`uptime`) before and after. Not part of `make bench` (no ratio to gate).

Run: .venv/bin/python tests/benchmarks/check_snapshot.py
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.benchmarks.spreadsheet_floor import demo_app  # noqa: E402

SIZES = [int(mb) for mb in os.environ.get("JXC_SNAPSHOT_MB", "50,200,500").split(",")]
ROUNDS = int(os.environ.get("JXC_BENCH_ROUNDS", "3"))


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def grow(path: str, megabytes: int) -> None:
    """Copy the history rows (jxc_audit, stock_move with new move keys) until the file is `megabytes` large."""
    with sqlite3.connect(path) as conn:
        while os.path.getsize(path) < megabytes * 1024 * 1024:
            conn.execute(
                "INSERT INTO jxc_audit (at, user_id, username, model, record_id, action, before, after, request_id) "
                "SELECT at, user_id, username, model, record_id, action, before, after, request_id FROM jxc_audit "
                "LIMIT 200000"
            )
            columns = [r[1] for r in conn.execute("PRAGMA table_info(stock_move)") if r[1] not in ("id", "move_key")]
            names = ", ".join(columns)
            conn.execute(
                f"INSERT INTO stock_move ({names}, move_key) SELECT {names}, move_key || ':' || "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 0) FROM stock_move) || ':' || id FROM stock_move LIMIT 100000"
            )
            conn.commit()
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def writer_waits(path: str, stop: threading.Event, waits: list[float]) -> None:
    """Another clerk's writes, one every 50 ms: how long each took."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS bench_writes (n INTEGER)")
    try:
        while not stop.is_set():
            start = time.monotonic()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO bench_writes (n) VALUES (1)")
            conn.execute("COMMIT")
            waits.append(time.monotonic() - start)
            time.sleep(0.05)
    finally:
        conn.close()


def main() -> None:
    from app.extensions import db
    from app.services.records.snapshot import snapshot
    from app.services.users.access import access_for
    from importers.service import import_file
    from tests.test_imports import workbook

    print(f"load {load()}")
    with demo_app("sqlite", "jxc-snapshot") as app, app.app_context():
        path = db.engine.url.database
        rows = [["sku", "name", "unit"]] + [[f"SNAP-{n:05d}", f"快照测试 {n}", "PCS"] for n in range(200)]
        data = workbook(rows)
        for megabytes in SIZES:
            grow(path, megabytes)
            size = os.path.getsize(path) / 1024 / 1024
            for _ in range(ROUNDS):
                waits: list[float] = []
                stop = threading.Event()
                other = threading.Thread(target=writer_waits, args=(path, stop, waits))
                other.start()
                time.sleep(0.2)
                with tempfile.TemporaryDirectory() as folder:
                    wall, cpu = time.monotonic(), time.process_time()
                    snapshot(path, Path(folder) / "copy.db")
                    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
                time.sleep(0.2)
                stop.set()
                other.join()
                access = access_for(app.appbuilder.sm.find_user(username="admin"))
                start = time.monotonic()
                outcome = import_file(db.session, access, "item", data, "snap.xlsx", dry_run=True)
                check = time.monotonic() - start
                db.session.rollback()
                assert outcome.created == 200 and not outcome.issues, outcome.summary()
                print(
                    f"{size:7.0f} MB  copy {wall:6.2f} s wall, {cpu:5.2f} s CPU  "
                    f"longest other write meanwhile {max(waits) * 1000:6.1f} ms ({len(waits)} writes)  "
                    f"check of 200 rows with its copy {check:6.2f} s  load {load()}"
                )


if __name__ == "__main__":
    main()
