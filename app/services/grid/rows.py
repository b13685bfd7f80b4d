"""What the grid reads: Tabulator's remote paging / sort / filter parameters, rows with versions and page
sums, row ids past the loaded page (for pastes), the change feed for live updates, link lookups and the
user's column layout. Everything reads through `app.services.records.query` (scope, masks, whitelists).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from sqlalchemy import Integer, and_, bindparam, delete, func, insert, literal_column, select, tuple_, union
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import InstrumentedAttribute

from app.documents.flow import FILLING_ACTIONS, filling_follow_ons, sources_of_follow_ons
from app.errors import argument_refused
from app.i18n import t
from app.meta.plain_reads import plain_rows
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.status import Status
from app.meta.types import FIELD_TYPES, ValueProblem, parse_integer
from app.services.access.rights import Access
from app.services.grid.tables import grid_layout
from app.services.records.explain import ExplainJson
from app.services.records.query import (
    BadQuery,
    Filter,
    base_select,
    filter_condition,
    order_clause,
    order_column,
    ordering,
    page_asked,
    page_size_asked,
    search_condition,
)
from app.services.records.serialize import column_values, rows_to_json
from app.services.records.tables import audit_log

MAX_GRID_PAGE = 1000
MAX_IDS = 5000
MAX_CHANGES = 1000
COUNT_EXACT_UP_TO = 1_000  # a view the planner expects to be big is counted up to here, then estimated
COUNT_CHECK_UP_TO = 10_000  # a view the planner expects to be at most this big is counted exactly (capped)
LOOKUP_LIMIT = 20
KEPT_VIEWS = 256  # filtered or searched views whose page statements are kept (per metadata version)
COUNTED = "jxc_counted"  # the label of the view's capped count beside a page's rows

# Tabulator's header-filter types and the query layer's operators
TABULATOR_OPS = {
    "like": "ct",
    "=": "eq",
    "!=": "neq",
    "<": "lt",
    "<=": "le",
    ">": "gt",
    ">=": "ge",
    "in": "in",
    "starts": "sw",
    "ends": "ew",
}
_INDEXED = re.compile(r"^(sort|filter)\[(\d+)\]\[(\w+)\]$")


@dataclass(frozen=True)
class View:
    """The grid's current view: filters, sort and search, as Tabulator sends them."""

    filters: tuple[Filter, ...] = ()
    order: tuple[str, str] = ("id", "asc")
    search: str = ""

    @classmethod
    def from_args(cls, args: Any) -> View:
        """Parse `sort[i][field|dir]`, `filter[i][field|type|value]` and `search` from query args."""
        groups: dict[tuple[str, int], dict[str, str]] = {}
        for name in args:
            match = _INDEXED.match(name)
            if match:
                groups.setdefault((match[1], int(match[2])), {})[match[3]] = args.get(name)
        sorts = [groups[k] for k in sorted(k for k in groups if k[0] == "sort")]
        filters = []
        for key in sorted(k for k in groups if k[0] == "filter"):
            item = groups[key]
            op = TABULATOR_OPS.get(item.get("type") or "like", item.get("type") or "")
            value = item.get("value", "")
            if value == "" and op != "null":
                continue
            filters.append(Filter(item.get("field", ""), op, value, typed=True))
        order = ("id", "asc")
        if sorts:
            order = (sorts[0].get("field", "id"), (sorts[0].get("dir") or "asc").lower())
        return cls(tuple(filters), order, (args.get("search") or "").strip())

    def select(self, session: Session, access: Access, model: ModelSpec) -> Any:
        """The scoped, filtered SELECT of the view (without ORDER BY)."""
        stmt = base_select(access, model)
        conditions = [filter_condition(access, model, f, session) for f in self.filters]
        if self.search:
            cond = search_condition(access, model, self.search, session)
            if cond is not None:
                conditions.append(cond)
        return stmt.where(and_(*conditions)) if conditions else stmt

    def ordered(self, session: Session, access: Access, model: ModelSpec) -> Any:
        """The view's SELECT with a stable ORDER BY (the primary key last)."""
        return self.select(session, access, model).order_by(*order_clause(access, model, *self.order))


def readonly_row(model: ModelSpec, row: Any) -> bool:
    """Rows nobody edits in the grid: ledger entries and documents past draft."""
    return model.kind == "ledger" or (model.kind == "document" and row.status != Status.DRAFT)


