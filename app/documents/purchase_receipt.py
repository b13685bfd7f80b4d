"""采购入库: accepted quantity comes in at the purchase price before tax.

A receipt that names its purchase order (source_number) counts what it receives on the order's
lines (partial receipts); cancelling it takes that back. A line's expiry date is its production date
plus the item's shelf life, set when it posts (issues suggest the batch that expires first).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import DocumentBehaviour, add_done, allocate, give_back, line_effect
from app.ledger.compute import price_before_tax
from app.ledger.effects import IN, Effect
from app.services.stock.lots import expiry_date
from app.services.stock.units import per_base_unit


class PurchaseReceipt(DocumentBehaviour):
    """Receipt of goods from a supplier."""

    moves_stock = True
    source_model = "purchase_order"
    done_field = "received_qty"

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        order, order_lines = self.source(doc)
        self._taken = []
        if order is not None:
            self._taken, over = allocate(lines, order_lines, self.done_field)
            self.refuse_over_order(order, over)
        return [
            line_effect(i, line, doc.warehouse_id, IN, "in", unit_cost=self.unit_cost(doc, line))
            for i, line in enumerate(lines)
        ]

    @staticmethod
    def unit_cost(doc: Any, line: Any) -> Decimal:
        """The purchase price before tax (when prices include tax, the tax is taken out) per base unit."""
        include = bool(getattr(doc, "prices_include_tax", False))
        return per_base_unit(price_before_tax(Decimal(line.price or 0), getattr(line, "tax_rate", None), include), line)

    def after_post(self, doc: Any, lines: list[Any], costs: dict[tuple[int, str], Decimal]) -> None:
        add_done(self._taken, self.done_field)
        tracked = self.ctx.tracking({line.item_id for line in lines})
        for line in lines:
            info = tracked.get(line.item_id)
            shelf_life = info.shelf_life_days if info is not None else None
            line.expiry_date = expiry_date(getattr(line, "production_date", None), shelf_life)

    def cancel_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        order, order_lines = self.source(doc)
        self._returned = give_back(lines, order_lines, self.done_field) if order is not None else []
        return []

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        add_done(self._returned, self.done_field, sign=-1)
