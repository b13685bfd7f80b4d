"""盘点: each counted line posts the gain or loss that brings the book to the count, at average cost.

The book quantity is read under the posting lock, so goods moved while people were counting are
accounted for: the count is compared with the book at the moment the sheet posts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import IN, DocumentBehaviour, Effect, line_effect


class Stocktake(DocumentBehaviour):
    """Stock count; only the difference posts."""

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        return [
            line_effect(i, line, doc.warehouse_id, IN, "count", qty=Decimal(1), count_to=Decimal(line.counted_qty))
            for i, line in enumerate(lines)
            if line.counted_qty is not None
        ]

    def after_post(self, doc: Any, lines: list[Any], costs: dict[tuple[int, str], Decimal]) -> None:
        for line in lines:
            book = costs.get((line.id, "book"))
            if book is None:
                continue
            line.book_qty = book
            line.diff_qty = Decimal(line.counted_qty) - book
            cost = costs.get((line.id, "count"))
            if cost is not None:
                line.price = cost
                line.amount = (cost * line.diff_qty).quantize(Decimal("0.01"))
