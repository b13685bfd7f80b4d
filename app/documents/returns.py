"""What sales and purchase returns share: a return's lines may come from the lines of the document they
return (line links, or the document named in source_number).

Then each line must be an item of that document, returned no more than was delivered / received less
what earlier returns took back (counted in the source lines' returned_qty), from the same partner; a sales
return credits no more a unit than the delivery charged (with tax, after the discount: a purchase return at
another price is the supplier's 退货差价, which the income statement shows) and comes back at the cost the goods
left at. For items that track serial numbers, every
serial returned must be one the source moved for that item (whether it may move now is still posting's
check). Cancelling a return gives the quantity back.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from app.documents.base import Allocation, DocumentBehaviour, add_done
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.ledger import serials as rules
from app.ledger.compute import CENT, HUNDRED
from app.ledger.valuation import Move
from app.meta.types import format_decimal
from app.services.stock.units import base_qty

COST_PLACES = Decimal("0.0001")


def unit_value(line: Any, doc: Any) -> Decimal | None:
    """What one base unit of the line is charged, with tax and after the discount (None without a price)."""
    price = getattr(line, "price", None)
    if price is None:
        return None
    value = Decimal(price) * (1 - Decimal(getattr(line, "discount_rate", None) or 0))
    value /= Decimal(getattr(line, "unit_ratio", None) or 1)
    if not getattr(doc, "prices_include_tax", False):
        value *= 1 + Decimal(getattr(line, "tax_rate", None) or 0) / HUNDRED
    return value


class LinkedReturn(DocumentBehaviour):
    """A return checked against the delivery or receipt it names."""

    done_field = "returned_qty"
    over_policy = False  # nothing comes back that did not go out, whatever the over-order switch says
    over_message = "over_return"
    price_capped = False  # the price checked against the source's (`prices_above_source`): sales returns
    _taken: list[Allocation]  # set by stock_effects, counted by after_post
    _given: list[Allocation]  # set by cancel_effects, taken back by after_cancel

    def returned(self, doc: Any, lines: list[Any]) -> list[Allocation]:
        """Allocate the lines over their sources' not yet returned quantities; refuse what does not fit,
        and serials the source did not carry."""
        taken = self.take(doc, lines)
        errors = []
        for source in {a.order.id: a.order for a in taken}.values():
            mine = [i for i, line in enumerate(lines) if any(a.index == i and a.order is source for a in taken)]
            errors += self.serials_not_on(doc, source, list(source.lines), lines, mine)
        if self.price_capped:
            errors += self.prices_above_source(doc, lines, taken)
        if errors:
            raise ValidationFailed(errors)
        return taken

    def serials_not_on(
        self, doc: Any, source: Any, source_lines: list[Any], lines: list[Any], indexes: list[int]
    ) -> list[CellError]:
        """Lines of serial-tracked items naming serials the source's lines of that item did not carry, or
        that an earlier return already took back from it (a serial resold and returned again names the
        later document). The source is locked, so returns against it are checked one at a time."""
        tracked = self.ctx.tracking({line.item_id for line in lines})
        if not any(info.serial for info in tracked.values()):
            return []
        on_source: dict[int, set[str]] = {}
        for source_line in source_lines:
            on_source.setdefault(source_line.item_id, set()).update(rules.parse(getattr(source_line, "serials", None)))
        taken_back = self.ctx.returned_serials(doc.__jxc_model__, source, exclude=doc.id)
        errors = []
        for index in indexes:
            line = lines[index]
            info = tracked.get(line.item_id)
            if info is None or not info.serial:
                continue
            given = rules.parse(getattr(line, "serials", None))
            foreign = [s for s in given if s not in on_source.get(line.item_id, set())]
            again = [s for s in given if s in taken_back.get(line.item_id, set())]
            if foreign:
                message = t("serial_not_on_source", number=source.number, serials=rules.listing(foreign))
                errors.append(CellError(f"lines.{index}.serials", message))
            elif again:
                message = t("serial_returned_already", number=source.number, serials=rules.listing(again))
                errors.append(CellError(f"lines.{index}.serials", message))
        return errors

    @staticmethod
    def prices_above_source(doc: Any, lines: list[Any], taken: list[Allocation]) -> list[CellError]:
        """Lines priced above what the source charged for the units they return: a return at 999.00 of one unit
        sold at 19.99 credited the customer 1,128.87 and wiped that much of what they owed."""
        errors = []
        for index, line in enumerate(lines):
            parts = [a for a in taken if a.index == index]
            mine = unit_value(line, doc)
            values = [(a.qty, unit_value(a.order_line, a.order)) for a in parts]
            qty = sum((q for q, _ in values), Decimal(0))
            if mine is None or not qty or any(v is None for _, v in values):
                continue
            total = sum((q * v for q, v in values if v is not None), Decimal(0))
            claimed = getattr(line, "amount_with_tax", None)
            claimed = Decimal(claimed) if claimed is not None else mine * base_qty(line)
            # to the cent, with a cent for the rounding of the line's amount and tax on another basis (22.59 with
            # tax of a unit sold at 19.99 before 13 %: 22.5887 a unit, 22.59 on the delivery's line)
            if claimed <= total.quantize(CENT, rounding=ROUND_HALF_UP) + CENT:
                continue
            allowed = total / qty
            # the highest price the line may have, in its own unit, discount and tax basis
            highest = allowed * Decimal(getattr(line, "unit_ratio", None) or 1)
            if not getattr(doc, "prices_include_tax", False):
                highest /= 1 + Decimal(getattr(line, "tax_rate", None) or 0) / HUNDRED
            kept = 1 - Decimal(getattr(line, "discount_rate", None) or 0)
            highest = highest / kept if kept else highest
            number = ", ".join(dict.fromkeys(a.order.number for a in parts))
            price = format_decimal(highest.quantize(COST_PLACES, rounding=ROUND_DOWN), 2)
            errors.append(CellError(f"lines.{index}.price", t("return_price_above", number=number, price=price)))
        return errors

    @staticmethod
    def cost_of(index: int, line: Any, taken: list[Allocation], cost_field: str) -> Decimal | None:
        """The line's unit cost as the source lines it returns were valued (None if they carry none)."""
        parts = [a for a in taken if a.index == index]
        if not parts or any(getattr(a.order_line, cost_field) is None for a in parts):
            return None
        value = sum((a.qty * Decimal(getattr(a.order_line, cost_field)) for a in parts), Decimal(0))
        return (value / base_qty(line)).quantize(COST_PLACES, rounding=ROUND_HALF_UP)

    def after_post(self, doc: Any, lines: list[Any], moves: dict[tuple[int, str], Move]) -> None:
        add_done(self._taken, self.done_field)

    def cancel_effects(self, doc: Any, lines: list[Any]) -> list[Any]:
        self._given = self.give(doc, lines)
        return []

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        add_done(self._given, self.done_field, sign=-1)
