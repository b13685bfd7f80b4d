"""Consistent copies of the database in and out, for SQLite and PostgreSQL, and what the manifest checks.

SQLite: the online backup API copies the live file into memory in one read transaction (the app keeps
writing meanwhile, in WAL mode), the copy is counted and checksummed, then serialised into the encryptor.
A restore deserialises into memory, checks, and copies into a new file beside the live one.

PostgreSQL: a REPEATABLE READ transaction exports its snapshot; the checksums are read in it and
`pg_dump -Fc --snapshot` dumps that same snapshot into the encryptor through a pipe. A restore creates a
new database, streams the decrypted dump into `pg_restore`, and checks it there.

Per-table checksums: each row's text is hashed, the hashes sorted and hashed again, so the order rows
come back in does not matter and the same data gives the same checksum on the copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

Tables = dict[str, dict[str, Any]]
PIPE_CHUNK = 256 * 1024


class DumpFailed(Exception):
    """pg_dump or pg_restore failed (their own message), or the copy does not match its manifest."""


@dataclass(frozen=True)
class Url:
    """The parts of a database URL a backup needs (parsed without importing SQLAlchemy: `jxc backup` starts
    faster without it)."""

    backend: str
    database: str | None
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None


def make_url(url: str) -> Url:
    """sqlite:///path, postgresql[+driver]://user:password@host:port/database."""
    parts = urlsplit(url)
    backend = parts.scheme.split("+")[0]
    if backend == "sqlite":
        return Url("sqlite", unquote(parts.path[1:]) if parts.path.startswith("/") else None)
    return Url(
        backend,
        unquote(parts.path.lstrip("/")) or None,
        parts.hostname,
        parts.port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def kind_of(url: str) -> str:
    """'sqlite' or 'postgresql'."""
    backend = make_url(url).backend
    if backend not in ("sqlite", "postgresql"):
        raise DumpFailed(f"unsupported database {backend}")
    return backend


# ---- SQLite ---------------------------------------------------------------------------------------------


def exists(url: str) -> bool:
    """Whether the database at `url` is there (a restore onto a new machine finds none: nothing to keep first)."""
    if kind_of(url) == "sqlite":
        return sqlite_path(url).exists()
    with pg_admin(url) as admin:
        return _pg_has(admin, make_url(url).database)


def _pg_has(admin: psycopg.Connection, name: str) -> bool:
    return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def sqlite_path(url: str) -> Path:
    """The file of a sqlite:/// URL."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise DumpFailed("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1")
    return [r[0] for r in rows]


def sqlite_checksums(conn: sqlite3.Connection) -> Tables:
    """{table: {rows, checksum}} of every table of a SQLite connection."""
    out: Tables = {}
    for table in _sqlite_tables(conn):
        hashes = sorted(
            hashlib.sha256(repr(row).encode("utf-8")).digest()
            for row in conn.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - a name read from sqlite_master
        )
        out[table] = {"rows": len(hashes), "checksum": hashlib.sha256(b"".join(hashes)).hexdigest()}
    return out


def sqlite_schema(conn: sqlite3.Connection) -> str | None:
    """The Alembic revision the database is at (None before the first `jxc init`)."""
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def sqlite_copy(url: str) -> sqlite3.Connection:
    """An in-memory copy of the live SQLite file, taken in one read transaction (writers go on)."""
    path = sqlite_path(url)
    if not path.exists():
        raise DumpFailed(f"no database at {path}")
    memory = sqlite3.connect(":memory:", check_same_thread=False)
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as source:
        source.execute("PRAGMA busy_timeout=30000")
        source.backup(memory)  # pages=-1: every page in one step, one consistent read
    return memory


def sqlite_dump(url: str, start: Callable[[str | None, Tables], None], out: Any) -> None:
    """Copy, call start(schema, tables) (it writes the manifest), then write the serialised database."""
    memory = sqlite_copy(url)
    try:
        start(sqlite_schema(memory), sqlite_checksums(memory))
        data = memory.serialize()
        for offset in range(0, len(data), PIPE_CHUNK):
            out.write(data[offset : offset + PIPE_CHUNK])
    finally:
        memory.close()


def sqlite_load(data: bytes) -> sqlite3.Connection:
    """A database serialised by sqlite_dump, opened in memory (nothing on disk)."""
    memory = sqlite3.connect(":memory:", check_same_thread=False)
    if data[18:20] == b"\x02\x02":  # a copy of a WAL database: memory cannot open it in WAL mode
        data = data[:18] + b"\x01\x01" + data[20:]
    try:
        memory.deserialize(data)
        result = memory.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        memory.close()
        raise DumpFailed(f"not a SQLite database ({exc})") from exc
    if not result or result[0] != "ok":
        memory.close()
        raise DumpFailed(f"integrity check: {result}")
    return memory


def sqlite_write(memory: sqlite3.Connection, target: Path) -> None:
    """Write the in-memory database to a new file `target` (0600), complete and synced."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    with closing(sqlite3.connect(target)) as dest:
        memory.backup(dest)
        dest.execute("PRAGMA journal_mode=WAL")
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sqlite_switch(new: Path, live: Path) -> None:
    """Put the restored file in place of the live one (the app is in maintenance, its connections closed).

    The live database's write-ahead log is checkpointed into it first: a -wal left beside the new file
    would be replayed into it."""
    if live.exists():
        with closing(sqlite3.connect(live, timeout=30)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        Path(str(live) + suffix).unlink(missing_ok=True)
    os.replace(new, live)


# ---- PostgreSQL -----------------------------------------------------------------------------------------


def pg_binary(name: str) -> str:
    """pg_dump / pg_restore: on PATH, else the newest /usr/lib/postgresql/<version>/bin (Debian's layout)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return candidates[-1]
    raise DumpFailed(f"{name} not found: install the PostgreSQL client (apt-get install postgresql-client)")


def pg_conninfo(url: str, database: str | None = None) -> dict[str, Any]:
    """psycopg connection arguments for a SQLAlchemy URL (optionally another database on the same server)."""
    parsed = make_url(url)
    args: dict[str, Any] = {"dbname": database or parsed.database}
    for key, value in (("host", parsed.host), ("port", parsed.port), ("user", parsed.username)):
        if value:
            args[key] = value
    if parsed.password:
        args["password"] = parsed.password
    return args


def pg_env(url: str, database: str | None = None) -> dict[str, str]:
    """Environment for pg_dump / pg_restore: the password goes there, never on the command line."""
    env = dict(os.environ)
    names = {"dbname": "PGDATABASE", "host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD"}
    for key, value in pg_conninfo(url, database).items():
        env[names[key]] = str(value)
    return env


def pg_checksums(conn: psycopg.Connection) -> Tables:
    """{table: {rows, checksum}} of every table in the public schema, in the connection's snapshot."""
    out: Tables = {}
    tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()
    for (table,) in tables:
        query = sql.SQL(
            "SELECT count(*), coalesce(string_agg(h, '' ORDER BY h), '') "
            "FROM (SELECT md5(t::text) AS h FROM {} t) hashed"
        ).format(sql.Identifier("public", table))
        count, joined = conn.execute(query).fetchone()  # type: ignore[misc]
        out[table] = {"rows": count, "checksum": hashlib.sha256(joined.encode("ascii")).hexdigest()}
    return out


def pg_schema(conn: psycopg.Connection) -> str | None:
    """The Alembic revision the database is at."""
    found = conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()
    if not found or found[0] is None:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _pump(source: Any, sink: Any, errors: list[BaseException]) -> None:
    try:
        while chunk := source.read(PIPE_CHUNK):
            sink.write(chunk)
    except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
        errors.append(exc)


def pg_dump(url: str, start: Callable[[str | None, Tables], None], out: Any) -> None:
    """Checksums and pg_dump -Fc of one exported snapshot, the dump streamed into `out`."""
    with psycopg.connect(**pg_conninfo(url)) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()  # type: ignore[misc]
        start(pg_schema(conn), pg_checksums(conn))
        command = [pg_binary("pg_dump"), "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
        with subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=pg_env(url)
        ) as process:
            assert process.stdout is not None and process.stderr is not None
            errors: list[BaseException] = []
            stderr: list[bytes] = []
            reader = threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
            reader.start()
            _pump(process.stdout, out, errors)
            if errors:
                process.kill()
            code = process.wait()
            reader.join()
        conn.rollback()
    if errors:
        raise errors[0]
    if code != 0:
        raise DumpFailed(f"pg_dump: {b''.join(stderr).decode(errors='replace').strip()}")


def pg_admin(url: str) -> psycopg.Connection:
    """An autocommit connection to the server's maintenance database (to create, rename, drop databases)."""
    return psycopg.connect(**pg_conninfo(url, "postgres"), autocommit=True)


def pg_create(url: str, name: str) -> None:
    """Create an empty database `name` beside the live one."""
    with pg_admin(url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))


def pg_drop(url: str, name: str) -> None:
    """Drop database `name` (ending what is connected to it)."""
    with pg_admin(url) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def pg_restore(url: str, name: str, chunks: Iterable[bytes]) -> None:
    """Stream a custom-format dump into database `name` with pg_restore (stops at its first error)."""
    command = [pg_binary("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "-d", name]
    with subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=pg_env(url, name),
    ) as process:
        assert process.stdin is not None and process.stderr is not None
        stderr: list[bytes] = []
        reader = threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        try:
            for chunk in chunks:
                process.stdin.write(chunk)
            process.stdin.close()
        except BrokenPipeError:
            pass
        except BaseException:
            process.kill()
            process.wait()
            reader.join()
            raise
        code = process.wait()
        reader.join()
    if code != 0:
        raise DumpFailed(f"pg_restore: {b''.join(stderr).decode(errors='replace').strip()[-2000:]}")


def pg_read_checks(url: str, name: str | None = None) -> tuple[str | None, Tables]:
    """(schema, checksums) of the live database or of database `name` on the same server."""
    with psycopg.connect(**pg_conninfo(url, name)) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return pg_schema(conn), pg_checksums(conn)


def _rename_live(admin: psycopg.Connection, live: str, old: str) -> None:
    """Rename the live database to `old`, ending its sessions first (a terminated backend takes a moment to go)."""
    for attempt in range(50):
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (live,),
        )
        try:
            admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(live), sql.Identifier(old)))
            return
        except psycopg.errors.ObjectInUse:
            if attempt == 49:
                raise
            time.sleep(0.1)


def pg_switch(url: str, new: str, old: str) -> None:
    """Rename the live database to `old` (when there is one) and `new` to the live name (the app is in
    maintenance)."""
    live = make_url(url).database
    with pg_admin(url) as admin:
        if _pg_has(admin, live):
            _rename_live(admin, live, old)
        admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(new), sql.Identifier(live)))
