"""采购退货: goods go back to a supplier at the current cost; against a named receipt, no more than was
received less earlier returns."""

from __future__ import annotations

from typing import Any

from app.documents.base import line_effect
from app.documents.returns import LinkedReturn
from app.ledger.effects import OUT, Effect


class PurchaseReturn(LinkedReturn):
    """Return of goods to a supplier."""

    moves_stock = True
    source_model = "purchase_receipt"

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        self._taken = self.returned(doc, lines)
        return [line_effect(i, line, doc.warehouse_id, OUT, "out") for i, line in enumerate(lines)]
