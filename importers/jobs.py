"""Imports as background jobs: `import` (an uploaded file into a model), `import_check` (the same, rolled back:
every error at once, nothing written) and `import_undo`.

The upload is kept content-addressed under <instance>/files/uploads/ (owner-only), so a retried job
finds it again; the job reads it, runs the pipeline as its user with its progress on the jobs page,
attaches the annotated errors workbook when there are errors, and fails with the reason when the file
is refused (nothing written: the job's transaction is rolled back). A worker killed mid-import leaves
nothing either: rows, audit and the import record commit together with the job's status.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.errors import ServiceError
from app.i18n import t, texts_for
from app.jobs import JobContext, job_kind
from app.jobs.files import jobs_root
from importers.pipeline import Outcome, may_import
from importers.report import errors_workbook
from importers.runs import content_hash, undo_import
from importers.service import import_file


class ImportRefused(ServiceError):
    """422: the file was refused; the job fails with this message and its errors workbook, and keeps `result` (the
    outcome's summary: the cells refused, which the import page marks in its table)."""

    status = 422

    def __init__(self, message: str = "", result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result


def uploads_root() -> Path:
    """<instance>/files/uploads (owner-only)."""
    root = jobs_root().parent / "uploads"
    if not root.is_dir():
        root.mkdir(exist_ok=True)
        root.chmod(0o700)
    return root


def keep_upload(data: bytes) -> str:
    """Store an uploaded file under its content hash; return the hash."""
    digest = content_hash(data)
    target = uploads_root() / digest
    if not target.exists():
        partial = target.with_name(f".{digest}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(partial, target)
    return digest


def read_upload(digest: str) -> bytes:
    path = uploads_root() / os.path.basename(digest)
    if not path.is_file():
        raise ImportRefused(t("imports.upload_gone"))
    return path.read_bytes()


def _may_import(access: Any, args: Mapping[str, Any]) -> bool:
    try:
        model = access.registry.model(str(args.get("model")))
    except KeyError:
        return False
    return may_import(access, model)


@job_kind("import", label=texts_for("imports.job_label"), allowed=_may_import, timeout=3 * 3600)
def import_job(ctx: JobContext) -> dict[str, Any]:
    """args: model, upload (content hash), filename, mode, action, dry_run, force, mapping, post."""
    if ctx.args.get("dry_run"):  # a dry run is a check (one queued before checks were a kind of their own)
        return import_check_job(ctx)
    outcome = _import(ctx, dry_run=False)
    if outcome.refused:
        raise ImportRefused(outcome.refused, outcome.summary())
    return outcome.summary()


@job_kind(
    "import_check",
    label=texts_for("imports.check_label"),
    allowed=_may_import,
    timeout=3 * 3600,
    writes=False,  # what it writes is rolled back (on SQLite: written to a copy); it never holds the write lock
)
def import_check_job(ctx: JobContext) -> dict[str, Any]:
    """The import page's 检查文件 (`POST /api/v1/imports/check`): the import run through the one write path as far as
    it goes, every refused cell collected (the cells' own problems, the model's rules, row scope, masks), then the
    whole transaction rolled back: no row, audit row, import record or document number stays. A file the import
    would refuse is a check that found errors: the job is done, its result (the outcome's summary) says them.

    It stops nobody's writes: on SQLite it runs against a copy of the database (`checked_apart`), on PostgreSQL its
    postings value stock in memory and lock no balance row."""
    ctx.session.rollback()  # what the job read first ends (a dry run queued as an `import`: the write lock it took)
    try:
        outcome = _import(ctx, dry_run=True)
    finally:
        # not only the pipeline's savepoint: what a session keeps for its commit (a posting's statements sent with
        # the COMMIT, a new owner's bell) goes with the transaction it belongs to
        ctx.session.rollback()
    return outcome.summary()


def _import(ctx: JobContext, *, dry_run: bool) -> Outcome:
    args = ctx.args
    data = read_upload(str(args["upload"]))
    ctx.total(None)
    outcome = import_file(
        ctx.session,
        ctx.access,
        str(args["model"]),
        data,
        str(args.get("filename") or ""),
        mode=str(args.get("mode") or "all"),
        action=str(args.get("action") or "create"),
        dry_run=dry_run,
        force=bool(args.get("force")),
        mapping=args.get("mapping") or None,
        job_id=ctx.job_id,
        progress=ctx.progress,
        post=bool(args.get("post")),
    )
    for name in ("created", "updated", "unchanged", "skipped"):
        ctx.count(name, getattr(outcome, name))
    ctx.count("errors", len(outcome.issues))
    for line in [*outcome.problems, *outcome.notes, *(i.line() for i in outcome.issues[:100])]:
        ctx.log(line)
    if (outcome.issues or outcome.problems) and outcome.table is not None:
        ctx.attach_error_report("errors.xlsx", errors_workbook(outcome.table, outcome.header_index, outcome))
    return outcome


def _may_undo(access: Any, args: Mapping[str, Any]) -> bool:
    return bool(access.user_id)


@job_kind("import_undo", label=texts_for("imports.undo_label"), allowed=_may_undo, timeout=3 * 3600)
def import_undo_job(ctx: JobContext) -> dict[str, Any]:
    """args: import_id. Undoes the whole import or nothing (refused with the rows changed since)."""
    ctx.total(None)
    return undo_import(ctx.session, ctx.access, int(ctx.args["import_id"]), progress=ctx.progress)
