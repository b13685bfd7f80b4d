"""When trading began: the date an opening balance (期初单) must come before."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from app.meta.status import Status

OPENING = "opening_balance"


def first_business_date(session: Session, registry: Any) -> dt.date | None:
    """The date of the earliest submitted business document of any kind (orders, stock documents,
    payments; opening balances themselves are not business): one query over every document table."""
    parts = []
    for model in registry.meta.models.values():
        if model.kind != "document" or model.key == OPENING or model.field("date") is None:
            continue
        cls = registry.cls(model.key)
        parts.append(select(func.min(cls.date).label("day")).where(cls.status == Status.SUBMITTED))
    if not parts:
        return None
    found = union_all(*parts).subquery()
    day = session.execute(select(func.min(found.c.day))).scalar()
    if isinstance(day, str):  # SQLite's MIN over a UNION loses the column's type
        day = dt.date.fromisoformat(day)
    return day
