"""Cash and bank accounts (结算账户): what each holds, from its opening balance and the submitted payments.

A payment's money goes into (receipt) or out of (payment) its header's account, except what its lines
put on another account (多账户收付款: a line that names an account takes its amount there).
"""

from __future__ import annotations

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
# what the balances read: each account's opening balance, and the payments in and out of it
CASH_USES = (
    ("account", ("opening_balance",)),
    ("payment", ("account", "direction", "amount")),
    ("payment_line", ("account", "allocated_amount")),
)


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


def account_flows(session: Session, registry: Any, access: Access | None = None) -> dict[int, dict[str, Decimal]]:
    """Money in and out per account id over submitted payments (two grouped queries; a reader's payments only)."""
    payment, line = registry.cls("payment"), registry.cls("payment_line")
    scope = access.scope(registry.model("payment")) if access is not None else None
    submitted = payment.status == Status.SUBMITTED if scope is None else and_(payment.status == Status.SUBMITTED, scope)
    flows: dict[int, dict[str, Decimal]] = defaultdict(lambda: {"receipt": ZERO, "payment": ZERO})
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
    return flows


def balances_now(session: Session, registry: Any, account_ids: Collection[int]) -> dict[int, tuple[str, Decimal]]:
    """Code and balance of these accounts over the payments submitted so far, their rows locked first (in
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
        row.id: (row.code, Decimal(row.opening_balance or 0) + flows[row.id]["receipt"] - flows[row.id]["payment"])
        for row in rows
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
            flows.get(row.id, {}).get("receipt", ZERO),
            flows.get(row.id, {}).get("payment", ZERO),
        )
        for row in session.execute(stmt).scalars()
    ]
