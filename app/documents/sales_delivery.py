"""销售出库: goods leave at the moving-average cost (kept on the line as cost of goods sold).

A delivery that names its sales order (source_number) releases that order's reservation for what it
ships and counts the delivered quantity on the order's lines; cancelling it gives both back.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from app.documents.base import Allocation, DocumentBehaviour, add_done, allocate, give_back, line_effect
from app.documents.credit import check_credit, on_order_value
from app.ledger.effects import OUT, RELEASE, RESERVE, Effect
from app.ledger.valuation import Move
from app.services.stock.lots import suggest_batch


class SalesDelivery(DocumentBehaviour):
    """Delivery of goods to a customer."""

    moves_stock = True
    source_model = "sales_order"
    done_field = "delivered_qty"

    def new_line_values(self, session: Any, registry: Any, model: Any, doc: Any, values: dict[str, Any]) -> None:
        super().new_line_values(session, registry, model, doc, values)
        suggest_batch(session, registry, values, doc.warehouse_id)

    def check(self, doc: Any, lines: list[Any]) -> None:
        """The lines' batch and serial rules, and the credit limit: a delivery adds its total less what it
        delivers of its order, which the customer's open orders already count."""
        super().check(doc, lines)
        order, order_lines = self.source(doc)
        covered = on_order_value(allocate(lines, order_lines, self.done_field)[0]) if order is not None else Decimal(0)
        total = Decimal(doc.total_with_tax or 0)
        check_credit(self.ctx, doc, total - covered, owed_already=total)

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        order, order_lines = self.source(doc)
        self._taken = []
        effects = []
        if order is not None:
            self._taken, over = allocate(lines, order_lines, self.done_field)
            self.refuse_over_order(order, over)
            effects = [
                _on_order(
                    a,
                    line_effect(
                        a.index, lines[a.index], order.warehouse_id, RELEASE, f"release{a.order_line.id}", qty=a.qty
                    ),
                )
                for a in self._taken
            ]
        return effects + [line_effect(i, line, doc.warehouse_id, OUT, "out") for i, line in enumerate(lines)]

    def after_post(self, doc: Any, lines: list[Any], moves: dict[tuple[int, str], Move]) -> None:
        for line in lines:
            out = moves.get((line.id, "out"))
            line.cost_price = out.unit_cost if out is not None else None
        add_done(self._taken, self.done_field)

    def cancel_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        order, order_lines = self.source(doc)
        self._returned = give_back(lines, order_lines, self.done_field) if order is not None else []
        return [
            _on_order(a, line_effect(a.index, lines[a.index], order.warehouse_id, RESERVE, "rereserve", qty=a.qty))
            for a in self._returned
        ]

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        add_done(self._returned, self.done_field, sign=-1)


def _on_order(allocation: Allocation, effect: Effect) -> Effect:
    """A reservation effect holds the stock where the order reserved it: the order line's batch (orders
    of items that track batches reserve in the warehouse, not in a batch), whatever batch ships."""
    return replace(effect, batch=(getattr(allocation.order_line, "batch", None) or "").strip(), serials=())
