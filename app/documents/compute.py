"""Computed fields named in metadata (`compute: app.documents.compute.<name>`).

Each takes the row's values (a document also gets `lines`) and returns the value; the write
service rounds decimals half-up to the field's scale.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pypinyin import Style, lazy_pinyin

ZERO = Decimal(0)


def _sum(lines: list[dict[str, Any]], name: str) -> Decimal:
    return sum((Decimal(line.get(name) or 0) for line in lines), ZERO)


def line_amount(values: dict[str, Any]) -> Decimal | None:
    """qty x price, less the discount rate when the line has one."""
    qty, price = values.get("qty"), values.get("price")
    if qty is None or price is None:
        return None
    amount = Decimal(qty) * Decimal(price)
    rate = values.get("discount_rate")
    return amount * (1 - Decimal(rate)) if rate else amount


def stocktake_diff(values: dict[str, Any]) -> Decimal | None:
    """Counted minus book quantity (None until counted)."""
    counted = values.get("counted_qty")
    if counted is None:
        return None
    return Decimal(counted) - Decimal(values.get("book_qty") or 0)


def total_qty(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' qty."""
    return _sum(values.get("lines", []), "qty")


def total_amount(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' amount."""
    return _sum(values.get("lines", []), "amount")


def total_book_qty(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' book quantity."""
    return _sum(values.get("lines", []), "book_qty")


def total_counted_qty(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' counted quantity."""
    return _sum(values.get("lines", []), "counted_qty")


def total_diff_qty(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' differences."""
    return _sum(values.get("lines", []), "diff_qty")


def pinyin_initials(values: dict[str, Any]) -> str | None:
    """Pinyin initials of the name (农夫山泉 -> NFSQ), for lookup by typing."""
    name = values.get("name")
    if not name:
        return None
    letters = lazy_pinyin(str(name), style=Style.FIRST_LETTER, errors=lambda s: list(s))
    return "".join(letters).upper()[:64]
