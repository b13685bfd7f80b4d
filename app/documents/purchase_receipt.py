"""采购入库: accepted quantity comes in at the line's amount before tax (what was bought: qty x price
less the discount, less the tax when prices include it, to the cent), so the receipt and the stock
ledger show the same money; the unit cost is that amount per base unit.

A receipt's lines that come from purchase order lines (line links, or the order named in
source_number) count what they receive on those lines (partial receipts); cancelling takes that back.
A line's expiry date is its production date plus the item's shelf life, set when it posts (issues
suggest the batch that expires first).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import DocumentBehaviour, add_done, line_effect
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.ledger.effects import IN, Effect
from app.ledger.valuation import Move
from app.meta.types import plain_decimal
from app.services.stock.lots import expiry_date


class PurchaseReceipt(DocumentBehaviour):
    """Receipt of goods from a supplier."""

    moves_stock = True
    source_model = "purchase_order"
    done_field = "received_qty"
    over_message = "over_receipt"  # 未收货, not the deliveries' 未发货

    def prepare_lines(
        self, session: Any, registry: Any, doc: Any, line_model: Any, lines: list[Any], row_ref: Any, new: list[bool]
    ) -> list[Any]:
        """As every document's lines, and no line takes in and rejects more than arrived."""
        errors = super().prepare_lines(session, registry, doc, line_model, lines, row_ref, new)
        return errors + beyond_arrival(lines, row_ref)

    def check(self, doc: Any, lines: list[Any]) -> None:
        """The batch and serial rules, and no line takes in and rejects more than arrived (a draft saved before
        that rule)."""
        super().check(doc, lines)
        errors = beyond_arrival(lines)
        if errors:
            raise ValidationFailed(errors)

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        self._taken = self.take(doc, lines)
        return [
            line_effect(i, line, doc.warehouse_id, IN, "in", value=Decimal(line.amount or 0))
            for i, line in enumerate(lines)
        ]

    def after_post(self, doc: Any, lines: list[Any], moves: dict[tuple[int, str], Move]) -> None:
        add_done(self._taken, self.done_field)
        tracked = self.ctx.tracking({line.item_id for line in lines})
        for line in lines:
            info = tracked.get(line.item_id)
            shelf_life = info.shelf_life_days if info is not None else None
            line.expiry_date = expiry_date(getattr(line, "production_date", None), shelf_life)

    def cancel_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        self._returned = self.give(doc, lines)
        return []

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        add_done(self._returned, self.done_field, sign=-1)


def beyond_arrival(lines: list[Any], row_ref: Any = None) -> list[CellError]:
    """A cell error for each line that accounts for more than arrived (到货): one that rejects (拒收) more (13 of
    10), on its rejected quantity; else one whose accepted quantity (入库) and rejected add up to more (1000 in and
    100 rejected of 900), on its quantity: stock and the payable would count goods that never came."""
    errors = []
    for index, line in enumerate(lines):
        received = getattr(line, "received_qty", None)
        if received is None:
            continue
        rejected, accepted = getattr(line, "rejected_qty", None), getattr(line, "qty", None)
        if rejected is not None and Decimal(rejected) > Decimal(received):
            text = t("rejected_beyond_received", rejected=plain_decimal(rejected), received=plain_decimal(received))
            errors.append(CellError(f"lines.{index}.rejected_qty", text, row_ref))
        elif accepted is not None and Decimal(accepted) + Decimal(rejected or 0) > Decimal(received):
            figures = {"qty": plain_decimal(accepted), "received": plain_decimal(received)}
            if rejected:
                text = t("accepted_beyond_received", rejected=plain_decimal(rejected), **figures)
            else:
                text = t("accepted_beyond_received_plain", **figures)
            errors.append(CellError(f"lines.{index}.qty", text, row_ref))
    return errors
