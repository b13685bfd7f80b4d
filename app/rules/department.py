"""Rules on departments: one that users still belong to is not deleted (their data scope hangs on it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import CellError
from app.i18n import t
from app.services.access.tables import user_department


def check_delete(session: Session, registry: Any, row: Any) -> list[CellError]:
    """Refuse deleting a department while users belong to it."""
    members = session.execute(
        select(func.count()).select_from(user_department).where(user_department.c.department_id == row.id)
    ).scalar_one()
    return [CellError("code", t("department_has_users", count=members))] if members else []
