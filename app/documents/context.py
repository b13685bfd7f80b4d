"""What a document behaviour may ask of the posting that runs it: look-ups in the posting's transaction.

The posting service (app/services/posting/service.py) is the one implementation; behaviours see only
this protocol, so what they depend on is written down here and checked by mypy.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any, Protocol

from app.services.stock.serials import Tracking


class PostingContext(Protocol):
    """Look-ups a document behaviour makes while it is checked, posted or cancelled."""

    def row(self, model_key: str, pk: int | None) -> Any:
        """A row by id (None for None)."""

    def submitted_document(self, model_key: str, number: str, scoped: bool = True) -> tuple[Any, list[Any]] | None:
        """A submitted document by number with its lines, locked for update; None if there is none (or,
        when `scoped`, the user may not read it)."""

    def source_lines(
        self, model_key: str, line_ids: Collection[int], scoped: bool = True
    ) -> dict[int, tuple[Any, Any]]:
        """Lines of submitted documents by id with their document, the documents locked in id order; when
        `scoped`, only those of documents the user may read."""

    def returned_serials(self, model_key: str, source: Any, exclude: int) -> dict[int, set[str]]:
        """Serials per item that submitted `model_key` returns (but `exclude`) took back from `source`."""

    def open_amount(self, model_key: str, doc: Any, exclude: int | None = None) -> Decimal:
        """What is still owed on a delivery or receipt: its total less the returns naming it, less what
        submitted payments (but `exclude`) allocated to it."""

    def opening_open_amount(self, doc: Any, partner_id: int, side: str, exclude: int | None = None) -> Decimal | None:
        """What is still owed on an opening balance's lines of one partner and side (receivable / payable):
        their amounts less what submitted payments (but `exclude`) allocated to it; None when it has none."""

    def first_business_date(self) -> Any:
        """The date of the earliest business document that posted (None when there is none)."""

    def requested_amount(self, number: str, exclude: int | None = None) -> Decimal:
        """What live (pending or submitted), unpaid payment requests (but `exclude`) ask for one receipt."""

    def credit_limit(self, partner_id: int) -> Decimal | None:
        """The customer's credit limit (None: no limit), their row locked when they have one."""

    def receivable(self, partner_id: int) -> Decimal:
        """What the customer owes now."""

    def open_orders(self, partner_id: int, exclude: int | None = None) -> Decimal:
        """What the customer's submitted orders (but `exclude`) still have to deliver."""

    def shows(self, model_key: str, *fields: str) -> bool:
        """May the user see these fields of the model (masks, kinds of figure)? A message that would quote
        their values (a credit limit, a budget) says less to a user who may not."""

    def unseen_inputs(self, model_key: str) -> dict[str, str]:
        """The fields of the document's lines a person enters that carry a figure the user may not see, with their
        labels (a warehouse keeper's receipt line price; none for a document without lines)."""

    def model_label(self, model_key: str) -> str:
        """The model's name as people read it (采购订单)."""

    def policy(self, key: str) -> Any:
        """A policy switch in force."""

    def warn(self, key: str, **params: Any) -> None:
        """A message for the user that does not stop the posting."""

    def tracking(self, item_ids: Collection[int]) -> dict[int, Tracking]:
        """The batch / serial flags and base unit of these items."""

    def stock_on_hand(self, warehouse_id: int, category_id: int | None) -> list[tuple[int, str, Decimal]]:
        """(item, batch, qty) of every stock not at zero in the warehouse (items of the category, when given)."""
        ...

    def add_lines(self, doc: Any, model_key: str, rows: list[dict[str, Any]]) -> None:
        """New lines of `doc` with these column values after its last, flushed."""
        ...

    def line_slots(self, doc: Any, model_key: str) -> list[tuple[int, int, str, Decimal | None]]:
        """(line id, item, batch stripped, qty counted) of each line of a stocktake, in line order."""
        ...

    def serials_in_stock(self, item_id: int, warehouse_id: int, batch: str, at: Any = None) -> set[str]:
        """The item's serials in stock in this warehouse and batch as of `at` (now when None)."""

    def account_balances(self, account_ids: Collection[int]) -> dict[int, tuple[str, Decimal]]:
        """Code and balance now (this posting included) of these cash / bank accounts, locked for update."""

    def budget_usage(self, doc: Any, lines: list[Any]) -> dict[str, tuple[Decimal, Decimal]]:
        """Per budgeted category of this order's items: (budget, spent this month including this order)."""

    def refresh_budgets(self, doc: Any) -> None:
        """Write what the order's month budgets show spent (and remaining) as its orders stand now."""
