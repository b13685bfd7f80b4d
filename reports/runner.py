"""The one report runner: the page, the API, the command line and jobs all run reports through `run_report`.

Always as the reader: a report runs only if roles.yaml lists it for one of their roles and they may read its
sources; its rows are read through their row scope; columns of kinds of figure they may not see are dropped
(from rows, totals and the chart alike).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from app.errors import Forbidden, NotFound
from app.i18n import label, t
from app.meta.company import letterhead
from app.meta.reports import ChartSpec, ReportColumn, ReportSpec
from app.meta.spec import FieldSpec
from app.meta.types import format_decimal, money_text
from app.services.access.rights import Access
from app.services.records.serialize import link_labels
from reports.context import Page, ReportContext, row_order, visible_columns
from reports.params import BLANK, Period, default_value, month_start, param_text, parse_params, takes_blank
from reports.query import run_query

NUMERIC = ("quantity", "money", "decimal", "percent", "integer")
ZERO = Decimal(0)


@dataclass
class Result:
    """A report's answer for one reader: the columns they may see, rows, totals and the chart."""

    report: ReportSpec
    params: dict[str, Any]
    columns: list[ReportColumn]
    rows: list[dict[str, Any]]  # Python values; links as ids
    totals: dict[str, Any]
    chart: ChartSpec | None
    links: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)  # column -> id -> {id, key, name}
    choices: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # column -> value -> label {zh, en}
    page: Page | None = None  # rows are this slice of the answer ...
    count: int | None = None  # ... of this many rows (None: rows are the whole answer)
    drills_to: ReportSpec | None = None  # the report a row opens (`drill: {report}`)
    letterhead: dict[str, Any] | None = None  # the company heading its print and workbook (`letterhead: true`)

    @property
    def period(self) -> Period | None:
        """The first date range parameter's value (the report's period), if any."""
        return next((v for v in self.params.values() if isinstance(v, Period)), None)

    def cell(self, row: dict[str, Any], column: ReportColumn) -> Any:
        """A value as JSON: decimals as exact text, dates ISO, links {id, key, name} (empty when not visible)."""
        value = row.get(column.name)
        if column.name in self.choices:  # a select's value as its label; a blank one said so
            labels = self.choices[column.name]
            if value in labels:
                return label(labels[value], value)
            return t("report.blank") if value is None else value
        if value is None:
            return None
        if column.name in self.links:
            return self.links[column.name].get(value)
        if isinstance(value, Decimal):
            return format_decimal(value, column.scale if column.type not in ("quantity", "integer") else 0)
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    def grouping(self, locale: str | None = None) -> tuple[str, str] | None:
        """(the grouping parameter's label, the chosen option's label) of a report grouped by the reader's choice
        (汇总方式, 按客户); None for another report."""
        query = self.report.query
        if query is None or query.group_param is None:
            return None
        param = next(p for p in self.report.params if p.name == query.group_param)
        value = str(self.params.get(param.name) or param.default or "")
        texts = dict(param.options).get(value)
        return label(param.label, param.name, locale), label(texts, value, locale)

    def column_label(self, column: ReportColumn, locale: str | None = None) -> str:
        """A column's heading: the group column of a report grouped by the reader's choice names what it groups
        by, the chosen option's label as a heading (按客户 heads its column 客户), not 汇总项."""
        grouping = self.grouping(locale) if column.type == "group" else None
        if grouping is None:
            return label(column.label, column.name, locale)
        before, _, after = t("report.by_option", locale, what="\0").partition("\0")
        option = grouping[1]
        if option.startswith(before) and option.endswith(after) and len(option) > len(before) + len(after):
            return option[len(before) : len(option) - len(after)]
        return option

    def drill_value(self, row: dict[str, Any], column: ReportColumn) -> str:
        """A value as the report a row drills into takes it: a link by its key, a select by its value (not
        its label), the rest as typed ('' when blank or hidden)."""
        if column.name in self.choices:
            return str(row.get(column.name) or "")
        cell = self.cell(row, column)
        return str(cell.get("key") or "") if isinstance(cell, dict) else param_text(cell)

    def text(self, row: dict[str, Any], column: ReportColumn) -> str:
        """A value as a person reads it (links as their key and name)."""
        value = self.cell(row, column)
        if isinstance(value, dict):
            return (
                f"{value['key']} {value['name'] or ''}".strip() if value["name"] != value["key"] else str(value["key"])
            )
        if column.type == "money" and isinstance(value, str):  # to its places (the cent; a unit price to 4), grouped
            return money_text(value, column.scale)  # as the page shows it: 12,345.60 (a mailed report's body too)
        return "" if value is None else str(value)


