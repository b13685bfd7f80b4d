"""Receivables and payables per partner, from submitted documents (应收 / 应付)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.meta.registry import Registry

ZERO = Decimal(0)


def _sum(session: Session, registry: Registry, model: str, column: str, partner_id: int, **where: Any) -> Decimal:
    cls = registry.cls(model)
    stmt = select(func.sum(getattr(cls, column))).where(cls.partner_id == partner_id, cls.status == "submitted")
    for name, value in where.items():
        stmt = stmt.where(getattr(cls, name) == value)
    return session.execute(stmt).scalar() or ZERO


def receivable(session: Session, registry: Registry, partner_id: int) -> Decimal:
    """What the customer owes: deliveries less returns less money received."""
    return (
        _sum(session, registry, "sales_delivery", "total_amount", partner_id)
        - _sum(session, registry, "sales_return", "total_amount", partner_id)
        - _sum(session, registry, "payment", "amount", partner_id, direction="receipt")
    )


def payable(session: Session, registry: Registry, partner_id: int) -> Decimal:
    """What we owe the supplier: receipts less returns less money paid."""
    return (
        _sum(session, registry, "purchase_receipt", "total_amount", partner_id)
        - _sum(session, registry, "purchase_return", "total_amount", partner_id)
        - _sum(session, registry, "payment", "amount", partner_id, direction="payment")
    )


def open_orders(session: Session, registry: Registry, partner_id: int, exclude: int | None = None) -> Decimal:
    """Value of what submitted sales orders (but `exclude`) still have to deliver."""
    order, line = registry.cls("sales_order"), registry.cls("sales_order_line")
    rows = session.execute(
        select(line.qty, line.delivered_qty, line.price)
        .join(order, order.id == line.parent_id)
        .where(order.partner_id == partner_id, order.status == "submitted", order.id != (exclude or 0))
    )
    return sum(((Decimal(r.qty) - Decimal(r.delivered_qty or 0)) * Decimal(r.price or 0) for r in rows), ZERO)
