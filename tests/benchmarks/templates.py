"""Databases the benchmarks set up once and copy afterwards: PostgreSQL template databases.

A benchmark's database is set up the first time (`jxc init --demo`, bench_grid's million items ...) and a copy
of it is kept as a template database named by what it is made of; the next run with the same key gets a copy
(CREATE DATABASE ... TEMPLATE: the same rows, indexes and planner statistics) in a fraction of the time.

- demo_database: the demo data (`jxc init --demo`), keyed by the code and metadata of this tree (app/,
  metadata/, reports/, pyproject.toml; a change to any of them makes a new one on the next run).
- bench_grid.database_with_items: the demo data and N generated items, keyed by the schema of the demo
  database and the generator.

JXC_BENCH_FRESH=1 sets every database up afresh (and replaces the templates). Only the newest KEPT templates
of each kind are kept; drop them with `DROP DATABASE` (their names start with jxc_bench_tpl_).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.conftest import PG_URL  # noqa: E402
from tests.servers import jxc_init, mark_initialised  # noqa: E402

PREFIX = "jxc_bench_tpl_"
KEPT = 3  # templates of each kind
FRESH = os.environ.get("JXC_BENCH_FRESH") == "1"
TREE_PARTS = ("app", "metadata", "reports", "pyproject.toml")
SKIPPED = ("__pycache__", "static")  # what the database does not depend on


def url_of(name: str) -> str:
    """The URL of the database `name` on the benchmarks' PostgreSQL server."""
    return f"{PG_URL.rsplit('/', 1)[0]}/{name}"


def tree_key() -> str:
    """A hash of the files of this tree a demo database is made from."""
    digest = hashlib.sha256()
    for part in TREE_PARTS:
        top = ROOT / part
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            relative = path.relative_to(ROOT)
            if not any(s in relative.parts for s in SKIPPED) and path.suffix not in (".pyc", ".mo"):
                digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def from_template(name: str, kind: str, key: str, build: Callable[[str], None], file_copy: bool = False) -> bool:
    """Give the existing database `name` what `build(url)` would: a copy of the template of this kind and key,
    or (none yet, or JXC_BENCH_FRESH) build(url) and keep a copy of the result as that template. True when
    copied. file_copy: copy by files (a checkpoint, then the files: for a large database; else WAL-logged)."""
    template = f"{PREFIX}{kind}_{key}"
    strategy = " STRATEGY FILE_COPY" if file_copy else ""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", [template])  # one build of a template at a time
        try:
            if not FRESH and conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)'.encode())
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}'.encode())
                return True
            build(url_of(name))
            building = f"{template[:55]}_new"
            conn.execute(f'DROP DATABASE IF EXISTS "{building}"'.encode())
            conn.execute(f'CREATE DATABASE "{building}" TEMPLATE "{name}"{strategy}'.encode())
            conn.execute(f'DROP DATABASE IF EXISTS "{template}"'.encode())
            conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"'.encode())
            conn.execute(
                f"COMMENT ON DATABASE \"{template}\" IS 'jxc benchmark template, built {time.time():.0f}'".encode()
            )
            drop_old(conn, f"{PREFIX}{kind}_")
            return False
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [template])


def drop_old(conn: psycopg.Connection, prefix: str) -> None:
    """Drop all but the KEPT most recently built templates whose names start with `prefix`."""
    rows = conn.execute(
        "SELECT datname, coalesce(substring(shobj_description(oid, 'pg_database') from 'built ([0-9]+)'), '0')::bigint"
        " FROM pg_database WHERE starts_with(datname, %s)",
        [prefix],
    ).fetchall()
    for old, _ in sorted(rows, key=lambda r: -r[1])[KEPT:]:
        try:
            conn.execute(f'DROP DATABASE "{old}"'.encode())
        except psycopg.Error as error:  # being copied by another run right now: the next build drops it
            print(f"  template {old} kept: {error}", flush=True)


def demo_database(name: str, instance: Path, log_name: str = "bench-init") -> str:
    """Create the database `name` with the demo data (`jxc init --demo`, or a copy of its template for this
    tree); its URL. tests.servers knows it is initialised (a server started on it runs no `jxc init`)."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    instance.mkdir(parents=True, exist_ok=True)
    from_template(name, "demo", tree_key(), lambda url: jxc_init(url, instance, demo=True, log_name=log_name))
    url = url_of(name)
    mark_initialised(url, demo=True)
    return url
