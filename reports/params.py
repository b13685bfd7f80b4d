"""A report's parameters from text (query string, command line, a schedule): typed, checked, with presets.

A date range is `this_month | last_month | this_quarter | this_year | YYYY-MM-DD..YYYY-MM-DD`; a link is the
linked row's business key (or id) as the reader may see it; a select one of its options.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.clock import business_today
from app.errors import CellError, ValidationFailed
from app.i18n import join_list, label, t, texts_for
from app.meta.reports import PRESETS, ReportParam, ReportSpec, path_end
from app.meta.spec import FieldSpec, ModelSpec
from app.services.access.rights import Access
from app.services.grid.rows import lookup, lookup_within
from app.services.records.resolver import Resolver


@dataclass(frozen=True)
class Period:
    """A closed range of business dates."""

    start: dt.date
    end: dt.date

    @property
    def text(self) -> str:
        """As a parameter value (and for titles): 2026-11-01..2026-11-30."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


class Blank:
    """A filter asking for the rows where its path is empty (a stocktake line without a reason, a sale without a
    salesperson): what a drill-down from a blank group (（未填）) passes on. Written as the word `report.blank` in
    either language (（未填）, (not given)); one instance, `BLANK`."""

    def __repr__(self) -> str:
        return "BLANK"


BLANK = Blank()


def blank_named(text: str) -> bool:
    """Does the text name the blank value (（未填） or (not given), as a row of it reads)?"""
    return text.strip().casefold() in {word.casefold() for word in texts_for("report.blank").values()}


def takes_blank(report: ReportSpec, spec: ReportParam) -> bool:
    """May the parameter ask for the rows where it is empty? A link, user or select filter the report's query
    applies (one place filters on it, so empty is `IS NULL` there), left open by default."""
    query = report.query
    return (
        spec.type in ("link", "user", "select")
        and spec.default is None
        and not spec.required
        and query is not None
        and spec.name in query.filters
    )


