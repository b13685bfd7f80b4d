"""Reading records: scoped, masked, whitelisted filters and sorts, exact JSON.

The REST API, forms, grid, exports and reports all read through here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import String, and_, bindparam, case, func, literal, not_, null, or_, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from app.errors import NotFound, ServiceError, argument_refused
from app.extensions import registry
from app.i18n import label, t
from app.meta.build import characters, search_index_name
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES, MAX_INTEGER, ValueProblem, business_day_span, parse_integer
from app.services.access.rights import Access
from app.services.records.resolver import LinkSql

MAX_PAGE_SIZE = 1000


class BadQuery(ServiceError):
    """400: a filter or sort the user may not use, or a malformed one."""

    status = 400


@dataclass(frozen=True)
class Filter:
    """One filter condition as sent by a client (FAB rison or Tabulator)."""

    field: str
    op: str
    value: Any
    typed: bool = False  # as a person typed it in the grid: a date-time is the business's time, a day a whole day


def base_select(access: Access, model: ModelSpec) -> Select[Any]:
    """SELECT of the model's rows the user may see."""
    access.require(model.key, "read")
    cls = access.registry.cls(model.key)
    stmt = select(cls)
    scope = access.scope(model)
    if scope is not None:
        stmt = stmt.where(scope)
    return stmt


def record_title(model: ModelSpec, row: Any) -> str:
    """「销售出库单 XSCK20261202-0001」: what a message calls a record, its model's label and its business key."""
    key = getattr(row, model.field(model.business_key).column, None) if model.field(model.business_key) else None
    return f"{label(model.label, model.key)} {key if key is not None else row.id}"


PATH_SEPARATOR = " · "  # a linked row's field by the labels of the way there: 客户 · 名称 (partner.name)


def field_label(model: ModelSpec, name: str) -> str:
    """What a message calls a field: its label in the reader's language (the name only if there is none); a field of
    a linked row (`partner.name`, `item.category.code`) by the labels along the way, 客户 · 名称, never the dotted
    key."""
    spec = model.field(name)
    if spec is not None:
        return label(spec.label, name)
    head, dot, rest = name.partition(".")
    link = model.field(head) if dot and rest else None
    if link is None or not link.is_link:
        return name
    target = registry().meta.models.get(link.to or "") if link.type == "link" else None
    return label(link.label, head) + PATH_SEPARATOR + (field_label(target, rest) if target is not None else rest)


def _field(access: Access, model: ModelSpec, name: str, message_key: str) -> FieldSpec | None:
    if name == "id":
        return None
    spec = model.field(name)
    if spec is None or not access.can_see(model, spec) or spec.type == "lines":
        raise BadQuery(t(message_key, field=field_label(model, name)))
    return spec


def read_column(access: Access, model: ModelSpec, spec: FieldSpec | None) -> Any:
    """A field's column as the reader sees it: a link to a row they may not see reads as NULL, so it can be
    neither filtered nor sorted on (the serializer shows it empty too)."""
    cls = access.registry.cls(model.key)
    column = getattr(cls, spec.column if spec else "id")
    if spec is None or spec.type != "link":
        return column
    visible = access.linkable(spec.to or "")
    return column if visible is None else case((column.in_(visible), column), else_=null())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


SHORT_TEXT = 2  # pg_trgm finds "contains" of three characters and more; shorter ones: the search index's characters


def _search_indexes(session: Session, access: Access) -> frozenset[str]:
    """Names of the search indexes (trigrams and characters) in the database (read once per metadata version and
    process)."""
    cache = access.registry.cache
    if "search_indexes" not in cache:
        found = session.execute(
            text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE :p"),
            {"p": "%\\_search"},
        ).scalars()
        cache["search_indexes"] = frozenset(found)
    return cache["search_indexes"]


def contains(session: Session | None, access: Access, model: ModelSpec, column: Any, value: str) -> Any:
    """`column` contains `value`, case-insensitively; on PostgreSQL a one- or two-character value also looks its
    characters up in the characters column of the field's search index, and the candidates are checked by
    `lower(column) LIKE lower(pattern)` (what ILIKE does on UTF-8), which the index's trigram column does not take:
    an ILIKE of two characters in the same index scan would have pg_trgm read the whole index (it needs three)."""
    pattern = f"%{_escape_like(value)}%"
    if (
        session is None
        or not 1 <= len(value) <= SHORT_TEXT
        or session.get_bind().dialect.name != "postgresql"
        or search_index_name(model.key, column.key) not in _search_indexes(session, access)
    ):
        return column.ilike(pattern, escape="\\")
    has_all = characters(column).op("@>", is_comparison=True)(characters(literal(value, String)))
    return and_(has_all, func.lower(column).like(func.lower(literal(pattern, String)), escape="\\"))


