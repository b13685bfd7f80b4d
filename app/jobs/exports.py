"""The `export` job kind: a grid view too big to stream while the user waits (more than
EXPORT_JOB_ROWS rows) is written by a job, and the jobs page holds the file.

args: model, params (the grid's query pairs: filters, sort, search), columns, format (xlsx | csv),
encoding (utf-8 | gbk). Read-only: on SQLite it never holds the write lock.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from werkzeug.datastructures import MultiDict

from app.clock import utcnow
from app.i18n import label, texts_for
from app.jobs.context import JobContext
from app.jobs.kinds import job_kind
from app.services.grid.export import count_rows, export_columns, write_csv, write_xlsx
from app.services.grid.rows import View

EXPORT_JOB_ROWS = 10_000


def _may_export(access: Any, args: Mapping[str, Any]) -> bool:
    model = str(args.get("model") or "")
    return model in access.registry.meta.models and access.can(model, "export")


@job_kind(
    "export", label=texts_for("exports.job_label"), allowed=_may_export, writes=False, over_api=True, timeout=3 * 3600
)
def export_job(ctx: JobContext) -> dict[str, Any]:
    """Write the view to a file attached to the job."""
    model = ctx.access.registry.model(str(ctx.args["model"]))
    params = MultiDict([(str(k), str(v)) for k, v in ctx.args.get("params") or []])
    view = View.from_args(params)
    columns = export_columns(ctx.access, model, str(ctx.args.get("columns") or ""))
    total = count_rows(ctx.session, ctx.access, model, view)
    ctx.total(total)
    fmt = "csv" if ctx.args.get("format") == "csv" else "xlsx"
    if fmt == "csv":
        path = write_csv(ctx.session, ctx.access, model, view, columns, str(ctx.args.get("encoding") or "utf-8"))
    else:
        path = write_xlsx(ctx.session, ctx.access, model, view, columns)
    try:
        name = f"{label(model.label, model.key)}-{utcnow():%Y%m%d-%H%M}.{fmt}"
        ctx.attach(name, Path(path))
    finally:
        os.unlink(path)
    ctx.progress(total)
    return {"rows": total, "format": fmt}
