"""采购退货: goods go back to the supplier at the current average cost."""

from __future__ import annotations

from typing import Any

from app.documents.base import OUT, DocumentBehaviour, Effect, line_effect


class PurchaseReturn(DocumentBehaviour):
    """Return of goods to a supplier."""

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        return [line_effect(i, line, doc.warehouse_id, OUT, "out") for i, line in enumerate(lines)]
