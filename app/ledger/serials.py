"""Serial numbers (序列号): what a line carries, and what each move does to where a serial is.

A serial of an item is either in stock in one place (warehouse x batch) or not in stock. Goods coming
in register each serial in the place they arrive, refused when it is already in stock anywhere; goods
going out take each serial from the place they leave, refused when it is not there. A posting applies
its moves in order to a `Book` (what was read, then what this posting did) and stores the end state
and the steps; cancelling applies the opposite steps in the reverse order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

SEPARATORS = re.compile(r"[\r\n,，;；\t]+")
MAX_LENGTH = 100
SHOWN = 20  # serials named in one message; the rest are counted


def parse(text: str | None) -> list[str]:
    """The serials a line names: one per line of text or separated by commas, whitespace trimmed."""
    if not text:
        return []
    return [part.strip() for part in SEPARATORS.split(str(text)) if part.strip()]


def repeated(serials: Iterable[str]) -> list[str]:
    """Serials given more than once, in the order they first repeat."""
    seen: set[str] = set()
    again: list[str] = []
    for serial in serials:
        if serial in seen and serial not in again:
            again.append(serial)
        seen.add(serial)
    return again


def whole(qty: Decimal) -> bool:
    """Whether a quantity is a whole number of units (serial items move in whole units)."""
    return qty == qty.to_integral_value()


def listing(serials: Iterable[str]) -> str:
    """Serials for a message: the first SHOWN of them, then how many more."""
    items = list(serials)
    shown = ", ".join(items[:SHOWN])
    return shown if len(items) <= SHOWN else f"{shown} … (+{len(items) - SHOWN})"


@dataclass(frozen=True, order=True)
class Place:
    """Where a serial in stock is: warehouse and batch of its item."""

    warehouse_id: int
    batch: str = ""


@dataclass(frozen=True)
class Step:
    """One serial moved by one stock move: +1 into `place`, -1 out of it."""

    item_id: int
    serial: str
    place: Place
    qty: int
    move_key: str


@dataclass
class Book:
    """Where serials are while one posting runs: `known` as read, changed by each step in order."""

    known: dict[tuple[int, str], Place | None] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    now: dict[tuple[int, str], Place | None] = field(default_factory=dict)

    def where(self, item_id: int, serial: str) -> Place | None:
        """The place the serial is in stock now (None: not in stock)."""
        key = (item_id, serial)
        return self.now[key] if key in self.now else self.known.get(key)

    def unknown(self, pairs: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
        """Of these (item, serial), the ones not read yet."""
        return sorted({pair for pair in pairs if pair not in self.known})

    def in_stock_elsewhere(self, item_id: int, serials: Iterable[str]) -> list[tuple[str, Place]]:
        """Serials that cannot come in: already in stock (with where)."""
        found = []
        for serial in serials:
            place = self.where(item_id, serial)
            if place is not None:
                found.append((serial, place))
        return found

    def missing(self, item_id: int, serials: Iterable[str], place: Place) -> list[str]:
        """Serials that cannot go out of `place`: not in stock there."""
        return [serial for serial in serials if self.where(item_id, serial) != place]

    def bring_in(self, item_id: int, serials: Iterable[str], place: Place, move_key: str) -> None:
        """Register the serials in stock at `place` (checked by in_stock_elsewhere first)."""
        for serial in serials:
            self.now[(item_id, serial)] = place
            self.steps.append(Step(item_id, serial, place, 1, move_key))

    def take_out(self, item_id: int, serials: Iterable[str], place: Place, move_key: str) -> None:
        """Take the serials out of stock at `place` (checked by missing first)."""
        for serial in serials:
            self.now[(item_id, serial)] = None
            self.steps.append(Step(item_id, serial, place, -1, move_key))

    def changed(self) -> dict[tuple[int, str], Place | None]:
        """The end state of every serial this posting moved."""
        return {key: self.now[key] for key in sorted(self.now)}

    def last_place(self, key: tuple[int, str]) -> Place:
        """The place of the serial's last step in this posting (where a serial out of stock was last)."""
        return next(step.place for step in reversed(self.steps) if (step.item_id, step.serial) == key)


def in_stock_from(history: Iterable[tuple[str, Place, int]]) -> dict[str, Place]:
    """Where serials are after these steps (serial, place, +1/-1), oldest first: those in stock."""
    where: dict[str, Place] = {}
    for serial, place, qty in history:
        if qty > 0:
            where[serial] = place
        elif where.get(serial) == place:
            del where[serial]
    return where
