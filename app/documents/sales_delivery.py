"""销售出库: goods leave at the moving-average cost, which is kept on the line as cost of goods sold."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import OUT, DocumentBehaviour, Effect, line_effect


class SalesDelivery(DocumentBehaviour):
    """Delivery of goods to a customer."""

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        return [line_effect(i, line, doc.warehouse_id, OUT, "out") for i, line in enumerate(lines)]

    def after_post(self, doc: Any, lines: list[Any], costs: dict[tuple[int, str], Decimal]) -> None:
        for line in lines:
            line.cost_price = costs.get((line.id, "out"))
