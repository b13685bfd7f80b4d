"""What a schedule of kind `report` sends: a report run as one reader (their row scope and masks).

A report of `reports/` (metadata/reports/*.yaml) runs through the report runner with the schedule's other
parameters as the report page takes them (`{"report": "sales_analysis", "by": "customer"}`), its xlsx with
the native chart attached. A model key is the model's rows as the grid exports them: the same view query
(scope, masks), the same xlsx writer, sums of the numeric columns
(`{"report": "sales_order", "filters": {field: value}, "sort": field, "dir": "asc"|"desc"}`).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from app.errors import CellError, NotFound, ServiceError, ValidationFailed
from app.i18n import label, t
from app.meta.registry import Registry
from app.meta.types import FIELD_TYPES
from app.services.access.rights import Access
from app.services.grid.export import export_columns, write_xlsx
from app.services.grid.rows import View, summed_fields
from app.services.records.query import Filter
from app.services.records.serialize import reader_name, rows_to_json

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


def read(spec: Any, value: Any) -> str:
    """A listing's cell as its field is read (money to the cent: the grid and its Excel show the same); a link by
    its name, a tick as 是 / 否."""
    if isinstance(value, str) and FIELD_TYPES[spec.type].numeric:
        return FIELD_TYPES[spec.type].read_text(spec, value)
    return _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # a link: {id, key, name}
        return str(value.get("name") or value.get("key") or "")
    if isinstance(value, bool):
        return t("schedules.yes") if value else t("schedules.no")
    return str(value)


def run_report(session: Session, access: Access, params: dict[str, Any]) -> ReportResult:
    """Run the report named in `params` as the reader of `access` (a report of the report runner, or a model)."""
    name = str(params.get("report") or "")
    if name in access.registry.meta.reports:
        raw = {str(k): str(v) for k, v in params.items() if k != "report"}
        return runner_report(session, access, name, raw)
    if name not in access.registry.meta.models:
        raise NotFound(t("schedules.unknown_report", report=name))
    return model_listing(session, access, name, params)


class _Unscoped(Access):
    """A reader's rights (actions, masks) without their row scope."""

    def scope(self, model: Any, _seen: frozenset[str] = frozenset()) -> Any:
        return None


def rows_beyond_scope(session: Session, access: Access, params: dict[str, Any]) -> bool:
    """Whether the report, empty for this reader, has rows outside their row scope (run with their rights but
    every row): the log then says their scope holds none of it, not that it was empty."""
    if access.is_admin:
        return False  # an admin's scope is every row already
    unscoped = _Unscoped(**{f.name: getattr(access, f.name) for f in fields(Access) if f.init})
    try:
        return bool(run_report(session, unscoped, params).rows)
    except ServiceError:
        return False


def report_label(registry: Registry, params: dict[str, Any]) -> str:
    """What a schedule sends, by its label (a report's or a model's; the name when there is neither)."""
    name = str(params.get("report") or "")
    spec = registry.meta.reports.get(name) or registry.meta.models.get(name)
    return label(spec.label, name) if spec is not None else name


def runner_report(session: Session, access: Access, name: str, raw: dict[str, str]) -> ReportResult:
    """A report of `reports/` through its one runner: the reader's roles, scope and figures; its own xlsx."""
    from reports.output import title
    from reports.output import write_xlsx as report_xlsx
    from reports.runner import run_report as run_named

    result = run_named(session, access, name, raw)
    buffer = io.BytesIO()
    report_xlsx(result, buffer, reader_name(session, access))
    return ReportResult(
        title=title(result),
        columns=[(c.name, result.column_label(c)) for c in result.columns],
        rows=[{c.name: result.text(row, c) for c in result.columns} for row in result.rows],
        totals={c.name: result.text(result.totals, c) for c in result.columns if c.name in result.totals},
        xlsx=buffer.getvalue(),
        link=f"/reports/{name}/" + (f"?{urlencode(raw)}" if raw else ""),
        chart=(result.chart.x, result.chart.series[0]) if result.chart is not None else None,
    )


def check_params(session: Session, access: Access, params: dict[str, Any]) -> None:
    """What a run would refuse in a schedule's parameters, refused as it is saved (ValidationFailed on `params`):
    a report's filter it does not take, a model's filter on a field it has not or with a value the field does
    not take (「状态：可选值：草稿, 待审批, 已审核, 已作废」 for status posted)."""
    from reports.params import parse_params

    name = str(params.get("report") or "")
    if not may_read(access, name):  # the saver's own report: one they may not read is not theirs to schedule
        message = t("schedules.report_not_readable", report=report_label(access.registry, params))
        raise ValidationFailed([CellError("params", message)], summary=message)
    try:
        if name in access.registry.meta.reports:
            report = access.registry.meta.reports[name]
            raw = {str(k): str(v) for k, v in params.items() if k != "report"}
            try:
                parse_params(session, access, report, raw)
            except ValidationFailed as exc:  # each parameter by its label, as the report page names it (not `by`)
                labels = {p.name: label(p.label, p.name) for p in report.params}
                said = [
                    t("schedules.param_refused", param=labels.get(e.field, e.field), message=e.message)
                    for e in exc.errors
                ]
                raise ServiceError(t("sentence_separator").join(said)) from exc
        elif name in access.registry.meta.models:
            _listing_view(params).ordered(session, access, access.registry.model(name))
    except ServiceError as exc:
        raise ValidationFailed([CellError("params", exc.message)], summary=exc.message) from exc


def may_read(access: Access, name: str) -> bool:
    """Whether the reader may run the report `name` (a report of reports/, or a model's rows)."""
    report = access.registry.meta.reports.get(name)
    if report is not None:
        return access.may_run(report)
    return name not in access.registry.meta.models or access.can(name, "read")


def _listing_view(params: dict[str, Any]) -> View:
    """A model listing's rows: its `filters` (field: value, each equal, as a person typed it: a day under a date-time
    column is that whole business day, as in the grid), `sort` and `dir`."""
    filters = tuple(Filter(str(k), "eq", v, typed=True) for k, v in (params.get("filters") or {}).items())
    return View(filters, (str(params.get("sort") or "id"), str(params.get("dir") or "asc")))


def model_listing(session: Session, access: Access, name: str, params: dict[str, Any]) -> ReportResult:
    """A model's rows as the grid exports them, as the reader sees them."""
    model = access.registry.model(name)
    view = _listing_view(params)
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
    for spec in summed_fields(access, model, columns):
        try:
            total = sum((Decimal(str(row[spec.name])) for row in data if row.get(spec.name) is not None), Decimal(0))
        except InvalidOperation:
            continue
        totals[spec.name] = read(spec, str(total))  # the exact values summed, read as the field is read
    text_column = next((c.name for c in columns if not FIELD_TYPES[c.type].numeric), None)
    chart = (text_column, numeric[0].name) if text_column and numeric else None
    return ReportResult(
        title=label(model.label, name),
        columns=[(c.name, label(c.label, c.name)) for c in columns],
        rows=[{c.name: read(c, row.get(c.name)) for c in columns} for row in data],
        totals=totals,
        xlsx=xlsx,
        link=f"/grid/{name}",
        chart=chart,
    )
