"""其他入库 / 出库: in at the line's amount (qty x the given price, to the cent) or, without a price, at
the average cost; out at the current cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import DocumentBehaviour, line_effect
from app.ledger.effects import IN, OUT, Effect
from app.services.stock.lots import suggest_batch


class StockAdjustment(DocumentBehaviour):
    """Other goods in or out, with a reason."""

    moves_stock = True

    def new_line_values(self, session: Any, registry: Any, model: Any, doc: Any, values: dict[str, Any]) -> None:
        super().new_line_values(session, registry, model, doc, values)
        if doc.direction == "out":
            suggest_batch(session, registry, values, doc.warehouse_id)

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        if doc.direction == "in":
            return [
                line_effect(
                    i, line, doc.warehouse_id, IN, "in", value=Decimal(line.amount) if line.price is not None else None
                )
                for i, line in enumerate(lines)
            ]
        return [line_effect(i, line, doc.warehouse_id, OUT, "out") for i, line in enumerate(lines)]
