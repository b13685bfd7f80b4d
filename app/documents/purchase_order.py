"""采购订单: checked against the month's purchase budget of each item category.

At 80% of a budget the submit answers with a warning; past 100% the order needs the approval of its
`over_budget` level (approvals.yaml names the role: a manager) before it counts as submitted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.documents.base import DocumentBehaviour, add_done
from app.ledger.effects import Effect
from app.ledger.valuation import Move

WARN_SHARE = Decimal("0.8")


class PurchaseOrder(DocumentBehaviour):
    """Order to a supplier; no stock moves until goods are received. Its lines may come from purchase
    request lines (counted as ordered on them when it posts)."""

    source_model = "purchase_request"
    done_field = "ordered_qty"
    adds_levels = ("over_budget",)

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        self._taken = self.take(doc, lines)
        return []

    def after_post(self, doc: Any, lines: list[Any], moves: dict[tuple[int, str], Move]) -> None:
        add_done(self._taken, self.done_field)

    def cancel_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        self._returned = self.give(doc, lines)
        return []

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        add_done(self._returned, self.done_field, sign=-1)

    def after_status(self, doc: Any) -> None:
        """The budget list's 已用 / 剩余 of the order's month, from the figure `levels_added` checks against."""
        self.ctx.refresh_budgets(doc)

    def levels_added(self, doc: Any, lines: list[Any]) -> tuple[str, ...]:
        """`over_budget` (approvals.yaml says who approves it) when the order takes a category past its budget;
        warnings from 80%."""
        usage = self.ctx.budget_usage(doc, lines)
        figures = self.ctx.shows("budget", "amount")  # the budget and what is spent are purchase figures
        over = False
        for category, (budget, spent) in usage.items():
            amounts = {"spent": f"{spent:.2f}", "budget": f"{budget:.2f}"} if figures else {}
            suffix = "" if figures else "_hidden"
            if spent > budget:
                over = True
                self.ctx.warn(f"budget_over{suffix}", category=category, **amounts)
            elif spent >= budget * WARN_SHARE:
                self.ctx.warn(f"budget_near{suffix}", category=category, **amounts)
        return ("over_budget",) if over else ()
