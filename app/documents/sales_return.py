"""销售退货: goods come back from a customer; against a named delivery, at the cost they left at,
otherwise at the current average cost."""

from __future__ import annotations

from typing import Any

from app.documents.base import line_effect
from app.documents.returns import LinkedReturn
from app.ledger.effects import IN, Effect


class SalesReturn(LinkedReturn):
    """Return of goods from a customer."""

    moves_stock = True
    source_model = "sales_delivery"
    price_capped = True  # a customer is credited no more than the delivery charged

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        self._taken = self.returned(doc, lines)
        return [
            line_effect(i, line, doc.warehouse_id, IN, "in", unit_cost=self.cost_of(i, line, self._taken, "cost_price"))
            for i, line in enumerate(lines)
        ]
