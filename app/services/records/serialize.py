"""Rows to JSON: masked for the reader, links shown as {id, key, name}, decimals exact."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from functools import partial
from operator import itemgetter
from typing import Any

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Integer, Select, String, any_, bindparam, cast, literal, null, select, union_all
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.sqltypes import NullType

from app.extensions import core_reads
from app.meta.plain_reads import plain_rows
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import (
    FIELD_TYPES,
    DateTimeType,
    DateType,
    DecimalType,
    FieldType,
    date_text,
    format_decimal,
    numeric_text,
    timestamp_text,
)
from app.services.access.rights import Access
from app.services.records.bulk import ArrayText, map_distinct

LABEL_CHUNK = 5000  # ids per query of link_labels


def person_name(first: str | None, last: str | None) -> str:
    """A user's name as pages show it: the name parts run together (Chinese style), without the "-" that
    accounts made by older versions of `jxc user add` carry as their last name."""
    return "".join(p.strip() for p in (first or "", last or "") if p.strip() not in ("", "-"))


def user_name(user: Any) -> str:
    """What a user is called on pages and prints: their name, or their user name when they have none."""
    return person_name(user.first_name, user.last_name) or user.username


def reader_name(session: Session, access: Access) -> str:
    """The reader's name as pages show it (制表人 on a report file): their user name when they have none."""
    user = session.get(User, access.user_id) if access.user_id else None
    return user_name(user) if user is not None else access.username


def _label_columns(access: Access, spec: FieldSpec) -> tuple[Any, Any, Any, Any]:
    """(id, key, name, second name part) columns of the rows a link field points at."""
    return _label_shape(access, spec)[0]


def _label_shape(access: Access, spec: FieldSpec) -> tuple[tuple[Any, Any, Any, Any], bool]:
    """(`_label_columns`, whether the key and name are text or the id): per metadata version and linked model, worked
    out once (an ORM column's type is looked up through its attribute's `__getattr__`, a fifth of a submit's
    answer's labels)."""

    def build() -> tuple[tuple[Any, Any, Any, Any], bool]:
        if spec.type == "user":
            columns: tuple[Any, Any, Any, Any] = (User.id, User.username, User.first_name, User.last_name)
        else:
            target = access.registry.model(spec.to or "")
            cls = access.registry.cls(target.key)
            key_col = cls.id if target.business_key == "id" else getattr(cls, target.business_key)
            name_col = getattr(cls, target.display) if target.display else key_col
            columns = (cls.id, key_col, name_col, null())
        pk, key_col, name_col, _ = columns
        texts = (key_col is pk or _as_text(key_col)) and (name_col is key_col or _as_text(name_col))
        return columns, texts

    return access.registry.kept(("label_shape", _target(spec)), build)  # type: ignore[no-any-return]


def ids_in(pk: Any, ids: Collection[int], dialect: str, name: str | None = None) -> Any:
    """`pk IN (ids)`; on PostgreSQL `pk = ANY(:ids)`, one array parameter (an IN list coerces, binds and expands
    every id, each time: most of the Python of a page's link labels). With `name`, the ids are the statement's
    parameter of that name, given when it is executed (a statement kept for its next run)."""
    if dialect == "postgresql":  # the ids sent as the array's text (ArrayText), not a list psycopg dumps id by id
        return pk == any_(bindparam(name, None if name else list(ids), type_=ArrayText(Integer())))
    return pk.in_(bindparam(name, expanding=True) if name else ids)


def _label_select(
    access: Access, spec: FieldSpec, ids: set[int], columns: list[Any], dialect: str, name: str | None = None
) -> tuple[Select[Any], bool]:
    """(the linked rows' `columns` where the reader may see them, whether that is every row: the statement is
    the same for every reader). A link to a row the reader may not see reads as empty."""
    pk = _label_columns(access, spec)[0]
    stmt = select(*columns).where(ids_in(pk, ids, dialect, name))
    visible = None if spec.type == "user" else access.linkable(spec.to or "")
    return (stmt, True) if visible is None else (stmt.where(pk.in_(visible)), False)


