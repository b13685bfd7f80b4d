"""What the grid reads: Tabulator's remote paging / sort / filter parameters, rows with versions and page
sums, row ids past the loaded page (for pastes), the change feed for live updates, link lookups and the
user's column layout. Everything reads through `app.services.records.query` (scope, masks, whitelists).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal_column, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import InstrumentedAttribute

from app.i18n import t
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
    read_column,
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
            filters.append(Filter(item.get("field", ""), op, value))
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


def numeric_fields(access: Access, model: ModelSpec) -> list[FieldSpec]:
    """Visible numeric fields (they get a sum at the bottom of the grid)."""
    return [s for s in access.visible_fields(model) if FIELD_TYPES[s.type].numeric and s.name != "version"]


def page_sums(access: Access, model: ModelSpec, rows: list[Any]) -> dict[str, Any]:
    """Exact sums of the page's numeric columns."""
    sums = {}
    fields = numeric_fields(access, model)
    values = column_values(rows, [spec.column for spec in fields])
    for index, spec in enumerate(fields):
        present = [row_values[index] for row_values in values if row_values[index] is not None]
        sums[spec.name] = FIELD_TYPES[spec.type].to_json(spec, sum(present, Decimal(0)) if present else None)
    return sums


def rows_page(session: Session, access: Access, model: ModelSpec, args: Any) -> dict[str, Any]:
    """One page in Tabulator's remote format, or the rows named by `ids` (live refresh)."""
    cls = access.registry.cls(model.key)
    if args.get("ids"):
        ids = _int_list(args.get("ids"))[:MAX_GRID_PAGE]
        rows = list(session.execute(base_select(access, model).where(cls.id.in_(ids))).scalars())
        return {"last_page": 1, "last_row": len(rows), "data": grid_json(session, access, model, rows)}
    page = _int(args.get("page", 1), 1)
    size = _int(args.get("size", 100), 100)
    if not 1 <= size <= MAX_GRID_PAGE or page < 1:
        raise BadQuery(t("bad_page_size", max=MAX_GRID_PAGE))
    view = View.from_args(args)
    offset = (page - 1) * size
    filtered = view.select(session, access, model)
    order = order_clause(access, model, *view.order)
    keyset = _keyset(session, access, model, view, filtered, args.get("after")) if page > 1 else None
    # ids first: the page's 100 ids come from an index, then 100 rows are read by primary key
    if keyset is not None:  # the next page after a row of the view: no rows skipped over
        condition, tail = keyset
        ids = filtered.with_only_columns(cls.id).where(condition).order_by(*order).limit(size).subquery()
    else:
        ids = filtered.with_only_columns(cls.id).order_by(*order).limit(size).offset(offset).subquery()
    # plain rows through the session's connection (a read: nothing to flush), without the ORM's result layer;
    # each row also carries the view's count up to COUNT_EXACT_UP_TO + 1 (one round trip, not two)
    conn, every_column = session.connection(), _every_column(access, model)
    counted = every_column.add_columns(_capped_count(filtered, COUNT_EXACT_UP_TO).label(COUNTED))
    rows = conn.execute(counted.join(ids, ids.c.id == cls.id).order_by(*order)).all()  # one fetch, not 100
    if keyset is not None and tail is not None and len(rows) < size:  # the NULLs sorted after every value
        more = tail.with_only_columns(cls.id).order_by(*order).limit(size - len(rows)).subquery()
        rows += conn.execute(counted.join(more, more.c.id == cls.id).order_by(*order)).all()
    if len(rows) < size and (rows or page == 1):
        count, exact = offset + len(rows), True  # the last page: the total is known without counting
    elif not rows:  # past an estimated end: count once, the pager corrects itself
        count, exact = count_all(session, filtered), True
    else:
        count, exact = count_view(session, filtered, counted=getattr(rows[0], COUNTED))
    return {
        "last_page": max((count + size - 1) // size, 1),
        "last_row": count,
        "last_row_exact": exact,
        "data": grid_json(session, access, model, rows),
        "sums": page_sums(access, model, rows),
    }


def _every_column(access: Access, model: ModelSpec) -> Any:
    """SELECT of every column of the model's table, built once per metadata version (a statement is immutable)."""
    table = access.registry.cls(model.key).__table__
    return access.registry.kept(("grid_every_column", model.key), lambda: select(*table.c))


def _keyset(
    session: Session, access: Access, model: ModelSpec, view: View, filtered: Any, after: Any
) -> tuple[Any, Any] | None:
    """(condition, NULL tail) of the page that follows row `after` of the view, by keyset; None when the
    sort does not allow it (a link column read through the reader's scope, a NULL at the cursor, a row not
    in the view), and the page is read by OFFSET. The tail is the view's rows with NULL in the sort column
    when the database sorts them after every value (PostgreSQL ascending, SQLite descending)."""
    if after in (None, ""):
        return None
    cls = access.registry.cls(model.key)
    cursor = _int(after, 0)
    field_name, direction = view.order
    descending = direction == "desc"
    if field_name in ("", "id"):
        return (cls.id < cursor if descending else cls.id > cursor), None
    column = read_column(access, model, model.field(field_name))
    if not isinstance(column, InstrumentedAttribute):
        return None
    found = session.execute(filtered.with_only_columns(column).where(cls.id == cursor)).first()
    if found is None or found[0] is None:
        return None
    pair, at = tuple_(column, cls.id), tuple_(found[0], cursor)
    condition = pair < at if descending else pair > at
    nulls_last = (session.get_bind().dialect.name == "postgresql") != descending
    return condition, (filtered.where(column.is_(None)) if nulls_last else None)


def count_all(session: Session, stmt: Any) -> int:
    """Exact number of rows of a SELECT."""
    return session.connection().execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()


def count_view(session: Session, stmt: Any, counted: int | None = None) -> tuple[int, bool]:
    """(total, exact) of a view. Exact on SQLite and for views of up to COUNT_CHECK_UP_TO rows; above that
    PostgreSQL's planner estimate, so a page of a million rows never waits for a full count. `counted`: the
    view's count up to COUNT_EXACT_UP_TO + 1, read already (with a page's rows): exact at or below that cap,
    and then neither the plan nor a count is asked for."""
    if counted is not None and counted <= COUNT_EXACT_UP_TO:
        return counted, True
    stmt = stmt.order_by(None)
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return count_all(session, stmt), True
    plan = conn.execute(ExplainJson(stmt)).scalar_one()
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    if counted is not None and estimate > COUNT_CHECK_UP_TO:  # more than the cap, and no exact count is tried
        return max(estimate, COUNT_EXACT_UP_TO + 1), False
    cap = COUNT_CHECK_UP_TO if estimate <= COUNT_CHECK_UP_TO else COUNT_EXACT_UP_TO
    count = conn.execute(select(_capped_count(stmt, cap))).scalar_one()
    return (count, True) if count <= cap else (max(estimate, cap + 1), False)


def _capped_count(stmt: Any, cap: int) -> Any:
    """The number of the view's rows, counted up to cap + 1, as a scalar subquery."""
    ones = stmt.order_by(None).with_only_columns(literal_column("1"), maintain_column_froms=True).limit(cap + 1)
    return select(func.count()).select_from(ones.subquery()).correlate(None).scalar_subquery()


def row_ids(session: Session, access: Access, model: ModelSpec, args: Any) -> dict[str, Any]:
    """Ids and versions at absolute positions start..start+count-1 of the view (pastes past the page)."""
    start = _int(args.get("start", 0), 0)
    count = _int(args.get("count", 100), 100)
    if start < 0 or not 1 <= count <= MAX_IDS:
        raise BadQuery(t("bad_page_size", max=MAX_IDS))
    view = View.from_args(args)
    cls = access.registry.cls(model.key)
    stmt = view.ordered(session, access, model).with_only_columns(cls.id, cls.version).limit(count).offset(start)
    rows = session.execute(stmt).all()
    total, exact = count_view(session, view.select(session, access, model))
    return {"rows": [{"id": r.id, "version": r.version} for r in rows], "total": total, "total_exact": exact}


def changes_since(session: Session, access: Access, model: ModelSpec, since: Any) -> dict[str, Any]:
    """Ids of the model's rows written since the cursor (the audit trail is the feed)."""
    access.require(model.key, "read")
    if since in (None, ""):
        return {"cursor": session.execute(select(func.coalesce(func.max(audit_log.c.id), 0))).scalar_one()}
    cursor = _int(since, 0)
    rows = session.execute(
        select(audit_log.c.id, audit_log.c.record_id, audit_log.c.action, audit_log.c.before)
        .where(audit_log.c.id > cursor, audit_log.c.model == model.key)
        .order_by(audit_log.c.id)
        .limit(MAX_CHANGES)
    ).all()
    changed: dict[int, None] = {}
    deleted: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.record_id is None:
            continue
        if row.action == "delete":
            deleted[row.record_id] = json.loads(row.before) if row.before else {}
            changed.pop(row.record_id, None)
        else:
            changed[row.record_id] = None
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


def lookup(session: Session, access: Access, model: ModelSpec, text: str) -> list[dict[str, Any]]:
    """Rows of a linked model matching typed text (code, name, pinyin initials, barcode), for editors."""
    cls = access.registry.cls(model.key)
    key_col = cls.id if model.business_key == "id" else getattr(cls, model.field(model.business_key).column)
    name_col = getattr(cls, model.field(model.display).column) if model.display else key_col
    stmt = base_select(access, model)
    cond = search_condition(access, model, text, session) if text.strip() else None
    if cond is not None:
        stmt = stmt.where(cond)
    rows = session.execute(stmt.order_by(key_col).limit(LOOKUP_LIMIT)).scalars()
    return [{"id": r.id, "key": getattr(r, key_col.key), "name": getattr(r, name_col.key)} for r in rows]


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
