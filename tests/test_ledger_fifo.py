"""The pure FIFO core: layers oldest first, exact values, shortages and used layers as values, reversals."""

from __future__ import annotations

from decimal import Decimal as D

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from app.ledger import fifo
from app.ledger.checks import LayerRow, TakeRow, check_layers
from app.ledger.fifo import Consumed, Layer, Piece, Stock, Take
from app.ledger.valuation import Balance, Shortage


def run(steps, stock=None):
    """Apply ("in", qty, cost) / ("out", qty) / ("out!", qty, fallback: negative allowed) steps; return
    the stock and every Posted."""
    stock = stock or Stock()
    done = []
    for step in steps:
        if step[0] == "in":
            posted = fifo.receive(stock, D(step[1]), D(step[2]))
        else:
            allow = step[0] == "out!"
            posted = fifo.issue(stock, D(step[1]), allow, D(step[2]) if allow else D(0))
        assert isinstance(posted, fifo.Posted), posted
        assert posted.move.qty_after == stock.balance.qty + posted.move.qty
        assert posted.move.value_after == stock.balance.value + posted.move.value
        stock = posted.stock
        done.append(posted)
    return stock, done


def remaining(stock):
    return [(layer.qty, layer.value) for layer in stock.open_layers]


@pytest.mark.parametrize(
    ("steps", "values", "layers"),
    [
        # steps ... -> each move's value, open layers after (qty, value), oldest first
        ([("in", "10", "1"), ("in", "10", "2"), ("out", "15")], ["10", "20", "-20"], [("5", "10")]),
        ([("in", "3", "3.3333"), ("out", "1"), ("out", "2")], ["9.9999", "-3.3333", "-6.6666"], []),
        (
            [("in", "0.3", "19.99"), ("in", "1", "5"), ("out", "0.1")],
            ["5.997", "5", "-1.999"],
            [("0.2", "3.998"), ("1", "5")],
        ),
        (
            [("in", "3", "0.33333"), ("out", "1"), ("out", "1"), ("out", "1")],
            ["1", "-0.3333", "-0.3334", "-0.3333"],
            [],
        ),
        ([("in", "2", "1"), ("out!", "5", "3")], ["2", "-11"], [("-3", "-9")]),  # 2 from the layer, 3 at fallback
        ([("in", "2", "1"), ("out!", "5", "3"), ("in", "5", "4")], ["2", "-11", "20"], [("2", "11")]),
        ([("in", "2", "1"), ("out!", "5", "3"), ("in", "1", "4")], ["2", "-11", "4"], [("-2", "-5")]),
        ([("out!", "2", "3"), ("in", "2", "4")], ["-6", "8"], [("0", "2")]),  # the difference stays on hand
        ([("out!", "2", "3"), ("in", "2", "4"), ("in", "1", "1")], ["-6", "8", "1"], [("1", "3")]),
        ([("in", "9999999999999", "0.0001")], ["999999999.9999"], [("9999999999999", "999999999.9999")]),
    ],
)
def test_fifo_scenarios(steps, values, layers):
    stock, done = run(steps)
    assert [p.move.value for p in done] == [D(v) for v in values]
    assert remaining(stock) == [(D(q), D(v)) for q, v in layers]
    assert stock.balance == Balance(sum((D(q) for q, _ in layers), D(0)), sum((D(v) for _, v in layers), D(0)))


def test_issue_takes_oldest_layers_and_says_what_it_took():
    stock, (_, _, out) = run([("in", "10", "1"), ("in", "10", "2"), ("out", "15")])
    assert out.move.unit_cost == D("1.3333") and out.move.value == D("-20")
    assert out.takes == (Take(-1, D(-10), D(-10)), Take(-2, D(-5), D(-10)))
    assert out.pieces == (Piece(D(10), D(10)), Piece(D(5), D(10)))
    assert stock.balance == Balance(D(5), D(10)) and stock.balance.avg_cost == D(2)


def test_shortage_is_a_value_and_reserved_units_are_not_available():
    stock, _ = run([("in", "5", "2")])
    assert fifo.issue(stock, D(6)) == Shortage(available=D(5), wanted=D(6))
    assert fifo.issue(stock, D(3), reserved=D(3)) == Shortage(available=D(2), wanted=D(3))
    assert not isinstance(fifo.issue(stock, D(3), allow_negative=True, reserved=D(3)), Shortage)


def test_cancelling_an_issue_gives_each_layer_back_what_it_took():
    stock, (_, _, out) = run([("in", "10", "1"), ("in", "10", "2"), ("out", "15")])
    back = fifo.reverse(stock, out.move, out.takes)
    assert back.move.qty == D(15) and back.move.value == D(20)
    assert remaining(back.stock) == [(D(10), D(10)), (D(10), D(20))]


