"""Batches in stock and their expiry dates, for suggesting the batch to issue first (FEFO, 先到期先出).

A batch's expiry date is the earliest `expiry_date` of the submitted purchase receipt lines that
brought it in (production date + the item's shelf life, set when the receipt posts); batches without
one come after those with one, then by batch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.meta.status import Status
from app.meta.types import format_decimal
from app.services.stock.writer import carried


@dataclass(frozen=True)
class BatchStock:
    """A batch of an item on hand in a warehouse."""

    batch: str
    qty: Decimal
    expiry_date: dt.date | None

    def as_json(self) -> dict[str, Any]:
        """API shape: exact decimals as strings, dates in ISO format."""
        return {
            "batch": self.batch,
            "qty": format_decimal(self.qty, 0),
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
        }


def expiry_date(production_date: dt.date | None, shelf_life_days: int | None) -> dt.date | None:
    """Production date plus shelf life (None unless both are known)."""
    if production_date is None or shelf_life_days is None:
        return None
    return production_date + dt.timedelta(days=int(shelf_life_days))


def batches_in_stock(
    session: Session, registry: Any, item_id: int, warehouse_id: int, scope: Any = None
) -> list[BatchStock]:
    """The item's batches with stock in the warehouse, the one that expires first first (FEFO).

    In an import's check on PostgreSQL, stock as the check's postings so far left it (`carried`): they leave the
    balance rows as they are, and the import's next document is given the batch its earlier ones left in stock."""
    balance = registry.cls("stock_balance")
    receipt = registry.model("purchase_receipt")
    doc, line = registry.cls(receipt.key), registry.cls(receipt.lines_model)
    expiries = (
        select(line.batch.label("batch"), func.min(line.expiry_date).label("expiry_date"))
        .join(doc, doc.id == line.parent_id)
        .where(line.item_id == item_id, doc.status == Status.SUBMITTED, line.expiry_date.is_not(None))
        .group_by(line.batch)
        .subquery()
    )
    carry = carried(session)
    held = carry.stocks_of([(item_id, warehouse_id)]) if carry is not None else {}
    query = (
        select(balance.batch, balance.qty, expiries.c.expiry_date)
        .outerjoin(expiries, expiries.c.batch == balance.batch)
        .where(balance.item_id == item_id, balance.warehouse_id == warehouse_id, balance.batch != "")
    )
    if not held:
        query = query.where(balance.qty > 0)
    if scope is not None:
        query = query.where(scope)
    found = {r.batch: BatchStock(r.batch, r.qty, r.expiry_date) for r in session.execute(query)}
    if held:  # a batch the check began has no row; none is suggested: a file of issues brings no stock in
        found = {batch: replace(b, qty=held.get((item_id, warehouse_id, batch), b.qty)) for batch, b in found.items()}
    rows = [stock for stock in found.values() if stock.qty > 0]
    return sorted(rows, key=lambda b: (b.expiry_date is None, b.expiry_date or dt.date.min, b.batch))


def suggest_batch(session: Session, registry: Any, values: dict[str, Any], warehouse_id: int | None) -> None:
    """A new line of an item that tracks batches, without a batch: the batch that expires first."""
    item_id = values.get("item")
    if item_id is None or warehouse_id is None or (values.get("batch") or "").strip():
        return
    item = registry.cls("item")
    if not session.execute(select(item.track_batch).where(item.id == item_id)).scalar():
        return
    found = batches_in_stock(session, registry, item_id, warehouse_id)
    if found:
        values["batch"] = found[0].batch
