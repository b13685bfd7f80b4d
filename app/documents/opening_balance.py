"""期初单: what the business had and was owed when JXC started.

A stock line (item, warehouse, quantity, unit cost, batch or serials where the item tracks them) posts
its quantity in at its amount (qty x unit cost, to the cent), opening a FIFO layer for FIFO items like
any other stock in. A partner line (a partner with a receivable or a payable amount and a due date)
posts nothing to stock: receivables and payables read it as an open item (app/services/money/
receivables.py), ageing counts from its due date, and payments settle it by naming the document.
Reports show both as opening, not as "other in". The document is dated before the first business
document: an opening after trading began would re-cost stock that has already moved.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import DocumentBehaviour, line_effect
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.ledger.effects import IN, Effect
from app.services.stock.bulk import CHUNK
from app.services.stock.units import base_qty

CUSTOMER_KINDS, SUPPLIER_KINDS = ("customer", "both"), ("supplier", "both")


def is_stock_line(line: Any) -> bool:
    """A stock line names an item; a partner line names a partner instead."""
    return getattr(line, "item_id", None) is not None


class OpeningBalance(DocumentBehaviour):
    """Opening stock in at its stated cost; opening receivables and payables as open items."""

    moves_stock = True
    # posted 5,000 lines at a time, as a stocktake, in item order (an item's lines never split between chunks):
    # no check of its spans lines of different items
    line_chunk = CHUNK

    def new_line_values(self, session: Any, registry: Any, model: Any, doc: Any, values: dict[str, Any]) -> None:
        super().new_line_values(session, registry, model, doc, values)
        if values.get("item") is not None and values.get("warehouse") is None:
            values["warehouse"] = getattr(doc, "warehouse_id", None)

    def prepare_lines(
        self, session: Any, registry: Any, doc: Any, line_model: Any, lines: list[Any], row_ref: Any, new: list[bool]
    ) -> list[Any]:
        """A stock line without a warehouse takes the header's default one."""
        for line in lines:
            if line.item_id is not None and line.warehouse_id is None:
                line.warehouse_id = doc.warehouse_id
        return super().prepare_lines(session, registry, doc, line_model, lines, row_ref, new)

    def check(self, doc: Any, lines: list[Any]) -> None:
        """Each line is a whole stock line or a whole partner line; the date is before the first business
        document; then the batch and serial rules of the stock lines."""
        errors: list[CellError] = []
        if not lines:
            errors.append(CellError("lines", t("opening_no_lines")))
        date_error = self._date_error(doc)
        if date_error is not None:
            errors.append(date_error)
        for index, line in enumerate(lines):
            if is_stock_line(line):
                errors += _stock_line_errors(index, line)
            else:
                errors += self._partner_line_errors(index, line)
        if errors:
            raise ValidationFailed(errors)
        super().check(doc, lines)

    def _date_error(self, doc: Any) -> CellError | None:
        """The date's cell error when the document is not dated before the first business document: checked and
        told once a posting (its first chunk of lines), not once a chunk."""
        if getattr(self, "_date_checked", False):
            return None
        self._date_checked = True
        first = self.ctx.first_business_date()
        if first is not None and doc.date is not None and doc.date >= first:
            return CellError("date", t("opening_not_first", date=first.isoformat()))
        return None

    def _partner_line_errors(self, index: int, line: Any) -> list[CellError]:
        cell = f"lines.{index}"
        if line.partner_id is None:
            return [CellError(f"{cell}.item", t("opening_line_empty"))]
        receivable, payable = Decimal(line.receivable_amount or 0), Decimal(line.payable_amount or 0)
        if (receivable > 0) == (payable > 0):
            return [CellError(f"{cell}.receivable_amount", t("opening_one_amount"))]
        errors = [
            CellError(f"{cell}.{name}", t("opening_not_for_partner"))
            for name in ("qty", "price", "batch", "serials")
            if getattr(line, name, None) not in (None, "")
        ]
        partner = self.ctx.row("partner", line.partner_id)
        kinds = CUSTOMER_KINDS if receivable > 0 else SUPPLIER_KINDS
        if partner is not None and partner.kind not in kinds:
            which = "receivable_amount" if receivable > 0 else "payable_amount"
            errors.append(CellError(f"{cell}.{which}", t(f"opening_{which}_kind", partner=partner.code)))
        return errors

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        """Each stock line in at its amount (qty x unit cost, to the cent)."""
        return [
            line_effect(i, line, line.warehouse_id, IN, "opening", value=Decimal(line.amount))
            for i, line in enumerate(lines)
            if is_stock_line(line)
        ]


def _stock_line_errors(index: int, line: Any) -> list[CellError]:
    cell = f"lines.{index}"
    errors = []
    if line.partner_id is not None or line.receivable_amount or line.payable_amount:
        errors.append(CellError(f"{cell}.partner", t("opening_stock_and_partner")))
    if line.warehouse_id is None:
        errors.append(CellError(f"{cell}.warehouse", t("required")))
    if line.qty is None or base_qty(line) <= 0:
        errors.append(CellError(f"{cell}.qty", t("opening_qty_positive")))
    if line.price is None:
        errors.append(CellError(f"{cell}.price", t("required")))
    return errors
