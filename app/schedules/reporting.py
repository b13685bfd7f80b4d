"""What a schedule of kind `report` sends: a report run as one reader (their row scope and masks).

The report runner (`reports.run(name, params, access)` returning columns, rows, totals and xlsx bytes)
is used when it is there. Until then, and for any model key, a "report" is the model's rows as the grid
exports them: the same view query (scope, masks), the same xlsx writer, sums of the numeric columns.
`params`: `{"report": name, "filters": {field: value}, "sort": field, "dir": "asc"|"desc"}`.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.errors import NotFound
from app.i18n import label, t
from app.meta.types import FIELD_TYPES
from app.services.access.rights import Access
from app.services.grid.export import export_columns, write_xlsx
from app.services.grid.rows import View
from app.services.records.query import Filter
from app.services.records.serialize import rows_to_json

MAX_ROWS = 50_000


@dataclass
class ReportResult:
    title: str
    columns: list[tuple[str, str]]  # (field, label)
    rows: list[dict[str, Any]]  # display values by field
    totals: dict[str, str] = field(default_factory=dict)
    xlsx: bytes = b""
    link: str = ""
    chart: tuple[str, str] | None = None  # (label field, value field) for a bar chart


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # a link: {id, key, name}
        return str(value.get("name") or value.get("key") or "")
    if isinstance(value, bool):
        return t("schedules.yes") if value else t("schedules.no")
    return str(value)


def _runner() -> Any:
    try:
        module = importlib.import_module("reports")
    except ImportError:
        return None
    runner = getattr(module, "run", None)
    return runner if callable(runner) else None


def _from_runner(result: Any, name: str) -> ReportResult:
    """The report runner's answer in this module's shape (columns as dicts or pairs)."""
    columns = []
    for col in getattr(result, "columns", None) or result["columns"]:
        if isinstance(col, dict):
            key = str(col.get("field") or col.get("name") or col.get("key"))
            columns.append((key, str(col.get("label") or col.get("title") or key)))
        else:
            columns.append((str(col[0]), str(col[1])))
    rows = getattr(result, "rows", None) or result["rows"]
    totals = getattr(result, "totals", None) or {}
    xlsx = getattr(result, "xlsx", b"")
    return ReportResult(
        title=str(getattr(result, "title", name)),
        columns=columns,
        rows=[{key: _text(row.get(key)) for key, _ in columns} for row in rows],
        totals={k: _text(v) for k, v in dict(totals).items()},
        xlsx=xlsx() if callable(xlsx) else bytes(xlsx or b""),
        link=f"/reports/{name}/",
    )


def run_report(session: Session, access: Access, params: dict[str, Any]) -> ReportResult:
    """Run the report named in `params` as the reader of `access`."""
    name = str(params.get("report") or "")
    runner = _runner()
    if runner is not None and name not in access.registry.meta.models:
        args = {k: v for k, v in params.items() if k != "report"}
        return _from_runner(runner(name, args, access), name)
    if name not in access.registry.meta.models:
        raise NotFound(t("schedules.unknown_report", report=name))
    return model_listing(session, access, name, params)


def model_listing(session: Session, access: Access, name: str, params: dict[str, Any]) -> ReportResult:
    """A model's rows as the grid exports them, as the reader sees them."""
    model = access.registry.model(name)
    filters = tuple(Filter(str(k), "eq", v) for k, v in (params.get("filters") or {}).items())
    view = View(filters, (str(params.get("sort") or "id"), str(params.get("dir") or "asc")))
    columns = export_columns(access, model, ",".join(params.get("columns") or []))
    path = write_xlsx(session, access, model, view, columns)
    try:
        xlsx = Path(path).read_bytes()
    finally:
        os.unlink(path)
    found = list(session.execute(view.ordered(session, access, model).limit(MAX_ROWS)).scalars())
    data = rows_to_json(session, access, model, found, columns=[c.name for c in columns])
    numeric = [c for c in columns if FIELD_TYPES[c.type].numeric and c.name != "version"]
    totals = {}
    for spec in numeric:
        try:
            total = sum((Decimal(str(row[spec.name])) for row in data if row.get(spec.name) is not None), Decimal(0))
        except InvalidOperation:
            continue
        totals[spec.name] = str(total)
    text_column = next((c.name for c in columns if not FIELD_TYPES[c.type].numeric), None)
    chart = (text_column, numeric[0].name) if text_column and numeric else None
    return ReportResult(
        title=label(model.label, name),
        columns=[(c.name, label(c.label, c.name)) for c in columns],
        rows=[{c.name: _text(row.get(c.name)) for c in columns} for row in data],
        totals=totals,
        xlsx=xlsx,
        link=f"/grid/{name}",
        chart=chart,
    )