def available(access: Access) -> list[ReportSpec]:
    """The reports the reader may run, in name order."""
    reports = access.registry.meta.reports
    return [reports[name] for name in sorted(reports) if access.may_run(reports[name])]


def find(access: Access, name: str) -> ReportSpec:
    """The report called `name` if the reader may run it: NotFound / Forbidden otherwise."""
    report = access.registry.meta.reports.get(name)
    if report is None:
        raise NotFound(t("report.unknown", name=name))
    if not access.may_run(report):
        raise Forbidden(t("forbidden"))
    return report


def run_report(
    session: Session, access: Access, name: str, raw: dict[str, str] | None = None, page: Page | None = None
) -> Result:
    """Run a report as the reader with parameters given as text (`page`: that slice of its rows only)."""
    report = find(access, name)
    params = parse_params(session, access, report, dict(raw or {}))
    return run_with(session, access, report, params, page)


def run_typed(session: Session, access: Access, name: str, params: dict[str, Any]) -> Result:
    """Run a report as the reader with parameters already typed (ids, dates, periods; the rest take their
    defaults): for the pages and APIs that show a report their own way (a partner's account, overdue
    customers, reorder suggestions, a supplier's scorecard), so their figures, masks and row scope are the
    report's."""
    report = find(access, name)
    values = {spec.name: params[spec.name] if spec.name in params else default_value(spec) for spec in report.params}
    return run_with(session, access, report, values)


def run_with(
    session: Session, access: Access, report: ReportSpec, params: dict[str, Any], page: Page | None = None
) -> Result:
    """Run a report with parsed parameters (the dashboard calls this with its own periods); `page`: only that
    slice of the rows in the report's order, with `count` the number of them all and totals over them all."""
    ctx = ReportContext(session, access, report, params, page=page)
    rows = list(report.function(ctx)) if report.function is not None else run_query(ctx)
    paged = page is not None and ctx.row_count is not None  # the handler ordered and paged in the database
    columns = visible_columns(access, report, params)
    names = {c.name for c in columns}
    totals: dict[str, Any] = {}
    for column in columns:
        if column.total and not paged:
            totals[column.name] = sum((row.get(column.name) or ZERO for row in rows), ZERO)
    totals.update({k: v for k, v in ctx.totals.items() if k in names})
    chart = report.chart
    if chart is not None:
        series = tuple(s for s in chart.series if s in names)
        chart = ChartSpec(chart.type, chart.x, series) if chart.x in names and series else None
    result = Result(report, params, columns, rows, totals, chart, choices=ctx.choices, page=page)
    if report.letterhead:
        result.letterhead = letterhead(access.registry.meta.settings)
    if report.drill is not None and report.drill.report is not None:
        result.drills_to = access.registry.meta.reports.get(report.drill.report)
    _label_links(session, access, ctx, result)
    if paged:
        result.count = ctx.row_count
    else:
        _sort(result)
        if page is not None:
            result.count = len(result.rows)
            result.rows = result.rows[page.offset : page.offset + page.size]
    return result


def _label_links(session: Session, access: Access, ctx: ReportContext, result: Result) -> None:
    """{id, key, name} of the rows' links the reader may see, and of the link parameters (for a drill-down to
    pass one on by its key: "@partner")."""
    for column in result.columns:
        target = ctx.link_targets.get(column.name) or (column.to if column.type in ("link", "user") else None)
        if column.type == "user":
            target = "user"
        if target:
            ids = {row[column.name] for row in result.rows if row.get(column.name) is not None}
            spec = FieldSpec(
                column.name, "user" if target == "user" else "link", {}, to=None if target == "user" else target
            )
            result.links[column.name] = link_labels(session, access, spec, ids)
    for param in result.report.params:
        value = result.params.get(param.name)
        if param.type in ("link", "user") and value is not None and value is not BLANK:
            kind = "user" if param.type == "user" else "link"
            spec = FieldSpec(param.name, kind, {}, to=param.to if kind == "link" else None)
            result.links[f"@{param.name}"] = link_labels(session, access, spec, {value})


def _sort(result: Result) -> None:
    """Rows in the report's declared order, else by their key columns as people read them (`row_order`: only
    the columns the reader sees steer it)."""
    for column, descending in reversed(row_order(result.report, result.columns)):
        name = column.name
        if column.type in NUMERIC:
            result.rows.sort(key=lambda row, n=name: row.get(n) or ZERO, reverse=descending)
        else:
            # blanks last either way (an item not classed yet after the A, B and C items)
            result.rows.sort(
                key=lambda row, c=column, d=descending: ((result.text(row, c) == "") != d, result.text(row, c)),
                reverse=descending,
            )


