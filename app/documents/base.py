"""What a document does to stock when it posts; one class per document, found by name."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

IN, OUT = "in", "out"
RESERVE, RELEASE = "reserve", "release"  # sales orders hold stock without moving it


@dataclass(frozen=True)
class Effect:
    """One stock movement a document line causes.

    `unit_cost` None on an inbound leg means "at the current average cost" (returns, gains);
    `cost_from` names an earlier leg of the same line whose cost it takes (the in-leg of a transfer).
    """

    line_index: int
    line_id: int
    item_id: int
    warehouse_id: int
    qty: Decimal
    direction: str
    leg: str
    batch: str = ""
    unit_cost: Decimal | None = None
    cost_from: str | None = None
    count_to: Decimal | None = None  # stocktake: post whatever difference brings the book to this count


class DocumentBehaviour:
    """Default behaviour: no stock effect (orders, requests, payments only change status).

    `ctx` is the posting service, for the few look-ups a document needs (its source order, the
    customer's receivable, a policy switch)."""

    def __init__(self, ctx: Any = None) -> None:
        self.ctx = ctx

    def check(self, doc: Any, lines: list[Any]) -> None:
        """Raise ValidationFailed when the document may not post (e.g. over the credit limit)."""

    def cancel_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        """Effects to apply after the reversing entries when the document is cancelled."""
        return []

    def after_cancel(self, doc: Any, lines: list[Any]) -> None:
        """Undo what after_post recorded elsewhere (e.g. delivered quantities on an order)."""

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        """The movements this document posts, in line order."""
        return []

    def after_post(self, doc: Any, lines: list[Any], costs: dict[tuple[int, str], Decimal]) -> None:
        """Record what posting learned on the lines: costs[(line_id, leg)] is the unit cost of each leg,
        costs[(line_id, "book")] the book quantity a count was compared with."""


def line_effect(
    index: int,
    line: Any,
    warehouse_id: int,
    direction: str,
    leg: str,
    *,
    qty: Decimal | None = None,
    unit_cost: Decimal | None = None,
    cost_from: str | None = None,
    count_to: Decimal | None = None,
) -> Effect:
    """An Effect for a line with the usual item / qty / batch columns."""
    return Effect(
        line_index=index,
        line_id=line.id,
        item_id=line.item_id,
        warehouse_id=warehouse_id,
        qty=Decimal(qty if qty is not None else line.qty),
        direction=direction,
        leg=leg,
        batch=getattr(line, "batch", None) or "",
        unit_cost=unit_cost,
        cost_from=cost_from,
        count_to=count_to,
    )


def behaviour_for(model_key: str, ctx: Any = None) -> DocumentBehaviour:
    """app/documents/<model>.py's CamelCase class, or the default behaviour."""
    class_name = "".join(part.capitalize() for part in model_key.split("_"))
    try:
        module = importlib.import_module(f"app.documents.{model_key}")
    except ModuleNotFoundError:
        return DocumentBehaviour(ctx)
    return getattr(module, class_name)(ctx)