def grid_json(
    session: Session, access: Access, model: ModelSpec, rows: list[Any], columns: list[str] | None = None
) -> list[dict[str, Any]]:
    """Rows as the grid shows them: masked JSON plus id, version and whether the row is read-only."""
    data = rows_to_json(session, access, model, rows, columns=columns)
    versions = column_values(rows, ["version"])
    if model.kind == "document":
        for row, item, (version,) in zip(rows, data, versions, strict=True):
            item["version"], item["_readonly"] = version, readonly_row(model, row)
        return data
    readonly = model.kind == "ledger"  # every row alike: no look at each row
    for item, (version,) in zip(data, versions, strict=True):
        item["version"], item["_readonly"] = version, readonly
    return data


def summed_fields(access: Access, model: ModelSpec, fields: list[FieldSpec] | None = None) -> list[FieldSpec]:
    """The fields of `fields` (default: every field the reader sees) whose values add up, the amounts (a price, a
    rate or a number of days gets no sum: `FieldType.summed`); a field hidden from the reader is never one."""
    shown = access.visible_fields(model)
    names = None if fields is None else {spec.name for spec in fields}
    return [s for s in shown if FIELD_TYPES[s.type].summed(s) and (names is None or s.name in names)]


def page_sums(access: Access, model: ModelSpec, rows: list[Any]) -> dict[str, Any]:
    """Exact sums of the page's amount columns."""
    sums = {}
    fields = summed_fields(access, model)
    values = column_values(rows, [spec.column for spec in fields])
    for index, spec in enumerate(fields):
        # a page's decimals may be PostgreSQL's texts of them (`plain_rows(numeric_text=True)`)
        present = [Decimal(v) if type(v) is str else v for row_values in values if (v := row_values[index]) is not None]
        sums[spec.name] = FIELD_TYPES[spec.type].to_json(spec, sum(present, Decimal(0)) if present else None)
    return sums


