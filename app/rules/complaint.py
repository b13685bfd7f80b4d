"""Rules on a complaint (客诉): a number when left blank, the due date from its severity (a setting per
severity), and nothing changes on a closed one. Status moves only through app.collab.complaints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import business_today
from app.errors import CellError
from app.i18n import t
from app.services.records.numbering import next_number
from app.services.records.settings import policy

DUE_DAYS_SETTING = "complaint_due_days_{severity}"


def due_date(session: Session, registry: Any, opened: dt.date, severity: str | None) -> dt.date | None:
    """The date a complaint of this severity opened on `opened` must be resolved by."""
    if not severity:
        return None
    days = policy(session, registry, DUE_DAYS_SETTING.format(severity=severity))
    return opened + dt.timedelta(days=int(days or 0))


def check_change(session: Session, registry: Any, row: Any, values: dict[str, Any]) -> list[CellError]:
    """Fill the number and due date (values the rule owns); refuse changes to a closed complaint."""
    if row is not None and row.status == "closed":
        return [CellError("status", t("collab.complaint_closed"))]
    cls = registry.cls("complaint")
    if row is None and not values.get("number"):
        opened = values.get("date") if isinstance(values.get("date"), dt.date) else business_today()

        def taken(number: str) -> bool:
            return session.execute(select(cls.id).where(cls.number == number)).first() is not None

        values["number"] = next_number(session, registry.model("complaint").number_prefix or "KS", opened, taken)
    if row is None or "severity" in values or "date" in values:
        opened = values.get("date", getattr(row, "date", None)) or business_today()
        severity = values.get("severity", getattr(row, "severity", None))
        values["due_date"] = due_date(session, registry, opened, severity)
    return []
