"""Processes of this machine, as the job queue, the backups' maintenance flag and an import check's copies ask
after them."""

from __future__ import annotations

import os


def pid_gone(pid: int) -> bool:
    """True when no process `pid` runs on this host (or only its zombie). An id that cannot be a process's
    (beyond the kernel's range) or one this user may not signal counts as alive: the caller then waits for age."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
