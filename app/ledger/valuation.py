"""Moving-average valuation of one item in one warehouse: what a move does to the balance."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

VALUE_PLACES = Decimal("0.0001")  # stock_move.value / unit_cost are stored with 4 decimals
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Balance:
    """Quantity and value on hand of one item in one warehouse (and batch)."""

    qty: Decimal = ZERO
    value: Decimal = ZERO

    @property
    def avg_cost(self) -> Decimal:
        """Value per unit (zero when nothing is on hand)."""
        if self.qty <= 0:
            return ZERO
        return (self.value / self.qty).quantize(VALUE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Move:
    """One ledger entry as valued: quantity (+ in, - out), unit cost, value and the balance after."""

    qty: Decimal
    unit_cost: Decimal
    value: Decimal
    qty_after: Decimal
    value_after: Decimal

    @property
    def balance_after(self) -> Balance:
        """The balance this move leaves."""
        return Balance(self.qty_after, self.value_after)


@dataclass(frozen=True, slots=True)
class Shortage:
    """An issue that would take the quantity below zero (returned as a value, raised at the edge)."""

    available: Decimal
    wanted: Decimal


def _round(value: Decimal) -> Decimal:
    return value.quantize(VALUE_PLACES, rounding=ROUND_HALF_UP)


def receive(balance: Balance, qty: Decimal, unit_cost: Decimal) -> Move:
    """Goods in at a known unit cost (purchase receipt, gain, return at cost)."""
    if qty <= 0:
        raise ValueError("receive needs a positive quantity")
    value = _round(qty * unit_cost)
    return Move(qty, _round(unit_cost), value, balance.qty + qty, balance.value + value)


def receive_value(balance: Balance, qty: Decimal, value: Decimal) -> Move:
    """Goods in at a known value (a receipt line's amount, what a transfer took out): the move carries
    exactly that value, its unit cost is value / qty to 4 places."""
    if qty <= 0:
        raise ValueError("receive needs a positive quantity")
    value = _round(value)
    return Move(qty, _round(value / qty), value, balance.qty + qty, balance.value + value)


def issue(
    balance: Balance,
    qty: Decimal,
    allow_negative: bool = False,
    fallback_cost: Decimal = ZERO,
    reserved: Decimal = ZERO,
) -> Move | Shortage:
    """Goods out at the moving-average cost; taking the last units takes exactly the remaining value.

    Units reserved for sales orders are not available to other issues."""
    shortage = issue_shortage(balance, qty, allow_negative, reserved)
    if shortage is not None:
        return shortage
    if balance.qty == qty:
        value = balance.value
        unit_cost = _round(value / qty)
    else:
        unit_cost = balance.avg_cost if balance.qty > 0 else _round(fallback_cost)
        value = _round(qty * unit_cost)
    return Move(-qty, unit_cost, -value, balance.qty - qty, balance.value - value)


def issue_shortage(balance: Balance, qty: Decimal, allow_negative: bool, reserved: Decimal) -> Shortage | None:
    """What an issue of `qty` lacks, the units reserved for sales orders not being available to it
    (None when it may go ahead); any costing method checks this first."""
    if qty <= 0:
        raise ValueError("issue needs a positive quantity")
    if balance.qty - reserved < qty and not allow_negative:
        return Shortage(available=max(balance.qty - reserved, ZERO), wanted=qty)
    return None


def reverse(balance: Balance, original: Move, allow_negative: bool = False) -> Move | Shortage:
    """The entry that undoes `original` at its own value (cancel posts this; nothing is edited)."""
    qty, value = -original.qty, -original.value
    if balance.qty + qty < 0 and not allow_negative:
        return Shortage(available=balance.qty, wanted=-qty)
    return Move(qty, original.unit_cost, value, balance.qty + qty, balance.value + value)
