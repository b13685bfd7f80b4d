"""The complaint (客诉) flow: open -> in progress -> resolved -> closed, each step an action of its own
(`start`, `resolve`, `close` in roles.yaml) on a complaint the user may read, audited on it; a complaint
opened from a sales delivery; overdue complaints notify their owner (`notify_overdue`, for the alerts run).

The complaint itself is the metadata model `complaint` (metadata/models/complaint.yaml): its fields are
written through RecordService like any other; its status and the times it moved only here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import business_today, utcnow
from app.collab.records import readable, record_link
from app.errors import CellError, Conflict, ValidationFailed
from app.i18n import t
from app.meta.spec import ModelSpec
from app.meta.types import FIELD_TYPES
from app.schedules.notify import notify
from app.services.access.rights import Access
from app.services.records.audit import audit_change
from app.services.records.query import base_select, get_row, record_title
from app.services.records.serialize import rows_to_json
from app.services.records.write import RecordService

MODEL = "complaint"
OPEN, IN_PROGRESS, RESOLVED, CLOSED = "open", "in_progress", "resolved", "closed"
# action -> (statuses it may start from, status it leads to)
STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    "start": ((OPEN,), IN_PROGRESS),
    "resolve": ((OPEN, IN_PROGRESS), RESOLVED),
    "close": ((RESOLVED,), CLOSED),
    "reopen": ((RESOLVED,), IN_PROGRESS),
}
# the permission each step needs (reopening a resolved complaint is working on it again)
STEP_ACTION = {"start": "start", "resolve": "resolve", "close": "close", "reopen": "start"}
UNRESOLVED = (OPEN, IN_PROGRESS)


def next_steps(access: Access, status: str | None) -> list[str]:
    """The steps the user may take from `status`, in flow order."""
    return [
        step for step, (sources, _target) in STEPS.items() if status in sources and access.can(MODEL, STEP_ACTION[step])
    ]


def move(session: Session, access: Access, pk: int, step: str, body: dict[str, Any]) -> Any:
    """Take one step on a complaint: `start`, `resolve` (needs a resolution: in the body or already on the
    complaint; the body may also name the return and the credit it led to), `close`, `reopen`."""
    if step not in STEPS:
        raise ValidationFailed([CellError("action", t("collab.unknown_step", step=step))])
    model, row = readable(session, access, MODEL, pk)
    access.require(MODEL, STEP_ACTION[step])
    sources, target = STEPS[step]
    if row.status not in sources:
        raise Conflict(t("collab.step_not_allowed", step=t(f"collab.step.{step}"), status=_status_text(model, row)))
    if step == "resolve":
        fields = {k: body[k] for k in ("resolution", "sales_return", "credit_amount") if body.get(k) not in (None, "")}
        if fields:
            row = RecordService(session, access).update(MODEL, pk, fields)
        if not (row.resolution or "").strip():
            raise ValidationFailed([CellError("resolution", t("collab.resolution_required"))])
    before = _snapshot(model, row)
    row.status = target
    if target == RESOLVED:
        row.resolved_at = utcnow()
    if target == CLOSED:
        row.closed_at = utcnow()
    row.updated_at, row.updated_by = utcnow(), access.user_id
    session.flush()
    after = _snapshot(model, row)
    audit_change(session, access, MODEL, pk, step, before, after)
    return get_row(session, access, model, pk)


def _snapshot(model: ModelSpec, row: Any) -> dict[str, Any]:
    out = {}
    for name in ("status", "resolved_at", "closed_at"):
        value = getattr(row, model.field(name).column)  # type: ignore[union-attr]
        out[name] = value.isoformat(timespec="seconds") if isinstance(value, dt.datetime) else value
    return out


def _status_text(model: ModelSpec, row: Any) -> str:
    spec = model.field("status")
    return FIELD_TYPES["select"].cell_text(spec, row.status) if spec is not None else row.status


def from_delivery(session: Session, access: Access, delivery_id: int) -> dict[str, Any]:
    """What a new complaint about a delivery starts with: its customer, the delivery, its first line's item
    (a reader who may not read the delivery is refused as for any record)."""
    _model, delivery = readable(session, access, "sales_delivery", delivery_id)
    access.require(MODEL, "write")
    doc = rows_to_json(session, access, access.registry.model("sales_delivery"), [delivery], with_lines=True)[0]
    lines = doc.get("lines") or []
    values: dict[str, Any] = {"partner": (doc.get("partner") or {}).get("key"), "delivery": doc.get("number")}
    if lines and lines[0].get("item"):
        values["item"] = lines[0]["item"].get("key")
    return values


def open_from_delivery(session: Session, access: Access, delivery_id: int, payload: dict[str, Any]) -> Any:
    """A complaint about a delivery: the delivery's customer and item, then what the payload says."""
    values = dict(from_delivery(session, access, delivery_id), **payload)
    return RecordService(session, access).create(MODEL, values)


def notify_overdue(session: Session, registry: Any, today: dt.date | None = None) -> int:
    """Ring the owner of every complaint past its due date and not yet resolved, once while the notification
    is unread (dedupe per complaint and due date). For the alerts run; returns how many were rung.
    The caller commits."""
    cls = registry.cls(MODEL)
    model = registry.model(MODEL)
    day = today or business_today()
    stmt = select(cls).where(cls.status.in_(UNRESOLVED), cls.due_date < day, cls.owner_id.is_not(None))
    rung = 0
    for row in session.execute(stmt).scalars():
        text = t("collab.complaint_overdue", record=record_title(model, row), due=row.due_date.isoformat())
        dedupe = f"complaint-overdue:{row.id}:{row.due_date.isoformat()}"
        if notify(session, row.owner_id, "complaint_overdue", text, record_link(MODEL, row.id), dedupe=dedupe):
            rung += 1
    return rung


def complaints_of_partner(session: Session, access: Access, partner_id: int) -> list[dict[str, Any]]:
    """The complaints of a customer the reader may read (newest first), as the customer's page lists them."""
    readable(session, access, "partner", partner_id)
    if not access.can(MODEL, "read"):
        return []
    model = access.registry.model(MODEL)
    cls = access.registry.cls(MODEL)
    rows = session.execute(
        base_select(access, model).where(cls.partner_id == partner_id).order_by(cls.id.desc()).limit(100)
    ).scalars()
    return rows_to_json(session, access, model, list(rows))