def filter_condition(access: Access, model: ModelSpec, flt: Filter, session: Session) -> ColumnElement[bool]:
    """Turn one whitelisted filter into SQL; BadQuery if the field or operator is not allowed."""
    spec = _field(access, model, flt.field, "bad_filter_field")
    column = read_column(access, model, spec)
    ops = FIELD_TYPES[spec.type].filter_ops if spec else ("eq", "neq", "gt", "ge", "lt", "le", "in")
    if flt.op not in ops:
        raise BadQuery(t("bad_filter_op", field=field_label(model, flt.field), op=flt.op))
    if flt.op == "null":
        return column.is_(None) if flt.value in (True, "true", "1", 1) else column.isnot(None)
    if spec is not None and spec.is_link and flt.op == "ct":
        return column.in_(_link_matches(access, spec, str(flt.value)))
    resolver = LinkSql(access)  # a link's typed value as a subquery: the statement holds no row's id

    def parse(raw: Any) -> Any:
        if spec is None:
            try:
                return parse_integer(raw)
            except ValueProblem as exc:
                raise BadQuery(str(exc)) from exc
        if flt.op in ("ct", "nct", "sw", "ew"):
            return str(raw)
        try:
            return FIELD_TYPES[spec.type].parse(spec, raw, resolver)
        except ValueProblem as exc:
            if spec.is_link:  # an unknown key simply matches nothing
                return -1
            raise BadQuery(f"{field_label(model, flt.field)}：{exc}") from exc

    if flt.typed and spec is not None and spec.type == "datetime":
        span = business_day_span(flt.value)  # 2026-12-05 typed under 记账时间: that day, in the business's time
        if span is not None and flt.op in _DAY_CONDITIONS:
            return _DAY_CONDITIONS[flt.op](column, *span)
        flt = Filter(flt.field, flt.op, FIELD_TYPES[spec.type].typed(spec, flt.value))
    if flt.op == "in":
        values = flt.value if isinstance(flt.value, list) else str(flt.value).split(",")
        parsed = [parse(v) for v in values]
        given = [v for v in parsed if v is not None]
        # a blank among the values matches the rows where the field is blank (关闭状态: blank or 部分关闭)
        return or_(column.in_(given), column.is_(None)) if len(given) < len(parsed) else column.in_(given)
    value = parse(flt.value)
    if flt.op == "ct" and spec is not None and column is getattr(access.registry.cls(model.key), spec.column):
        return contains(session, access, model, column, value)
    if flt.op in ("ct", "nct", "sw", "ew"):
        pattern = {"ct": "%{}%", "nct": "%{}%", "sw": "{}%", "ew": "%{}"}[flt.op].format(_escape_like(value))
        cond = column.ilike(pattern, escape="\\")
        return not_(cond) if flt.op == "nct" else cond
    if value is None:
        return column.is_(None) if flt.op == "eq" else column.isnot(None)
    return {
        "eq": lambda: column == value,
        "rel_o_m": lambda: column == value,
        "neq": lambda: column != value,
        "gt": lambda: column > value,
        "ge": lambda: column >= value,
        "lt": lambda: column < value,
        "le": lambda: column <= value,
    }[flt.op]()


# a day typed under a date-time column, as its span [start, end) in UTC
_DAY_CONDITIONS: dict[str, Callable[[Any, dt.datetime, dt.datetime], ColumnElement[bool]]] = {
    "eq": lambda column, start, end: and_(column >= start, column < end),
    "neq": lambda column, start, end: or_(column < start, column >= end),
    "gt": lambda column, start, end: column >= end,
    "ge": lambda column, start, end: column >= start,
    "lt": lambda column, start, end: column < start,
    "le": lambda column, start, end: column < end,
}


def user_matches(text: str) -> ColumnElement[bool]:
    """Users whose user name or name (either part, or both run together: 张三) contains the typed text."""
    pattern = f"%{_escape_like(text.strip())}%"
    columns = (User.username, User.first_name, User.last_name, User.first_name + User.last_name)
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def _link_matches(access: Access, spec: FieldSpec, text: str) -> Select[Any]:
    """Ids of the linked rows whose key or name contains the text (a header filter on a link column)."""
    if spec.type == "user":
        return select(User.id).where(user_matches(text))
    pattern = f"%{_escape_like(text.strip())}%"
    target = access.registry.model(spec.to or "")
    cls = access.registry.cls(target.key)
    columns = [
        getattr(cls, target.field(name).column)
        for name in (target.business_key, target.display)
        if name and target.field(name)
    ]
    matches = select(cls.id).where(or_(*(c.ilike(pattern, escape="\\") for c in columns)))
    visible = access.linkable(target.key)
    return matches if visible is None else matches.where(cls.id.in_(visible))


def order_clause(access: Access, model: ModelSpec, field_name: str, direction: str) -> list[Any]:
    """ORDER BY for a whitelisted field, always ending with id for stable pages."""
    return ordering(access.registry.cls(model.key), order_column(access, model, field_name, direction), direction)


