"""Rules on changing an item: batch and serial tracking switch only while none of it is on hand; the
base unit changes only while nothing was ever counted in it; moved to another category, what its purchase
orders spend moves between that category's budgets (their 已用 / 剩余).

Stock already on hand carries no batches or serials: switched on, its serials would not match its
balance (the ledger check, app/ledger/checks.py, reports it) and its batch-less stock could not be
issued by batch. Switched off, the stock would stay in its batches where batch-less lines and orders do
not see it, or its serials would stay in jxc_serial with nothing keeping them in step with the balance.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import CellError
from app.i18n import label, t
from app.meta.types import plain_decimal
from app.services.money.budgets import refresh_usage

TRACKING = ("track_batch", "track_serial")


def after_update(service: Any, row: Any, before: dict[str, Any], after: Any) -> None:
    """An item moved to another category: the spent of the budgets of both categories again (its orders count
    under the new one), once for a whole batch (a grid save or an import moving many items)."""
    if before.get("category") != after.get("category"):
        moved = {int(c) for c in (before.get("category"), after.get("category")) if c is not None}
        service.once_written(
            "budgets", moved, lambda touched: refresh_usage(service.session, service.registry, categories=touched)
        )


def check_change(session: Session, registry: Any, row: Any, values: dict[str, Any]) -> list[CellError]:
    """Refuse switching a tracking flag of an item with stock on hand, or its base unit once counted."""
    if row is None:
        return []  # a new item has no stock
    return _unit_change(session, registry, row, values) + _tracking_switch(session, registry, row, values)


def check_creates(session: Session, registry: Any, values_list: list[dict[str, Any]]) -> list[list[CellError]]:
    """New items, many at once (imports): nothing to refuse, a new item has no stock and was never counted."""
    return [[] for _ in values_list]


def _unit_change(session: Session, registry: Any, row: Any, values: dict[str, Any]) -> list[CellError]:
    """The ledger, document lines and extra units all count the item in its base unit: 48 bottles must
    not become 48 cases."""
    if "unit" not in values or values["unit"] == row.unit_id:
        return []
    item = registry.cls("item")
    session.execute(select(item.id).where(item.id == row.id).with_for_update())  # postings read it KEY SHARE
    counted_in = [registry.cls("stock_move"), registry.cls("item_unit")] + [
        registry.cls(m.key)
        for m in registry.meta.models.values()
        if m.is_line and (spec := m.field("item")) is not None and spec.to == "item"
    ]
    for cls in counted_in:  # the ledger, extra units, any document line (drafts count as typed)
        if session.execute(select(cls.id).where(cls.item_id == row.id).limit(1)).first():
            return [CellError("unit", t("base_unit_in_use"))]
    return []


def _tracking_switch(session: Session, registry: Any, row: Any, values: dict[str, Any]) -> list[CellError]:
    model = registry.model("item")
    switched = [
        spec
        for spec in map(model.field, TRACKING)
        if spec is not None and spec.name in values and bool(values[spec.name]) != bool(getattr(row, spec.column))
    ]
    if not switched:
        return []
    # a posting reads the flags FOR SHARE: wait for it, then see the stock it brought in
    item = registry.cls("item")
    session.execute(select(item.id).where(item.id == row.id).with_for_update())
    on_hand = stock_on_hand(session, registry, row.id)
    if not on_hand:
        return []
    qty = plain_decimal(sum(on_hand.values(), Decimal(0)))
    warehouses = ", ".join(sorted(on_hand))
    return [
        CellError(
            spec.name,
            t(
                "tracking_on_with_stock" if values[spec.name] else "tracking_off_with_stock",
                field=label(spec.label, spec.name),
                qty=qty,
                warehouses=warehouses,
            ),
        )
        for spec in switched
    ]


def stock_on_hand(session: Session, registry: Any, item_id: int) -> dict[str, Decimal]:
    """The item's quantity on hand per warehouse code, where any of its balances is not zero."""
    balance, warehouse = registry.cls("stock_balance"), registry.cls("warehouse")
    rows = session.execute(
        select(warehouse.code, balance.qty)
        .join(warehouse, warehouse.id == balance.warehouse_id)
        .where(balance.item_id == item_id, balance.qty != 0)
    )
    found: dict[str, Decimal] = {}
    for code, qty in rows:
        found[code] = found.get(code, Decimal(0)) + Decimal(qty)
    return found
