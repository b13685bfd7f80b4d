"""销售出库: goods leave at the moving-average cost (kept on the line as cost of goods sold).

A delivery that names its sales order (source_number) releases that order's reservation for what it
ships and counts the delivered quantity on the order's lines; cancelling it gives both back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import OUT, RELEASE, RESERVE, DocumentBehaviour, Effect, line_effect
from app.i18n import t
from app.services.errors import CellError, ValidationFailed


class SalesDelivery(DocumentBehaviour):
    """Delivery of goods to a customer."""

    def _order_lines(self, doc: Any) -> tuple[Any, list[Any]]:
        if not doc.source_number:
            return None, []
        found = self.ctx.submitted_document("sales_order", doc.source_number)
        if found is None:
            raise ValidationFailed([CellError("source_number", t("source_missing", number=doc.source_number))])
        return found

    def _allocate(self, doc: Any, lines: list[Any]) -> list[tuple[int, Any, Decimal]]:
        """(delivery line index, order line, qty taken from it) for every delivery line."""
        order, order_lines = self._order_lines(doc)
        if order is None:
            return []
        open_qty = {ol.id: Decimal(ol.qty) - Decimal(ol.delivered_qty or 0) for ol in order_lines}
        taken = []
        for index, line in enumerate(lines):
            wanted = Decimal(line.qty)
            for order_line in order_lines:
                if order_line.item_id != line.item_id or open_qty[order_line.id] <= 0 or wanted <= 0:
                    continue
                take = min(wanted, open_qty[order_line.id])
                open_qty[order_line.id] -= take
                wanted -= take
                taken.append((index, order_line, take))
            if wanted > 0 and not self.ctx.policy("allow_over_order_qty"):
                raise ValidationFailed([CellError(f"lines.{index}.qty", t("over_order", number=order.number))])
        return taken

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        self._taken = self._allocate(doc, lines)
        order = self._order_lines(doc)[0]
        effects = [
            line_effect(index, lines[index], order.warehouse_id, RELEASE, f"release{order_line.id}", qty=take)
            for index, order_line, take in self._taken
        ]
        return effects + [line_effect(i, line, doc.warehouse_id, OUT, "out") for i, line in enumerate(lines)]

    def after_post(self, doc: Any, lines: list[Any], costs: dict[tuple[int, str], Decimal]) -> None:
        for line in lines:
            line.cost_price = costs.get((line.id, "out"))
        for _index, order_line, take in self._taken:
            order_line.delivered_qty = Decimal(order_line.delivered_qty or 0) + take

    def cancel_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        order, order_lines = self._order_lines(doc)
        if order is None:
            return []
        self._returned = []
        effects = []
        for index, line in enumerate(lines):
            back = Decimal(line.qty)
            for order_line in order_lines:
                delivered = Decimal(order_line.delivered_qty or 0)
                if order_line.item_id != line.item_id or delivered <= 0 or back <= 0:
                    continue
                give = min(back, delivered)
                back -= give
                self._returned.append((order_line, give))
                effects.append(line_effect(index, line, order.warehouse_id, RESERVE, "rereserve", qty=give))
        return effects

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        for order_line, give in getattr(self, "_returned", []):
            order_line.delivered_qty = Decimal(order_line.delivered_qty or 0) - give
