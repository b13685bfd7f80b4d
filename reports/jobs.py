"""The job kind `report_export`: a report written to xlsx or csv in the background (large answers), as the
user who asked, with the file on the jobs page; `reorder_orders`: draft purchase orders for many reorder
suggestions.

    submit("report_export", {"name": "stock_ledger", "params": {"period": "this_year"}, "format": "xlsx"}, access)
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from app.i18n import texts_for
from app.jobs import JobContext, job_kind
from app.services.money.reorder import create_purchase_orders
from app.services.records.serialize import reader_name
from reports.output import to_csv, write_xlsx
from reports.params import parse_params
from reports.runner import find, run_report
from reports.stock import reorder_filters


def _may_run(access: Any, args: Any) -> bool:
    report = access.registry.meta.reports.get(str(args.get("name")))
    return report is not None and access.may_run(report) and args.get("format", "xlsx") in ("xlsx", "csv")


@job_kind("report_export", label=texts_for("report.kind.export"), allowed=_may_run, writes=False, over_api=True)
def report_export(ctx: JobContext) -> dict[str, Any]:
    """Run the report as the job's user and attach the file."""
    name, fmt = str(ctx.args["name"]), str(ctx.args.get("format") or "xlsx")
    ctx.total(None)
    params = {str(k): str(v) for k, v in (ctx.args.get("params") or {}).items()}
    result = run_report(ctx.session, ctx.access, name, params)
    ctx.session.rollback()  # a report only reads
    if fmt == "csv":
        ctx.attach(f"{name}.csv", to_csv(result))
    else:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{name}.xlsx"
            write_xlsx(result, str(path), reader_name(ctx.session, ctx.access))
            ctx.attach(path.name, path)
    return {"rows": len(result.rows)}


def _may_order(access: Any, args: Any) -> bool:
    report = access.registry.meta.reports.get("reorder")
    return report is not None and access.may_run(report) and access.can("purchase_order", "write")


@job_kind("reorder_orders", label=texts_for("report.kind.reorder_orders"), allowed=_may_order)
def reorder_orders(ctx: JobContext) -> dict[str, Any]:
    """Draft purchase orders for every reorder suggestion within the filters, as the job's user (the reorder
    page's "all suggestions" when there are many)."""
    filters = {str(k): str(v) for k, v in (ctx.args.get("filters") or {}).items()}
    chosen = reorder_filters(parse_params(ctx.session, ctx.access, find(ctx.access, "reorder"), filters))
    ctx.total(None)
    made = create_purchase_orders(ctx.session, ctx.access, str(ctx.args["warehouse"]), None, chosen, ctx.progress)
    return {
        "orders": [order["number"] for order in made["orders"]],
        "lines": sum(order["lines"] for order in made["orders"]),
        "skipped_without_supplier": len(made["skipped_without_supplier"]),
    }
