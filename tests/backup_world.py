"""Small databases for the backup tests: a few tables (money, Chinese text, NULLs, bytes), a real Alembic
revision, and a writer that keeps inserting while a backup runs. SQLite files and PostgreSQL databases of
their own, so a restore never touches the suite's shared app."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from app.backups import databases
from app.backups.restore import known_revisions
from app.backups.settings import BackupSettings
from app.config import normalise_database_url

SECRET_NOTE = "机密客户备注-7f3a"  # must never appear in a backup file
KEY = "k" * 40


def head_revision() -> str:
    """The newest Alembic revision this code has."""
    return max(known_revisions())


def settings_for(tmp: Path, **changes: object) -> BackupSettings:
    """Backups of a test database: instance and destination folders under tmp."""
    values: dict[str, object] = {"instance": tmp / "instance", "directory": tmp / "backups", "key_env": KEY}
    values.update(changes)
    return BackupSettings(**values)  # type: ignore[arg-type]


SCHEMA = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
    "CREATE TABLE partner (id INTEGER PRIMARY KEY, code VARCHAR(20), name VARCHAR(100), "
    "credit NUMERIC(18, 2), note TEXT, logo {blob})",
    "CREATE TABLE stock_move (id {serial} PRIMARY KEY, qty NUMERIC(18, 4) NOT NULL, memo VARCHAR(50))",
)


def _fill(execute, blob_type: str, serial: str, revision: str) -> None:  # type: ignore[no-untyped-def]
    for statement in SCHEMA:
        execute(statement.format(blob=blob_type, serial=serial))
    execute(f"INSERT INTO alembic_version VALUES ('{revision}')")
    for n in range(1, 31):
        note = SECRET_NOTE if n == 7 else None
        execute(
            "INSERT INTO partner (id, code, name, credit, note, logo) VALUES "
            f"({n}, 'K{n:03d}', '客户{n}', {n * 1000}.25, {'NULL' if note is None else repr(note)}, NULL)"
        )
    for n in range(1, 21):
        execute(f"INSERT INTO stock_move (qty, memo) VALUES ({n}.5, '初始{n}')")


def sqlite_database(folder: Path, revision: str | None = None) -> str:
    """A SQLite file (WAL, like the app's) with the test tables; its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "jxc.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        _fill(conn.execute, "BLOB", "INTEGER", revision or head_revision())
        conn.commit()
    path.chmod(0o600)
    return f"sqlite:///{path}"


@contextmanager
def pg_database(admin_url: str, revision: str | None = None) -> Iterator[str]:
    """A PostgreSQL database of its own with the test tables; dropped afterwards with what a restore left."""
    name = f"jxcbk_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base = admin_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
        _fill(conn.execute, "BYTEA", "SERIAL", revision or head_revision())
    try:
        yield normalise_database_url(f"{base}/{name}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for (left,) in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (name + "%",)):
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(left)))


def pg_databases_like(admin_url: str, url: str) -> list[str]:
    """Databases named after the test database (a restore's new copy would show up here)."""
    name = databases.make_url(url).database
    with psycopg.connect(admin_url, autocommit=True) as admin:
        rows = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", (name + "%",))
        return [r[0] for r in rows]


def checks(url: str) -> databases.Tables:
    """Per-table row counts and checksums of the live test database."""
    if databases.kind_of(url) == "sqlite":
        with closing(sqlite3.connect(databases.sqlite_path(url))) as conn:
            return databases.sqlite_checksums(conn)
    return databases.pg_read_checks(url)[1]


def count_moves(url: str) -> int:
    """Rows in stock_move."""
    return checks(url)["stock_move"]["rows"]


class Writer(threading.Thread):
    """Inserts stock moves, one transaction each, until stopped (the app writing during a backup)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.written = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            if databases.kind_of(self.url) == "sqlite":
                with closing(sqlite3.connect(databases.sqlite_path(self.url), timeout=30)) as conn:
                    while not self.stop.is_set():
                        conn.execute("INSERT INTO stock_move (qty, memo) VALUES (1.25, '写入中')")
                        conn.commit()
                        self.written += 1
            else:
                with psycopg.connect(**databases.pg_conninfo(self.url), autocommit=True) as conn:
                    while not self.stop.is_set():
                        conn.execute("INSERT INTO stock_move (qty, memo) VALUES (1.25, '写入中')")
                        self.written += 1
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            self.error = exc

    def finish(self) -> int:
        """Stop and return how many rows it wrote."""
        self.stop.set()
        self.join(30)
        assert self.error is None, self.error
        return self.written