def _as_text(column: Any) -> bool:
    return column is not None and isinstance(getattr(column, "type", None), String | NullType)


def labels_of_links(
    session: Session, access: Access, wanted: list[tuple[FieldSpec, set[int]]]
) -> list[dict[int, dict[str, Any]]]:
    """For each (link field, ids): {id: {id, key, name}} of the linked rows the reader may see. One query for
    all of them: a UNION ALL of one select per linked model whose labels are text (the key and name of any
    other model, a numeric business key say, keep their types in a query of their own). The UNION ALL takes
    the ids as parameters, and when no reader's scope narrows it, it is built once per metadata version and
    set of linked models (building it and its cache key was a third of a page's labels)."""
    out: list[dict[int, dict[str, Any]]] = [{} for _ in wanted]
    dialect = session.get_bind().dialect.name
    texts: list[tuple[int, FieldSpec]] = []
    for tag, (spec, ids) in enumerate(wanted):
        if not ids:
            continue
        (pk, key_col, name_col, _), as_texts = _label_shape(access, spec)
        if as_texts:
            texts.append((tag, spec))
            continue
        stmt, _ = _label_select(access, spec, ids, [pk, key_col, name_col], dialect)
        for pk_value, key, name in session.execute(stmt):
            out[tag][pk_value] = {"id": pk_value, "key": key, "name": name}
    if texts:
        params = {f"jxc_ids_{tag}": list(wanted[tag][1]) for tag, _ in texts}
        # per tag, worked out once (not for each row read): is the key the id, the name the key, a user's name
        shapes = {}
        for tag, spec in texts:
            pk_col, key_col, name_col, _ = _label_columns(access, spec)
            shapes[tag] = (key_col is pk_col, name_col is key_col, spec.type == "user")
        labels = plain_rows(core_reads(session), _labels_union(access, texts, dialect), params)
        for tag, pk_value, key, name, last in labels:
            key_is_id, name_is_key, user = shapes[tag]
            key = pk_value if key_is_id else key
            name = key if name_is_key else person_name(name, last) if user else name
            out[tag][pk_value] = {"id": pk_value, "key": key, "name": name}
    for tag, (spec, _) in enumerate(wanted):
        hidden = _masked_parts(access, spec)
        if hidden and out[tag]:
            for found in out[tag].values():
                found.update(dict.fromkeys(hidden))
    return out


def _masked_parts(access: Access, spec: FieldSpec) -> tuple[str, ...]:
    """Which of a label's key and name the reader's field masks hide on the model a link field points at (roles.yaml
    `hidden_fields` on its code or name): a label says no more than the linked row's own page and lookup do."""
    if spec.type == "user":
        return ()
    target = access.registry.model(spec.to or "")
    parts = (("key", target.field(target.business_key)), ("name", target.field(target.display or target.business_key)))
    return tuple(part for part, field in parts if field is not None and not access.can_see(target, field))


def _labels_union(access: Access, texts: list[tuple[int, FieldSpec]], dialect: str) -> Any:
    """The UNION ALL of the text labels of `texts` (tag, link field), its ids as parameters `jxc_ids_<tag>`;
    kept per metadata version when no part is narrowed by the reader's scope."""
    key = ("link_labels", dialect, tuple((tag, spec.type == "user", spec.to) for tag, spec in texts))
    cached = access.registry.cache.get(key)
    if cached is not None and all(spec.type == "user" or access.linkable(spec.to or "") is None for _, spec in texts):
        return cached
    parts, shared = [], True
    for tag, spec in texts:
        pk, key_col, name_col, last_col = _label_columns(access, spec)
        columns = [  # named: unnamed NULLs and casts of parts alike were told apart by object, which a cached
            # statement's result does not keep (NoSuchColumnError reading a history of links of two kinds)
            literal(tag).label("tag"),
            pk.label("id"),
            (null() if key_col is pk else cast(key_col, String())).label("key"),
            (null() if name_col is key_col else cast(name_col, String())).label("name"),
            cast(last_col, String()).label("last"),
        ]
        stmt, every_row = _label_select(access, spec, set(), columns, dialect, f"jxc_ids_{tag}")
        parts.append(stmt)
        shared = shared and every_row
    union = parts[0] if len(parts) == 1 else union_all(*parts)
    if shared:
        access.registry.cache[key] = union
    return union


