"""Ledger invariants, checked by tests after every scenario and by `jxc` health checks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)


@dataclass(frozen=True)
class MoveRow:
    """The fields of a stored stock move the checks need."""

    id: int
    key: tuple[Any, ...]
    qty: Decimal
    value: Decimal
    qty_after: Decimal
    value_after: Decimal


def check_ledger(
    moves: Iterable[MoveRow],
    balances: dict[tuple[Any, ...], tuple[Decimal, Decimal]],
    allow_negative: bool = False,
    negative_ok: frozenset[tuple[Any, ...]] = frozenset(),
) -> list[str]:
    """Every invariant problem: chain breaks, sums that differ from balances, negative stock
    (except where the policy allowed it: everywhere, or for the keys in `negative_ok`)."""
    problems: list[str] = []
    running: dict[tuple[Any, ...], tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
    for move in sorted(moves, key=lambda m: m.id):
        qty, value = running[move.key]
        qty, value = qty + move.qty, value + move.value
        if (qty, value) != (move.qty_after, move.value_after):
            problems.append(f"move {move.id}: after should be {qty}/{value}, is {move.qty_after}/{move.value_after}")
        if qty < 0 and not allow_negative and move.key not in negative_ok:
            problems.append(f"move {move.id}: quantity below zero ({qty})")
        running[move.key] = (qty, value)
    for key in set(running) | set(balances):
        if running[key] != balances.get(key, (ZERO, ZERO)):
            problems.append(f"balance {key}: moves sum to {running[key]}, balance says {balances.get(key)}")
    return problems
