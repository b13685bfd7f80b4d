"""Units of measure on document lines: each line keeps how many base units its unit holds.

An item is kept in its base unit (item.unit) and may also be counted in extra units with a ratio
(item_unit: 1 箱 = 24 瓶). When a document line is saved its `unit_ratio` is taken from these (1 for
the base unit or a blank unit) and its `base_qty` = qty x unit_ratio is what the ledger, orders,
reservations and serials count. The ratio is kept on the line, so changing an item's units later
never changes a document already written.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.errors import CellError
from app.i18n import t

ONE = Decimal(1)
COST_PLACES = Decimal("0.0001")


def unit_ratios(session: Session, registry: Any, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], Decimal]:
    """How many base units one `unit` of `item` holds, for each (item, unit) that converts (two queries)."""
    if not pairs:
        return {}
    item, extra = registry.cls("item"), registry.cls("item_unit")
    item_ids = {item_id for item_id, _ in pairs}
    base = dict(session.execute(select(item.id, item.unit_id).where(item.id.in_(item_ids))).all())
    found = {(item_id, unit_id): ONE for item_id, unit_id in pairs if base.get(item_id) == unit_id}
    rest = pairs - found.keys()
    if rest:
        rows = session.execute(
            select(extra.item_id, extra.unit_id, extra.ratio).where(
                tuple_(extra.item_id, extra.unit_id).in_(sorted(rest))
            )
        )
        found.update({(r.item_id, r.unit_id): Decimal(r.ratio) for r in rows})
    return found


def packaging(session: Session, registry: Any, barcode: str) -> tuple[int, int] | None:
    """The (item, unit) whose packaging carries this barcode (a case barcode on item_unit), if any."""
    extra = registry.cls("item_unit")
    row = session.execute(select(extra.item_id, extra.unit_id).where(extra.barcode == barcode)).first()
    return (row.item_id, row.unit_id) if row is not None else None


def take_unit_ratios(session: Session, registry: Any, lines: list[Any], row_ref: Any = None) -> list[CellError]:
    """Set each line's unit_ratio from its item's units; a unit the item is not counted in is a cell error."""
    pairs = {(line.item_id, line.unit_id) for line in lines if line.item_id is not None and line.unit_id is not None}
    ratios = unit_ratios(session, registry, pairs)
    errors = []
    for index, line in enumerate(lines):
        if line.item_id is None or line.unit_id is None:
            line.unit_ratio = ONE
            continue
        ratio = ratios.get((line.item_id, line.unit_id))
        if ratio is None:
            errors.append(CellError(f"lines.{index}.unit", _no_ratio(session, registry, line), row_ref))
        line.unit_ratio = ratio
    return errors


def _no_ratio(session: Session, registry: Any, line: Any) -> str:
    item, unit = session.get(registry.cls("item"), line.item_id), session.get(registry.cls("unit"), line.unit_id)
    base = session.get(registry.cls("unit"), item.unit_id) if item is not None and item.unit_id else None
    return t(
        "unit_no_ratio",
        sku=getattr(item, "sku", "?"),
        unit=getattr(unit, "name", "?"),
        base=getattr(base, "name", "?"),
    )


def per_base_unit(price: Decimal, line: Any) -> Decimal:
    """A price per the line's unit as a price per base unit, to 4 places (a 箱 of 24 at 48.00 -> 2.0000)."""
    ratio = Decimal(getattr(line, "unit_ratio", None) or ONE)
    return price if ratio == ONE else (price / ratio).quantize(COST_PLACES, rounding=ROUND_HALF_UP)


def per_line_unit(cost: Decimal | None, line: Any) -> Decimal | None:
    """A cost per base unit as a price per the line's unit, to 4 places (2.0000 a bottle -> 48.0000 a case)."""
    if cost is None:
        return None
    ratio = Decimal(getattr(line, "unit_ratio", None) or ONE)
    return (Decimal(cost) * ratio).quantize(COST_PLACES, rounding=ROUND_HALF_UP)


def base_qty(line: Any) -> Decimal:
    """A line's quantity in base units (lines saved before units converted count 1:1)."""
    stored = getattr(line, "base_qty", None)
    return Decimal(stored) if stored is not None else Decimal(line.qty)
