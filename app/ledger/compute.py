"""Computed fields named in metadata (`compute: app.ledger.compute.<name>`).

Each takes the row's values (a document also gets `lines`) and returns the value; the write
service rounds decimals half-up to the field's scale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import groupby
from typing import Any, TypeVar

ZERO = Decimal(0)
F = TypeVar("F", bound=Callable[..., Any])


def reads(*names: str) -> Callable[[F], F]:
    """Declare what a compute handler reads: its row's fields, `lines.<field>`, `document.<field>`.

    Metadata derives from it what a computed field reveals (a line's tax is hidden with its price)."""

    def mark(function: F) -> F:
        function.reads = names  # type: ignore[attr-defined]
        return function

    return mark


def sums(name: str) -> Callable[[F], F]:
    """A handler that is the sum of one field of the lines (reads `lines.<name>`): where the lines are a table's
    rows, the database may add them up instead (`StreamedLines.sums`)."""

    def mark(function: F) -> F:
        function.reads = (f"lines.{name}",)  # type: ignore[attr-defined]
        function.sums = name  # type: ignore[attr-defined]
        return function

    return mark


LINE_MONEY_INPUTS = ("qty", "price", "discount_rate", "tax_rate", "carried_amount", "document.prices_include_tax")


def _sum(lines: list[dict[str, Any]], name: str) -> Decimal:
    return sum((Decimal(line.get(name) or 0) for line in lines), ZERO)


CENT = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineMoney:
    """A priced line's money: amount before tax + tax = amount with tax, each to the cent."""

    amount: Decimal
    tax: Decimal
    with_tax: Decimal


def line_money(values: dict[str, Any]) -> LineMoney | None:
    """qty x price less the discount, split into amount and tax at the line's tax rate (percent).

    When the document's prices include tax (`values["document"]["prices_include_tax"]`), qty x price
    is the amount with tax and the tax is taken out of it; otherwise it is the amount and the tax is
    added. Each part is rounded half-up to the cent, so amount + tax = amount with tax exactly.

    A line pushed down with a carried amount (`carried_amount`: what its source line still had open, qty x
    price after the discount) takes that as qty x price: its price, rounded to 4 places per base unit, would
    miss the source's cents (699 x 1.4286 = 998.59 where 998.57 was open). Editing the line drops it."""
    qty, price = values.get("qty"), values.get("price")
    if qty is None or price is None:
        return None
    included = bool((values.get("document") or {}).get("prices_include_tax"))
    carried = values.get("carried_amount")
    return _line_money(qty, price, values.get("discount_rate") or 0, values.get("tax_rate") or 0, included, carried)


@lru_cache(maxsize=4096)
def _line_money(
    qty: Any, price: Any, discount_rate: Any, tax_rate: Any, included: bool, carried: Any = None
) -> LineMoney:
    """`line_money` of these values, worked out once for a line's three computed fields (amount, tax, with tax:
    one handler each) and for lines alike. Equal decimals give the same money to the cent, whatever their digits."""
    if carried is not None:
        base = Decimal(carried).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        base = gross(qty, price, discount_rate)
    rate = Decimal(tax_rate)
    if included:
        tax = (base * rate / (HUNDRED + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        return LineMoney(base - tax, tax, base)
    tax = (base * rate / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    return LineMoney(base, tax, base + tax)


def gross(qty: Any, price: Any, discount_rate: Any = 0) -> Decimal:
    """qty x price less the discount, to the cent: a line's money before the tax is split off or added."""
    base = Decimal(qty) * Decimal(price) * (1 - Decimal(discount_rate or 0))
    return base.quantize(CENT, rounding=ROUND_HALF_UP)


def price_before_tax(price: Decimal, tax_rate: Decimal | None, prices_include_tax: bool) -> Decimal:
    """A unit price without its tax, to 4 places: what a received unit costs (input VAT is not cost)."""
    rate = Decimal(tax_rate or 0)
    if not prices_include_tax or not rate:
        return Decimal(price)
    return (Decimal(price) * HUNDRED / (HUNDRED + rate)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@reads(*LINE_MONEY_INPUTS)
def line_amount(values: dict[str, Any]) -> Decimal | None:
    """The line's amount before tax (qty x price less the discount; less the tax when prices include it)."""
    money = line_money(values)
    return money.amount if money else None


@reads(*LINE_MONEY_INPUTS)
def line_tax(values: dict[str, Any]) -> Decimal | None:
    """The line's tax."""
    money = line_money(values)
    return money.tax if money else None


@reads(*LINE_MONEY_INPUTS)
def line_amount_with_tax(values: dict[str, Any]) -> Decimal | None:
    """The line's amount with tax (价税合计)."""
    money = line_money(values)
    return money.with_tax if money else None


@reads("qty", "unit_ratio")
def base_qty(values: dict[str, Any]) -> Decimal | None:
    """The line's quantity in the item's base unit: qty x the unit's ratio (1 when none was taken)."""
    qty = values.get("qty")
    if qty is None:
        return None
    return Decimal(qty) * Decimal(values.get("unit_ratio") or 1)


@reads("counted_qty", "book_qty")
def stocktake_diff(values: dict[str, Any]) -> Decimal | None:
    """Counted minus book quantity (None until counted)."""
    counted = values.get("counted_qty")
    if counted is None:
        return None
    return Decimal(counted) - Decimal(values.get("book_qty") or 0)


@sums("qty")
def total_qty(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' qty."""
    return _sum(values.get("lines", []), "qty")


@sums("amount")
def total_amount(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' amount."""
    return _sum(values.get("lines", []), "amount")


@sums("tax_amount")
def total_tax(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' tax."""
    return _sum(values.get("lines", []), "tax_amount")


@sums("amount_with_tax")
def total_with_tax(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' amount with tax (what the partner owes or is owed)."""
    return _sum(values.get("lines", []), "amount_with_tax")


@sums("receivable_amount")
def total_receivable(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' receivable amounts (an opening balance's partner lines)."""
    return _sum(values.get("lines", []), "receivable_amount")


@sums("payable_amount")
def total_payable(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' payable amounts (an opening balance's partner lines)."""
    return _sum(values.get("lines", []), "payable_amount")


@sums("book_qty")
def total_book_qty(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' book quantity."""
    return _sum(values.get("lines", []), "book_qty")


@sums("counted_qty")
def total_counted_qty(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' counted quantity."""
    return _sum(values.get("lines", []), "counted_qty")


@sums("diff_qty")
def total_diff_qty(values: dict[str, Any]) -> Decimal:
    """Sum of the lines' differences."""
    return _sum(values.get("lines", []), "diff_qty")


def _keep_as_is(text: str) -> Any:
    """Characters pypinyin does not know (letters, digits) are kept, one by one."""
    return list(text)


@lru_cache(maxsize=8192)
def _hans_initials(hans: str) -> str:
    """The initials of a run of Chinese characters, its words found by pypinyin's phrase segmentation
    (重庆 -> CQ, not ZQ). Names repeat their runs (基准商品 1, 基准商品 2 ...): each is spelled once."""
    from pypinyin import Style, lazy_pinyin  # its phrase dictionary takes a second to load: only when spelling

    return "".join(lazy_pinyin(hans, style=Style.FIRST_LETTER, errors=_keep_as_is))


@reads("name")
def pinyin_initials(values: dict[str, Any]) -> str | None:
    """Pinyin initials of the name (农夫山泉 -> NFSQ), for lookup by typing.

    pypinyin splits a name into runs of Chinese characters and runs of others (kept as they are) and
    segments each Chinese run on its own, so spelling run by run is what it spells for the whole name. The
    runs are found as pypinyin's `simple_seg` finds them (a character is Chinese when RE_HANS matches it), by one
    regular expression of RE_HANS's characters splitting the name (an import spells 100,000 names)."""
    name = values.get("name")
    if not name:
        return None
    parts = _hans_runs()(str(name))  # others, Chinese, others, ... : the Chinese runs at the odd places
    parts[1::2] = map(_hans_initials, parts[1::2])
    return "".join(parts).upper()[:64]


@lru_cache(maxsize=1)
def _hans_runs() -> Callable[[str], list[str]]:
    """Split a text into runs of characters RE_HANS matches one by one, and the others between them."""
    import re

    from pypinyin.constants import RE_HANS

    pattern = RE_HANS.pattern
    if pattern.startswith("^(?:[") and pattern.endswith("])+$"):  # one class of characters: split in C
        return re.compile(f"({pattern[4:-3]}+)", RE_HANS.flags).split

    def split(text: str) -> list[str]:  # another pypinyin's RE_HANS: asked a character at a time
        parts = [""]
        for hans, run in groupby(text, key=lambda char: RE_HANS.match(char) is not None):
            if hans:
                parts += ["".join(run), ""]
            else:
                parts[-1] = "".join(run)
        return parts

    return split


CN_DIGITS = "零壹贰叁肆伍陆柒捌玖"
CN_PLACES = ("仟", "佰", "拾", "")
CN_GROUPS = ("", "万", "亿", "万亿")


def _four_digits(number: int) -> str:
    """0 < number < 10000 in capital numerals, zeros inside collapsed to one 零 (1001 -> 壹仟零壹)."""
    out, pending_zero = "", False
    for digit, place in zip(f"{number:04d}", CN_PLACES, strict=True):
        if digit == "0":
            pending_zero = bool(out)
            continue
        out += ("零" if pending_zero else "") + CN_DIGITS[int(digit)] + place
        pending_zero = False
    return out


def rmb_upper(amount: Decimal | int | str) -> str:
    """An amount in Chinese capital numerals as printed on 单据 and cheques: 1001.01 -> 壹仟零壹元零壹分."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign, value = ("负" if value < 0 else ""), abs(value)
    yuan, cents = divmod(int(value * 100), 100)
    jiao, fen = divmod(cents, 10)
    if yuan >= 10**16:
        raise ValueError("amount too large for capital numerals")
    groups = []
    while yuan:
        yuan, group = divmod(yuan, 10000)
        groups.append(group)
    text, zero_before = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            zero_before = bool(text)
            continue
        if text and (zero_before or group < 1000):
            text += "零"
        text += _four_digits(group) + CN_GROUPS[index]
        zero_before = False
    if text:
        text += "元"
    if not jiao and not fen:
        return sign + (text or "零元") + "整"
    if jiao:
        text += CN_DIGITS[jiao] + "角"
    elif text:
        text += "零"
    return sign + text + (CN_DIGITS[fen] + "分" if fen else "整")


@reads("qty")
def move_direction(values: dict[str, Any]) -> str | None:
    """A stock move's direction from the sign of its quantity: in (入) or out (出)."""
    qty = values.get("qty")
    if qty is None:
        return None
    return "out" if Decimal(qty) < 0 else "in"


@reads("amount", "tax_rate")
def included_tax(values: dict[str, Any]) -> Decimal | None:
    """The tax inside an amount that includes it (其他收支: amount x rate / (100 + rate)), to the cent."""
    amount = values.get("amount")
    if amount is None:
        return None
    rate = Decimal(values.get("tax_rate") or 0)
    return (Decimal(amount) * rate / (HUNDRED + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


@reads("amount", "tax_rate")
def amount_before_tax(values: dict[str, Any]) -> Decimal | None:
    """An amount that includes tax, less that tax: what a profit counts."""
    tax = included_tax(values)
    return None if tax is None else Decimal(values["amount"]) - tax


@reads("amount", "spent")
def budget_remaining(values: dict[str, Any]) -> Decimal | None:
    """采购预算: what is left of the month's budget after what its purchase orders spend (negative: over)."""
    amount, spent = values.get("amount"), values.get("spent")
    return None if amount is None else Decimal(amount) - Decimal(spent or 0)
