"""其他收支单: income or expense other than goods (rent, wages, utilities, interest ...), into or out of one
cash or bank account. It posts no stock; its amount (tax included) moves the account's balance
(app/services/money/cash.py), its amount before tax is other income or expense on the income statement, and
its tax is output tax (income) or deductible input tax (expense) on the balance sheet.

An expense, or cancelling income, takes money out of the account: the negative-cash rule of payments.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import DocumentBehaviour
from app.documents.money import overdrawn
from app.errors import CellError, ValidationFailed
from app.i18n import t


class OtherIncomeExpense(DocumentBehaviour):
    """Other income or expense; changes one account's balance."""

    def check(self, doc: Any, lines: list[Any]) -> None:
        errors = []
        if Decimal(doc.amount or 0) <= 0:
            errors.append(CellError("amount", t("money_amount_positive")))
        elif doc.direction == "expense":
            errors += overdrawn(self.ctx, {doc.account_id: "account"})
        if errors:
            raise ValidationFailed(errors)

    def check_cancel(self, doc: Any, lines: list[Any]) -> None:
        """Cancelling income takes its money out of the account again: the same rule as an expense."""
        errors = overdrawn(self.ctx, {doc.account_id: "account"}) if doc.direction == "income" else []
        if errors:
            raise ValidationFailed(errors)

    def posted_text(self, doc: Any) -> str | None:
        """Income or expense recorded, and how much."""
        return t(f"outcome_other_{doc.direction}_posted", amount=f"{Decimal(doc.amount or 0):.2f}")

    def cancelled_text(self, doc: Any) -> str | None:
        """The money no longer counts."""
        return t(f"outcome_other_{doc.direction}_cancelled", amount=f"{Decimal(doc.amount or 0):.2f}")
