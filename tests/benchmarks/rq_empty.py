"""The empty function the job benchmark's plain `rq worker` runs (a module of its own: light to import)."""

from __future__ import annotations

import os
import time

import redis


def mark_started(key: str) -> None:
    """Note when the job started, and nothing else."""
    redis.Redis.from_url(os.environ["JXC_BENCH_REDIS_URL"]).set("jxc-bench-mark:" + key, repr(time.time()), ex=600)
