"""What a document line does to stock when it posts: pure records the posting service applies."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

IN, OUT = "in", "out"
RESERVE, RELEASE = "reserve", "release"  # sales orders hold stock without moving it


@dataclass(frozen=True, slots=True)
class Effect:
    """One stock movement a document line causes.

    `unit_cost` None on an inbound leg means "at the current average cost" (returns, gains);
    `value` is an inbound leg's exact value when the document states it (a receipt line's amount before
    tax): the move takes that value to the cent and its unit cost is value / qty;
    `cost_from` names an earlier leg of the same line whose value it takes (the in-leg of a transfer).
    `serials` are the serial numbers the leg moves (used for items that track them).
    """

    line_index: int
    line_id: int
    item_id: int
    warehouse_id: int
    qty: Decimal
    direction: str
    leg: str
    batch: str = ""
    unit_cost: Decimal | None = None
    value: Decimal | None = None
    cost_from: str | None = None
    serials: tuple[str, ...] = ()
