"""Real server processes for tests: `jxc init`, then gunicorn on a free loopback port.

    with jxc_server(database_url, instance, name="a", demo=True) as server:   # runs `jxc init --demo` first
        requests go to server.url ("http://127.0.0.1:<port>")
    with jxc_servers(database_url, instance, ["a", "b"]) as (a, b):              # two processes, one database

Each server's output goes to test-artifacts/<name>-<port>.log so a failure can be read afterwards.
"""

from __future__ import annotations

import email
import email.policy
import fcntl
import http.cookiejar
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
BIN = Path(sys.executable).parent
SECRET_KEY = "servers-test-secret-key-0123456789abcdef0123456789"
ADMIN_PASSWORD = "secret-pass-1"  # the same as conftest.PASSWORD
START_TIMEOUT = 60.0  # a gunicorn start on a loaded 2-core machine; a server that dies is seen at once (poll)


def server_env(database_url: str, instance: Path) -> dict[str, str]:
    """The environment a `jxc` command or gunicorn runs with."""
    env = dict(os.environ)
    env.pop("PORT", None)
    env.update(
        {
            "DATABASE_URL": database_url,
            "JXC_INSTANCE": str(instance),
            "SECRET_KEY": SECRET_KEY,
            "JXC_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


_INITIALISED: dict[str, bool] = {}  # database URL -> demo data loaded
# A folder shared by the test run's processes (set by tests/conftest.py) where the first SQLite demo database
# (`jxc init --demo`, and apart from it `jxc init --demo --history`) is kept: later ones are copies of it rather
# than another init (several seconds of CPU for the demo, half a minute for its twelve weeks of history).
DEMO_TEMPLATE_ENV = "JXC_TEST_DEMO_TEMPLATE"


def run_jxc(
    *args: str, env: dict[str, str], cwd: Path = ROOT, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the installed `jxc` command with `args` (its output captured as text; its exit status not checked)."""
    return subprocess.run(  # noqa: S603 - our own command
        [str(BIN / "jxc"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _sqlite_path(database_url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(database_url[len(prefix) :]) if database_url.startswith(prefix) else None


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its write-ahead log included), through SQLite's backup API."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _demo_from_template(database_url: str, log_name: str, history: bool) -> str | None:
    """Give a fresh SQLite database the demo data (with its history) by copying the run's demo database of that
    kind (made by the first caller, under a lock the test processes share); return the output of the `jxc init`
    that made it; None when there is no template folder or the URL is not SQLite."""
    folder = os.environ.get(DEMO_TEMPLATE_ENV)
    target = _sqlite_path(database_url)
    if not folder or target is None or target.exists():
        return None
    template = Path(folder) / ("history" if history else "instance")
    with open(Path(folder) / f"{template.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / "done").exists():
            output = _run_init(
                f"sqlite:///{template / 'jxc.db'}", template, demo=True, history=history, log_name=log_name
            )
            (template / "done").write_text(output, encoding="utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    copy_sqlite(template / "jxc.db", target)
    return (template / "done").read_text(encoding="utf-8")


def jxc_init(
    database_url: str, instance: Path, demo: bool = False, log_name: str = "jxc-init", *, history: bool = False
) -> str:
    """Run `jxc init [--demo [--history]]` once for a database (a SQLite demo database is a copy of the run's first
    one of its kind); return its output (fail with it on error)."""
    instance.mkdir(parents=True, exist_ok=True)
    copied = _demo_from_template(database_url, log_name, history) if demo else None
    if copied is None:
        copied = _run_init(database_url, instance, demo=demo, history=history, log_name=log_name)
    mark_initialised(database_url, demo)
    return copied


def demo_documents_posted(init_output: str) -> int:
    """How many documents `jxc init --demo --history` said it posted (0 when it said nothing of them)."""
    found = re.search(r"已生成并审核 (\d+) 张演示单据", init_output)  # the suite runs jxc in Chinese
    return int(found.group(1)) if found else 0


def _run_init(database_url: str, instance: Path, demo: bool, log_name: str, history: bool = False) -> str:
    if history and not demo:
        raise ValueError("history needs demo")
    instance.mkdir(parents=True, exist_ok=True)
    args = ["init"] + (["--demo"] if demo else []) + (["--history"] if history else [])
    done = run_jxc(*args, env=server_env(database_url, instance), timeout=300 if history else 180)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{log_name}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise RuntimeError(f"jxc init failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-4000:]}")
    return done.stdout


def mark_initialised(database_url: str, demo: bool = False) -> None:
    """Record that a database was initialised another way (a copy of an initialised one): no `jxc init` for it."""
    _INITIALISED[database_url] = _INITIALISED.get(database_url, False) or demo


def ensure_initialised(database_url: str, instance: Path, demo: bool = False, log_name: str = "jxc-init") -> None:
    """`jxc init [--demo]` once per database in this test process (two servers starting on a fresh database race
    to create FAB's tables)."""
    if database_url not in _INITIALISED or (demo and not _INITIALISED[database_url]):
        jxc_init(database_url, instance, demo=demo, log_name=log_name)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One running gunicorn process."""

    url: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)  # what it runs with: a `jxc` command beside it takes the same

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log (for assertion messages)."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


def _answers(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
    except OSError:
        return None


def _start(database_url: str, instance: Path, name: str, extra_env: dict[str, str] | None) -> Server:
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    log = ARTIFACTS / f"{name}-{port}.log"
    env = server_env(database_url, instance)
    env.update(extra_env or {})
    args = [
        str(BIN / "gunicorn"),
        "-w",
        "1",
        "-b",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
        "--no-control-socket",
        "app:create_app()",
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(url=f"http://127.0.0.1:{port}", port=port, log=log, process=process, env=env)


def _wait_ready(server: Server, deadline: float) -> None:
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"server {server.log.name} exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        if _answers(server.url + "/login/") == 200:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"server {server.log.name} did not answer /login/ within {START_TIMEOUT} s:\n{server.log_tail()}"
            )
        time.sleep(0.2)


def terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM a process we started and wait for it; SIGKILL it if it is still there after 15 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _stop(server: Server) -> None:
    terminate(server.process)


@contextmanager
def jxc_servers(
    database_url: str, instance: Path, names: list[str], extra_env: dict[str, str] | None = None, *, demo: bool = False
) -> Iterator[list[Server]]:
    """Run `jxc init [--demo]` (once per database), then start one `gunicorn -w 1 "app:create_app()"` per
    name (in parallel) on free loopback ports, all on one database; wait until each answers /login/ with
    200 (30 s at most); terminate and wait for them all on exit.
    """
    ensure_initialised(database_url, instance, demo=demo, log_name=f"jxc-init-{names[0]}")
    servers: list[Server] = []
    try:
        for name in names:
            servers.append(_start(database_url, instance, name, extra_env))
        deadline = time.monotonic() + START_TIMEOUT
        for server in servers:
            _wait_ready(server, deadline)
        yield servers
    finally:
        for server in servers:
            _stop(server)


@contextmanager
def jxc_server(
    database_url: str,
    instance: Path,
    name: str = "server",
    extra_env: dict[str, str] | None = None,
    *,
    demo: bool = False,
) -> Iterator[Server]:
    """One server (see jxc_servers)."""
    with jxc_servers(database_url, instance, [name], extra_env, demo=demo) as servers:
        yield servers[0]


class HttpApi:
    """A minimal JSON client for a real server, logged in with a JWT (no cookies kept)."""

    def __init__(self, base_url: str, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
        self.base_url = base_url
        status, body = self.call(
            "POST", "/api/v1/security/login", {"username": username, "password": password, "provider": "db"}
        )
        assert status == 200, f"login to {base_url} as {username} failed: {status} {body}"
        self.token = body["access_token"]

    def call(
        self, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        """Send one request; return (status, decoded JSON body or text)."""
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if getattr(self, "token", None):
            request.add_header("Authorization", f"Bearer {self.token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                status, raw = int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
            exc.close()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", errors="replace")

    def get(self, path: str, **kw: Any) -> tuple[int, Any]:
        """GET."""
        return self.call("GET", path, **kw)

    def post(self, path: str, payload: Any, **kw: Any) -> tuple[int, Any]:
        """POST JSON."""
        return self.call("POST", path, payload, **kw)

    def put(self, path: str, payload: Any, **kw: Any) -> tuple[int, Any]:
        """PUT JSON."""
        return self.call("PUT", path, payload, **kw)


@dataclass
class Page:
    """An HTML answer."""

    status: int
    text: str
    url: str


class HtmlSession:
    """A cookie session against a real server, signed in through the /login/ form like a browser."""

    def __init__(self, base_url: str, accept_language: str | None = None) -> None:
        self.base_url = base_url
        self.accept_language = accept_language
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def _open(self, path: str, form: dict[str, str] | None = None) -> Page:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base_url + path, data=data)
        if self.accept_language:
            request.add_header("Accept-Language", self.accept_language)
        try:
            with self.opener.open(request, timeout=30) as response:
                return Page(int(response.status), response.read().decode("utf-8", "replace"), response.geturl())
        except urllib.error.HTTPError as exc:
            page = Page(exc.code, exc.read().decode("utf-8", "replace"), exc.geturl())
            exc.close()
            return page

    def get(self, path: str) -> Page:
        """GET a page (redirects followed)."""
        return self._open(path)

    def post(self, path: str, form: dict[str, str]) -> Page:
        """POST a form (redirects followed)."""
        return self._open(path, form)

    def login(self, username: str, password: str = ADMIN_PASSWORD) -> None:
        """Sign in through /login/ with its CSRF token."""
        page = self.get("/login/")
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert match, "no csrf token on /login/"
        done = self.post("/login/", {"username": username, "password": password, "csrf_token": match.group(1)})
        assert done.status == 200 and "/login" not in done.url, f"login as {username} failed: {done.url}"


@dataclass
class WorkerProcess:
    """One running `jxc worker`."""

    queue: str
    log: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)  # what it runs with: a `jxc` command beside it takes the same

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the worker's log (for assertion messages)."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


def job_env(redis_url: str, queue: str) -> dict[str, str]:
    """What a server or worker needs to run the tests' job kinds (tests/job_kinds.py) on a queue of their own."""
    tests = str(Path(__file__).resolve().parent)
    path = os.environ.get("PYTHONPATH", "")
    return {
        "REDIS_URL": redis_url,
        "JXC_QUEUE": queue,
        "JXC_JOB_MODULES": "job_kinds",
        "PYTHONPATH": f"{tests}:{path}" if path else tests,
    }


def start_worker(database_url: str, instance: Path, redis_url: str, queue: str, name: str = "worker") -> WorkerProcess:
    """Start `jxc worker` on `queue` and wait until RQ lists it (30 s at most); the database must be initialised."""
    import redis
    from rq import Queue, Worker

    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"{name}-{queue}.log"
    env = server_env(database_url, instance)
    env.update(job_env(redis_url, queue))
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [str(BIN / "jxc"), "worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    worker = WorkerProcess(queue, log, process)
    connection = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + START_TIMEOUT
    while not any(
        w.pid == process.pid for w in Worker.all(connection=connection, queue=Queue(queue, connection=connection))
    ):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_worker(worker)
            raise RuntimeError(f"worker on {queue} did not start:\n{worker.log_tail()}")
        time.sleep(0.1)
    return worker


def stop_worker(worker: WorkerProcess) -> None:
    """Stop a worker (SIGTERM: RQ's warm shutdown), killing it if it does not stop in 15 s."""
    terminate(worker.process)


@contextmanager
def jxc_worker(
    database_url: str, instance: Path, redis_url: str, queue: str, name: str = "worker"
) -> Iterator[WorkerProcess]:
    """A `jxc worker` for the duration of the block (see start_worker)."""
    worker = start_worker(database_url, instance, redis_url, queue, name)
    try:
        yield worker
    finally:
        stop_worker(worker)


class Inbox:
    """aiosmtpd handler keeping every message it accepts (the `smtp` fixture's server, on `port`)."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def about(self, title: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if title in str(m["Subject"])]