def test_cancelling_a_receipt_needs_its_layer_untouched():
    stock, (first, second) = run([("in", "10", "1"), ("in", "10", "2")])
    undone = fifo.reverse(stock, second.move, second.takes)
    assert remaining(undone.stock) == [(D(10), D(10))] and undone.move.value == D(-20)
    used = fifo.issue(stock, D(4)).stock  # from the first layer only
    assert fifo.reverse(used, first.move, first.takes) == Consumed(available=D(6), wanted=D(10))
    assert remaining(fifo.reverse(used, second.move, second.takes).stock) == [(D(6), D(6))]
    assert fifo.reverse(used, first.move, first.takes, allow_negative=True) == Consumed(D(6), D(10))


def test_cancelling_below_zero_is_a_shortage_first():
    stock, (received, _) = run([("in", "5", "2"), ("out", "4")])
    assert fifo.reverse(stock, received.move, received.takes) == Shortage(available=D(1), wanted=D(5))


def test_a_receipt_that_closed_a_negative_layer_reopens_it_when_cancelled():
    stock, (_, _, receipt) = run([("in", "2", "1"), ("out!", "5", "3"), ("in", "5", "4")])
    back = fifo.reverse(stock, receipt.move, receipt.takes, allow_negative=True)
    assert remaining(back.stock) == [(D(-3), D(-9))] and back.move.value == D(-20)


def test_transfer_brings_the_layers_it_took_at_their_costs():
    source, (_, _, out) = run([("in", "10", "1"), ("in", "10", "2"), ("out", "15")])
    target = fifo.receive_pieces(Stock(), out.pieces)
    assert target.move.value == -out.move.value == D(20) and target.move.unit_cost == D("1.3333")
    assert remaining(target.stock) == [(D(10), D(10)), (D(5), D(10))]
    assert fifo.issue(target.stock, D(11)).move.value == D(-12)


def test_start_makes_what_is_on_hand_one_layer_and_stop_closes_them():
    started = fifo.start(Stock(Balance(D(20), D(30))))
    assert remaining(started.stock) == [(D(20), D(30))] and started.stock.layers[0].kind == fifo.START
    assert fifo.issue(started.stock, D(5)).move.value == D("-7.5")
    stock, _ = run([("in", "1", "1"), ("in", "2", "2")])
    stopped = fifo.stop(stock)
    assert stopped.stock.open_layers == () and stopped.stock.balance == stock.balance
    assert all(layer.merged for layer in stopped.stock.layers)
    assert fifo.start(Stock()).stock.layers == ()


def test_cancelling_moves_posted_before_fifo_started():
    # a receipt of 4 @ 2 and an issue of 1 @ 2 posted under moving average; FIFO starts at 3 / 6
    from app.ledger.valuation import Move

    stock = fifo.start(Stock(Balance(D(3), D(6)))).stock
    stock = fifo.receive(stock, D(1), D(5)).stock
    issued = Move(D(-1), D(2), D(-2), D(3), D(6))
    back = fifo.reverse(stock, issued, [])  # comes back as a layer at its own cost
    assert remaining(back.stock) == [(D(3), D(6)), (D(1), D(5)), (D(1), D(2))]
    received = Move(D(4), D(2), D(8), D(4), D(8))
    merged = fifo.reverse(back.stock, received, [])  # cannot be picked apart: merged at its own value
    assert remaining(merged.stock) == [(D(1), D(5))] and merged.move.value == D(-8)


# -- properties ---------------------------------------------------------------------------------

QTY = st.decimals(min_value=D("0.0001"), max_value=D(1000), places=4)
COST = st.decimals(min_value=D(0), max_value=D("99999.9999"), places=4)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("in"), QTY, COST),
        st.tuples(st.just("out"), QTY, COST, st.booleans()),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
        st.tuples(st.just("move"), QTY),
    ),
    max_size=30,
)


def _layer_rows(stocks, log):
    """The stores a database would hold: each layer once (as last seen) and every take."""
    last = {}
    for key, stock in stocks.items():
        for layer in stock.layers:
            last[layer.id] = LayerRow(layer.id, key, layer.kind, layer.qty, layer.value, layer.is_open)
    return list(last.values()), [TakeRow(t.layer, name, t.qty, t.value) for name, t in log]


class _Ids:
    """Stores new layers (negative ids) under real ids, as posting does, so stocks can share an id space."""

    def __init__(self):
        self.next = 1

    def store(self, posted, name, log):
        mapping = {}
        for take in posted.takes:
            if take.layer < 0 and take.layer not in mapping:
                mapping[take.layer] = self.next
                self.next += 1
        takes = tuple(Take(mapping.get(t.layer, t.layer), t.qty, t.value) for t in posted.takes)
        layers = tuple(
            Layer(mapping.get(la.id, la.id), la.qty, la.value, la.kind, la.merged)
            for la in posted.stock.layers
            if la.id > 0 or la.id in mapping
        )
        log.extend((name, t) for t in takes)
        return Stock(posted.stock.balance, layers), takes


