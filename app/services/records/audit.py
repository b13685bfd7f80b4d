"""Audit rows: who changed what, when, before and after, written in the same transaction."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
from types import NoneType
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.services.records.bulk import insert_columns, insert_rows
from app.services.records.tables import audit_log

if TYPE_CHECKING:
    from app.services.access.rights import Access

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("jxc_request_id", default=None)
# json.dumps with options builds an encoder per call; a batch writes thousands of before / after texts
_TO_JSON = json.JSONEncoder(ensure_ascii=False, default=str).encode
# what _TO_JSON makes of text, an integer and None, without its per-call setup (json_objects encodes column by column)
_PLAIN_JSON: dict[type, Any] = {
    str: json.encoder.encode_basestring,  # type: ignore[attr-defined]
    int: int.__repr__,
    NoneType: lambda _: "null",
}
_PLAIN = frozenset(_PLAIN_JSON)
_ALIKE = _PLAIN | {bool, dt.date}  # types whose equal values are written alike
_INSERT_ONE = insert(audit_log)  # one row, its values as parameters: built (and its SQL keyed) once


class Encoded(str):
    """A before / after already encoded as the JSON text `audit_row` would write for it (written as it is)."""


def lines_json(texts: list[str]) -> Encoded:
    """`{"lines": [...]}` as `audit_row` writes it, each line given as its JSON text (`json_objects`, or `_TO_JSON`
    of its snapshot)."""
    return Encoded('{"lines": [' + ", ".join(texts) + "]}")


def encoded(value: dict[str, Any]) -> str:
    """A snapshot as the JSON text `audit_row` writes for it."""
    return _TO_JSON(value)


def _as_json(value: dict[str, Any] | Encoded | None) -> str | None:
    if value is None or isinstance(value, Encoded):
        return value
    return _TO_JSON(value)


def audit_row(
    *,
    user_id: int | None,
    username: str,
    model: str,
    record_id: int | None,
    action: str,
    before: dict[str, Any] | Encoded | None,
    after: dict[str, Any] | Encoded | None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The values of one audit row (before / after as JSON text), written `at` (default: now)."""
    return {
        "at": at or utcnow(),
        "user_id": user_id,
        "username": username,
        "model": model,
        "record_id": record_id,
        "action": action,
        "before": _as_json(before),
        "after": _as_json(after),
        "request_id": request_id_var.get(),
    }


def write_audit(session: Session, **fields: Any) -> None:
    """Append one audit row (the fields of `audit_row`) inside the caller's transaction."""
    session.execute(_INSERT_ONE, audit_row(**fields))


def write_audit_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append audit rows built by `audit_row` in bulk (batches; COPY on PostgreSQL)."""
    insert_rows(session, audit_log, rows)


def json_objects(columns: dict[str, list[Any]]) -> list[str]:
    """Each row of `columns` ({key: its values, one per row}) as the JSON text of its {key: value} object, the
    text `audit_row` writes for that dict. Built column by column, not a dict per row encoded whole: each distinct
    value of a column is encoded once, a column of one value is written into the row's template, and each row is
    its template filled with its other values (a 20,000-row import encodes 600,000 values, most of them repeats)."""
    count = len(next(iter(columns.values()), []))
    parts: list[str] = []
    varying: list[list[str]] = []
    for key, values in columns.items():
        if len(values) != count:
            raise ValueError(f"column {key!r} has {len(values)} values, not {count}")
        kinds = set(map(type, values))
        if kinds <= _PLAIN and len(kinds) == 1 and values.count(values[0]) == count:  # equal, so encoded alike
            parts.append(f"{_TO_JSON(key)}: {_TO_JSON(values[0])}".replace("%", "%%"))
            continue
        encoded = _encoded(values, kinds)
        if count and encoded.count(encoded[0]) == count:  # one text for every row
            parts.append(f"{_TO_JSON(key)}: {encoded[0]}".replace("%", "%%"))
        else:
            parts.append(f"{_TO_JSON(key)}: ".replace("%", "%%") + "%s")
            varying.append(encoded)
    template = "{" + ", ".join(parts) + "}"
    if not varying:
        return [template % ()] * count
    return [template % row for row in zip(*varying, strict=True)]


def _encoded(values: list[Any], kinds: set[type]) -> list[str]:
    """The JSON text of each value (`kinds` their types): a column of text, integers or blanks through the
    encoder's own C functions; in any other, a value of a type whose equal values are written alike (a boolean, a
    date) encoded once, others each on its own (0.0 and -0.0 are equal, and Decimal 1.0 and 1.00)."""
    if kinds <= _PLAIN:
        if NoneType not in kinds and len(kinds) == 1:
            return list(map(_PLAIN_JSON[kinds.pop()], values))
        return [_PLAIN_JSON[value.__class__](value) for value in values]
    done: dict[tuple[type, Any], str] = {}
    out = []
    for value in values:
        kind = value.__class__
        if kind not in _ALIKE:
            out.append(_TO_JSON(value))
            continue
        key = (kind, value)
        found = done.get(key)
        if found is None:
            found = done[key] = _TO_JSON(value)
        out.append(found)
    return out


def write_created_audit(
    session: Session, access: Access, model: str, record_ids: list[int], afters: list[str], at: dt.datetime
) -> None:
    """The audit rows of many rows created `at`: `afters` their snapshots as JSON text (`json_objects`), in one
    bulk insert (COPY on PostgreSQL) built column by column."""
    insert_columns(session, audit_log, audit_columns(access, model, "create", record_ids, None, afters, at))


def audit_columns(
    access: Access,
    model: str,
    action: str,
    record_ids: list[int],
    befores: list[str] | None,
    afters: list[str] | None,
    at: dt.datetime,
) -> dict[str, list[Any]]:
    """The audit rows of one action on many rows `at` by the user behind `access`, column by column: `befores` and
    `afters` the rows' snapshots as JSON text (`json_objects`), None for none."""
    count = len(record_ids)
    return {
        "at": [at] * count,
        "user_id": [access.user_id] * count,
        "username": [access.username] * count,
        "model": [model] * count,
        "record_id": record_ids,
        "action": [action] * count,
        "before": [None] * count if befores is None else befores,
        "after": [None] * count if afters is None else afters,
        "request_id": [request_id_var.get()] * count,
    }


def change_row(
    access: Access,
    model: str,
    record_id: int | None,
    action: str,
    before: dict[str, Any] | Encoded | None,
    after: dict[str, Any] | Encoded | None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """audit_row for the user behind `access`."""
    return audit_row(
        user_id=access.user_id,
        username=access.username,
        model=model,
        record_id=record_id,
        action=action,
        before=before,
        after=after,
        at=at,
    )


def audit_change(
    session: Session,
    access: Access,
    model: str,
    record_id: int | None,
    action: str,
    before: dict[str, Any] | Encoded | None,
    after: dict[str, Any] | Encoded | None,
) -> None:
    """write_audit for the user behind `access` (what every service calls)."""
    write_change_row(session, change_row(access, model, record_id, action, before, after))


def write_change_row(session: Session, row: dict[str, Any]) -> None:
    """Append one audit row made by `change_row` (or `audit_row`) inside the caller's transaction."""
    session.execute(_INSERT_ONE, row)
