"""Fixtures: one app per database backend (SQLite and PostgreSQL), users of every role, API clients.

The suite needs PostgreSQL and Redis; when either is down it stops at once and says how to start it.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from tests.servers import DEMO_TEMPLATE_ENV, copy_sqlite

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "secret-pass-1"
ROLES = ("admin", "manager", "clerk", "purchaser", "salesperson", "warehouse", "finance")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

START_PG = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'
_demo_template_key = pytest.StashKey[str]()
TEST_PASSWORD_HASH = "scrypt:4096:8:1"  # an eighth of the default's cost (tests/test_sign_in.py checks the default)


def pytest_configure(config: pytest.Config) -> None:
    """The run's first process makes the folder where the first SQLite demo database is kept for the others
    (tests/servers.py copies it instead of loading the demo again), and the first build of the session's app
    database per backend (`app_from_template`; its PostgreSQL template database is dropped at the end);
    pytest-xdist's processes inherit it, and
    a cheaper password hash (`JXC_PASSWORD_HASH`; the suite signs in thousands of times, 0.1 s each at the
    default cost), as do the servers and commands the tests start. The commands speak the product's language
    whatever the shell's locale (`JXC_LANG`, which an English LANG would otherwise turn; tests/test_cli.py sets
    its own)."""
    os.environ.setdefault("JXC_PASSWORD_HASH", TEST_PASSWORD_HASH)
    os.environ["JXC_LANG"] = "zh"
    if DEMO_TEMPLATE_ENV not in os.environ:
        config.stash[_demo_template_key] = os.environ[DEMO_TEMPLATE_ENV] = tempfile.mkdtemp(prefix="jxc-demo-")


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_demo_template_key, None)
    if folder is not None:
        with suppress(psycopg.Error), psycopg.connect(_pg_admin_url(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{app_template_database(folder)}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(DEMO_TEMPLATE_ENV, None)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to run without the real services rather than skip their tests silently."""
    try:
        psycopg.connect(PG_URL, connect_timeout=5).close()
    except psycopg.Error as exc:
        pytest.exit(
            f"PostgreSQL is not reachable at {PG_URL} ({exc}).\nStart it with: {START_PG}\n"
            "or point TEST_DATABASE_URL at a server.",
            returncode=3,
        )
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        pytest.exit(
            f"Redis is not reachable at {REDIS_URL} ({exc}).\nStart it with: {START_REDIS}\n"
            "or point REDIS_URL at a server.",
            returncode=3,
        )


def _backend_of(item: pytest.Item) -> str | None:
    """The backend of an item that uses the session's app (the `backend` fixture), None for any other item (a
    module's own `backend` parameter included)."""
    definitions = item._fixtureinfo.name2fixturedefs.get("backend")  # type: ignore[attr-defined]
    if not definitions or definitions[-1].scope != "session":
        return None
    return item.callspec.params["backend"]  # type: ignore[attr-defined, no-any-return]


def _sets_up_per_module(item: pytest.Item) -> bool:
    """Marked `slow` (the module or the test), or using a fixture set up once per module (a server, Chromium):
    set up again by every process that runs one of the module's tests."""
    if item.get_closest_marker("slow") is not None:
        return True
    definitions = item._fixtureinfo.name2fixturedefs.values()  # type: ignore[attr-defined]
    return any(found and found[-1].scope in ("package", "module", "class") for found in definitions)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order `make test` runs in: pytest-xdist's worksteal gives the first process the first half of this
    list and the second process the second half, and a process that runs out takes the second half of what the
    other has left. So: first the modules that set up a server or Chromium (a module split between the processes
    sets it up in both), slow ones first; then the SQLite tests; then the tests that need no app; the PostgreSQL
    tests last, so a process starts each backend's app once at most (unless the tests it takes at the end switch
    back). Within each part the slow modules come first,
    and a module's items stay together (the param order pytest chose within a backend is kept)."""
    per_module = {item.module for item in items if _sets_up_per_module(item)}  # type: ignore[attr-defined]
    slow = {item.module for item in items if item.get_closest_marker("slow") is not None}  # type: ignore[attr-defined]

    def part(item: pytest.Item) -> int:
        backend = _backend_of(item)
        if backend is None:
            return 0 if item.module in per_module else 2  # type: ignore[attr-defined]
        return 1 if backend == "sqlite" else 3

    items.sort(key=lambda item: (part(item), item.module not in slow))  # type: ignore[attr-defined]


def _pg_admin_url() -> str:
    return PG_URL


def create_pg_database(conn: psycopg.Connection[Any], name: str, template: str | None = None) -> None:
    """CREATE DATABASE `name` (a copy of `template`) whose commits do not wait for the disk
    (`synchronous_commit = off`, which CREATE DATABASE does not copy): 15 ms a commit on a busy machine here, 1 ms
    without the wait, and the suite commits tens of thousands of times. A commit is seen by every other connection
    at once either way; what a crash of PostgreSQL itself (no test makes one) may lose is the last moment's."""
    conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"jxc_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        create_pg_database(conn, name)
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Backend:
    """Where one test app keeps its data."""

    name: str
    url: str
    instance: Path