def order_column(access: Access, model: ModelSpec, field_name: str, direction: str) -> Any:
    """The column a sort on a whitelisted field reads as the reader sees it (None: by id alone); BadQuery for a sort
    the reader may not ask for (a field they may not see, one of a type that does not sort, a direction)."""
    if direction not in ("asc", "desc"):
        raise BadQuery(t("bad_order_field", field=f"{field_label(model, field_name)} {direction}"))
    if field_name in ("", "id"):
        return None
    spec = _field(access, model, field_name, "bad_order_field")
    if spec is None or not FIELD_TYPES[spec.type].sortable:
        raise BadQuery(t("bad_order_field", field=field_label(model, field_name)))
    return read_column(access, model, spec)


def ordering(cls: Any, column: Any, direction: str) -> list[Any]:
    """ORDER BY `column` (an `order_column`; None: by id alone) in `direction`, then id."""
    by_id = cls.id.desc() if direction == "desc" else cls.id.asc()
    if column is None:
        return [by_id]
    return [column.desc() if direction == "desc" else column.asc(), by_id]


def search_condition(
    access: Access, model: ModelSpec, text: str, session: Session | None = None
) -> ColumnElement[bool] | None:
    """Free-text search over the visible text fields (key, name, pinyin, barcode ...)."""
    cls = access.registry.cls(model.key)
    columns = [
        getattr(cls, spec.column)
        for spec in access.visible_fields(model)
        if spec.type in ("text", "barcode") and not spec.system
    ]
    if not columns or not text.strip():
        return None
    return or_(*(contains(session, access, model, c, text.strip()) for c in columns))


@dataclass(frozen=True)
class Page:
    """One page of rows and the total count."""

    count: int
    rows: list[Any]


def page_size_asked(name: str, raw: Any, default: int, maximum: int = MAX_PAGE_SIZE) -> int:
    """How many rows a page holds as a request asks (`name`: its argument, `page_size` or the grid's `size`): a whole
    number from 1 to `maximum`, `default` when not given; else a 422 on the argument saying so
    (每页行数应为 1 到 1000 的整数：0), as a page number out of bounds is."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return default
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or not 1 <= int(text) <= maximum:
        raise argument_refused(name, t("bad_page_size", max=maximum, value=text))
    return int(text)


def page_asked(name: str, raw: Any) -> int:
    """A page number as a request asks (`name`: its argument): counted from 1, 1 when not given; else a 422 on the
    argument saying what a page is (页码应为从 1 起的整数（第一页为 1）)."""
    text = "1" if raw is None else str(raw).strip() or "1"
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise argument_refused(name, t("bad_page", value=text))
    if int(text) > MAX_INTEGER:
        raise argument_refused(name, t("out_of_range", bound=MAX_INTEGER))
    return int(text)


def list_rows(
    session: Session,
    access: Access,
    model: ModelSpec,
    filters: list[Filter] = (),  # type: ignore[assignment]
    order: tuple[str, str] = ("id", "desc"),
    page: int = 0,
    page_size: int = 20,
    search: str = "",
) -> Page:
    """A page of the rows the user may see, filtered and sorted on whitelisted fields."""
    page_size = page_size_asked("page_size", page_size, 20)
    if page > MAX_INTEGER:
        raise argument_refused("page", t("out_of_range", bound=MAX_INTEGER))
    stmt = base_select(access, model)
    conditions = [filter_condition(access, model, f, session) for f in filters]
    if search:
        cond = search_condition(access, model, search, session)
        if cond is not None:
            conditions.append(cond)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    count = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    stmt = stmt.order_by(*order_clause(access, model, *order)).limit(page_size).offset(max(page, 0) * page_size)
    rows = list(session.execute(stmt).scalars())
    return Page(count=count, rows=rows)


def get_row(session: Session, access: Access, model: ModelSpec, pk: int, lock: bool = False) -> Any:
    """One row the user may see; NotFound for missing and out-of-scope alike. `lock`: read under a row lock
    (FOR NO KEY UPDATE, what an UPDATE of it takes), its values as they are now even if the session held it."""
    registry = access.registry
    cls = registry.cls(model.key)
    scoped = base_select(access, model)

    def by_id() -> Any:
        return _by_id(scoped.where(cls.id == bindparam("pk")), cls, lock)

    # every row in scope: one statement per metadata version, the id a parameter
    stmt = registry.kept(("get_row", model.key, lock), by_id) if scoped.whereclause is None else by_id()
    row = session.execute(stmt, {"pk": pk}).scalar_one_or_none()
    if row is None:
        raise NotFound(t("not_found"))
    return row


def _by_id(stmt: Select[Any], cls: Any, lock: bool) -> Select[Any]:
    """get_row's statement: read under a row lock when `lock`, its values as they are now."""
    if not lock:
        return stmt
    return stmt.with_for_update(key_share=True, of=cls).execution_options(populate_existing=True)