def month_start(day: dt.date, back: int = 0) -> dt.date:
    """The first day of the month `back` months before the day's (negative: after)."""
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def preset(name: str, today: dt.date | None = None) -> Period:
    """本月 / 上月 / 本季 / 本年 as dates (本月 etc. run to the end of the period, not to today)."""
    today = today or business_today()
    if name == "this_month":
        start = month_start(today)
        return Period(start, month_start(today, -1) - dt.timedelta(days=1))
    if name == "last_month":
        return Period(month_start(today, 1), month_start(today) - dt.timedelta(days=1))
    if name == "this_quarter":
        start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return Period(start, month_start(start, -3) - dt.timedelta(days=1))
    return Period(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValidationFailed([CellError(name, t("report.bad_date", value=text))]) from exc


def preset_named(text: str) -> str | None:
    """The preset a text names: its key (this_month) or its word in any language (本月, This month)."""
    words = text.strip().casefold()
    for key in PRESETS:
        if words == key or words in {w.casefold() for w in texts_for(f"report.preset.{key}").values()}:
            return key
    return None


def _period_separators() -> tuple[str, ...]:
    """What may stand between a period's two dates: ours, and the word a report's header writes between them
    (期间：2026-12-01 至 2026-12-31, copied from a print or a workbook), in either language."""
    lines = texts_for("report.period_line").values()
    return ("..", *sorted({line.split("{start}")[1].split("{end}")[0].strip() for line in lines}))


def parse_period(text: str, name: str = "period") -> Period:
    """A preset (its key or its word, 本月) or `from..to` (or `from 至 to`, as a report's header writes it)."""
    named = preset_named(text)
    if named is not None:
        return preset(named)
    start, sep, end = "", "", ""
    for separator in _period_separators():
        start, sep, end = text.partition(separator)
        if sep:
            break
    if not sep:
        raise ValidationFailed([CellError(name, t("report.bad_period", value=text))])
    period = Period(_date(start, name), _date(end, name))
    if period.end < period.start:
        raise ValidationFailed([CellError(name, t("report.bad_period", value=text))])
    return period


def _one(session: Session, access: Access, report: ReportSpec, spec: ReportParam, text: str) -> Any:
    if spec.type == "date_range":
        return parse_period(text, spec.name)
    if spec.type == "date":
        return _date(text, spec.name)
    if spec.type == "integer":  # a count (of days looked back): 0 read as the default, a negative as the future
        try:
            number = int(text)
        except ValueError as exc:
            raise ValidationFailed([CellError(spec.name, t("not_integer"))]) from exc
        if number < 1:
            raise ValidationFailed([CellError(spec.name, t("report.positive_integer", value=text))])
        return number
    if spec.type == "select":  # parse_params checks it against the options offered to the reader
        return text
    if spec.type == "user":
        from flask_appbuilder.security.sqla.models import User
        from sqlalchemy import select

        found = session.execute(select(User.id).where(User.username == text)).scalar()
        if found is None:
            raise ValidationFailed([CellError(spec.name, t("report.unknown_key", value=text))])
        return found
    found = Resolver(session, access).resolve(spec.to or "", text)
    if found is None:  # missing and out of the reader's scope on the linked model alike
        raise ValidationFailed([CellError(spec.name, t("report.unknown_key", value=text))])
    within = _within(access, report, spec)
    if within is not None and found not in set(session.execute(within).scalars()):  # not one the lookup offers
        raise ValidationFailed([CellError(spec.name, t("report.not_offered", value=text))])
    return found


def default_value(spec: ReportParam) -> Any:
    """What a parameter left blank means: its preset period, today, its default option, or nothing."""
    if spec.type == "date_range":
        return preset(spec.default or "this_month")
    if spec.default is not None:
        return spec.default if spec.type != "date" else business_today()
    return None


def offered_options(access: Access, report: ReportSpec, param: ReportParam) -> list[tuple[str, dict[str, str]]]:
    """A select parameter's options the reader is offered: not one whose columns would show a kind of figure the
    reader hides (ABC by margin to a salesperson), as a report about such a kind is not offered at all."""
    return [(v, text) for v, text in param.options if access.sees_figures(report.option_figures(param.name, v))]


def offered_help(access: Access, report: ReportSpec) -> str:
    """The report's description as the reader reads it: `{param}` in it names the options of that select parameter
    the reader is offered (ABC ranks by 销售额, and by 毛利 only for a reader who sees costs), so it never names a
    figure the reader is not offered."""
    text = label(report.help, "")
    for param in report.params:
        slot = "{" + param.name + "}"
        if slot in text:
            words = [label(texts, value) for value, texts in offered_options(access, report, param)]
            text = text.replace(slot, t("report.or").join(words))
    return text


def filtered_fields(access: Access, report: ReportSpec, spec: ReportParam) -> list[tuple[ModelSpec, FieldSpec]]:
    """The fields a link or user parameter filters the report's rows on: its query path's end in each model the
    query reads (`document.warehouse` of a stocktake line: the stocktake's warehouse), else, for a handler's own
    filter, the fields of the report's sources that point where it does (进销存汇总表's 仓库: stock_move.warehouse)."""
    models = access.registry.meta.models
    query = report.query
    path = query.filters.get(spec.name) if query is not None else None
    if query is not None and path is not None:
        ends = [path_end(models, source.model, path) for source in query.sources]
        return [end for end in ends if not isinstance(end, str)]
    return [
        (models[key], field)
        for key in report.sources
        for field in models[key].fields
        if field.type == spec.type and field.to == spec.to and not field.system
    ]


def offered_users(session: Session, access: Access, report: ReportSpec, spec: ReportParam, text: str) -> list[Any]:
    """The users a user parameter (业务员, 负责人) offers as the reader types, by user name or name (the reader may
    run the report: `runner.find`): whom they may filter by. Where the field the parameter filters is scoped to the
    reader on every role of theirs reading its model (a salesperson's 业务员), only themselves (and their
    department's at the department level), as the field offers them on a form (`Access.assignable_users`): their
    rows name nobody else there. A parameter that filters no user field offers any active user."""
    from app.services.users.lookup import users_matching

    sets = [access.assignable_users(session, model, field) for model, field in filtered_fields(access, report, spec)]
    allowed = None if not sets or any(s is None for s in sets) else set().union(*sets)  # type: ignore[arg-type]
    return users_matching(session, allowed, text)


def _within(access: Access, report: ReportSpec, spec: ReportParam) -> Any:
    """SQL of the ids a link parameter may name beyond the linked model's own row scope, or None: what the grid's
    lookup for the fields it filters offers (a keeper's 仓库 on a stock report: their own warehouses)."""
    return lookup_within(access, access.registry.model(spec.to or ""), filtered_fields(access, report, spec))


def offered_rows(session: Session, access: Access, report: ReportSpec, spec: ReportParam, text: str) -> list[Any]:
    """The rows a link parameter (商品, 客户, 仓库) offers as the reader types, by code, name, pinyin initials or
    barcode: the grid's lookup of the linked model (its row scope: a salesperson's own customers), narrowed as the
    fields the parameter filters narrow it (`_within`). `parse_params` takes nothing else."""
    return lookup(session, access, access.registry.model(spec.to or ""), text, _within(access, report, spec))


OFFERS = {"link": offered_rows, "user": offered_users}  # what a parameter of each type offers as the reader types


def _choice(value: str, texts: dict[str, str]) -> str:
    """An option as a message names it: the value one types, and its label when that says more."""
    name = label(texts, value)
    return value if name == value else f"{value} {name}"


def needed(spec: ReportParam) -> bool:
    """A parameter the report cannot run without: required and without a default (a period always has one)."""
    return spec.required and spec.default is None and spec.type != "date_range"


def parse_params(session: Session, access: Access, report: ReportSpec, raw: dict[str, str]) -> dict[str, Any]:
    """Typed values for every parameter (defaults filled); every problem at once, as ValidationFailed."""
    errors: list[CellError] = []
    known = {p.name for p in report.params}
    for name in raw:
        if name not in known:
            errors.append(CellError(name, t("report.unknown_param", name=name)))
    values: dict[str, Any] = {}
    for spec in report.params:
        text = str(raw.get(spec.name) or "").strip()
        if not text:
            if needed(spec):
                errors.append(CellError(spec.name, t("required")))
            else:
                values[spec.name] = default_value(spec)
            continue
        if blank_named(text) and takes_blank(report, spec):
            values[spec.name] = BLANK
            continue
        offered = offered_options(access, report, spec) if spec.type == "select" else []
        if spec.type == "select" and text not in {value for value, _ in offered}:
            choices = join_list(_choice(value, texts) for value, texts in offered)
            errors.append(CellError(spec.name, t("report.bad_option", value=text, options=choices)))
            continue
        try:
            values[spec.name] = _one(session, access, report, spec, text)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return values


def param_text(value: Any) -> str:
    """A parsed value back as text (for titles, links and jobs; the blank value as the reader's word for it)."""
    if value is BLANK:
        return t("report.blank")
    if isinstance(value, Period):
        return value.text
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)