@settings(max_examples=300, deadline=None)
@given(OPS)
def test_value_out_plus_value_left_is_value_in_exactly(ops):
    """Random receipts, issues (some past zero), transfers between two stocks and cancels: the layers
    always hold the balance to the last digit, every move's takes are the move, and cancelling
    everything that can be cancelled leaves what was never posted."""
    ids = _Ids()
    stocks = {"A": Stock(), "B": Stock()}
    log: list[tuple[str, Take]] = []
    posted: list[tuple[str, str, object, tuple[Take, ...]]] = []  # (name, stock, move, takes)
    value_in = value_out = D(0)
    moves = {}

    def keep(key, result, name):
        nonlocal value_in, value_out
        stocks[key], takes = ids.store(result, name, log)
        moves[name] = (key, result.move.qty, result.move.value)
        if result.move.value >= 0:
            value_in += result.move.value
        else:
            value_out -= result.move.value
        return takes

    for n, op in enumerate(ops):
        name = f"m{n}"
        if op[0] == "in":
            result = fifo.receive(stocks["A"], op[1], op[2])
            posted.append((name, "A", result.move, keep("A", result, name)))
        elif op[0] == "out":
            result = fifo.issue(stocks["A"], op[1], op[3], op[2])
            if isinstance(result, Shortage):
                assert not op[3] and stocks["A"].balance.qty < op[1]
                continue
            posted.append((name, "A", result.move, keep("A", result, name)))
        elif op[0] == "move":
            out = fifo.issue(stocks["A"], op[1])
            if isinstance(out, Shortage):
                continue
            posted.append((name, "A", out.move, keep("A", out, name)))
            inward = fifo.receive_pieces(stocks["B"], out.pieces)
            assert inward.move.value == -out.move.value
            posted.append((name + "b", "B", inward.move, keep("B", inward, name + "b")))
        elif posted:
            original_name, key, move, takes = posted[op[1] % len(posted)]
            result = fifo.reverse(stocks[key], move, takes, allow_negative=True)
            if isinstance(result, Consumed):
                continue
            assert not isinstance(result, Shortage)
            posted.remove((original_name, key, move, takes))
            keep(key, result, name)
        for stock in stocks.values():
            left = stock.open_layers
            assert (sum((la.qty for la in left), D(0)), sum((la.value for la in left), D(0))) == (
                stock.balance.qty,
                stock.balance.value,
            )
            assert all(la.qty >= 0 for la in left if la.kind == fifo.IN_LAYER)
        total = stocks["A"].balance.value + stocks["B"].balance.value
        assert value_in - value_out == total  # exact: no tolerance
    layers, takes = _layer_rows(stocks, log)
    balances = {key: (s.balance.qty, s.balance.value) for key, s in stocks.items()}
    assert check_layers(layers, takes, balances, frozenset(stocks), moves) == []
    for n, (_, key, move, takes_of) in enumerate(reversed(posted)):  # cancel the rest, newest first
        result = fifo.reverse(stocks[key], move, takes_of, allow_negative=True)
        assert isinstance(result, fifo.Posted), result
        keep(key, result, f"undo{n}")
    assert all(s.balance == Balance(D(0), D(0)) and not s.open_layers for s in stocks.values())
    assert value_in == value_out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(QTY, COST), min_size=1, max_size=8), st.lists(QTY, max_size=6))
def test_issuing_everything_takes_exactly_what_came_in(receipts, issues):
    stock = Stock()
    for qty, cost in receipts:
        stock = fifo.receive(stock, qty, cost).stock
    value_in = stock.balance.value
    taken = D(0)
    for qty in [*issues, None]:  # some issues, then whatever is left
        wanted = stock.balance.qty if qty is None else min(qty, stock.balance.qty)
        if wanted <= 0:
            break
        out = fifo.issue(stock, wanted)
        taken -= out.move.value
        stock = out.stock
    assert taken == value_in and stock.balance == Balance(D(0), D(0)) and stock.open_layers == ()


def test_check_layers_finds_layers_that_do_not_hold_the_balance():
    layer = LayerRow(1, ("a",), "in", D(5), D(10), True)
    take = TakeRow(1, "r1", D(5), D(10))
    moves = {"r1": (("a",), D(5), D(10))}
    assert check_layers([layer], [take], {("a",): (D(5), D(10))}, frozenset({("a",)}), moves) == []
    assert check_layers([layer], [take], {("a",): (D(5), D(11))}, frozenset({("a",)}), moves)
    assert check_layers([layer], [take], {("a",): (D(5), D(10))}, frozenset(), moves)  # open but not FIFO
    assert check_layers([layer], [TakeRow(1, "r1", D(5), D(9))], {("a",): (D(5), D(10))}, frozenset({("a",)}), moves)
    assert check_layers([layer], [take], {("a",): (D(5), D(10))}, frozenset({("a",)}), {"r1": (("a",), D(5), D(9))})
    assert check_layers([LayerRow(1, ("a",), "in", D(5), D(10), False)], [take], {}, frozenset(), moves)
