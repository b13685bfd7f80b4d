"""Purchase budgets per month and item category (the `budget` model)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.meta.registry import Registry
from app.meta.status import Status

ZERO = Decimal(0)


def budget_usage(
    session: Session, registry: Registry, doc: Any, lines: list[Any]
) -> dict[str, tuple[Decimal, Decimal]]:
    """For each budgeted category of the order's items: (budget, spent this month with this order)."""
    if doc.date is None:
        return {}
    period = doc.date.strftime("%Y-%m")
    item, category, budget = registry.cls("item"), registry.cls("category"), registry.cls("budget")
    order, line = registry.cls("purchase_order"), registry.cls("purchase_order_line")
    item_category = dict(
        session.execute(select(item.id, item.category_id).where(item.id.in_([ln.item_id for ln in lines]))).all()
    )
    this_order: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for ln in lines:
        if item_category.get(ln.item_id) is not None:
            this_order[item_category[ln.item_id]] += Decimal(ln.amount or 0)
    if not this_order:
        return {}
    budgets = {
        row.category_id: (row.amount, name)
        for row, name in session.execute(
            select(budget, category.name)
            .join(category, category.id == budget.category_id)
            .where(budget.period == period, budget.category_id.in_(list(this_order)))
        )
    }
    first = doc.date.replace(day=1)
    nxt = first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    usage = {}
    for category_id, (amount, name) in budgets.items():
        spent = (
            session.execute(
                select(func.sum(line.amount))
                .join(order, order.id == line.parent_id)
                .join(item, item.id == line.item_id)
                .where(
                    order.status.in_([Status.SUBMITTED, Status.PENDING]),
                    order.id != doc.id,
                    order.date >= first,
                    order.date < nxt,
                    item.category_id == category_id,
                )
            ).scalar()
            or ZERO
        )
        usage[name] = (Decimal(amount), Decimal(spent) + this_order[category_id])
    return usage


def month_usage(session: Session, registry: Registry, day: Any) -> list[tuple[str, Decimal, Decimal]]:
    """Every budget of the day's month: (category name, budget, spent by submitted and pending purchase
    orders of the month), by category name."""
    period = day.strftime("%Y-%m")
    item, category, budget = registry.cls("item"), registry.cls("category"), registry.cls("budget")
    order, line = registry.cls("purchase_order"), registry.cls("purchase_order_line")
    first = day.replace(day=1)
    nxt = first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    spent = dict(
        session.execute(
            select(item.category_id, func.sum(line.amount))
            .join(order, order.id == line.parent_id)
            .join(item, item.id == line.item_id)
            .where(order.status.in_([Status.SUBMITTED, Status.PENDING]), order.date >= first, order.date < nxt)
            .group_by(item.category_id)
        ).all()
    )
    rows = session.execute(
        select(budget.category_id, budget.amount, category.name)
        .join(category, category.id == budget.category_id)
        .where(budget.period == period)
        .order_by(category.name)
    ).all()
    return [(name, Decimal(amount or 0), Decimal(spent.get(cid) or 0)) for cid, amount, name in rows]