def rows_page(session: Session, access: Access, model: ModelSpec, args: Any) -> dict[str, Any]:
    """One page in Tabulator's remote format, or the rows named by `ids` (live refresh)."""
    cls = access.registry.cls(model.key)
    if args.get("ids"):
        ids = _int_list(args.get("ids"))[:MAX_GRID_PAGE]
        rows = list(session.execute(base_select(access, model).where(cls.id.in_(ids))).scalars())
        return {"last_page": 1, "last_row": len(rows), "data": grid_json(session, access, model, rows)}
    page = page_asked("page", args.get("page"))
    size = page_size_asked("size", args.get("size"), 100, MAX_GRID_PAGE)
    view = View.from_args(args)
    offset = (page - 1) * size
    plan = page_statements(session, access, model, view)
    # plain rows through the session's connection (a read: nothing to flush), without the ORM's result layer
    conn = session.connection()
    after = _keyset_cursor(plan, args.get("after")) if page > 1 else None
    rows: list[Any] = []
    if after is not None:  # the next page after a row of the view: no rows skipped over
        rows = plain_rows(
            conn, plan.after_page, {"jxc_after_id": after, "jxc_size": size}, numeric_text=True, temporal_text=True
        )
        if len(rows) < size and not _cursor_usable(conn, plan, after):  # not in the view, or NULL: by OFFSET
            after = None
    if after is None:
        rows = plain_rows(
            conn, plan.offset_page, {"jxc_size": size, "jxc_offset": offset}, numeric_text=True, temporal_text=True
        )
    if after is not None and len(rows) < size and plan.nulls_tail(conn):  # the NULLs sorted after every value
        tail = plan.filtered.where(plan.sort_column.is_(None))
        more = tail.with_only_columns(cls.id).order_by(*plan.order).limit(size - len(rows)).subquery()
        rows += conn.execute(plan.counted.join(more, more.c.id == cls.id).order_by(*plan.order)).all()
    if len(rows) < size and (rows or page == 1):
        count, exact = offset + len(rows), True  # the last page: the total is known without counting
    elif not rows:  # past an estimated end: count once, the pager corrects itself
        count, exact = count_all(session, plan.counts), True
    else:
        count, exact = count_view(session, plan.counts, counted=getattr(rows[0], COUNTED))
    return {
        "last_page": max((count + size - 1) // size, 1),
        "last_row": count,
        "last_row_exact": exact,
        "data": grid_json(session, access, model, rows),
        "sums": page_sums(access, model, rows),
    }


class PageStatements:
    """The statements of a view's pages, the page itself (size, offset, keyset cursor) as parameters: built
    from metadata, rights and the view, so a view every reader of the model sees alike is built once per
    metadata version (`page_statements`). Each statement is built when first used (a view's first page needs
    no keyset statements)."""

    def __init__(
        self, cls: Any, every_column: Any, filtered: Any, order: tuple[Any, ...], sort_column: Any, view: View
    ) -> None:
        self.cls = cls
        self.every_column = every_column  # SELECT of every column of the model's table
        self.filtered = filtered  # the view's scoped, filtered SELECT (without ORDER BY)
        self.order = order  # its ORDER BY, the primary key last
        self.sort_column = sort_column  # the column of the first sort key as the reader sees it
        self.by_id = view.order[0] in ("", "id")
        self.descending = view.order[1] == "desc"
        # a link column read through the reader's scope (a CASE) has no index to seek: its pages go by OFFSET
        self.keyset = self.by_id or isinstance(sort_column, InstrumentedAttribute)

    @cached_property
    def counted(self) -> Any:
        """Every column of the model's table and the view's count up to COUNT_EXACT_UP_TO + 1."""
        return self.every_column.add_columns(_capped_count(self.filtered, COUNT_EXACT_UP_TO).label(COUNTED))

    @cached_property
    def counts(self) -> ViewCounts:
        """The view's count statements (`count_view`)."""
        return ViewCounts(self.filtered)

    @cached_property
    def offset_page(self) -> Any:
        """A page's rows by OFFSET (jxc_size, jxc_offset): the page's ids first, from an index, then its rows
        by primary key, each with the view's capped count (one round trip, not two)."""
        ids = self.filtered.with_only_columns(self.cls.id).order_by(*self.order).limit(_SIZE).offset(_OFFSET)
        return self._rows_of(ids.subquery())

    @cached_property
    def cursor_value(self) -> Any:
        """The sort value of row jxc_after_id when that row is in the view (keyset pages not sorted by id)."""
        return self.filtered.with_only_columns(self.sort_column).where(self.cls.id == _AFTER_ID)

    @cached_property
    def after_page(self) -> Any:
        """The page after row jxc_after_id by keyset (jxc_size). Its sort value is read in the same statement
        (`cursor_value` as a scalar subquery: one round trip and one statement's Python less than reading it
        first); when that row is not in the view or its value is NULL, the comparison is NULL and the page
        empty, and `_cursor_usable` tells that from the view's end."""
        cls = self.cls
        if self.by_id:
            condition = cls.id < _AFTER_ID if self.descending else cls.id > _AFTER_ID
        else:
            pair = tuple_(self.sort_column, cls.id)
            # not correlated: the same table is the page's, and the cursor's row is one row of the view, not this one
            at = tuple_(self.cursor_value.correlate(None).scalar_subquery(), _AFTER_ID)
            condition = pair < at if self.descending else pair > at
        ids = self.filtered.with_only_columns(cls.id).where(condition).order_by(*self.order)
        return self._rows_of(ids.limit(_SIZE).subquery())

    def nulls_tail(self, conn: Any) -> bool:
        """Does the database sort the sort column's NULLs after every value (PostgreSQL ascending, SQLite
        descending)? Then a keyset page ends with the view's rows with NULL there."""
        return not self.by_id and (conn.dialect.name == "postgresql") != self.descending

    def _rows_of(self, ids: Any) -> Any:
        return self.counted.join(ids, ids.c.id == self.cls.id).order_by(*self.order)


# the page's parameters, the same in every view's statements
_SIZE, _OFFSET = bindparam("jxc_size", type_=Integer()), bindparam("jxc_offset", type_=Integer())
_AFTER_ID = bindparam("jxc_after_id", type_=Integer())


def page_statements(session: Session, access: Access, model: ModelSpec, view: View) -> PageStatements:
    """The view's page statements. Each page's rows used to be read by a statement built for that request: its
    building and SQLAlchemy's mapping of a new statement onto the compiled one it had cached were about a
    tenth of an unfiltered page's time, and building a filtered view's (a link's typed value looked up, the
    conditions made) as much again. A view read through no row scope (of the model or of a linked model it
    is filtered on) and sorted on a column as it is stored is the same SQL for every reader with the same
    rights: an unfiltered one is kept per metadata version, a filtered or searched one among the
    KEPT_VIEWS most recently read, per set of rights (its values are in it; a link's typed value is a subquery,
    so it names the row the value names when the page is read). The sort field's check (may this reader see
    it?) runs for every request."""
    access.require(model.key, "read")
    by = order_column(access, model, *view.order)  # BadQuery for a field the reader may not see
    cls = access.registry.cls(model.key)
    sort_column = cls.id if by is None else by

    def build() -> PageStatements:  # the ORDER BY made only here: SQLAlchemy's operators are dear per request
        filtered = view.select(session, access, model)
        order = tuple(ordering(cls, by, view.order[1]))
        return PageStatements(cls, _every_column(access, model), filtered, order, sort_column, view)

    if access.scope(model) is not None or not isinstance(sort_column, InstrumentedAttribute):
        return build()
    if not view.filters and not view.search:
        return access.registry.kept(("grid_page_statements", model.key, view.order), build)  # type: ignore[no-any-return]
    if any(_read_through_scope(access, model, flt.field) for flt in view.filters):
        return build()
    kept = access.registry.kept_recent("grid_page_statements", (model.key, view, access.rights_key), build, KEPT_VIEWS)
    return kept  # type: ignore[no-any-return]


def _read_through_scope(access: Access, model: ModelSpec, field_name: str) -> bool:
    """Is the field a link the reader sees through a row scope of its model (so a filter on it is theirs)?"""
    spec = model.field(field_name)
    return spec is not None and spec.type == "link" and access.linkable(spec.to or "") is not None


def _every_column(access: Access, model: ModelSpec) -> Any:
    """SELECT of every column of the model's table, built once per metadata version (a statement is immutable)."""
    table = access.registry.cls(model.key).__table__
    return access.registry.kept(("grid_every_column", model.key), lambda: select(*table.c))


def _keyset_cursor(plan: PageStatements, after: Any) -> int | None:
    """The id of the row whose next page is asked for (`after`), when the view's sort allows a keyset page; None
    when it does not (a link column read through the reader's scope), and the page is read by OFFSET."""
    if after in (None, "") or not plan.keyset:
        return None
    return _int(after, 0)


def _cursor_usable(conn: Any, plan: PageStatements, cursor: int) -> bool:
    """Asked only when a keyset page came back short: is row `cursor` in the view with a sort value (so the short
    page is the view's end), or was the keyset comparison NULL (a row outside the view, a made-up id, a NULL at
    the cursor: the page is read by OFFSET)?"""
    if plan.by_id:
        return True
    found = conn.execute(plan.cursor_value, {"jxc_after_id": cursor}).first()
    return found is not None and found[0] is not None


class ViewCounts:
    """The statements that count a view (its scoped, filtered SELECT): built when first used and kept with the
    view's page statements, so a kept view's count reuses them (SQLAlchemy works out a statement's cache key
    once per statement object: building the EXPLAIN afresh for every page was a fifth of a page's own Python)."""

    def __init__(self, filtered: Any) -> None:
        self.filtered = filtered.order_by(None)

    @cached_property
    def all(self) -> Any:
        """Exact number of the view's rows."""
        return select(func.count()).select_from(self.filtered.subquery())

    @cached_property
    def explain(self) -> Any:
        """PostgreSQL's plan of the view (its estimate of the rows)."""
        return ExplainJson(self.filtered)

    @cached_property
    def checked(self) -> Any:
        """The view's rows counted up to COUNT_CHECK_UP_TO + 1."""
        return select(_capped_count(self.filtered, COUNT_CHECK_UP_TO))

    @cached_property
    def capped(self) -> Any:
        """The view's rows counted up to COUNT_EXACT_UP_TO + 1."""
        return select(_capped_count(self.filtered, COUNT_EXACT_UP_TO))


def count_all(session: Session, counts: ViewCounts) -> int:
    """Exact number of rows of a view."""
    return session.connection().execute(counts.all).scalar_one()


def count_view(session: Session, counts: ViewCounts, counted: int | None = None) -> tuple[int, bool]:
    """(total, exact) of a view. Exact on SQLite and for views of up to COUNT_CHECK_UP_TO rows; above that
    PostgreSQL's planner estimate, so a page of a million rows never waits for a full count. `counted`: the
    view's count up to COUNT_EXACT_UP_TO + 1, read already (with a page's rows): exact at or below that cap,
    and then neither the plan nor a count is asked for."""
    if counted is not None and counted <= COUNT_EXACT_UP_TO:
        return counted, True
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return count_all(session, counts), True
    ((plan,),) = plain_rows(conn, counts.explain)
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    if counted is not None and estimate > COUNT_CHECK_UP_TO:  # more than the cap, and no exact count is tried
        return max(estimate, COUNT_EXACT_UP_TO + 1), False
    cap, stmt = (
        (COUNT_CHECK_UP_TO, counts.checked) if estimate <= COUNT_CHECK_UP_TO else (COUNT_EXACT_UP_TO, counts.capped)
    )
    ((count,),) = plain_rows(conn, stmt)
    return (count, True) if count <= cap else (max(estimate, cap + 1), False)


def _capped_count(stmt: Any, cap: int) -> Any:
    """The number of the view's rows, counted up to cap + 1, as a scalar subquery."""
    ones = stmt.order_by(None).with_only_columns(literal_column("1"), maintain_column_froms=True).limit(cap + 1)
    return select(func.count()).select_from(ones.subquery()).correlate(None).scalar_subquery()


def row_ids(session: Session, access: Access, model: ModelSpec, args: Any) -> dict[str, Any]:
    """Ids and versions at absolute positions start..start+count-1 of the view (pastes past the page)."""
    start = _int(args.get("start", 0), 0)
    count = page_size_asked("count", args.get("count"), 100, MAX_IDS)
    if start < 0:
        raise argument_refused("start", t("min", min=0))
    view = View.from_args(args)
    cls = access.registry.cls(model.key)
    stmt = view.ordered(session, access, model).with_only_columns(cls.id, cls.version).limit(count).offset(start)
    rows = session.execute(stmt).all()
    total, exact = count_view(session, ViewCounts(view.select(session, access, model)))
    return {"rows": [{"id": r.id, "version": r.version} for r in rows], "total": total, "total_exact": exact}


def changes_since(session: Session, access: Access, model: ModelSpec, since: Any) -> dict[str, Any]:
    """Ids of the model's rows written since the cursor (the audit trail is the feed): the model's own audit rows,
    and the orders whose 入库状态 / 出库状态 a receipt or delivery posted or cancelled meanwhile moved (read from that
    follow-on's audit row and its links: the order's own trail does not say it, since nobody edited the order)."""
    access.require(model.key, "read")
    if since in (None, ""):
        return {"cursor": session.execute(select(func.coalesce(func.max(audit_log.c.id), 0))).scalar_one()}
    cursor = _int(since, 0)
    feeding = filling_follow_ons(access.registry, model.key)
    rows = session.execute(
        select(audit_log.c.id, audit_log.c.model, audit_log.c.record_id, audit_log.c.action, audit_log.c.before)
        .where(audit_log.c.id > cursor, audit_log.c.model.in_((model.key, *feeding)))
        .order_by(audit_log.c.id)
        .limit(MAX_CHANGES)
    ).all()
    changed: dict[int, None] = {}
    deleted: dict[int, dict[str, Any]] = {}
    filled: dict[str, list[int]] = {}
    for row in rows:
        if row.record_id is None:
            continue
        if row.model != model.key:
            if row.action in FILLING_ACTIONS:
                filled.setdefault(row.model, []).append(row.record_id)
            continue
        if row.action == "delete":
            deleted[row.record_id] = json.loads(row.before) if row.before else {}
            changed.pop(row.record_id, None)
        else:
            changed[row.record_id] = None
    for target, ids in filled.items():
        for pk in sources_of_follow_ons(session, access.registry, model.key, target, ids):
            if pk not in deleted:
                changed[pk] = None
    if access.scope(model) is not None:  # ids of rows the user may not see (or saw before it was deleted) stay unknown
        cls = access.registry.cls(model.key)
        seen = set(
            session.execute(base_select(access, model).with_only_columns(cls.id).where(cls.id.in_(changed))).scalars()
        )
        changed = {pk: None for pk in changed if pk in seen}
        deleted = {pk: before for pk, before in deleted.items() if access.allows_values(session, model, before)}
    if rows:
        cursor = rows[-1].id
    else:  # skip past other models' entries so the next poll starts from here
        cursor = max(cursor, session.execute(select(func.coalesce(func.max(audit_log.c.id), 0))).scalar_one())
    return {"cursor": cursor, "changed": list(changed), "deleted": list(deleted)}


def lookup(session: Session, access: Access, model: ModelSpec, text: str, within: Any = None) -> list[dict[str, Any]]:
    """Rows of a linked model matching typed text (code, name, pinyin initials, barcode), for editors and a report's
    link filter; `within` (SQL of ids) narrows them to what the field being filled may name. Through the reader's
    field masks, as the rows are: a code or name hidden from them (roles.yaml `hidden_fields`) is offered as null,
    and typed text does not match it (`search_condition` reads only what they see)."""
    cls = access.registry.cls(model.key)
    key_col = cls.id if model.business_key == "id" else getattr(cls, model.field(model.business_key).column)
    name_col = getattr(cls, model.field(model.display).column) if model.display else key_col
    seen = {spec.column for spec in access.visible_fields(model)} | {"id"}
    stmt = base_select(access, model)
    cond = search_condition(access, model, text, session) if text.strip() else None
    if cond is not None:
        stmt = stmt.where(cond)
    if within is not None:
        stmt = stmt.where(cls.id.in_(within))
    rows = session.execute(stmt.order_by(key_col).limit(LOOKUP_LIMIT)).scalars()
    return [
        {
            "id": r.id,
            "key": getattr(r, key_col.key) if key_col.key in seen else None,
            "name": getattr(r, name_col.key) if name_col.key in seen else None,
        }
        for r in rows
    ]


def lookup_within(access: Access, target: ModelSpec, fields: list[tuple[ModelSpec, FieldSpec]]) -> Any:
    """SQL of the `target` ids a lookup filling `fields` (model, link field) may offer, or None for every row the
    reader sees: a warehouse the reader's row scope on the field's model does not admit (a keeper's
    stocktake.warehouse: their own warehouses) would be refused on save, and read nothing in a report. A value that
    fills several fields at once (a report's filter over receipts and returns) may be any one of theirs."""
    narrowed = []
    for model, spec in fields:
        if spec.to != target.key or target.key != "warehouse" or not access.can(model.key, "read"):
            return None
        ids = access.warehouses_for(model, spec.name)
        if ids is None:
            return None
        narrowed.append(ids)
    return union(*narrowed) if len(narrowed) > 1 else narrowed[0] if narrowed else None


def load_layout(session: Session, user_id: int | None, model_key: str) -> list[dict[str, Any]] | None:
    """The user's saved column order, widths and visibility for a model."""
    text = session.execute(
        select(grid_layout.c.layout).where(grid_layout.c.user_id == user_id, grid_layout.c.model == model_key)
    ).scalar()
    return json.loads(text) if text else None


def save_layout(session: Session, access: Access, model: ModelSpec, body: Any) -> list[dict[str, Any]]:
    """Store the user's column layout (fields they may see only)."""
    access.require(model.key, "read")
    columns = body.get("columns") if isinstance(body, dict) else None
    if not isinstance(columns, list) or len(columns) > 500:
        raise BadQuery(t("batch_malformed", reason="columns"))
    visible = {s.name for s in access.visible_fields(model)}
    layout = []
    for item in columns:
        if not isinstance(item, dict) or item.get("field") not in visible:
            continue
        width = item.get("width")
        layout.append(
            {
                "field": item["field"],
                "width": min(max(int(width), 30), 2000) if isinstance(width, int | float) else None,
                "visible": item.get("visible") is not False,
            }
        )
    session.execute(
        delete(grid_layout).where(grid_layout.c.user_id == access.user_id, grid_layout.c.model == model.key)
    )
    session.execute(insert(grid_layout).values(user_id=access.user_id, model=model.key, layout=json.dumps(layout)))
    session.commit()
    return layout


def _int(raw: Any, default: int) -> int:
    if raw in (None, ""):
        return default
    try:
        return parse_integer(raw)
    except ValueProblem as exc:
        raise BadQuery(str(exc)) from exc


def _int_list(raw: str) -> list[int]:
    return [_int(part, 0) for part in str(raw).split(",") if part.strip()]
