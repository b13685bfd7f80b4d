"""Batch and serial rules of the lines of stock documents, checked before anything posts.

An item that tracks batches needs a batch on every line that moves it; an item that tracks serial
numbers needs one distinct serial per unit (`serials`: one per line of text or comma-separated), and
no serial may appear on two lines of the same document. Whether each serial may come in or go out is
checked by posting, under the balance locks (app/services/stock/writer.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.context import PostingContext
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.ledger import serials as rules
from app.meta.types import plain_decimal
from app.services.stock.units import base_qty


def check_lines(ctx: PostingContext, lines: list[Any], qty_field: str = "qty") -> None:
    """Every batch / serial problem of the lines at once, per cell; lines whose `qty_field` is blank
    (a stocktake line not counted) do not move and are not checked."""
    tracked = ctx.tracking({line.item_id for line in lines})
    errors: list[CellError] = []
    first_line: dict[tuple[int, str], int] = {}
    for index, line in enumerate(lines):
        info = tracked.get(line.item_id)
        qty = getattr(line, qty_field, None)
        if info is None or qty is None:
            continue
        if info.batch and not (getattr(line, "batch", None) or "").strip():
            errors.append(CellError(f"lines.{index}.batch", t("batch_required", sku=info.sku)))
        if not info.serial:
            continue
        given = rules.parse(getattr(line, "serials", None))
        qty = base_qty(line) if qty_field == "qty" else Decimal(qty)  # one serial per base unit
        cell = f"lines.{index}.serials"
        too_long = [s for s in given if len(s) > rules.MAX_LENGTH]
        twice = rules.repeated(given)
        if too_long:
            errors.append(CellError(cell, t("serial_too_long", max=rules.MAX_LENGTH, serials=rules.listing(too_long))))
        elif twice:
            errors.append(CellError(cell, t("serial_repeated", serials=rules.listing(twice))))
        elif not rules.whole(qty):
            errors.append(CellError(f"lines.{index}.{qty_field}", t("serial_whole")))
        elif len(given) != qty:
            errors.append(CellError(cell, t("serial_count", qty=plain_decimal(qty), count=len(given))))
        other_lines = []
        for serial in given:
            seen = first_line.setdefault((line.item_id, serial), index)
            if seen != index:
                other_lines.append((serial, seen))
        if other_lines:
            serials = rules.listing(serial for serial, _ in other_lines)
            errors.append(CellError(cell, t("serial_other_line", serials=serials, line=other_lines[0][1] + 1)))
    if errors:
        raise ValidationFailed(errors)
