"""Reorder suggestions and stock alerts; one click turns suggestions into draft purchase orders.

projected = on hand + on order (submitted purchase orders not yet received) - reserved.
Below the reorder point -> suggest enough to reach max_stock (or the reorder quantity, at least).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import business_today
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.meta.status import Status
from app.meta.types import format_decimal
from app.services.access.rights import Access
from app.services.records.write import RecordService

ZERO = Decimal(0)


@dataclass(frozen=True)
class StockPosition:
    """Where an item stands: on hand, on order, reserved, and its thresholds."""

    item_id: int
    sku: str
    name: str
    supplier_id: int | None
    on_hand: Decimal
    on_order: Decimal
    reserved: Decimal
    reorder_point: Decimal | None
    reorder_qty: Decimal | None
    max_stock: Decimal | None
    price: Decimal | None
    abc_class: str | None = None  # A / B / C from the ABC classification job (a sale figure)

    @property
    def projected(self) -> Decimal:
        """What will be free to sell once open purchase orders arrive."""
        return self.on_hand + self.on_order - self.reserved

    @property
    def suggested_qty(self) -> Decimal:
        """How much to order (zero when the item is above its reorder point)."""
        if self.reorder_point is None or self.projected >= self.reorder_point:
            return ZERO
        target = self.max_stock if self.max_stock else self.reorder_point
        return max(target - self.projected, self.reorder_qty or ZERO, ZERO)

    def as_json(self) -> dict[str, Any]:
        """For the API (quantities as exact strings)."""
        return {
            "item": self.sku,
            "name": self.name,
            **{key: _text(getattr(self, key)) for key in QUANTITIES},
        }


QUANTITIES = ("on_hand", "on_order", "reserved", "projected", "reorder_point", "max_stock", "suggested_qty")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value, 0)


def positions(session: Session, access: Access) -> list[StockPosition]:
    """Every active item's position, across the warehouses the user may see."""
    reg = access.registry
    item, balance = reg.cls("item"), reg.cls("stock_balance")
    order, line = reg.cls("purchase_order"), reg.cls("purchase_order_line")
    stock_q = select(balance.item_id, func.sum(balance.qty), func.sum(balance.reserved_qty)).group_by(balance.item_id)
    scope = access.scope(reg.model("stock_balance"))
    if scope is not None:
        stock_q = stock_q.where(scope)
    stock = {row[0]: (row[1] or ZERO, row[2] or ZERO) for row in session.execute(stock_q)}
    on_order: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for item_id, qty, received, closed in session.execute(
        select(line.item_id, func.coalesce(line.base_qty, line.qty), line.received_qty, line.closed_qty)
        .join(order, order.id == line.parent_id)
        .where(order.status == Status.SUBMITTED)
    ):
        on_order[item_id] += Decimal(qty) - Decimal(received or 0) - Decimal(closed or 0)  # all in base units
    out = []
    for row in session.execute(select(item).where(item.active.isnot(False)).order_by(item.sku)).scalars():
        on_hand, reserved = stock.get(row.id, (ZERO, ZERO))
        out.append(
            StockPosition(
                row.id,
                row.sku,
                row.name,
                row.default_supplier_id,
                on_hand,
                max(on_order[row.id], ZERO),
                reserved,
                row.reorder_point,
                row.reorder_qty,
                row.max_stock,
                row.purchase_price,
                row.abc_class,
            )
        )
    return out


def suggestions(session: Session, access: Access) -> list[StockPosition]:
    """Items whose projected quantity is below their reorder point."""
    access.require("item", "read")
    return [p for p in positions(session, access) if p.suggested_qty > 0]


def alerts(session: Session, access: Access) -> dict[str, list[dict[str, Any]]]:
    """Low stock (below the reorder point) and overstock (above max stock)."""
    access.require("item", "read")
    rows = positions(session, access)
    return {
        "low": [p.as_json() for p in rows if p.suggested_qty > 0],
        "overstock": [p.as_json() for p in rows if p.max_stock and p.on_hand > p.max_stock],
    }


def create_purchase_orders(
    session: Session, access: Access, warehouse: str, skus: list[str] | None = None
) -> dict[str, Any]:
    """Draft purchase orders, one per default supplier, through the write service, dated the business's
    today: for every suggestion, or (`skus`) for those items only, each of which must be a suggestion."""
    chosen = suggestions(session, access)
    if skus is not None:
        by_sku = {p.sku: p for p in chosen}
        errors = [
            CellError(f"items.{i}", t("reorder_not_suggested", item=sku))
            for i, sku in enumerate(skus)
            if sku not in by_sku
        ]
        if not skus:
            errors.append(CellError("items", t("reorder_nothing_asked")))
        if errors:
            raise ValidationFailed(errors)
        chosen = [by_sku[sku] for sku in dict.fromkeys(skus)]
    by_supplier: dict[int, list[StockPosition]] = defaultdict(list)
    skipped = []
    for position in chosen:
        if position.supplier_id is None:
            skipped.append(position.sku)
        else:
            by_supplier[position.supplier_id].append(position)
    service = RecordService(session, access)
    created = []
    for supplier_id, items in sorted(by_supplier.items()):
        row = service.create(
            "purchase_order",
            {
                "date": business_today().isoformat(),
                "partner": supplier_id,
                "warehouse": warehouse,
                "remark": t("reorder_remark"),
                "lines": [
                    {"item": p.item_id, "qty": str(p.suggested_qty), "price": None if p.price is None else str(p.price)}
                    for p in items
                ],
            },
        )
        created.append({"id": row.id, "number": row.number, "lines": len(items)})
    service.commit()
    return {"orders": created, "skipped_without_supplier": skipped}
