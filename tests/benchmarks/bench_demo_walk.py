"""Every page and API call of the demo: server time against the SQL time of the same request, PostgreSQL.

A fresh demo database (`jxc init --demo`), the app in-process, signed in as admin: pages are walked from
the home page by following the links of each page (a link pattern with ids, /item/edit/<n>, is walked at
most twice), and the API calls are the GET operations of the app's own OpenAPI document, each model's
path parameters filled with every model and a row that exists. Each call is made REPEAT times after one
warm-up; the figures are medians. SQL time is the time between the engine's before/after_cursor_execute
events of the request; CPU is the process's thread time of the request (its Python and the client side of libpq),
the figure to compare two trees by on a loaded machine, where the SQL time is mostly waiting for a core.

Prints per call: status, server ms, SQL ms, CPU ms, statements and server / SQL (issue 19: SQL at least half of the
server time, i.e. at most 2), the worst calls first, and
`RATIO demo.<pages|api>.<median|p90> <value> 2` for the summary of `make bench`.
Run: .venv/bin/python tests/benchmarks/bench_demo_walk.py [--repeat 3] [--max-pages 150] [--all]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.bench_grid import SqlLog, pct  # noqa: E402
from tests.benchmarks.templates import demo_database  # noqa: E402
from tests.conftest import PG_URL, csrf_from  # noqa: E402
from tests.servers import ADMIN_PASSWORD, SECRET_KEY  # noqa: E402

TARGET = 2.0
SKIP = re.compile(
    r"^/(static|logout|appbuilder|swagger|api/v1/_openapi)|/(export|download|delete|logout)\b|\.(xlsx|csv|pdf)$"
)
HREF = re.compile(r'href="([^"#]+)"')


@dataclass
class Call:
    """One walked call: its median server and SQL seconds."""

    kind: str
    path: str
    status: int
    server: float
    sql: float
    statements: int
    cpu: float

    @property
    def ratio(self) -> float:
        """Server time over SQL time."""
        return self.server / max(self.sql, 1e-6)


def pattern(path: str) -> str:
    """A path with its numbers as <n> (one page per record kind is enough)."""
    return re.sub(r"\d+", "<n>", path)


def timed(client: Any, sql: SqlLog, path: str, repeat: int, **kwargs: Any) -> tuple[Any, float, float, int, float]:
    """(last response, median server s, median SQL s, statements, median CPU s) of `repeat` calls after a
    warm-up."""
    response = client.get(path, **kwargs)
    servers, sqls, counts, cpus = [], [], [], []
    for _ in range(repeat):
        sql.reset()
        started, cpu = time.perf_counter(), time.thread_time()
        response = client.get(path, **kwargs)
        servers.append(time.perf_counter() - started)
        cpus.append(time.thread_time() - cpu)
        sqls.append(sql.seconds)
        counts.append(sql.count)
    medians = statistics.median(servers), statistics.median(sqls), int(statistics.median(counts))
    return response, *medians, statistics.median(cpus)


def walk_pages(client: Any, sql: SqlLog, repeat: int, max_pages: int) -> list[Call]:
    """Pages reachable from / by links, each link pattern at most twice."""
    seen: set[str] = set()
    per_pattern: dict[str, int] = {}
    queue = ["/"]
    calls = []
    while queue and len(calls) < max_pages:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        if per_pattern.get(pattern(path), 0) >= 2:
            continue
        per_pattern[pattern(path)] = per_pattern.get(pattern(path), 0) + 1
        response, server, sql_s, count, cpu = timed(client, sql, path, repeat)
        calls.append(Call("page", path, response.status_code, server, sql_s, count, cpu))
        if response.status_code != 200 or "html" not in (response.content_type or ""):
            continue
        for href in HREF.findall(response.get_data(as_text=True)):
            url = urlparse(urljoin(path, href.replace("&amp;", "&")))
            if url.netloc or not url.path.startswith("/") or SKIP.search(url.path):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if target not in seen:
                queue.append(target)
    return calls


def first_ids(client: Any, headers: dict[str, str], models: list[str]) -> dict[str, int]:
    """A row id of each model that has rows (for {pk} parameters)."""
    ids = {}
    for key in models:
        body = client.get(f"/api/v1/grid/{key}/rows?page=1&size=1", headers=headers).get_json() or {}
        if body.get("data"):
            ids[key] = body["data"][0]["id"]
    return ids


def api_paths(spec: dict[str, Any], models: list[str], ids: dict[str, int]) -> list[str]:
    """The GET paths of the OpenAPI document with their parameters filled (those that can be)."""
    out = []
    for path, operations in sorted(spec.get("paths", {}).items()):
        if "get" not in operations or SKIP.search(path):
            continue
        names = re.findall(r"{(\w+)}", path)
        if not names:
            out.append(path)
            continue
        resource = path.split("/")[3] if path.count("/") >= 3 else ""
        if names == ["model_key"]:
            out += [path.replace("{model_key}", key) for key in models if key in ids or "rows" in path]
        elif names == ["pk"] and resource in ids:
            out.append(path.replace("{pk}", str(ids[resource])))
        elif names == ["model_key", "pk"]:
            out += [path.replace("{model_key}", k).replace("{pk}", str(ids[k])) for k in models if k in ids]
    return out


def main() -> None:
    """Fresh demo database, walk it, print the figures, drop it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-pages", type=int, default=150)
    parser.add_argument("--all", action="store_true", help="print every call, not only the worst 40")
    args = parser.parse_args()
    name = f"jxc_benchwalk_{uuid.uuid4().hex[:8]}"
    instance = Path(tempfile.mkdtemp(prefix="jxc-benchwalk-"))
    app = None
    try:
        url = demo_database(name, instance, "benchwalk-init")
        from sqlalchemy import event

        from app import create_app
        from app.extensions import registry

        app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "SECRET_KEY": SECRET_KEY})
        sql = SqlLog()
        with app.app_context():
            from app.extensions import db

            event.listen(db.engine, "before_cursor_execute", sql.before)
            event.listen(db.engine, "after_cursor_execute", sql.after)
            models = sorted(registry().meta.models)
        web = app.test_client()
        token = csrf_from(web.get("/login/").get_data(as_text=True))
        signed = web.post("/login/", data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token})
        assert signed.status_code in (302, 303), signed.get_data(as_text=True)[:300]
        api = app.test_client()
        login = api.post(
            "/api/v1/security/login", json={"username": "admin", "password": ADMIN_PASSWORD, "provider": "db"}
        )
        headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
        started = time.perf_counter()
        pages = walk_pages(web, sql, args.repeat, args.max_pages)
        spec = api.get("/api/v1/_openapi", headers=headers).get_json()
        ids = first_ids(api, headers, models)
        calls = []
        for path in api_paths(spec, models, ids):
            response, server, sql_s, count, cpu = timed(api, sql, path, args.repeat, headers=headers)
            calls.append(Call("api", path, response.status_code, server, sql_s, count, cpu))
        walked = time.perf_counter() - started
    finally:
        if app is not None:
            with app.app_context():
                from app.extensions import db

                db.engine.dispose()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(instance, ignore_errors=True)
    report(pages, calls, walked, args.all)


