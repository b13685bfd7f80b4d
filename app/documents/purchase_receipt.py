"""采购入库: accepted quantity comes in at the purchase price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import IN, DocumentBehaviour, Effect, line_effect


class PurchaseReceipt(DocumentBehaviour):
    """Receipt of goods from a supplier."""

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        return [
            line_effect(i, line, doc.warehouse_id, IN, "in", unit_cost=Decimal(line.price or 0))
            for i, line in enumerate(lines)
        ]
