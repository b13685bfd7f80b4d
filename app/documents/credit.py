"""The customer's credit limit (信用额度): what they owe plus what their open orders will add may not pass it.

Both ways a sale adds to that exposure are checked: a sales order adds its total with tax; a delivery
adds its total less what it delivers of an order already counted (a delivery without an order adds all
of it). A document that adds nothing (or a customer without a limit) is never refused. The customer's
row is locked while a limit is checked, so two of their documents posted at once are checked one after
the other and cannot pass the limit together.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import Allocation
from app.documents.context import PostingContext
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.services.stock.units import base_qty


def check_credit(
    ctx: PostingContext, doc: Any, adds: Decimal, exclude_order: int | None = None, owed_already: Decimal = Decimal(0)
) -> None:
    """Refuse a document that adds `adds` to the customer's exposure past their credit limit (on `partner`).

    `exclude_order` is the order being checked (not counted among the open orders); `owed_already` what of
    this document the receivable counts already (a delivery is submitted when it is checked)."""
    if adds <= 0:
        return
    limit = ctx.credit_limit(doc.partner_id)
    if limit is None:
        return
    exposure = ctx.receivable(doc.partner_id) - owed_already + ctx.open_orders(doc.partner_id, exclude=exclude_order)
    if exposure + adds > limit:
        if not ctx.shows("partner", "credit_limit"):  # the limit, what is owed and the sale are sale figures
            raise ValidationFailed([CellError("partner", t("credit_limit_hidden"))])
        money = {"limit": f"{limit:.2f}", "exposure": f"{exposure:.2f}", "amount": f"{adds:.2f}"}
        raise ValidationFailed([CellError("partner", t("credit_limit", **money))])


def on_order_value(allocations: list[Allocation]) -> Decimal:
    """The value with tax that these allocations take off their order lines' open amount (as open orders
    count it: the share of each order line's total with tax)."""
    total = Decimal(0)
    for allocation in allocations:
        line = allocation.order_line
        qty = base_qty(line)
        if qty:
            total += allocation.qty / qty * Decimal(line.amount_with_tax or 0)
    return total
