"""销售出库: goods leave at the moving-average cost (kept on the line as cost of goods sold).

A delivery's lines that come from sales order lines (line links, or the order named in source_number)
release those orders' reservations for what they ship and count it delivered on those lines;
cancelling gives both back.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from app.documents.base import Allocation, DocumentBehaviour, add_done, line_effect
from app.documents.credit import check_credit, on_order_value
from app.ledger.effects import OUT, RELEASE, RESERVE, Effect
from app.ledger.valuation import Move
from app.services.stock.lots import suggest_batch


class SalesDelivery(DocumentBehaviour):
    """Delivery of goods to a customer."""

    moves_stock = True
    source_model = "sales_order"
    done_field = "delivered_qty"
    valued_at_posting = ("lines.cost_price",)  # the cost the goods went out at (`after_post`)

    def new_line_values(self, session: Any, registry: Any, model: Any, doc: Any, values: dict[str, Any]) -> None:
        super().new_line_values(session, registry, model, doc, values)
        suggest_batch(session, registry, values, doc.warehouse_id)

    def check(self, doc: Any, lines: list[Any]) -> None:
        """The lines' batch and serial rules, and the credit limit: a delivery adds its total less what it
        delivers of its order, which the customer's open orders already count."""
        super().check(doc, lines)
        covered = on_order_value(self.take(doc, lines))
        total = Decimal(doc.total_with_tax or 0)
        check_credit(self.ctx, doc, total - covered, owed_already=total)

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        self._taken = self.take(doc, lines)
        effects = [
            _on_order(
                a,
                line_effect(
                    a.index, lines[a.index], a.order.warehouse_id, RELEASE, f"release{a.order_line.id}", qty=a.qty
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
        self._returned = self.give(doc, lines)
        return [
            _on_order(a, line_effect(a.index, lines[a.index], a.order.warehouse_id, RESERVE, "rereserve", qty=a.qty))
            for a in self._returned
        ]

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        add_done(self._returned, self.done_field, sign=-1)


def _on_order(allocation: Allocation, effect: Effect) -> Effect:
    """A reservation effect holds the stock where the order reserved it: the order line's batch (orders
    of items that track batches reserve in the warehouse, not in a batch), whatever batch ships."""
    return replace(effect, batch=(getattr(allocation.order_line, "batch", None) or "").strip(), serials=())
