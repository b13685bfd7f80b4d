"""FIFO valuation of one item in one warehouse: cost layers, oldest first, and what a move does to them.

A layer is what is left of one inbound move at its cost (kind `in`), of stock issued beyond the
layers (`short`: negative quantity, valued at the fallback cost), or of the stock found when FIFO
started (`start`). The open layers of a stock always add up to its balance, quantity and value.

- An issue takes the oldest layers first; a layer's last units take exactly its remaining value,
  part of a layer takes its share of the remaining value (4 decimals). Beyond the layers (only where
  negative stock is allowed) the rest goes out at the fallback cost into one `short` layer.
- Whatever comes in is valued as under moving average (the line price, the source's cost, the
  average); it first fills any negative layer (closing it at exactly zero: the difference between the
  fallback cost and the real cost stays with the rest of the receipt's layer, as moving average would
  keep it in the average), and what is left opens a new layer.
- Cancelling an issue gives each layer back what it took. Cancelling an inbound move takes its layer
  away, which is refused once goods have been issued from it; a layer merged by a costing switch
  cannot be picked apart any more, so such a cancel takes the value out at its own value and the
  layers are merged into one again.

Layers this posting opens have negative ids (-1, -2, ...) until they are stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, localcontext

from app.ledger.valuation import VALUE_PLACES, ZERO, Balance, Move, Shortage, issue_shortage
from app.ledger.valuation import reverse as reverse_balance

IN_LAYER, SHORT, START = "in", "short", "start"


@dataclass(frozen=True, slots=True)
class Layer:
    """What is left of one layer (remaining quantity and value); `merged` once a costing switch closed it."""

    id: int
    qty: Decimal
    value: Decimal
    kind: str = IN_LAYER
    merged: bool = False

    @property
    def is_open(self) -> bool:
        """Anything left (a negative layer, or value without quantity, is open too)."""
        return self.qty != 0 or self.value != 0


@dataclass(frozen=True, slots=True)
class Take:
    """What one move did to one layer: quantity and value added (+) or taken (-)."""

    layer: int
    qty: Decimal
    value: Decimal


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of an issue: a quantity at its value (a transfer brings these into the target warehouse)."""

    qty: Decimal
    value: Decimal


@dataclass(frozen=True, slots=True)
class Stock:
    """The FIFO state of one item in one warehouse: the balance and its layers, oldest first."""

    balance: Balance = Balance()
    layers: tuple[Layer, ...] = ()

    @property
    def open_layers(self) -> tuple[Layer, ...]:
        """The layers with something left."""
        return tuple(layer for layer in self.layers if layer.is_open)


@dataclass(frozen=True, slots=True)
class Posted:
    """A move valued by FIFO: the entry, the stock it leaves, what it did to each layer, what it took."""

    move: Move
    stock: Stock
    takes: tuple[Take, ...]
    pieces: tuple[Piece, ...] = ()


@dataclass(frozen=True, slots=True)
class Consumed:
    """Cancelling an inbound move whose layer has been issued from (a value, raised at the edge)."""

    available: Decimal
    wanted: Decimal


def _round(value: Decimal) -> Decimal:
    return value.quantize(VALUE_PLACES, rounding=ROUND_HALF_UP)


def _share(layer: Layer, qty: Decimal) -> Decimal:
    """The value of `qty` units of a layer: all of it for the last units, else its share (4 decimals)."""
    if qty == layer.qty:
        return layer.value
    with localcontext() as ctx:
        ctx.prec = 60
        return _round(qty * layer.value / layer.qty)


class _Work:
    """The layers while one move changes them, and the takes it records."""

    def __init__(self, stock: Stock) -> None:
        self.layers = list(stock.layers)
        self.takes: list[Take] = []
        self.next_id = min([0, *(layer.id for layer in self.layers)]) - 1

    def apply(self, index: int, qty: Decimal, value: Decimal) -> None:
        layer = self.layers[index]
        self.layers[index] = replace(layer, qty=layer.qty + qty, value=layer.value + value)
        self.takes.append(Take(layer.id, qty, value))

    def open(self, kind: str, qty: Decimal, value: Decimal) -> None:
        self.layers.append(Layer(self.next_id, ZERO, ZERO, kind))
        self.next_id -= 1
        self.apply(len(self.layers) - 1, qty, value)

    def index(self, layer_id: int) -> int:
        return next(i for i, layer in enumerate(self.layers) if layer.id == layer_id)

    def bring_in(self, piece: Piece) -> None:
        """Fill negative layers first (oldest first), then open a layer with what is left."""
        qty, value = piece.qty, piece.value
        for i, layer in enumerate(self.layers):
            if not layer.is_open or layer.qty > 0:
                continue
            need = -layer.qty
            if qty <= need:
                self.apply(i, qty, value)
                return
            self.apply(i, need, -layer.value)  # closed at exactly zero
            qty, value = qty - need, value + layer.value
        self.open(IN_LAYER, qty, value)

    def merge(self, balance: Balance) -> None:
        """Close every open layer and open one `start` layer holding the whole balance (if any)."""
        for i, layer in enumerate(self.layers):
            if layer.is_open:
                self.apply(i, -layer.qty, -layer.value)
                self.layers[i] = replace(self.layers[i], merged=True)
        if balance.qty != 0 or balance.value != 0:
            self.open(START, balance.qty, balance.value)

    def posted(self, move: Move, pieces: Iterable[Piece] = ()) -> Posted:
        return Posted(move, Stock(move.balance_after, tuple(self.layers)), tuple(self.takes), tuple(pieces))


