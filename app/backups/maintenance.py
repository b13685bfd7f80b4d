"""Maintenance mode while a restore runs, seen by every process that shares the instance folder.

`<instance>/maintenance.json` exists while a restore runs: pages and the API answer 503 with a Chinese
page, and job workers wait before starting a job. A flag left by a process that died on this host is
ignored (and removed), so a killed restore never locks the app out. `<instance>/db_generation` counts
restores: a process that sees it change drops its pooled connections, which point at the old database.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.processes import pid_gone

if TYPE_CHECKING:
    from flask import Flask

FLAG = "maintenance.json"
GENERATION = "db_generation"


def maintenance(instance: Path | str) -> dict[str, Any] | None:
    """The flag's contents while maintenance is on, else None. Asked before every request: read with plain
    os calls (pathlib's objects and a text wrapper were two thirds of the check's time)."""
    path = os.path.join(instance, FLAG)
    try:
        info = json.loads(_read(path))
    except (FileNotFoundError, ValueError):
        return None
    if info.get("host") == socket.gethostname() and pid_gone(int(info.get("pid", 0))):
        Path(path).unlink(missing_ok=True)  # its restore died: nothing was switched half-way (see restore.py)
        return None
    return info


def _read(path: str) -> bytes:
    """A small file's bytes (FileNotFoundError when there is none)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = [os.read(fd, 4096)]
        while chunks[-1]:
            chunks.append(os.read(fd, 4096))
        return b"".join(chunks)
    finally:
        os.close(fd)


@contextmanager
def maintenance_mode(instance: Path | str, reason: str) -> Iterator[None]:
    """Maintenance on for the duration of the block."""
    path = Path(instance) / FLAG
    temp = path.with_name(f".{FLAG}.{os.getpid()}")
    info = {"reason": reason, "pid": os.getpid(), "host": socket.gethostname(), "since": datetime.now(UTC).isoformat()}
    temp.write_text(json.dumps(info), encoding="utf-8")
    os.replace(temp, path)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def generation(instance: Path | str) -> int:
    """How many restores have switched the database of this instance."""
    try:
        return int(_read(os.path.join(instance, GENERATION)).strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def bump_generation(instance: Path | str) -> None:
    """Tell every process that the database was switched."""
    path = Path(instance) / GENERATION
    temp = path.with_name(f".{GENERATION}.{os.getpid()}")
    temp.write_text(str(generation(instance) + 1))
    os.replace(temp, path)


WAIT_POLL = 1.0


def settle_connections(app: Flask, wait: bool = False) -> None:
    """Before a request or a job: (optionally) wait while a restore runs, and once one has switched the
    database, drop this process's pooled connections (on SQLite they would still read the old file)."""
    from app.extensions import db

    instance = app.config["INSTANCE_PATH"]
    waited = False
    while wait and maintenance(instance) is not None:
        time.sleep(WAIT_POLL)
        waited = True
    now = generation(instance)
    if waited or now != app.extensions.get("jxc_db_generation", now):
        db.session.remove()
        db.engine.dispose()
    app.extensions["jxc_db_generation"] = now