def link_labels(session: Session, access: Access, spec: FieldSpec, ids: set[int]) -> dict[int, dict[str, Any]]:
    """{id: {id, key, name}} of the linked rows the reader may see (others are left out: they read as empty).
    Asked LABEL_CHUNK ids at a time: a query takes at most 65,535 parameters (a 100,000-line stocktake's items)."""
    ordered = list(ids)
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ordered), LABEL_CHUNK):
        found.update(labels_of_links(session, access, [(spec, set(ordered[start : start + LABEL_CHUNK]))])[0])
    return found


def value_to_json(session: Session, access: Access, spec: FieldSpec, value: Any) -> Any:
    """One stored value as JSON (a link as {id, key, name}; None when the reader may not see the linked row)."""
    if value is None:
        return None
    if spec.is_link:
        return link_labels(session, access, spec, {value}).get(value)
    return FIELD_TYPES[spec.type].to_json(spec, value)


def links_labels(
    session: Session, access: Access, parts: list[tuple[list[FieldSpec], list[Any]]]
) -> list[dict[str, dict[int, dict[str, Any]]]]:
    """For each (fields, rows): {link field name: {id: {id, key, name}}} of the rows' links the reader may see,
    all in one query: one select per linked model however many fields and parts point at it (a document's and
    its lines' created_by ...)."""
    targets: dict[str, tuple[FieldSpec, set[int]]] = {}
    for fields, rows in parts:
        links = [spec for spec in fields if spec.is_link]
        # each link column's values read the quick way (by position), not attribute by attribute
        columns = columns_of(rows, [spec.column for spec in links])
        for spec, ids in zip(links, columns, strict=True):
            targets.setdefault(_target(spec), (spec, set()))[1].update(ids)
    for _, ids in targets.values():
        ids.discard(None)  # type: ignore[arg-type]
    found = labels_of_links(session, access, list(targets.values()))
    by_target = dict(zip(targets, found, strict=True))
    return [{spec.name: by_target[_target(spec)] for spec in fields if spec.is_link} for fields, _ in parts]


def _target(spec: FieldSpec) -> str:
    return "" if spec.type == "user" else spec.to or ""


def loaded_value(row: Any, column: str) -> Any:
    """An ORM row's column value from the row's own dict when it is loaded (without the attribute machinery: a
    batch reads every column of a thousand rows), else through the attribute, which loads an expired one."""
    values = getattr(row, "__dict__", None)  # a plain result row has none: read by name
    return values[column] if values is not None and column in values else getattr(row, column)


def _fields_of(row: Any) -> tuple[str, ...]:
    """The column names of a result row (`Row`, or a named tuple of `plain_rows`); () for an ORM row."""
    if isinstance(row, Row):
        return row._fields  # a new tuple at each access: read once
    return getattr(row, "_fields", ()) if isinstance(row, tuple) else ()


def column_values(rows: list[Any], columns: list[str]) -> list[Sequence[Any]]:
    """Each row's values of `columns`, read the quick way: a result row (`select(*table.c)`) by position, an ORM
    row from its own dict (an expired or deferred column through its attribute, which loads it)."""
    if not rows:
        return []
    first = rows[0]
    names = _fields_of(first)
    if names and all(column in names for column in columns):
        positions = [names.index(column) for column in columns]
        if len(positions) == 1:
            return [(row[positions[0]],) for row in rows]
        pick = itemgetter(*positions) if positions else lambda _: ()
        return [pick(row) for row in rows]
    return [[loaded_value(row, column) for column in columns] for row in rows]


