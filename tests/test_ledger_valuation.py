"""The pure ledger core: moving average, exact values, shortages as values, reversals."""

from decimal import Decimal as D

import pytest

from app.ledger.checks import MoveRow, check_ledger
from app.ledger.valuation import Balance, Shortage, issue, receive, reverse


@pytest.mark.parametrize(
    ("steps", "qty", "value"),
    [
        # (action, qty, cost) ... -> closing qty, value
        ([("in", "10", "2"), ("in", "10", "4")], "20", "60"),
        ([("in", "10", "2"), ("in", "10", "4"), ("out", "5", None)], "15", "45"),
        ([("in", "3", "1"), ("out", "1", None), ("out", "2", None)], "0", "0"),
        ([("in", "0.1", "19.99"), ("in", "0.1", "19.99"), ("in", "0.1", "19.99")], "0.3", "5.997"),
        ([("in", "3", "10"), ("in", "3", "10.01"), ("out", "1", None), ("out", "5", None)], "0", "0"),
        ([("in", "9999999999999", "0.0001")], "9999999999999", "999999999.9999"),
    ],
)
def test_moving_average_scenarios(steps, qty, value):
    balance = Balance()
    for action, amount, cost in steps:
        move = receive(balance, D(amount), D(cost)) if action == "in" else issue(balance, D(amount))
        assert not isinstance(move, Shortage)
        assert move.qty_after == balance.qty + move.qty and move.value_after == balance.value + move.value
        balance = move.balance_after
    assert (balance.qty, balance.value) == (D(qty), D(value))


def test_issuing_the_last_units_takes_exactly_the_remaining_value():
    balance = receive(Balance(), D(3), D("3.3333")).balance_after
    first = issue(balance, D(1))
    rest = issue(first.balance_after, D(2))
    assert rest.balance_after == Balance(D(0), D(0))
    assert first.value + rest.value == D("-9.9999")


def test_shortage_is_a_value_and_negative_policy_allows_it():
    assert issue(Balance(D(2), D(10)), D(3)) == Shortage(available=D(2), wanted=D(3))
    allowed = issue(Balance(D(2), D(10)), D(3), allow_negative=True)
    assert allowed.qty_after == D(-1)


def test_reverse_restores_the_balance_or_reports_a_shortage():
    start = Balance()
    received = receive(start, D(5), D(2))
    back = reverse(received.balance_after, received)
    assert back.balance_after == start
    sold = issue(received.balance_after, D(4))
    assert reverse(sold.balance_after, received) == Shortage(available=D(1), wanted=D(5))


def test_check_ledger_finds_broken_chains_and_balances():
    good = [MoveRow(1, ("a",), D(5), D(10), D(5), D(10)), MoveRow(2, ("a",), D(-2), D(-4), D(3), D(6))]
    assert check_ledger(good, {("a",): (D(3), D(6))}) == []
    broken = [good[0], MoveRow(2, ("a",), D(-2), D(-4), D(4), D(6))]
    assert check_ledger(broken, {("a",): (D(3), D(6))})
    assert check_ledger(good, {("a",): (D(3), D(7))})
    assert check_ledger([MoveRow(1, ("a",), D(-1), D(0), D(-1), D(0))], {("a",): (D(-1), D(0))})
