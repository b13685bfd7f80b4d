"""采购预算: a budget's `spent` is what its month's purchase orders of its category spend, taken when it is saved
(a new budget, or one moved to another month or category) from the figure the over-budget check reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.services.money.budgets import budget_spent


def derived_values(session: Session, registry: Any, row: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The budget's `spent` for the month and category it has once written."""
    period = values.get("period", getattr(row, "period", None))
    category_id = values.get("category", getattr(row, "category_id", None))
    if not period or category_id is None:
        return {}
    return {"spent": budget_spent(session, registry, str(period), int(category_id))}
