"""Job kinds for the jobs tests (loaded by tests and, through JXC_JOB_MODULES=job_kinds, by the servers and
workers they start, with tests/ on PYTHONPATH)."""

from __future__ import annotations

import time
from typing import Any

from app.errors import CellError, ValidationFailed
from app.jobs import JobContext, job_kind
from app.services.records.write import RecordService


@job_kind("test_steps", label={"zh": "测试：分步", "en": "Test: steps"}, writes=False, over_api=True)
def steps(ctx: JobContext) -> dict[str, Any]:
    """`steps` steps of `delay` seconds each, reported one by one."""
    n, delay = int(ctx.args.get("steps", 3)), float(ctx.args.get("delay", 0))
    ctx.total(n)
    for done in range(1, n + 1):
        time.sleep(delay)
        ctx.count("steps")
        ctx.progress(done)
    ctx.log(f"{n} steps")
    return {"steps": n}


def _categories(ctx: JobContext) -> dict[str, Any]:
    """Create `n` categories CODE-1..n through the write path, waiting `delay` after each."""
    prefix, n, delay = ctx.args["prefix"], int(ctx.args.get("n", 3)), float(ctx.args.get("delay", 0))
    service = RecordService(ctx.session, ctx.access)
    ctx.total(n)
    for done in range(1, n + 1):
        service.create("category", {"code": f"{prefix}-{done}", "name": f"{prefix} {done}"})
        ctx.session.flush()
        ctx.count("created")
        ctx.progress(done)
        time.sleep(delay)
    return {"created": n}


job_kind(
    "test_categories",
    label={"zh": "测试：建分类", "en": "Test: categories"},
    allowed=lambda access, args: access.can("category", "write"),
    over_api=True,
)(_categories)
job_kind(
    "test_categories_retry",
    label={"zh": "测试：建分类（可重试）", "en": "Test: categories, retried"},
    retries=1,
    over_api=True,
)(_categories)


@job_kind("test_files", label={"zh": "测试：文件", "en": "Test: files"}, writes=False, over_api=True)
def files(ctx: JobContext) -> None:
    """Attach a result file; fail with a report when asked to."""
    ctx.attach("结果 ../result.csv", b"sku,qty\nA,1\n")
    if ctx.args.get("fail"):
        ctx.attach_error_report("errors.csv", b"row,message\n2,bad\n")
        raise ValidationFailed([CellError("qty", "数量必须大于 0", row=2)], summary="1 行有误")


@job_kind("test_crash", label={"zh": "测试：出错", "en": "Test: crash"})
def crash(ctx: JobContext) -> None:
    """Write a category, then fail with an unexpected error."""
    RecordService(ctx.session, ctx.access).create("category", {"code": ctx.args["code"], "name": "x"})
    ctx.session.flush()
    raise RuntimeError("boom")


@job_kind("test_empty", label={"zh": "测试：空任务", "en": "Test: empty"}, writes=False)
def empty(ctx: JobContext) -> None:
    """Nothing: the benchmark measures the queue, not the work."""
