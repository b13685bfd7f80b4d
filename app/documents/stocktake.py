"""盘点: one gain or loss per counted line, valued at the current average cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import IN, OUT, DocumentBehaviour, Effect, line_effect


class Stocktake(DocumentBehaviour):
    """Stock count; only the difference posts."""

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        effects = []
        for i, line in enumerate(lines):
            diff = Decimal(line.diff_qty or 0)
            if diff > 0:
                effects.append(line_effect(i, line, doc.warehouse_id, IN, "gain", qty=diff))
            elif diff < 0:
                effects.append(line_effect(i, line, doc.warehouse_id, OUT, "loss", qty=-diff))
        return effects

    def after_post(self, doc: Any, lines: list[Any], costs: dict[tuple[int, str], Decimal]) -> None:
        for line in lines:
            cost = costs.get((line.id, "gain"), costs.get((line.id, "loss")))
            if cost is not None:
                line.price = cost
                line.amount = (cost * Decimal(line.diff_qty)).quantize(Decimal("0.01"))