def columns_of(rows: list[Any], columns: list[str]) -> list[Sequence[Any]]:
    """The values of each of `columns` over the rows, column by column (`column_values` turned over): result rows
    (`select(*table.c)`) are turned over at once and their columns picked by position, not row by row."""
    if not rows:
        return [() for _ in columns]
    first = rows[0]
    names = _fields_of(first)
    if names and all(column in names for column in columns):
        every = list(zip(*rows, strict=True))
        return [every[names.index(column)] for column in columns]
    return list(zip(*column_values(rows, columns), strict=True))


_isoformat = dt.datetime.isoformat


def rows_to_json(
    session: Session,
    access: Access,
    model: ModelSpec,
    rows: list[Any],
    *,
    with_lines: bool = False,
    columns: list[str] | None = None,
) -> list[dict[str, Any]]:
    """JSON for rows the user may see, with only the fields they may see (and their lines': the labels of both
    read in one query)."""
    fields = [f for f in access.visible_fields(model) if f.type != "lines"]
    if columns:
        fields = [f for f in fields if f.name in columns]
    parts = [(fields, rows)]
    line_model_key = model.lines_model if with_lines else None
    if line_model_key and rows:
        line_model = access.registry.model(line_model_key)
        # nested in their document, lines need not name it (a grid of lines or their own API does: `parent`)
        line_fields = [f for f in access.visible_fields(line_model) if f.type != "lines" and f.name != "parent"]
        parts.append((line_fields, _lines_of(session, access.registry.cls(line_model_key), rows)))
    labels = links_labels(session, access, parts)
    lines_by_parent: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if len(parts) > 1:
        line_rows = parts[1][1]
        for line, data in zip(line_rows, _as_json(parts[1][0], line_rows, labels[1]), strict=True):
            data["line_no"] = line.line_no
            lines_by_parent[line.parent_id].append(data)
    out = _as_json(fields, rows, labels[0])
    if line_model_key:
        for row, item in zip(rows, out, strict=True):
            item["lines"] = lines_by_parent.get(row.id, [])
    return out


def _lines_of(session: Session, line_cls: Any, rows: list[Any]) -> list[Any]:
    """The lines of these documents in order: as the session holds them when every row's lines are loaded (a
    posting's answer: the document and lines it just wrote), else read."""
    held = [row.__dict__.get("lines") for row in rows]
    if all(lines is not None for lines in held):
        return sorted((line for lines in held for line in lines), key=lambda x: (x.parent_id, x.line_no, x.id))
    stmt = select(line_cls).where(line_cls.parent_id.in_([r.id for r in rows]))
    return list(session.execute(stmt.order_by(line_cls.parent_id, line_cls.line_no, line_cls.id)).scalars())


def _as_json(fields: list[FieldSpec], rows: list[Any], labels: dict[str, dict[int, dict[str, Any]]]) -> list[Any]:
    """Column by column: each field's values converted in one pass (a value the type keeps as it is, not at all),
    then each row's dict built from its converted values in one step."""
    if not rows:
        return []
    names = ["id", *(spec.name for spec in fields)]
    columns = columns_of(rows, ["id", *(spec.column for spec in fields)])
    out: list[Sequence[Any]] = [columns[0]]
    for spec, values in zip(fields, columns[1:], strict=True):
        if spec.is_link:
            found = labels.get(spec.name) or {}
            out.append([None if value is None else found.get(value) for value in values])
            continue
        ftype = FIELD_TYPES[spec.type]
        if type(ftype).to_json is DecimalType.to_json:  # most of a page's values: formatted without the detour
            scale = ftype.display_scale  # type: ignore[attr-defined]
            # a Decimal, or PostgreSQL's text of it (a grid page's rows: `plain_rows(numeric_text=True)`)
            out.append(
                [
                    None if v is None else numeric_text(v, scale) if type(v) is str else format_decimal(v, scale)
                    for v in values
                ]
            )
            continue
        # DateTimeType's and DateType's texts, without a call per value: from a datetime, or from PostgreSQL's text
        # of it (a grid page's rows: `plain_rows(temporal_text=True)`)
        if type(ftype).to_json is DateTimeType.to_json:
            out.append(
                [
                    None if v is None else timestamp_text(v) if type(v) is str else _isoformat(v, "T", "seconds")
                    for v in values
                ]
            )
            continue
        if type(ftype).to_json is DateType.to_json:
            out.append([None if v is None else date_text(v) if type(v) is str else v.isoformat() for v in values])
            continue
        to_json = _to_json(spec)
        out.append(values if to_json is None else [None if v is None else to_json(spec, v) for v in values])
    # every column has a value per row (columns_of): zip's length check would only cost a look at each row
    return [dict(zip(names, values)) for values in zip(*out)]  # noqa: B905


