"""Job kinds: the one place a kind of background work is defined (name, function, who may run it, label).

    from app.jobs import JobContext, job_kind

    @job_kind(
        "item_recount",
        label={"zh": "重算商品", "en": "Recount items"},
        allowed=lambda access, args: access.can("item", "write"),
    )
    def item_recount(ctx: JobContext) -> dict:
        ids = ctx.args["ids"]
        ctx.total(len(ids))
        for done, item_id in enumerate(ids, 1):
            ...                      # read and write through ctx.session and ctx.access
            ctx.progress(done)       # also where a cancel request stops the job
        ctx.attach("result.xlsx", workbook_bytes)
        return {"items": len(ids)}   # kept as the job's result (JSON)

A kind's module is imported at start-up: list it in KIND_MODULES (or, for plugins and tests, in the
JXC_JOB_MODULES environment variable, comma-separated). See docs/jobs.md.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.jobs.context import JobContext
    from app.services.access.rights import Access

# Modules that define the kinds JXC ships (importers, exports, mail and backups add theirs here).
KIND_MODULES: tuple[str, ...] = (
    "app.backups.job",
    "app.schedules.kinds",
    "app.schedules.dunning",
    "app.schedules.alerts",
    "app.schedules.backup",
    "reports.jobs",
    "reports.abc",
    "importers.jobs",
    "app.jobs.exports",
)

Allowed = Callable[["Access", Mapping[str, Any]], bool]


def _anyone(_access: Access, _args: Mapping[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class JobKind:
    """One kind of background job.

    `allowed(access, args)` says whether a user may start it with these arguments (checked when it is
    submitted, and again before its result file is handed out); the job itself runs as that user, with
    their Access. `retries`: how many times a job cut off by a dead worker is queued again (0: it ends
    failed). `timeout`: seconds before RQ stops it. `writes=False` for kinds that only read (exports,
    reports): on SQLite they then do not hold the write lock while they run. `over_api=True` lets
    `POST /api/v1/jobs/` submit the kind with arguments from the client (a kind with its own page or
    endpoint, like imports, leaves it off and checks its arguments there).
    """

    name: str
    run: Callable[[JobContext], Any]
    label: Mapping[str, str]
    allowed: Allowed = _anyone
    retries: int = 0
    timeout: int = 3600
    writes: bool = True
    over_api: bool = False


_KINDS: dict[str, JobKind] = {}


def define_kind(kind: JobKind) -> JobKind:
    """Register a kind (a second definition under the same name replaces the first, as on reload)."""
    _KINDS[kind.name] = kind
    return kind


def job_kind(
    name: str,
    *,
    label: Mapping[str, str],
    allowed: Allowed = _anyone,
    retries: int = 0,
    timeout: int = 3600,
    writes: bool = True,
    over_api: bool = False,
) -> Callable[[Callable[[JobContext], Any]], Callable[[JobContext], Any]]:
    """Decorator form of define_kind: the decorated function is the job's body (see the module docstring)."""

    def register(run: Callable[[JobContext], Any]) -> Callable[[JobContext], Any]:
        kind = JobKind(name, run, dict(label), allowed, retries, timeout, writes, over_api)
        define_kind(kind)
        return run

    return register


def get_kind(name: str) -> JobKind | None:
    """The kind registered under `name`, or None."""
    return _KINDS.get(name)


def kind_label(name: str) -> str:
    """The kind `name` as the jobs page and the API name it, in the current language (the name when unknown)."""
    from app.i18n import label

    kind = _KINDS.get(name)
    return label(dict(kind.label), name) if kind else name


def all_kinds() -> list[JobKind]:
    """Every registered kind, by name."""
    return [_KINDS[name] for name in sorted(_KINDS)]


def load_kind_modules() -> None:
    """Import the modules that define kinds: KIND_MODULES and those in JXC_JOB_MODULES."""
    extra = [m.strip() for m in os.environ.get("JXC_JOB_MODULES", "").split(",") if m.strip()]
    for module in (*KIND_MODULES, *extra):
        importlib.import_module(module)