def drill_url(result: Result, row: dict[str, Any]) -> str | None:
    """Where a row leads: the report behind it (with the row's keys) or the document it names."""
    drill = result.report.drill
    if drill is None:
        return None
    columns = {c.name: c for c in result.columns}  # a hidden column leads nowhere (its value would be in the URL)
    if drill.document is not None:
        model, number = (row.get(name) for name in drill.document)
        return f"/m/{model}/?{urlencode({'search': number})}" if model and number else None
    args = {}
    group = _group_arg(result, row, columns)
    for target, source in drill.params.items():
        if source.startswith("="):
            value = source[1:]
        elif source.startswith("@"):
            value = param_text(result.params.get(source[1:]))
            if source in result.links:  # a linked row: by its key, as a person types it
                value = str(result.links[source].get(result.params[source[1:]], {}).get("key") or "")
        elif source in columns:
            value = result.drill_value(row, columns[source]) or _blank_arg(result, row, source, target)
        else:
            continue
        if value:
            args[target] = value
    if group is not None:
        args[group[0]] = group[1]
    return f"/reports/{drill.report}/?{urlencode(args)}"


def _group_arg(result: Result, row: dict[str, Any], columns: dict[str, ReportColumn]) -> tuple[str, str] | None:
    """(target param, value) for a grouped row: its customer, item... as their key; a day, week or month as that
    date range within the report's period."""
    drill, query = result.report.drill, result.report.query
    if drill is None or not drill.group or query is None or query.group_param is None or "group" not in columns:
        return None
    choice = result.params.get(query.group_param)
    target = drill.group.get(str(choice))
    value = result.drill_value(row, columns["group"]) or _blank_arg(result, row, "group", target)
    if target is None or not value:
        return None
    bucket = query.groups.get(str(choice), "").partition(":")[2]
    if not bucket or row.get("group") is None:
        return target, value
    span = bucket_period(value, bucket)
    period = result.period
    if period is not None:  # a week or month reaching outside the period: only the days the row counted
        span = Period(max(span.start, period.start), min(span.end, period.end))
    return target, span.text


def _blank_arg(result: Result, row: dict[str, Any], column: str, target: str | None) -> str:
    """A row's empty value as the report it drills into asks for the empty ones (（未填）), when its parameter
    `target` may (`takes_blank`): the row of lines without a reason opens those lines, not every line. '' when
    the value is not empty (a link the reader may not see passes nothing) or the target cannot ask for it."""
    report = result.drills_to
    if row.get(column) is not None or report is None:
        return ""
    spec = next((p for p in report.params if p.name == target), None)
    return param_text(BLANK) if spec is not None and takes_blank(report, spec) else ""


def bucket_period(text: str, bucket: str) -> Period:
    """The dates of a day (2026-11-05), ISO week (2026-W45) or month (2026-11) bucket."""
    if bucket == "week":
        year, _, week = text.partition("-W")
        monday = dt.date.fromisocalendar(int(year), int(week), 1)
        return Period(monday, monday + dt.timedelta(days=6))
    if bucket == "month":
        start = dt.date.fromisoformat(f"{text}-01")
        return Period(start, month_start(start, -1) - dt.timedelta(days=1))
    day = dt.date.fromisoformat(text)
    return Period(day, day)


def as_json(result: Result, locale: str | None = None) -> dict[str, Any]:
    """{report, label, params, columns, rows, totals, chart}: what the API answers and the page draws."""
    rows = []
    for row in result.rows:
        out = {c.name: result.cell(row, c) for c in result.columns}
        url = drill_url(result, row)
        if url:
            out["_drill"] = url
        rows.append(out)
    chart = result.chart
    paging = {} if result.count is None else {"count": result.count}  # rows are a page of this many
    return {
        **paging,
        "report": result.report.key,
        "label": label(result.report.label, result.report.key, locale),
        "params": {name: param_text(value) for name, value in result.params.items()},
        "columns": [
            {
                "name": c.name,
                "label": result.column_label(c, locale),
                "type": c.type,
                "key": c.key,
                "places": c.scale if c.type == "money" else None,  # shown rounded to them (the value exact)
                "total": c.total,
                "figures": sorted(c.figures_for(result.params)),
            }
            for c in result.columns
        ],
        "rows": rows,
        "totals": {name: result.cell(result.totals, result.report.column(name)) for name in result.totals},  # type: ignore[arg-type]
        "chart": None if chart is None else {"type": chart.type, "x": chart.x, "series": list(chart.series)},
    }
