"""Where a check runs: the one write path, rolled back at its end, without stopping anyone else's writes.

An import's check (docs/imports.md, "Jobs, API and the errors workbook") writes the file's good rows through
RecordService (and posts its documents) to find every error the import would, then rolls it all back. On SQLite
any write takes the database's one write lock until the transaction ends: a check of a big file held it for the
whole check, and every other clerk's save waited and failed after the busy timeout. So on SQLite the check runs
against a copy of the database taken as it starts (sqlite3's backup API: one read transaction, which in WAL mode
no writer waits for), in a session of its own, and the copy is deleted when the check ends. The check sees the
database as it was when it began, as a transaction would; what it writes never reaches the live file.

On PostgreSQL the check runs in the caller's session: rows lock one by one there, and the check takes none that
others' postings need (the posting's stock side values in memory, `StockWriter(carry=...)`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from app.errors import ServiceError
from app.extensions import install_sqlite_behaviour
from app.i18n import t
from app.instance_files import private_folder
from app.processes import pid_gone

# a copy older than this belongs to no running check (a check job is stopped after 3 hours); one whose process is gone
# (killed, the machine restarted: its name says the process) is deleted by the next check at once
STALE_SECONDS = 4 * 3600
MB = 1024 * 1024


class NoRoomToCheck(ServiceError):
    """507: the disk has no room for the check's copy of the database beside what it must keep free (the live
    database's own growth): the check is refused, said plainly, before anything is copied."""

    status = 507


@contextmanager
def checked_apart(session: Session) -> Iterator[Session]:
    """The session a check runs in: on SQLite one on a copy of the database taken now (deleted at the end), on
    PostgreSQL `session` itself. Whatever the check leaves in it is the caller's to roll back (PostgreSQL) or goes
    with the copy (SQLite)."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or not bind.url.database or bind.url.database == ":memory:":
        yield session
        return
    folder = private_folder("checks")
    _sweep(folder)
    _room_for(bind.url.database, folder)
    # 0600, in the owner-only folder, named by the process that uses it (`_sweep`)
    fd, name = tempfile.mkstemp(prefix=f"check-{os.getpid()}-", suffix=".db", dir=folder)
    os.close(fd)
    copy = Path(name)
    engine = None
    try:
        snapshot(bind.url.database, copy)
        engine = create_engine(f"sqlite:///{copy}", poolclass=StaticPool, connect_args={"check_same_thread": False})
        install_sqlite_behaviour(engine, throwaway=True)
        apart = Session(bind=engine)
        try:
            yield apart
        finally:
            apart.rollback()
            apart.close()
    finally:
        if engine is not None:
            engine.dispose()
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)


def snapshot(database: str, target: Path) -> None:
    """Copy the live SQLite file into `target` in one read transaction (WAL: writers go on meanwhile)."""
    with (
        closing(sqlite3.connect(f"{Path(database).resolve().as_uri()}?mode=ro", uri=True, timeout=30)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)  # pages=-1: every page in one step, one consistent read


def _room_for(database: str, folder: Path) -> None:
    """Refuse the check (NoRoomToCheck) when its copy, the size of the database and its write-ahead log, would leave
    the disk less free than `JXC_CHECK_KEEP_FREE_MB`: a copy that fills the disk stops every other writer of the
    live database (SQLITE_FULL) until it is deleted, and ended the check with a bare OperationalError."""
    size = sum(path.stat().st_size for path in (Path(database), Path(f"{database}-wal")) if path.exists())
    free = shutil.disk_usage(folder).free
    keep = int(current_app.config["JXC_CHECK_KEEP_FREE_MB"]) * MB
    if free - size < keep:
        raise NoRoomToCheck(t("imports.check_no_room", size=-(-size // MB), free=free // MB, keep=keep // MB))


def _sweep(folder: Path) -> None:
    """Delete copies no running check can still be using: their process is gone, or they are older than any check."""
    now = time.time()
    for path in folder.glob("check-*"):
        owner = path.name.split("-")[1]
        try:
            if (owner.isdigit() and pid_gone(int(owner))) or now - path.stat().st_mtime > STALE_SECONDS:
                path.unlink(missing_ok=True)
        except OSError:
            continue
