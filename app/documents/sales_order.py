"""销售订单: submitting reserves stock in the order's warehouse and checks the customer's credit limit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import DocumentBehaviour, line_effect, open_qty
from app.documents.credit import check_credit
from app.ledger.effects import RELEASE, RESERVE, Effect


class SalesOrder(DocumentBehaviour):
    """Customer order: holds stock until delivered, closed or cancelled."""

    reserves = True

    def check(self, doc: Any, lines: list[Any]) -> None:
        """Refuse an order that would take the customer past their credit limit."""
        check_credit(self.ctx, doc, Decimal(doc.total_with_tax or 0), exclude_order=doc.id)

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        return [line_effect(i, line, doc.warehouse_id, RESERVE, "reserve") for i, line in enumerate(lines)]

    def cancel_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        return [
            line_effect(i, line, doc.warehouse_id, RELEASE, "release", qty=open_qty(line, "delivered_qty"))
            for i, line in enumerate(lines)
            if open_qty(line, "delivered_qty") > 0
        ]