def on_hand(stock: Stock) -> Decimal:
    """The quantity the layers can give out (negative layers do not count)."""
    return sum((layer.qty for layer in stock.layers if layer.qty > 0), ZERO)


def receive(stock: Stock, qty: Decimal, unit_cost: Decimal) -> Posted:
    """Goods in at a known unit cost: valued as under moving average, opening a layer."""
    if qty <= 0:
        raise ValueError("receive needs a positive quantity")
    return receive_pieces(stock, [Piece(qty, _round(qty * unit_cost))], unit_cost=_round(unit_cost))


def receive_pieces(stock: Stock, pieces: Sequence[Piece], unit_cost: Decimal | None = None) -> Posted:
    """Goods in as pieces at their own values (a transfer: one layer per layer it took at the source)."""
    qty = sum((p.qty for p in pieces), ZERO)
    value = sum((p.value for p in pieces), ZERO)
    if qty <= 0 or any(p.qty <= 0 for p in pieces):
        raise ValueError("receive needs positive quantities")
    work = _Work(stock)
    for piece in pieces:
        work.bring_in(piece)
    cost = unit_cost if unit_cost is not None else _round(value / qty)
    balance = stock.balance
    return work.posted(Move(qty, cost, value, balance.qty + qty, balance.value + value))


def issue(
    stock: Stock,
    qty: Decimal,
    allow_negative: bool = False,
    fallback_cost: Decimal = ZERO,
    reserved: Decimal = ZERO,
) -> Posted | Shortage:
    """Goods out from the oldest layers; beyond them (if allowed) at the fallback cost.

    Units reserved for sales orders are not available to other issues."""
    balance = stock.balance
    shortage = issue_shortage(balance, qty, allow_negative, reserved)
    if shortage is not None:
        return shortage
    work = _Work(stock)
    pieces: list[Piece] = []
    left = qty
    for i, layer in enumerate(work.layers):
        if left == 0:
            break
        if layer.qty <= 0:
            continue
        take = min(layer.qty, left)
        value = _share(layer, take)
        work.apply(i, -take, -value)
        pieces.append(Piece(take, value))
        left -= take
    if left > 0:
        value = _round(left * fallback_cost)
        short = next((i for i in range(len(work.layers) - 1, -1, -1) if _is_negative(work.layers[i])), None)
        if short is None:
            work.open(SHORT, -left, -value)
        else:
            work.apply(short, -left, -value)
        pieces.append(Piece(left, value))
    total = sum((p.value for p in pieces), ZERO)
    with localcontext() as ctx:
        ctx.prec = 60
        unit_cost = _round(total / qty)
    return work.posted(Move(-qty, unit_cost, -total, balance.qty - qty, balance.value - total), pieces)


def _is_negative(layer: Layer) -> bool:
    return layer.is_open and layer.qty <= 0


def reverse(
    stock: Stock, original: Move, takes: Sequence[Take], allow_negative: bool = False
) -> Posted | Shortage | Consumed:
    """The entry that undoes `original` at its own value, and what it does to the layers.

    `takes` are what the original did to the layers (empty when it was posted under moving average)."""
    move = reverse_balance(stock.balance, original, allow_negative)
    if isinstance(move, Shortage):
        return move
    work = _Work(stock)
    layers = {layer.id: layer for layer in stock.layers}
    if original.qty < 0:  # an issue: its goods come back to the layers they left
        if takes:
            for take in takes:
                work.apply(work.index(take.layer), -take.qty, -take.value)
        else:
            work.bring_in(Piece(move.qty, move.value))
        return work.posted(move)
    if takes and not any(layers[take.layer].merged for take in takes):
        for take in takes:
            layer = layers[take.layer]
            if layer.kind == IN_LAYER and take.qty > 0 and layer.qty < take.qty:
                return Consumed(available=layer.qty, wanted=take.qty)
        for take in takes:
            work.apply(work.index(take.layer), -take.qty, -take.value)
        return work.posted(move)
    work.merge(move.balance_after)
    return work.posted(move)


def start(stock: Stock) -> Posted:
    """FIFO starts for a stock (its item switched to FIFO): what is on hand becomes one layer at its value."""
    work = _Work(stock)
    work.merge(stock.balance)
    balance = stock.balance
    return work.posted(Move(ZERO, ZERO, ZERO, balance.qty, balance.value))


def stop(stock: Stock) -> Posted:
    """FIFO stops for a stock (its item switched to moving average): every layer is closed."""
    work = _Work(stock)
    work.merge(Balance())
    balance = stock.balance
    return work.posted(Move(ZERO, ZERO, ZERO, balance.qty, balance.value))
