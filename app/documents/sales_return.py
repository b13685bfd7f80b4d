"""销售退货: goods come back in at the current average cost."""

from __future__ import annotations

from typing import Any

from app.documents.base import IN, DocumentBehaviour, Effect, line_effect


class SalesReturn(DocumentBehaviour):
    """Return of goods from a customer."""

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        return [line_effect(i, line, doc.warehouse_id, IN, "in") for i, line in enumerate(lines)]
