"""What a document does to stock when it posts; one class per document, found by name."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.documents.context import PostingContext
from app.documents.tracking import check_lines
from app.documents.units import check_units
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.ledger.effects import Effect
from app.ledger.serials import parse as parse_serials
from app.ledger.valuation import Move
from app.services.money.prices import fill_tax_rates, line_defaults
from app.services.stock.units import base_qty, take_unit_ratios


class DocumentBehaviour:
    """Default behaviour: no stock effect (orders, requests, payments only change status).

    `ctx` is the posting that runs it (app/documents/context.py), for the few look-ups a document needs
    (its source order, the customer's receivable, a policy switch); None when only lines are prepared."""

    source_model: str | None = None  # the order a document may name in source_number
    done_field = ""  # the order line's quantity this document fills (received_qty, delivered_qty)
    over_order_message = "over_order"  # the catalogue key of "more than the order still has open"
    moves_stock = False  # its lines move stock: batch / serial rules apply (app/documents/tracking.py)
    qty_field = "qty"  # the line quantity the serials count (a stocktake's counted_qty)

    def __init__(self, ctx: PostingContext | None = None) -> None:
        self._ctx = ctx

    @property
    def ctx(self) -> PostingContext:
        """The posting running this behaviour (only while checking, posting or cancelling)."""
        if self._ctx is None:
            raise RuntimeError("this behaviour was made without a posting context")
        return self._ctx

    def validate(self, doc: Any, lines: list[Any]) -> None:
        """Everything that must hold before the document posts: each line's unit, then the document's checks."""
        check_units(self.ctx, lines)
        self.check(doc, lines)

    def source(self, doc: Any) -> tuple[Any, list[Any]]:
        """The submitted order named by source_number, with its lines; (None, []) when none is named."""
        number = getattr(doc, "source_number", None)
        if not number or self.source_model is None:
            return None, []
        found = self.ctx.submitted_document(self.source_model, number)
        if found is None:
            raise ValidationFailed([CellError("source_number", t("source_missing", number=number))])
        return found

    def refuse_over_order(self, order: Any, over: list[int]) -> None:
        """Lines beyond the order's open quantity are refused unless the policy allows them."""
        if over and not self.ctx.policy("allow_over_order_qty"):
            message = t(self.over_order_message, number=order.number)
            raise ValidationFailed([CellError(f"lines.{i}.qty", message) for i in over])

    def check(self, doc: Any, lines: list[Any]) -> None:
        """Raise ValidationFailed when the document may not post (e.g. over the credit limit).

        For stock documents: the batch and serial rules of their lines (an override calls super)."""
        if self.moves_stock:
            check_lines(self.ctx, lines, self.qty_field)

    def new_line_values(self, session: Any, registry: Any, model: Any, doc: Any, values: dict[str, Any]) -> None:
        """Defaults for a line being added: unit from the item, price from the partner's last price."""

        line_defaults(session, registry, model, doc, values)

    def prepare_lines(
        self, session: Any, registry: Any, doc: Any, line_model: Any, lines: list[Any], row_ref: Any
    ) -> list[Any]:
        """Every line as the document is saved, new or changed: a blank tax rate takes the item's, and
        each line takes its unit's ratio (a unit the item has none for is a cell error, returned)."""

        if line_model.field("tax_rate") is not None:
            fill_tax_rates(session, registry, lines)
        if line_model.field("unit_ratio") is not None:
            return take_unit_ratios(session, registry, lines, row_ref)
        return []

    def extra_approvals(self, doc: Any, lines: list[Any]) -> tuple[Any, ...]:
        """Approval levels the document needs beyond approvals.yaml (e.g. over budget)."""
        return ()

    def check_cancel(self, doc: Any, lines: list[Any]) -> None:
        """Raise ValidationFailed when the document may not be cancelled (its status has already moved)."""

    def posted_text(self, doc: Any) -> str | None:
        """What posting did, when the document says it better than its stock effects (a payment)."""
        return None

    def cancelled_text(self, doc: Any) -> str | None:
        """What cancelling did, when the document says it better than its stock effects (a payment)."""
        return None

    def cancel_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        """Effects to apply after the reversing entries when the document is cancelled."""
        return []

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        """Undo what after_post recorded elsewhere (e.g. delivered quantities on an order)."""

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        """The movements this document posts, in line order."""
        return []

    def after_post(self, doc: Any, lines: list[Any], moves: dict[tuple[int, str], Move]) -> None:
        """Record what posting learned on the lines: moves[(line_id, leg)] is what each leg posted (its
        unit cost and its exact value)."""


def line_effect(
    index: int,
    line: Any,
    warehouse_id: int,
    direction: str,
    leg: str,
    *,
    qty: Decimal | None = None,
    unit_cost: Decimal | None = None,
    value: Decimal | None = None,
    cost_from: str | None = None,
    serials: tuple[str, ...] | None = None,
) -> Effect:
    """An Effect for a line with the usual item / qty / batch / serials columns."""
    return Effect(
        line_index=index,
        line_id=line.id,
        item_id=line.item_id,
        warehouse_id=warehouse_id,
        qty=Decimal(qty) if qty is not None else base_qty(line),
        direction=direction,
        leg=leg,
        batch=(getattr(line, "batch", None) or "").strip(),
        unit_cost=unit_cost,
        value=value,
        cost_from=cost_from,
        serials=tuple(parse_serials(getattr(line, "serials", None))) if serials is None else serials,
    )


@dataclass(frozen=True)
class Allocation:
    """How much of one line of this document fills one line of its source order."""

    index: int
    order_line: Any
    qty: Decimal


def _spread(lines: list[Any], order_lines: list[Any], room: dict[int, Decimal]) -> tuple[list[Allocation], list[int]]:
    """Spread each line's qty over the order lines of the same item that still have `room`, in order.

    Returns the allocations and the indexes of lines that did not fit."""
    allocations, left_over = [], []
    for index, line in enumerate(lines):
        wanted = base_qty(line)
        for order_line in order_lines:
            if order_line.item_id != line.item_id or room[order_line.id] <= 0 or wanted <= 0:
                continue
            take = min(wanted, room[order_line.id])
            room[order_line.id] -= take
            wanted -= take
            allocations.append(Allocation(index, order_line, take))
        if wanted > 0:
            left_over.append(index)
    return allocations, left_over


def allocate(lines: list[Any], order_lines: list[Any], done_field: str) -> tuple[list[Allocation], list[int]]:
    """Fill the order's open quantities (qty - done_field); also the lines that asked for more than was open."""
    return _spread(
        lines, order_lines, {ol.id: base_qty(ol) - Decimal(getattr(ol, done_field) or 0) for ol in order_lines}
    )


def give_back(lines: list[Any], order_lines: list[Any], done_field: str) -> list[Allocation]:
    """What cancelling this document takes back from the order's done quantities."""
    return _spread(lines, order_lines, {ol.id: Decimal(getattr(ol, done_field) or 0) for ol in order_lines})[0]


def add_done(allocations: list[Allocation], done_field: str, sign: int = 1) -> None:
    """Count allocations on the order lines (sign -1 to take them back)."""
    for allocation in allocations:
        current = Decimal(getattr(allocation.order_line, done_field) or 0)
        setattr(allocation.order_line, done_field, current + sign * allocation.qty)
