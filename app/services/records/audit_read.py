"""Reading the audit trail, with the reader's field masks and row scope applied."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.meta.spec import ModelSpec
from app.services.access.rights import Access
from app.services.records.query import get_row
from app.services.records.tables import audit_log


def _mask(session: Session, access: Access, model: ModelSpec | None, data: str | None) -> dict[str, Any] | None:
    if data is None:
        return None
    values = json.loads(data)
    if model is None:  # platform rows (fields, settings, users) are shown whole to those who may read audit
        return values
    return masked_values(session, access, model, values)


def masked_values(session: Session, access: Access, model: ModelSpec, values: dict[str, Any]) -> dict[str, Any]:
    """A snapshot as the reader may see it: hidden fields dropped (in each line too), links to rows they may
    not see emptied; keys that are not fields (a posting's status extras) kept."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        spec = model.field(name)
        if spec is None:
            out[name] = value
        elif not access.can_see(model, spec):
            continue
        elif spec.type == "lines" and isinstance(value, list) and model.lines_model:
            line_model = access.registry.model(model.lines_model)
            out[name] = [masked_values(session, access, line_model, line) for line in value if isinstance(line, dict)]
        elif spec.type == "link" and value is not None:
            out[name] = value if _link_visible(session, access, spec.to or "", value) else None
        else:
            out[name] = value
    return out


def _link_visible(session: Session, access: Access, target: str, pk: Any) -> bool:
    visible = access.linkable(target)
    if visible is None:
        return True
    return session.execute(visible.where(visible.selected_columns[0] == pk)).first() is not None


def audit_entry(session: Session, access: Access, model: ModelSpec | None, row: Any) -> dict[str, Any]:
    """One audit row as JSON, masked for the reader."""
    return {
        "id": row.id,
        "at": row.at.isoformat(timespec="seconds"),
        "user": row.username,
        "model": row.model,
        "record_id": row.record_id,
        "action": row.action,
        "before": _mask(session, access, model, row.before),
        "after": _mask(session, access, model, row.after),
        "request_id": row.request_id,
    }


def record_history(session: Session, access: Access, model: ModelSpec, pk: int) -> list[dict[str, Any]]:
    """Audit rows of one record the reader may see (NotFound otherwise), newest first.

    Only this record's: SQLite gives the id of a deleted last row to the next one, so the trail of a
    record that was deleted under the same id (up to its `delete` row) belongs to another record."""
    get_row(session, access, model, pk)
    same_id = (audit_log.c.model == model.key) & (audit_log.c.record_id == pk)
    deleted = select(func.max(audit_log.c.id)).where(same_id, audit_log.c.action == "delete").scalar_subquery()
    rows = session.execute(
        select(audit_log).where(same_id, audit_log.c.id > func.coalesce(deleted, 0)).order_by(audit_log.c.id.desc())
    )
    return [audit_entry(session, access, model, row) for row in rows]


def recent_audit(
    session: Session, access: Access, page: int = 0, page_size: int = 50, model_key: str | None = None
) -> list[dict[str, Any]]:
    """The global audit trail (admins and managers), newest first."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(page_size).offset(page * page_size)
    if model_key:
        stmt = stmt.where(audit_log.c.model == model_key)
    out = []
    for row in session.execute(stmt):
        out.append(audit_entry(session, access, access.registry.meta.models.get(row.model), row))
    return out
