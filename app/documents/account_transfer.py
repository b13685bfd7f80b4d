"""资金调拨单: money moved from one cash or bank account to another (cash paid into the bank, cash drawn, a
top-up of WeChat Pay). It posts no stock and changes no profit: the amount leaves one account and enters
the other (app/services/money/cash.py). The account it leaves (the one it entered, when cancelled) keeps the
negative-cash rule of payments.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import DocumentBehaviour
from app.documents.money import overdrawn
from app.errors import CellError, ValidationFailed
from app.i18n import t


class AccountTransfer(DocumentBehaviour):
    """A transfer between two accounts."""

    def check(self, doc: Any, lines: list[Any]) -> None:
        errors = []
        if Decimal(doc.amount or 0) <= 0:
            errors.append(CellError("amount", t("money_amount_positive")))
        if doc.from_account_id == doc.to_account_id:
            errors.append(CellError("to_account", t("transfer_same_account")))
        if not errors:
            errors = overdrawn(self.ctx, {doc.from_account_id: "from_account"})
        if errors:
            raise ValidationFailed(errors)

    def check_cancel(self, doc: Any, lines: list[Any]) -> None:
        """Cancelling takes the money back out of the account it went into."""
        errors = overdrawn(self.ctx, {doc.to_account_id: "to_account"})
        if errors:
            raise ValidationFailed(errors)

    def posted_text(self, doc: Any) -> str | None:
        """How much moved from where to where."""
        return t("outcome_account_transfer_posted", amount=f"{Decimal(doc.amount or 0):.2f}")

    def cancelled_text(self, doc: Any) -> str | None:
        """The money is back where it was."""
        return t("outcome_account_transfer_cancelled", amount=f"{Decimal(doc.amount or 0):.2f}")
