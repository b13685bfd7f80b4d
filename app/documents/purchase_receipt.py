"""采购入库: accepted quantity comes in at the purchase price.

A receipt that names its purchase order (source_number) counts what it receives on the order's
lines (partial receipts); cancelling it takes that back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import IN, DocumentBehaviour, Effect, add_done, allocate, give_back, line_effect


class PurchaseReceipt(DocumentBehaviour):
    """Receipt of goods from a supplier."""

    source_model = "purchase_order"
    done_field = "received_qty"

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        order, order_lines = self.source(doc)
        self._taken = []
        if order is not None:
            self._taken, over = allocate(lines, order_lines, self.done_field)
            self.refuse_over_order(order, over)
        return [
            line_effect(i, line, doc.warehouse_id, IN, "in", unit_cost=Decimal(line.price or 0))
            for i, line in enumerate(lines)
        ]

    def after_post(self, doc: Any, lines: list[Any], costs: dict[tuple[int, str], Decimal]) -> None:
        add_done(self._taken, self.done_field)

    def cancel_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        order, order_lines = self.source(doc)
        self._returned = give_back(lines, order_lines, self.done_field) if order is not None else []
        return []

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        add_done(self._returned, self.done_field, sign=-1)
