"""Purchase budgets per month and item category (the `budget` model).

What a month's purchase orders spend of a category (`spent_by_category`) is the one figure both the over-budget
check of an order (`budget_usage`) and the budget list (its `spent` and `remaining`) read: the list's figures are
written from it when a budget is saved (`budget_spent`, the budget's rules) and whenever a purchase order of the
month enters or leaves 已审核 / 待审批 or has lines closed (`refresh_usage`, the order's behaviour), so the list
and the check agree to the cent."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.ledger.compute import CENT
from app.meta.registry import Registry
from app.meta.status import Status

ZERO = Decimal(0)


def budget_usage(
    session: Session, registry: Registry, doc: Any, lines: list[Any], lock: bool = False
) -> dict[str, tuple[Decimal, Decimal]]:
    """For each budgeted category of the order's items: (budget, spent this month with this order); `lock`: with the
    month's budgets locked first (`lock_month`: a submit or an approval that will count the order in)."""
    if doc.date is None:
        return {}
    period = doc.date.strftime("%Y-%m")
    item, category, budget = registry.cls("item"), registry.cls("category"), registry.cls("budget")
    item_category = dict(
        session.execute(select(item.id, item.category_id).where(item.id.in_([ln.item_id for ln in lines]))).all()
    )
    this_order: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for ln in lines:
        if item_category.get(ln.item_id) is not None:
            this_order[item_category[ln.item_id]] += Decimal(ln.amount or 0)
    if not this_order:
        return {}
    if lock:
        lock_month(session, registry, period)
    budgets = {
        row.category_id: (row.amount, name)
        for row, name in session.execute(
            select(budget, category.name)
            .join(category, category.id == budget.category_id)
            .where(budget.period == period, budget.category_id.in_(list(this_order)))
        )
    }
    spent = spent_by_category(session, registry, doc.date, list(budgets), exclude=doc.id)
    return {
        name: (Decimal(amount), spent.get(category_id, ZERO) + this_order[category_id])
        for category_id, (amount, name) in budgets.items()
    }


def lock_month(session: Session, registry: Registry, period: str) -> None:
    """Lock the month's budgets (`period` 2026-11) before what its orders spend is read: two orders submitted at once
    are checked one after the other, the second counting the first (read unlocked, both could pass under the budget).
    The rows `refresh_usage` locks when the order's status moves, in its order (by id): no deadlock between them.
    (SQLite's writers run one at a time already: BEGIN IMMEDIATE.)"""
    budget = registry.cls("budget")
    session.execute(select(budget.id).where(budget.period == period).order_by(budget.id).with_for_update()).all()


def month_usage(session: Session, registry: Registry, day: Any) -> list[tuple[str, Decimal, Decimal]]:
    """Every budget of the day's month: (category name, budget, spent by submitted and pending purchase
    orders of the month), by category name."""
    period = day.strftime("%Y-%m")
    category, budget = registry.cls("category"), registry.cls("budget")
    rows = session.execute(
        select(budget.category_id, budget.amount, category.name)
        .join(category, category.id == budget.category_id)
        .where(budget.period == period)
        .order_by(category.name)
    ).all()
    spent = spent_by_category(session, registry, day, [cid for cid, _, _ in rows])
    return [(name, Decimal(amount or 0), spent.get(cid, ZERO)) for cid, amount, name in rows]


def spent_by_category(
    session: Session, registry: Registry, day: dt.date, categories: list[int], exclude: int | None = None
) -> dict[int, Decimal]:
    """What submitted and pending purchase orders (but `exclude`) of the day's month spend in each category: their
    lines' amounts, less the share of each line closed (关闭: that rest never comes, as a cancelled order)."""
    if not categories:
        return {}
    item, order, line = registry.cls("item"), registry.cls("purchase_order"), registry.cls("purchase_order_line")
    first = day.replace(day=1)
    nxt = first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    rows = session.execute(
        select(item.category_id, line.amount, func.coalesce(line.base_qty, line.qty).label("qty"), line.closed_qty)
        .join(order, order.id == line.parent_id)
        .join(item, item.id == line.item_id)
        .where(
            order.status.in_([Status.SUBMITTED, Status.PENDING]),
            order.id != (exclude or 0),
            order.date >= first,
            order.date < nxt,
            item.category_id.in_(categories),
        )
    )
    spent: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for category_id, amount, qty, closed in rows:
        amount = Decimal(amount or 0)
        if closed and qty:
            amount -= (amount * Decimal(closed) / Decimal(qty)).quantize(
                CENT, rounding=ROUND_HALF_UP
            )  # money, to the cent
        spent[category_id] += amount
    return dict(spent)


def budget_spent(session: Session, registry: Registry, period: str, category_id: int) -> Decimal:
    """What the month's purchase orders spend of the category (`period` 2026-11): a budget's `spent`."""
    day = dt.date(int(period[:4]), int(period[5:7]), 1)
    return spent_by_category(session, registry, day, [category_id]).get(category_id, ZERO)


def refresh_usage(
    session: Session, registry: Registry, day: dt.date | None = None, categories: Collection[int] | None = None
) -> int:
    """Write `spent` and `remaining` of every budget of the day's month (every month when None) of these categories
    (every one when None) from what the month's orders spend now, in the caller's transaction (the budgets locked);
    returns how many changed."""
    budget = registry.cls("budget")
    remaining = registry.compute("budget", "remaining")
    stmt = select(budget.id, budget.period, budget.category_id, budget.amount, budget.spent).order_by(budget.id)
    if day is not None:
        stmt = stmt.where(budget.period == day.strftime("%Y-%m"))
    if categories is not None:
        stmt = stmt.where(budget.category_id.in_(list(categories)))
    # locked before the orders are read: two postings of one month write one after the other, the second reading
    # what the first committed (read first, it would write a spent without the first's order)
    stmt = stmt.with_for_update()
    by_period: dict[str, list[Any]] = defaultdict(list)
    for row in session.execute(stmt):
        by_period[row.period].append(row)
    changed = 0
    for period, rows in by_period.items():
        first = dt.date(int(period[:4]), int(period[5:7]), 1)
        spent = spent_by_category(session, registry, first, [r.category_id for r in rows])
        for row in rows:
            now = spent.get(row.category_id, ZERO)
            if row.spent is not None and Decimal(row.spent) == now:
                continue
            left = remaining({"amount": row.amount, "spent": now})
            session.execute(update(budget).where(budget.id == row.id).values(spent=now, remaining=left))
            changed += 1
    return changed
