"""Audit rows: who changed what, when, before and after, written in the same transaction."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
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


def audit_row(
    *,
    user_id: int | None,
    username: str,
    model: str,
    record_id: int | None,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
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
        "before": None if before is None else _TO_JSON(before),
        "after": None if after is None else _TO_JSON(after),
        "request_id": request_id_var.get(),
    }


def write_audit(session: Session, **fields: Any) -> None:
    """Append one audit row (the fields of `audit_row`) inside the caller's transaction."""
    session.execute(insert(audit_log).values(audit_row(**fields)))


def write_audit_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append audit rows built by `audit_row` in bulk (batches; COPY on PostgreSQL)."""
    insert_rows(session, audit_log, rows)


def json_objects(columns: dict[str, list[Any]]) -> list[str]:
    """Each row of `columns` ({key: its values, one per row}) as the JSON text of its {key: value} object, the
    text `audit_row` writes for that dict."""
    return [_TO_JSON(dict(zip(columns, row, strict=True))) for row in zip(*columns.values(), strict=True)]


def write_created_audit(
    session: Session, access: Access, model: str, record_ids: list[int], afters: list[str], at: dt.datetime
) -> None:
    """The audit rows of many rows created `at`: `afters` their snapshots as JSON text (`json_objects`), in one
    bulk insert (COPY on PostgreSQL) built column by column."""
    count = len(record_ids)
    insert_columns(
        session,
        audit_log,
        {
            "at": [at] * count,
            "user_id": [access.user_id] * count,
            "username": [access.username] * count,
            "model": [model] * count,
            "record_id": record_ids,
            "action": ["create"] * count,
            "before": [None] * count,
            "after": afters,
            "request_id": [request_id_var.get()] * count,
        },
    )


def change_row(
    access: Access,
    model: str,
    record_id: int | None,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
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
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """write_audit for the user behind `access` (what every service calls)."""
    session.execute(insert(audit_log).values(change_row(access, model, record_id, action, before, after)))
