"""What every document that takes money out of a cash or bank account checks (payments, other expenses,
transfers, and cancelling whatever brought money in): an account left below zero is refused when
`refuse_negative_cash` is on, and posts with a warning naming the account and its balance otherwise.

The balances are app/services/money/cash.py's, this posting included, the accounts locked in id order.
"""

from __future__ import annotations

from typing import Any

from app.documents.context import PostingContext
from app.errors import CellError
from app.i18n import t


def overdrawn(ctx: PostingContext, cells: dict[Any, str]) -> list[CellError]:
    """The accounts (id -> the cell that names it) now below zero: cell errors when the policy refuses
    them, else a warning each (and no error)."""
    refuse = ctx.policy("refuse_negative_cash")
    errors = []
    for account_id, (code, balance) in ctx.account_balances(cells).items():
        if balance >= 0:
            continue
        if refuse:
            errors.append(CellError(cells[account_id], t("cash_negative", account=code, balance=f"{balance:.2f}")))
        else:
            ctx.warn("cash_negative_warning", account=code, balance=f"{balance:.2f}")
    return errors