def make_backend(name: str, tmp: Path, pg: str) -> Backend:
    """A backend description for 'sqlite' or 'postgresql'."""
    instance = tmp / f"instance-{name}"
    instance.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{instance / 'jxc.db'}" if name == "sqlite" else pg
    return Backend(name, url, instance)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """Every test that uses the app runs on SQLite and on PostgreSQL.

    Each time pytest sets this up it gets new storage, which the `app` fixture fills with a copy of the run's
    app database: a run whose order switches between the two backends (`-p no:cacheprovider --lf`...) starts
    the app again on a new copy.
    """
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        yield make_backend("sqlite", tmp, "")
        return
    with fresh_pg_database() as url:
        yield make_backend("postgresql", tmp, url)


def start_app(backend: Backend) -> Any:
    """The app on `backend`'s database as it is now, with the suite's settings."""
    from app import create_app

    os.environ["JXC_ADMIN_PASSWORD"] = PASSWORD
    app = create_app(
        {
            "DATABASE_URL": backend.url,
            "INSTANCE_PATH": str(backend.instance),
            "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        }
    )
    app.config["JXC_BACKEND"] = backend.name
    return app


def build_app(backend: Backend) -> Any:
    """A fully initialised app with demo data and one user per role."""
    from app.setup import init_database

    app = start_app(backend)
    init_database(app, demo=True)
    with app.app_context():
        from flask_appbuilder.security.sqla.models import User
        from sqlalchemy import select

        from app.extensions import db, registry
        from app.services.users.accounts import create_user

        for role in ROLES[1:]:  # each with an address but the warehouse keeper (a user without one)
            email = None if role == "warehouse" else f"u_{role}@example.com"
            create_user(f"u_{role}", role, PASSWORD, email=email, warehouses=["WH01"] if role == "warehouse" else None)
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        admin.email = "admin@example.com"  # `jxc init` makes the admin without one
        reg = registry()
        partner = reg.cls("partner")
        salesperson = app.appbuilder.sm.find_user(username="u_salesperson")
        db.session.query(partner).filter(partner.code.in_(["K001", "K002"])).update(
            {partner.owner_id: salesperson.id}, synchronize_session=False
        )
        # K001 is every test's default customer: without a credit limit, what other tests delivered to it
        # never refuses a test's delivery (credit-limit tests make customers of their own)
        db.session.query(partner).filter(partner.code == "K001").update(
            {partner.credit_limit: None}, synchronize_session=False
        )
        # tests move the clock: the schedules metadata/schedules.yaml ships (a nightly backup, the daily
        # alerts) would run inside any test that ticks; tests make the schedules they run
        from app.schedules.tables import schedule

        db.session.execute(schedule.update().where(schedule.c.source == "yaml").values(active=False))
        db.session.commit()
    return app


def stop_app(app: Any) -> None:
    """End what an app holds on its database: its in-process jobs, its sessions and pooled connections."""
    from app.extensions import db
    from app.jobs import backends

    backends.wait_for_pool()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def app_template_database(folder: str) -> str:
    """The name of the run's PostgreSQL template of the session's app (after the run's template folder)."""
    return "jxc_test_tpl_" + re.sub(r"[^a-z0-9]", "_", Path(folder).name.lower())


def app_from_template(backend: Backend) -> Any:
    """The session's app on `backend`: its database a copy of the run's first build of that backend (build_app,
    kept in the run's template folder: a SQLite file, or a PostgreSQL template database), the app started on
    it as a server starts on an initialised database. The run's other process copies it and starts the app on the
    copy (1.4 s of CPU) instead of building again (8 to 14 s of CPU, and PostgreSQL's); without a template folder
    the app is built here."""
    folder = os.environ.get(DEMO_TEMPLATE_ENV)
    if not folder:
        return build_app(backend)
    kept = Path(folder) / f"app-{backend.name}"
    template = app_template_database(folder)
    with open(Path(folder) / f"app-{backend.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (kept / "done").exists():
            kept.mkdir(exist_ok=True)
            if backend.name == "sqlite":
                source = Backend("sqlite", f"sqlite:///{kept / 'jxc.db'}", kept)
            else:
                with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')  # a failed build's
                    create_pg_database(conn, template)
                source = Backend("postgresql", f"{PG_URL.rsplit('/', 1)[0]}/{template}", kept)
            stop_app(build_app(source))
            (kept / "done").touch()
        if backend.name == "sqlite":
            copy_sqlite(kept / "jxc.db", backend.instance / "jxc.db")
        else:
            name = backend.url.rsplit("/", 1)[1]
            with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                create_pg_database(conn, name, template)
    return start_app(backend)


@pytest.fixture(autouse=True)
def jobs_end_with_their_test() -> Iterator[None]:
    """A test's in-process jobs end before the next test begins. One still running wrote its last figures
    while the next test read and then wrote in a transaction of its own: on SQLite (WAL) a read transaction
    whose snapshot another connection has written past cannot take the write lock, and says `database is
    locked` at once (SQLITE_BUSY_SNAPSHOT waits for no busy timeout)."""
    yield
    from app.jobs import backends

    backends.wait_for_pool()


@pytest.fixture(scope="session")
def app(backend: Backend) -> Iterator[Any]:
    """The app for this backend (set up once per session and backend: app_from_template)."""
    started = app_from_template(backend)
    yield started
    with started.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


class Api:
    """A test client that calls the REST API with a JWT bearer token."""

    def __init__(self, app: Any, username: str) -> None:
        self.client = app.test_client()
        self.username = username
        response = self.client.post(
            "/api/v1/security/login",
            json={"username": username, "password": PASSWORD, "provider": "db"},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        self.headers = {"Authorization": f"Bearer {response.get_json()['access_token']}"}

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = dict(self.headers, **kwargs.pop("headers", {}))
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        """GET with the token."""
        return self._call("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        """POST with the token."""
        return self._call("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        """PUT with the token."""
        return self._call("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        """DELETE with the token."""
        return self._call("DELETE", url, **kwargs)


@pytest.fixture(scope="session")
def api_as(app: Any) -> Any:
    """api_as('admin') -> an Api client for that user (cached per session)."""
    cache: dict[str, Api] = {}

    def get(role_or_user: str) -> Api:
        username = (
            "admin"
            if role_or_user == "admin"
            else (
                role_or_user if role_or_user.startswith("u_") or role_or_user.startswith("x_") else f"u_{role_or_user}"
            )
        )
        if username not in cache:
            cache[username] = Api(app, username)
        return cache[username]

    return get


@pytest.fixture
def admin_api(api_as: Any) -> Api:
    """The admin's API client."""
    return api_as("admin")


@pytest.fixture
def login_as(app: Any) -> Any:
    """login_as('clerk') -> a browser-like test client signed in through /login/ (session cookie)."""

    def login(role: str, on: Any = None) -> Any:
        client = (on or app).test_client()  # `on`: another app instance on the same database
        page = client.get("/login/")
        token = _csrf_from(page.get_data(as_text=True))
        username = "admin" if role == "admin" else (role if role.startswith(("u_", "x_")) else f"u_{role}")
        response = client.post("/login/", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        return client

    return login


def _csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no csrf token in page"
    return match.group(1)


csrf_from = _csrf_from


@contextmanager
def writing() -> Iterator[None]:
    """Writes made by a test as a write request or job makes them: on SQLite the transaction begins with BEGIN
    IMMEDIATE, so it waits for a job still writing in another thread rather than failing "database is locked"."""
    from app.extensions import write_intent

    token = write_intent.set(True)
    try:
        yield
    finally:
        write_intent.reset(token)


@contextmanager
def another_instance(app: Any, **config: Any) -> Iterator[Any]:
    """A second app instance on the same database, built now: its own registry and caches, and what its start-up
    found in the database, as another worker (or the app started again) has; `config` adds to its settings (another
    JXC_METADATA_DIR: the app started again on edited metadata)."""
    from app import create_app
    from app.extensions import db

    second = create_app(
        {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "INSTANCE_PATH": app.config["INSTANCE_PATH"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            **config,
        }
    )
    try:
        yield second
    finally:
        with second.app_context():
            db.session.remove()
            db.engine.dispose()


def hide_prices(app: Any, roles: list[str]) -> None:
    """价格屏蔽 on `roles` as a database holds it from before the settings page checked the switch: clerks, purchasers
    and finance write amounts that are required, so the page refuses to hide prices from them now, and the tests of
    what such a user reads still need one (app/services/records/settings.py `store_policy`). Stored after the app
    started, it is in force as stored; an app started on it leaves out the roles it locks (tests/test_role_locks.py).
    An empty list is always allowed: set it back through the API."""
    from app.extensions import db
    from app.services.records.settings import PRICE_MASK, store_policy
    from app.services.users.access import access_for

    with app.app_context():
        admin = access_for(app.appbuilder.sm.find_user(username="admin"))
        store_policy(db.session, admin, PRICE_MASK, sorted(set(roles)))
        db.session.remove()


def unique(prefix: str = "T") -> str:
    """A short unique code for test data (tests share one database per backend)."""
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def migration(filename: str) -> Any:
    """The module of a migration in app/migrations/versions (its upgrade() and downgrade() run by a test inside
    `Operations.context`)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "app/migrations/versions" / filename
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def smtp(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real SMTP server (aiosmtpd) on a free loopback port, the app's mail settings pointing at it; jobs run
    in-process (no Redis) so a test sees the mail as soon as the run finishes."""
    from aiosmtpd.controller import Controller
    from servers import Inbox, free_port

    inbox = Inbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    settings = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": inbox.port, "SMTP_SECURITY": "none"}
    settings |= {"MAIL_FROM": "JXC <jxc@example.com>", "SMTP_BACKOFF": 0.01, "SMTP_RETRIES": 3, "REDIS_URL": ""}
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    yield inbox
    controller.stop()
