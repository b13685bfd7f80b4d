"""Cash and bank accounts (结算账户): what each holds, from its opening balance and the submitted documents
that move money: payments, other income and expense (其他收支单) and transfers between accounts (资金调拨单).

A payment's money goes into (receipt) or out of (payment) its header's account, except what its lines
put on another account (多账户收付款: a line that names an account takes its amount there). Other income
goes into its account and an expense out of it; a transfer leaves one account and enters the other.
Every balance, the cash page's, the posting checks' and the balance sheet's, is `account_flows`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.meta.status import Status
from app.meta.types import format_decimal
from app.services.access.rights import Access

ZERO = Decimal(0)
# what the balances read: each account's opening balance, and the documents moving money in and out of it
CASH_USES = (
    ("account", ("opening_balance",)),
    ("payment", ("account", "direction", "amount")),
    ("payment_line", ("account", "allocated_amount")),
    ("other_income_expense", ("account", "direction", "amount")),
    ("account_transfer", ("from_account", "to_account", "amount")),
)
IN, OUT = "receipt", "payment"  # the two sides of an account's flows


@dataclass(frozen=True)
class AccountBalance:
    """One account: opening balance, money in, money out, and what it holds now."""

    id: int
    code: str
    name: str
    kind: str
    opening: Decimal
    money_in: Decimal
    money_out: Decimal

    @property
    def balance(self) -> Decimal:
        """Opening + in - out."""
        return self.opening + self.money_in - self.money_out

    def as_json(self) -> dict[str, Any]:
        """Amounts as exact strings with two decimals."""
        amounts = {"opening": self.opening, "in": self.money_in, "out": self.money_out, "balance": self.balance}
        return {"code": self.code, "name": self.name, "kind": self.kind} | {
            key: format_decimal(value, 2) for key, value in amounts.items()
        }


def account_flows(
    session: Session, registry: Any, access: Access | None = None, as_of: dt.date | None = None
) -> dict[int, dict[str, Decimal]]:
    """Money in (`receipt`) and out (`payment`) per account id over the submitted documents that move money
    (dated up to `as_of` when given): a few grouped queries; for a reader, only their documents."""
    flows: dict[int, dict[str, Decimal]] = defaultdict(lambda: {IN: ZERO, OUT: ZERO})

    def posted(model_key: str) -> tuple[Any, Any]:
        cls = registry.cls(model_key)
        conditions = [cls.status == Status.SUBMITTED]
        if as_of is not None:
            conditions.append(cls.date <= as_of)
        scope = access.scope(registry.model(model_key)) if access is not None else None
        if scope is not None:
            conditions.append(scope)
        return cls, and_(*conditions)

    payment, submitted = posted("payment")
    line = registry.cls("payment_line")
    headers = session.execute(
        select(payment.account_id, payment.direction, func.sum(payment.amount))
        .where(submitted)
        .group_by(payment.account_id, payment.direction)
    )
    for account_id, direction, amount in headers:
        flows[account_id][direction] += Decimal(amount or 0)
    moved = session.execute(
        select(payment.account_id, line.account_id, payment.direction, func.sum(line.allocated_amount))
        .join(payment, payment.id == line.parent_id)
        .where(submitted, line.account_id.isnot(None), line.account_id != payment.account_id)
        .group_by(payment.account_id, line.account_id, payment.direction)
    )
    for header_account, line_account, direction, amount in moved:
        flows[header_account][direction] -= Decimal(amount or 0)
        flows[line_account][direction] += Decimal(amount or 0)
    other, submitted = posted("other_income_expense")
    for account_id, direction, amount in session.execute(
        select(other.account_id, other.direction, func.sum(other.amount))
        .where(submitted)
        .group_by(other.account_id, other.direction)
    ):
        flows[account_id][IN if direction == "income" else OUT] += Decimal(amount or 0)
    transfer, submitted = posted("account_transfer")
    for from_id, to_id, amount in session.execute(
        select(transfer.from_account_id, transfer.to_account_id, func.sum(transfer.amount))
        .where(submitted)
        .group_by(transfer.from_account_id, transfer.to_account_id)
    ):
        flows[from_id][OUT] += Decimal(amount or 0)
        flows[to_id][IN] += Decimal(amount or 0)
    return flows


def balances_now(session: Session, registry: Any, account_ids: Collection[int]) -> dict[int, tuple[str, Decimal]]:
    """Code and balance of these accounts over the documents submitted so far, their rows locked first (in
    id order), so payments out of one account are checked one after the other."""
    account = registry.cls("account")
    rows = session.execute(
        select(account.id, account.code, account.opening_balance)
        .where(account.id.in_(set(account_ids)))
        .order_by(account.id)
        .with_for_update()
    ).all()
    flows = account_flows(session, registry)
    return {
        row.id: (row.code, Decimal(row.opening_balance or 0) + flows[row.id][IN] - flows[row.id][OUT]) for row in rows
    }


def account_balances(session: Session, access: Access) -> list[AccountBalance]:
    """Every account the user may read, by code, with its money in and out and its balance."""
    registry = access.registry
    for model_key, fields in CASH_USES:  # 价格屏蔽 hides every amount from the role
        access.require_use(model_key, *fields)
    account = registry.cls("account")
    stmt = select(account).order_by(account.code)
    scope = access.scope(registry.model("account"))
    if scope is not None:
        stmt = stmt.where(scope)
    flows = account_flows(session, registry, access)
    return [
        AccountBalance(
            row.id,
            row.code,
            row.name,
            row.kind,
            Decimal(row.opening_balance or 0),
            flows.get(row.id, {}).get(IN, ZERO),
            flows.get(row.id, {}).get(OUT, ZERO),
        )
        for row in session.execute(stmt).scalars()
    ]
