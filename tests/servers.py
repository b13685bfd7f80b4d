"""Real server processes for tests: `jxc init`, then gunicorn on a free loopback port.

    with jxc_server(database_url, instance, name="a") as server:
        requests go to server.url ("http://127.0.0.1:<port>")

Each server's output goes to test-artifacts/<name>-<port>.log so a failure can be read afterwards.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
BIN = Path(sys.executable).parent
SECRET_KEY = "servers-test-secret-key-0123456789abcdef0123456789"
ADMIN_PASSWORD = "secret-pass-1"  # the same as conftest.PASSWORD
START_TIMEOUT = 30.0


def server_env(database_url: str, instance: Path) -> dict[str, str]:
    """The environment a `jxc` command or gunicorn runs with."""
    env = dict(os.environ)
    env.pop("PORT", None)
    env.update({
        "DATABASE_URL": database_url,
        "JXC_INSTANCE": str(instance),
        "SECRET_KEY": SECRET_KEY,
        "JXC_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PYTHONUNBUFFERED": "1",
    })
    return env


def jxc_init(database_url: str, instance: Path, demo: bool = False, log_name: str = "jxc-init") -> str:
    """Run `jxc init [--demo]` once for a database; return its output (fail with it on error)."""
    instance.mkdir(parents=True, exist_ok=True)
    args = [str(BIN / "jxc"), "init"] + (["--demo"] if demo else [])
    done = subprocess.run(args, cwd=ROOT, env=server_env(database_url, instance), capture_output=True,
                          text=True, timeout=180, check=False)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{log_name}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise RuntimeError(f"jxc init failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-4000:]}")
    return done.stdout


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


@contextmanager
def jxc_server(database_url: str, instance: Path, name: str = "server",
               extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start `gunicorn -w 1 "app:create_app()"` on a free port; wait for /login/ to answer 200.

    The database must have been initialised with `jxc_init` first (DESIGN.md trap 5).
    """
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    log = ARTIFACTS / f"{name}-{port}.log"
    env = server_env(database_url, instance)
    env.update(extra_env or {})
    args = [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "--access-logfile", "-",
            "--graceful-timeout", "5", "app:create_app()"]
    with open(log, "wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(url=f"http://127.0.0.1:{port}", port=port, log=log, process=process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server {name} exited with {process.returncode}:\n{server.log_tail()}")
            if _answers(server.url + "/login/") == 200:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {name} did not answer /login/ within {START_TIMEOUT} s:\n"
                                   f"{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


class HttpApi:
    """A minimal JSON client for a real server, logged in with a JWT (no cookies kept)."""

    def __init__(self, base_url: str, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
        self.base_url = base_url
        status, body = self.call("POST", "/api/v1/security/login",
                                 {"username": username, "password": password, "provider": "db"})
        assert status == 200, f"login to {base_url} as {username} failed: {status} {body}"
        self.token = body["access_token"]

    def call(self, method: str, path: str, payload: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
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
