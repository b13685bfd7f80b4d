"""Fixtures: one app per database backend (SQLite and PostgreSQL), users of every role, API clients.

The suite needs PostgreSQL and Redis; when either is down it stops at once and says how to start it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from tests.servers import DEMO_TEMPLATE_ENV

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
    (tests/servers.py copies it instead of loading the demo again); pytest-xdist's processes inherit it, and
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
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("backend") if callspec is not None else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow modules first: on two processes, a long test collected last keeps one process busy while the other
    waits. pytest has already grouped the items by database backend (one app per backend and process). The
    slow modules that use no backend go to the very front; within each run of items of the same backend, the
    items of slow modules move to the front of the run. A module's items stay together and no backend's app
    is built twice. `slow` is a module's mark (pytestmark) or a test's."""

    slow_modules = {item.module for item in items if item.get_closest_marker("slow") is not None}  # type: ignore[attr-defined]

    def in_slow_module(item: pytest.Item) -> bool:
        return item.module in slow_modules  # type: ignore[attr-defined]

    ordered = [item for item in items if _backend_of(item) is None and in_slow_module(item)]
    runs: list[list[pytest.Item]] = []
    for item in items:
        if _backend_of(item) is None and in_slow_module(item):
            continue
        if runs and _backend_of(runs[-1][-1]) == _backend_of(item):
            runs[-1].append(item)
        else:
            runs.append([item])
    for run in runs:
        ordered += sorted(run, key=lambda item: not in_slow_module(item))  # stable: slow modules first
    items[:] = ordered


def _pg_admin_url() -> str:
    return PG_URL


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"jxc_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
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

    Each time pytest sets this up it gets empty storage: a run whose order switches between the two
    backends (pytest-xdist, `-p no:cacheprovider --lf`...) builds the app again on a new database.
    """
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        yield make_backend("sqlite", tmp, "")
        return
    with fresh_pg_database() as url:
        yield make_backend("postgresql", tmp, url)


def build_app(backend: Backend) -> Any:
    """A fully initialised app with demo data and one user per role."""
    from app import create_app
    from app.setup import init_database

    os.environ["JXC_ADMIN_PASSWORD"] = PASSWORD
    app = create_app(
        {
            "DATABASE_URL": backend.url,
            "INSTANCE_PATH": str(backend.instance),
            "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        }
    )
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
    app.config["JXC_BACKEND"] = backend.name
    return app


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
    """The app for this backend (built once per session and backend)."""
    built = build_app(backend)
    yield built
    with built.app_context():
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
