"""收款 / 付款: money in from customers or out to suppliers, optionally allocated to documents.

Allocations (核销) name the deliveries or receipts they settle; each must be a submitted document of
the same partner and side, and no document may be settled beyond its open amount (its total with tax
less the returns that name it and earlier allocations). With
`multi_account_payments` on, a line may name another account: its amount goes there instead of the
header's account (app/services/money/cash.py), with or without a document to settle.

A payment made from a payment request (`payment_request`, app/documents/payment_request.py) needs that
request approved (submitted), of the same supplier and not yet paid; posting marks it paid with this
payment's number, cancelling marks it unpaid again.

Money out of an account (a payment, or cancelling a receipt) that leaves it below zero is refused when
`refuse_negative_cash` is on, and posts with a warning naming the account and its balance otherwise.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import DocumentBehaviour
from app.documents.money import overdrawn
from app.errors import CellError, ValidationFailed
from app.i18n import t

SETTLES = {"receipt": "sales_delivery", "payment": "purchase_receipt"}
RETURNS = ("sales_return", "purchase_return")  # documents a line may name that no payment settles
SIDES = {"receipt": "receivable", "payment": "payable"}  # the side of an opening balance a payment settles
OPENING = "opening_balance"
REQUEST = "payment_request"


class Payment(DocumentBehaviour):
    """Receipt or payment; posts no stock, changes what the partner owes."""

    header_when_blank = ("account",)  # a line without an account moves the header's (app/services/money/cash.py)

    def check(self, doc: Any, lines: list[Any]) -> None:
        errors = []
        total = sum((Decimal(line.allocated_amount or 0) for line in lines), Decimal(0))
        if total > Decimal(doc.amount or 0):
            errors.append(CellError("amount", t("over_allocated", total=f"{total:.2f}")))
        wanted = SETTLES.get(doc.direction)
        several_accounts = self.ctx.policy("multi_account_payments")
        for index, line in enumerate(lines):
            elsewhere = line.account_id is not None and line.account_id != doc.account_id
            if elsewhere and not several_accounts:
                errors.append(CellError(f"lines.{index}.account", t("one_account_only")))
            if not line.source_number:
                if not elsewhere:  # neither settles a document nor moves money to another account
                    errors.append(CellError(f"lines.{index}.source_number", t("required")))
                continue
            model = line.source_model or wanted
            open_amount = self._open_amount(doc, model, line.source_number) if model in (wanted, OPENING) else None
            if open_amount is None:
                errors.append(
                    CellError(f"lines.{index}.source_number", self._missing_text(doc, model, line.source_number))
                )
                continue
            open_amount = max(open_amount, Decimal(0))
            if Decimal(line.allocated_amount or 0) > open_amount:
                errors.append(CellError(f"lines.{index}.allocated_amount", t("over_open", open=f"{open_amount:.2f}")))
        if doc.direction == "payment":
            errors += self._overdrawn(doc, lines)
        errors += self._request_errors(doc)
        if errors:
            raise ValidationFailed(errors)

    def _open_amount(self, doc: Any, model: str, number: str) -> Decimal | None:
        """What is open on the document a line settles, for this payment's partner (None: no such document
        of theirs). An opening balance's open amount is that of its lines of the partner on the payment's side."""
        source = self.ctx.submitted_document(model, number)
        if source is None:
            return None
        if model == OPENING:
            return self.ctx.opening_open_amount(source[0], doc.partner_id, SIDES[doc.direction], exclude=doc.id)
        if source[0].partner_id != doc.partner_id:
            return None
        return self.ctx.open_amount(model, source[0], exclude=doc.id)

    def _missing_text(self, doc: Any, model: str, number: str) -> str:
        """Why a line settles nothing: a document of the other side (a receipt of money allocated to a purchase
        receipt) says so, whether the line named its type or only its number; else no such document."""
        wanted = SETTLES.get(doc.direction)
        if model in (wanted, OPENING):
            others = [m for m in (*SETTLES.values(), *RETURNS) if m != wanted]
            model = next((m for m in others if self.ctx.submitted_document(m, number) is not None), model)
        if model in (wanted, OPENING) or doc.direction not in SETTLES:
            return t("source_missing", number=number)
        return t(f"allocation_other_side.{doc.direction}", number=number, found=self.ctx.model_label(model))

    def _request_errors(self, doc: Any) -> list[CellError]:
        """The payment request this payment pays must be approved, the supplier's and unpaid."""
        number = getattr(doc, REQUEST, None)
        if not number:
            return []
        found = self.ctx.submitted_document(REQUEST, number)
        if found is None or found[0].partner_id != doc.partner_id or doc.direction != "payment":
            return [CellError(REQUEST, t("request_not_approved", number=number))]
        if found[0].pay_status == "paid":
            return [CellError(REQUEST, t("request_already_paid", number=number, payment=found[0].payment_number or ""))]
        return []

    def after_post(self, doc: Any, lines: list[Any], moves: dict[Any, Any]) -> None:
        """The request this payment pays is paid now."""
        self._mark_request(doc, "paid", doc.number)

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        """The request this payment paid is unpaid again."""
        self._mark_request(doc, "unpaid", None)

    def _mark_request(self, doc: Any, status: str, payment_number: str | None) -> None:
        number = getattr(doc, REQUEST, None)
        found = self.ctx.submitted_document(REQUEST, number, scoped=False) if number else None
        if found is None or (status == "unpaid" and found[0].payment_number != doc.number):
            return
        found[0].pay_status, found[0].payment_number = status, payment_number

    def check_cancel(self, doc: Any, lines: list[Any]) -> None:
        """Cancelling a receipt takes its money out of the accounts again: the same rule as paying."""
        errors = self._overdrawn(doc, lines) if doc.direction == "receipt" else []
        if errors:
            raise ValidationFailed(errors)

    def _overdrawn(self, doc: Any, lines: list[Any]) -> list[CellError]:
        """The accounts this payment's money leaves that are now below zero: refused (as cell errors) when
        the policy says so, else a warning each."""
        cells = {doc.account_id: "account"}
        for index, line in enumerate(lines):
            if line.account_id is not None:
                cells.setdefault(line.account_id, f"lines.{index}.account")
        return overdrawn(self.ctx, cells)

    def posted_text(self, doc: Any) -> str | None:
        """Money received or paid, and how much."""
        return t(f"outcome_{doc.direction}_posted", amount=f"{Decimal(doc.amount or 0):.2f}")

    def cancelled_text(self, doc: Any) -> str | None:
        """The money no longer counts."""
        return t(f"outcome_{doc.direction}_cancelled", amount=f"{Decimal(doc.amount or 0):.2f}")
