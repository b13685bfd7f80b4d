"""盘点: the book quantity is snapshot when a line is added; counting then takes as long as it takes.

Posting adjusts today's book by (counted - snapshot), so goods moved while people were counting are
accounted for, not mistaken for gains or losses. Gains and losses are valued at the current average
cost; a loss posts even when it takes stock below zero (the count is the fact).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from app.documents.base import IN, OUT, DocumentBehaviour, Effect, line_effect
from app.services.audit import utcnow


class Stocktake(DocumentBehaviour):
    """Stock count; only the difference posts."""

    def new_line_values(self, session: Any, registry: Any, model: Any, doc: Any, values: dict[str, Any]) -> None:
        super().new_line_values(session, registry, model, doc, values)
        if values.get("item") is None or doc.warehouse_id is None:
            return
        balance = registry.cls("stock_balance")
        values["book_qty"] = session.execute(
            select(func.sum(balance.qty)).where(
                balance.item_id == values["item"], balance.warehouse_id == doc.warehouse_id
            )
        ).scalar() or Decimal(0)
        if doc.snapshot_at is None:
            doc.snapshot_at = utcnow()

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        effects = []
        for i, line in enumerate(lines):
            if line.counted_qty is None:
                continue
            diff = Decimal(line.counted_qty) - Decimal(line.book_qty or 0)
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
