"""Reservations: sales orders hold stock for their customer; reserved never exceeds what is on hand."""

from __future__ import annotations

from decimal import Decimal

from app.ledger.valuation import ZERO, Shortage


def reserve(on_hand: Decimal, reserved: Decimal, qty: Decimal, allow_negative: bool = False) -> Decimal | Shortage:
    """The new reserved quantity after holding `qty` more, or the shortage of unreserved stock."""
    if qty <= 0:
        raise ValueError("reserve needs a positive quantity")
    available = on_hand - reserved
    if available < qty and not allow_negative:
        return Shortage(available=max(available, ZERO), wanted=qty)
    return reserved + qty


def release(reserved: Decimal, qty: Decimal) -> Decimal:
    """The new reserved quantity after letting go of up to `qty` (never below zero)."""
    return max(reserved - qty, ZERO)
