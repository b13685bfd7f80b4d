"""Rules on price-list rows (价格表): one price at a time for an item, unit, list and partner, history kept.

A new open-ended price for the same item, unit, price list and partner closes the one in force before it:
that row's `valid_to` becomes the day before the new `valid_from` (it stays, as history); without a start
date the new price starts today when the list already has prices for it. A new price that starts on or
before one already on the list is back-dated, and one that starts inside an earlier price's closed range
overlaps it: both are refused on `valid_from`, naming the rows. A closed range (history typed later) and a
changed row may go between the others but not overlap any. A customer price names a customer, a supplier price
a supplier (or a partner that is both), a retail or wholesale price no partner: refused on `partner`.
RecordService calls these for forms, the REST API, grid batches and imports alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import business_today
from app.errors import CellError
from app.i18n import label, t

KEY = ("item", "unit", "price_list", "partner")
DATES = ("valid_from", "valid_to")
COLUMNS = {"item": "item_id", "unit": "unit_id", "partner": "partner_id"}
# the partners a price list names: its own kind first, or one that is both (retail and wholesale name none)
PARTNER_KINDS = {"customer": ("customer", "both"), "supplier": ("supplier", "both")}


def check_change(session: Session, registry: Any, row: Any, values: dict[str, Any]) -> list[CellError]:
    """Refuse a back-dated or overlapping price. A new open-ended price may close the open price before
    it; without a start date it starts today when the list already has prices for it (留空表示立即生效)."""
    if row is not None and not set(values) & {*KEY, *DATES}:
        return []  # a new price on the same row: its dates and key stand
    wanted = {name: values[name] if name in values else _stored(row, name) for name in (*KEY, *DATES)}
    if wanted["item"] is None or wanted["price_list"] is None:
        return []  # required: reported by the write service
    wrong_partner = _partner_problem(session, registry, wanted["price_list"], wanted["partner"])
    if wrong_partner:
        return [CellError("partner", wrong_partner)]
    others = same_key(session, registry, wanted, exclude=getattr(row, "id", None))
    start, end = wanted["valid_from"], wanted["valid_to"]
    if row is None and others and start is None and end is None:
        start = values["valid_from"] = business_today()
    if start is not None and end is not None and end < start:
        return [CellError("valid_to", t("price_ends_before_start"))]
    if row is None and end is None:  # a new current price: after every other, closing the open one
        later = [o for o in others if start is None or (o.valid_from is not None and o.valid_from >= start)]
        if later:
            return [CellError("valid_from", t("price_backdated", rows=_named(later)))]
        overlapping = [o for o in others if o.valid_to is not None and o.valid_to >= start]
    else:  # a changed row, or a closed range of history: between the others
        overlapping = [o for o in others if _overlap((o.valid_from, o.valid_to), (start, end))]
    if overlapping:
        return [CellError("valid_from", t("price_overlaps", rows=_named(overlapping)))]
    return []


def _partner_problem(session: Session, registry: Any, price_list: str, partner_id: int | None) -> str | None:
    """Why the partner does not fit the price list: a customer price names a customer, a supplier price a
    supplier (or a partner that is both), a retail or wholesale price nobody (客户价填写客户，供应商价填写供应商；
    零售价和批发价留空)."""
    kinds = PARTNER_KINDS.get(price_list)
    list_label = _option_label(registry, "item_price", "price_list", price_list)
    if kinds is None:
        return None if partner_id is None else t("price_partner_not_wanted", list=list_label)
    kind_label = _option_label(registry, "partner", "kind", kinds[0])
    if partner_id is None:
        return t("price_partner_needed", list=list_label, kind=kind_label)
    partner = registry.cls("partner")
    found = session.execute(select(partner.code, partner.kind).where(partner.id == partner_id)).first()
    if found is None or found.kind in kinds:
        return None  # an unknown partner is the link's own error
    return t("price_partner_kind", partner=found.code, list=list_label, kind=kind_label)


def _option_label(registry: Any, model: str, field: str, value: str) -> str:
    spec = registry.model(model).field(field)
    option = next((o for o in spec.options if o.value == value), None)
    return label(option.label, value) if option is not None else value


def after_create(service: Any, row: Any, row_ref: Any) -> None:
    """Close the open price the new one follows: its valid_to becomes the day before the new valid_from
    (through the same write service, audited; an import records it so its undo reopens the price)."""
    if row.valid_from is None or row.valid_to is not None:
        return  # the first price of its key, or a closed range of history
    wanted = {name: _stored(row, name) for name in (*KEY, *DATES)}
    for before in same_key(service.session, service.registry, wanted, exclude=row.id):
        if before.valid_to is None and (before.valid_from is None or before.valid_from < row.valid_from):
            service.follow_update("item_price", before, {"valid_to": row.valid_from - dt.timedelta(days=1)}, row_ref)


def same_key(session: Session, registry: Any, wanted: dict[str, Any], exclude: int | None) -> list[Any]:
    """The other prices of the same item, unit, list and partner (a blank unit or partner matches a blank
    one), oldest first, locked while the change is written."""
    cls = registry.cls("item_price")
    stmt = select(cls)
    for name in KEY:
        column = getattr(cls, COLUMNS.get(name, name))
        stmt = stmt.where(column.is_(None) if wanted[name] is None else column == wanted[name])
    if exclude is not None:
        stmt = stmt.where(cls.id != exclude)
    return list(session.execute(stmt.order_by(cls.valid_from, cls.id).with_for_update()).scalars())


def _stored(row: Any, name: str) -> Any:
    return None if row is None else getattr(row, COLUMNS.get(name, name))


def _overlap(one: tuple[Any, Any], other: tuple[Any, Any]) -> bool:
    """Do two ranges of days (None: open on that side) share a day?"""
    low, high = dt.date.min, dt.date.max
    return (one[0] or low) <= (other[1] or high) and (other[0] or low) <= (one[1] or high)


def _named(rows: list[Any]) -> str:
    """Rows as the user can find them: #id and the days they hold."""
    return "、".join(t("price_row", id=r.id, start=_day(r.valid_from), end=_day(r.valid_to)) for r in rows)


def _day(day: dt.date | None) -> str:
    return day.isoformat() if day is not None else t("price_no_limit")
