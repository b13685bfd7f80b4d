"""付款申请: asking finance to pay a supplier for submitted receipts. Raised from receipts (下推 / 选单,
app/documents/flow.py), approved through approvals.yaml, then paid by a payment made from it (the
payment's `payment_request`; app/documents/payment.py marks the request paid when it posts).

Each line names a submitted receipt of the request's supplier and asks at most what is still unpaid on
it: its open amount (total less returns less payments) less what other live, unpaid requests ask for it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import DocumentBehaviour
from app.errors import CellError, ValidationFailed
from app.i18n import t

RECEIPT = "purchase_receipt"


class PaymentRequest(DocumentBehaviour):
    """A request to pay receipts; posts nothing, holds the receipts' open amounts while unpaid."""

    def check(self, doc: Any, lines: list[Any]) -> None:
        errors = [] if lines else [CellError("lines", t("request_lines_needed"))]
        asked: dict[str, Decimal] = {}
        for index, line in enumerate(lines):
            number = line.source_number or ""
            found = self.ctx.submitted_document(RECEIPT, number) if number else None
            if found is None or found[0].partner_id != doc.partner_id:
                errors.append(CellError(f"lines.{index}.source_number", t("source_missing", number=number)))
                continue
            receipt = found[0]
            line.source_model, line.source_id = RECEIPT, receipt.id
            left = (
                self.ctx.open_amount(RECEIPT, receipt)
                - self.ctx.requested_amount(number, exclude=doc.id)
                - asked.get(number, Decimal(0))
            )
            wanted = Decimal(line.amount or 0)
            if wanted > left:
                errors.append(CellError(f"lines.{index}.amount", t("request_over_open", open=f"{max(left, 0):.2f}")))
            asked[number] = asked.get(number, Decimal(0)) + wanted
        if errors:
            raise ValidationFailed(errors)

    def check_cancel(self, doc: Any, lines: list[Any]) -> None:
        """A paid request stays: cancel its payment first."""
        if doc.pay_status == "paid":
            raise ValidationFailed([CellError("_record", t("request_paid", number=doc.payment_number or ""))])

    def posted_text(self, doc: Any) -> str | None:
        """Approved: finance may pay it now."""
        return t("outcome_request_posted", amount=f"{Decimal(doc.total_amount or 0):.2f}")
