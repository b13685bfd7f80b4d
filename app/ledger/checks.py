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


@dataclass(frozen=True)
class LayerRow:
    """A stored FIFO cost layer: its stock, kind, what it opened with and what is left."""

    id: int
    key: tuple[Any, ...]
    kind: str
    remaining_qty: Decimal
    remaining_value: Decimal
    is_open: bool


@dataclass(frozen=True)
class TakeRow:
    """What one move (None: a costing switch) did to one layer."""

    layer_id: int
    move_key: str | None
    qty: Decimal
    value: Decimal


def check_layers(
    layers: Iterable[LayerRow],
    takes: Iterable[TakeRow],
    balances: dict[tuple[Any, ...], tuple[Decimal, Decimal]],
    fifo_keys: frozenset[tuple[Any, ...]],
    moves: dict[str, tuple[tuple[Any, ...], Decimal, Decimal]],
) -> list[str]:
    """Every FIFO problem: a layer's remainder differs from its takes, a receipt layer below zero, the
    open layers of a FIFO stock differ from its balance (or a moving-average stock has open layers), or
    a move's takes differ from the move (`moves`: move key -> (stock, qty, value))."""
    problems: list[str] = []
    by_id = {layer.id: layer for layer in layers}
    taken: dict[int, tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
    per_move: dict[str, tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
    for take in takes:
        layer = by_id.get(take.layer_id)
        if layer is None:
            problems.append(f"take on missing layer {take.layer_id}")
            continue
        qty, value = taken[take.layer_id]
        taken[take.layer_id] = (qty + take.qty, value + take.value)
        if take.move_key is not None:
            qty, value = per_move[take.move_key]
            per_move[take.move_key] = (qty + take.qty, value + take.value)
            if take.move_key in moves and moves[take.move_key][0] != layer.key:
                problems.append(f"move {take.move_key} took from layer {layer.id} of another stock")
    open_sum: dict[tuple[Any, ...], tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
    for layer in by_id.values():
        remaining = (layer.remaining_qty, layer.remaining_value)
        if taken[layer.id] != remaining:
            problems.append(f"layer {layer.id}: takes sum to {taken[layer.id]}, layer says {remaining}")
        if layer.is_open != (remaining != (ZERO, ZERO)):
            problems.append(f"layer {layer.id}: open flag {layer.is_open} with {remaining} left")
        if layer.kind == "in" and layer.remaining_qty < 0:
            problems.append(f"layer {layer.id}: receipt layer below zero ({layer.remaining_qty})")
        if layer.is_open:
            qty, value = open_sum[layer.key]
            open_sum[layer.key] = (qty + layer.remaining_qty, value + layer.remaining_value)
    for key in fifo_keys:
        if open_sum[key] != balances.get(key, (ZERO, ZERO)):
            problems.append(f"FIFO stock {key}: layers hold {open_sum[key]}, balance says {balances.get(key)}")
    for key in set(open_sum) - set(fifo_keys):  # open_sum only holds stocks with open layers
        problems.append(f"stock {key} is not valued FIFO but has open layers holding {open_sum[key]}")
    for move_key, total in per_move.items():
        if move_key not in moves:
            problems.append(f"takes of move {move_key}, which does not exist")
        elif total != moves[move_key][1:]:
            problems.append(f"move {move_key}: takes sum to {total}, the move is {moves[move_key][1:]}")
    return problems


@dataclass(frozen=True)
class SerialRow:
    """A stored serial: its item, where it is (or was last) and whether it is in stock."""

    item_id: int
    serial: str
    place: tuple[Any, ...]
    in_stock: bool


@dataclass(frozen=True)
class SerialStepRow:
    """One stored serial move: +1 into a place, -1 out of it, by the stock move `move_key`."""

    id: int
    item_id: int
    serial: str
    place: tuple[Any, ...]
    qty: int
    move_key: str


def check_serials(
    serials: Iterable[SerialRow],
    steps: Iterable[SerialStepRow],
    balances: dict[tuple[Any, ...], tuple[Decimal, Decimal]],
    serial_items: frozenset[Any],
    moves: dict[str, tuple[tuple[Any, ...], Decimal]],
) -> list[str]:
    """Every serial problem: a serial that came in while in stock or went out of a place it was not in,
    a serial whose row is not where its steps leave it, a move whose serial steps are of another stock
    or do not add up to it (`moves`: move key -> (stock, qty)), and, for the items that track serials,
    a stock (item x warehouse x batch) whose serials in stock differ from its balance quantity."""
    problems: list[str] = []
    where: dict[tuple[Any, str], tuple[Any, ...] | None] = {}
    per_move: dict[str, int] = defaultdict(int)
    for step in sorted(steps, key=lambda s: s.id):
        key = (step.item_id, step.serial)
        if step.qty > 0 and where.get(key) is not None:
            problems.append(f"serial {step.serial}: came in (step {step.id}) while in stock at {where[key]}")
        if step.qty < 0 and where.get(key) != step.place:
            problems.append(f"serial {step.serial}: went out of {step.place} (step {step.id}) but was not there")
        where[key] = step.place if step.qty > 0 else None
        per_move[step.move_key] += step.qty
        move = moves.get(step.move_key)
        if move is None:
            problems.append(f"serial {step.serial}: step {step.id} of move {step.move_key}, which does not exist")
        elif move[0] != (step.item_id, *step.place):
            problems.append(f"serial {step.serial}: step {step.id} is not of the stock of move {step.move_key}")
    for move_key, qty in per_move.items():
        if move_key in moves and moves[move_key][1] != qty:
            problems.append(f"move {move_key}: serial steps add up to {qty}, the move is {moves[move_key][1]}")
    counted: dict[tuple[Any, ...], int] = defaultdict(int)
    stored: set[tuple[Any, str]] = set()
    for row in serials:
        key = (row.item_id, row.serial)
        stored.add(key)
        expected = where.get(key)
        if (row.place if row.in_stock else None) != expected:
            problems.append(
                f"serial {row.serial}: stored as {row.place if row.in_stock else 'out'}, steps say {expected}"
            )
        if row.in_stock:
            counted[(row.item_id, *row.place)] += 1
    for key, place in where.items():
        if place is not None and key not in stored:
            problems.append(f"serial {key[1]}: its steps leave it in stock at {place}, but it has no row")
    for stock in {key for key in balances if key[0] in serial_items} | set(counted):
        if stock[0] not in serial_items:
            continue
        on_hand = balances.get(stock, (ZERO, ZERO))[0]
        if Decimal(counted[stock]) != on_hand:
            problems.append(f"stock {stock}: {counted[stock]} serials in stock, balance says {on_hand}")
    return problems
