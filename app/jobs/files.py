"""Where a job's files live: <instance>/files/jobs/<job id>/, folders 0700 and files 0600 (owner only).

Result files and error reports are served only through the jobs page and API, to those who may see the
job; nothing here is under the static folder. The web and the worker must share the instance folder
(compose mounts one volume in both).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from app.instance_files import private_folder

_UNSAFE = re.compile(r"[^\w.\-\u3400-\u9fff]+")


def jobs_root() -> Path:
    """<instance>/files/jobs (created owner-only)."""
    return private_folder("jobs")


def job_dir(job_id: int, create: bool = False) -> Path:
    """The folder of one job's files."""
    folder = jobs_root() / str(int(job_id))
    if create and not folder.is_dir():
        folder.mkdir(exist_ok=True)
        folder.chmod(0o700)
    return folder


def safe_name(name: str) -> str:
    """A file name without folders or odd characters ('../x y.xlsx' -> 'x_y.xlsx')."""
    cleaned = _UNSAFE.sub("_", os.path.basename(name.replace("\\", "/"))).strip("._") or "file"
    return cleaned[:120]


def store_file(job_id: int, name: str, data: bytes | Path) -> str:
    """Write one file of a job (bytes, or a file to copy); return the stored name."""
    stored = safe_name(name)
    target = job_dir(job_id, create=True) / stored
    partial = target.with_name(f".{stored}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        if isinstance(data, Path):
            with open(data, "rb") as source:
                shutil.copyfileobj(source, out)
        else:
            out.write(data)
    os.replace(partial, target)
    return stored


def file_path(job_id: int, stored: str) -> Path | None:
    """The path of a stored file, or None when it is not there."""
    path = job_dir(job_id) / safe_name(stored)
    return path if path.is_file() else None