def report(pages: list[Call], calls: list[Call], walked: float, everything: bool) -> None:
    """The worst calls first, then a line per group and the RATIO lines."""
    print(f"\ndemo walk: {len(pages)} pages and {len(calls)} API calls in {walked:.0f} s (medians of repeats)")
    print(f"  {'kind':4} {'status':>6} {'server ms':>9} {'sql ms':>7} {'cpu ms':>6} {'stmts':>5} {'srv/sql':>7}  path")
    shown = sorted(pages + calls, key=lambda c: -c.ratio)
    for call in shown if everything else shown[:40]:
        print(
            f"  {call.kind:4} {call.status:>6} {call.server * 1000:9.1f} {call.sql * 1000:7.1f} {call.cpu * 1000:6.1f}"
            f" {call.statements:>5}"
            f" {call.ratio:7.2f}  {call.path[:110]}"
        )
    for kind, group in (("pages", pages), ("api", calls)):
        ok = [c for c in group if c.status < 400]
        if not ok:
            continue
        ratios = [c.ratio for c in ok]
        over = sum(1 for r in ratios if r > TARGET)
        errors = len(group) - len(ok)
        print(
            f"  {kind}: {len(ok)} answered ({errors} 4xx/5xx left out),"
            f" server/SQL median {statistics.median(ratios):.2f},"
            f" p90 {pct(ratios, 0.9):.2f}, worst {max(ratios):.2f}; {over} over {TARGET:g}"
        )
        print(
            f"  {kind} summed: server {sum(c.server for c in ok) * 1000:.0f} ms,"
            f" SQL {sum(c.sql for c in ok) * 1000:.0f}, CPU {sum(c.cpu for c in ok) * 1000:.0f},"
            f" statements {sum(c.statements for c in ok)}"
        )
        print(f"RATIO\tdemo.{kind}.median\t{statistics.median(ratios):.2f}\t{TARGET:g}")
        print(f"RATIO\tdemo.{kind}.p90\t{pct(ratios, 0.9):.2f}\t{TARGET:g}")


if __name__ == "__main__":
    main()