# per model: (name, column, its type's to_json or None where that is the value itself, spec) of every stored
# field, worked out once (the model is kept with them, so its id stays its own)
_Steps = tuple[tuple[str, str, Callable[[FieldSpec, Any], Any] | None, FieldSpec], ...]
_SNAPSHOT_STEPS: dict[int, tuple[ModelSpec, _Steps]] = {}


def _snapshot_steps(model: ModelSpec) -> _Steps:
    found = _SNAPSHOT_STEPS.get(id(model))
    if found is None or found[0] is not model:
        steps = tuple((spec.name, spec.column, _to_json(spec), spec) for spec in model.stored_fields)
        found = _SNAPSHOT_STEPS[id(model)] = (model, steps)
    return found[1]


def _to_json(spec: FieldSpec) -> Callable[[FieldSpec, Any], Any] | None:
    """The field type's to_json, or None when it is FieldType's own (the value as it is)."""
    ftype = FIELD_TYPES[spec.type]
    return None if type(ftype).to_json is FieldType.to_json else ftype.to_json


def stored_json(spec: FieldSpec, row: Any) -> Any:
    """One stored value of a row as the audit trail has it (a link as its id)."""
    return FIELD_TYPES[spec.type].to_json(spec, loaded_value(row, spec.column))


def snapshot(model: ModelSpec, row: Any, line_model: ModelSpec | None = None) -> dict[str, Any]:
    """Every stored value of a row (links as ids), for the audit trail. A loaded column is read from the row's
    own dict, not through the ORM's attribute (a batch snapshots every column of a thousand rows); an expired
    or deferred one through the attribute, which loads it."""
    data: dict[str, Any] = {"id": row.id}
    loaded = getattr(row, "__dict__", None)  # as loaded_value reads it, inline: a chunk snapshots 30,000 values
    for name, column, to_json, spec in _snapshot_steps(model):
        value = loaded[column] if loaded is not None and column in loaded else getattr(row, column)
        data[name] = value if value is None or to_json is None else to_json(spec, value)  # JSON of None: None
    if line_model is not None:
        data["lines"] = [snapshot(line_model, line) for line in row.lines]
    return data


def snapshot_many(model: ModelSpec, columns: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """`snapshot` of many rows of a model without lines, held as columns ({column: its values}, every stored
    column): {field: its values as the audit trail has them}, in `snapshot`'s order, each distinct value of a
    column converted once."""
    out: dict[str, list[Any]] = {"id": columns["id"]}
    for name, column, to_json, spec in _snapshot_steps(model):
        out[name] = columns[column] if to_json is None else map_distinct(columns[column], partial(to_json, spec))
    return out


def snapshot_columns(model: ModelSpec, row: Any, columns: Collection[str]) -> dict[str, Any]:
    """The part of `snapshot` stored in these columns (what an update wrote: the rest is as it was)."""
    return {name: stored_json(spec, row) for name, column, _, spec in _snapshot_steps(model) if column in columns}
