"""Prices: each partner's last price and line defaults (unit, price)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.ledger.compute import HUNDRED, price_before_tax
from app.meta.registry import Registry
from app.meta.spec import ModelSpec
from app.meta.status import Status
from app.services.access.rights import Access
from app.services.records.bulk import among
from app.services.records.resolver import Resolver
from app.services.records.serialize import value_to_json
from app.services.records.settings import policy
from app.services.stock.bulk import chunked
from app.services.stock.units import ONE, packaging, unit_ratios

SIDES = {
    "sales": ("sales_delivery", "sales_order"),
    "purchase": ("purchase_receipt", "purchase_order"),
}

PRICE_PLACES = Decimal("0.0001")  # line prices keep 4 places


def side_of(model_key: str) -> str | None:
    """'sales' or 'purchase' for documents priced against a partner, else None."""
    if model_key.startswith("sales_"):
        return "sales"
    if model_key.startswith("purchase_"):
        return "purchase"
    return None


@dataclass(frozen=True)
class AgreedPrice:
    """A price agreed on a document, with the basis it was agreed on (tax included or not, at what rate)."""

    price: Decimal
    includes_tax: bool
    tax_rate: Decimal

    def on_basis(self, includes_tax: bool, tax_rate: Decimal) -> Decimal:
        """The same price on another document's basis: 113 with 13% included is 100 before tax."""
        if includes_tax == self.includes_tax:
            return self.price
        net = price_before_tax(self.price, self.tax_rate, self.includes_tax)
        return net * (HUNDRED + tax_rate) / HUNDRED if includes_tax else net


def last_price(
    session: Session,
    registry: Registry,
    side: str,
    partner_id: int,
    item_id: int,
    unit_id: int | None = None,
    access: Access | None = None,
) -> Decimal | None:
    """The most recent price agreed with this partner for this item in this unit, as it was written."""
    agreed = last_agreed(session, registry, side, partner_id, item_id, unit_id, access)
    return agreed.price if agreed is not None else None


PRICE_USES = (("partner", "date", "prices_include_tax"), ("item", "unit", "price", "tax_rate"))  # header, lines


def may_read_side_prices(access: Access, side: str) -> bool:
    """May the reader read the side's orders and deliveries / receipts with their line prices?"""
    header, lines = PRICE_USES
    return all(access.may_use(m, *header) and access.may_use(f"{m}_line", *lines) for m in SIDES[side])


def require_side_prices(access: Access, side: str) -> None:
    """Forbidden unless `may_read_side_prices`."""
    header, lines = PRICE_USES
    for model_key in SIDES[side]:
        access.require_use(model_key, *header)
        access.require_use(f"{model_key}_line", *lines)


def last_agreed(
    session: Session,
    registry: Registry,
    side: str,
    partner_id: int,
    item_id: int,
    unit_id: int | None = None,
    access: Access | None = None,
) -> AgreedPrice | None:
    """The most recent price on a submitted order or delivery/receipt with this partner for this item
    in this unit (None: the item's base unit, which a blank line unit also means), with its basis.

    Most recent: the latest document date; on the same date the document written last (its creation
    time: ids of two tables say nothing about which came first); on the same instant the delivery or
    receipt before the order; within one document its last such line.
    For a reader (`access`), only among the documents they may read, and only if they may see prices."""
    if access is not None:
        require_side_prices(access, side)
    item = session.get(registry.cls("item"), item_id)
    base_unit = getattr(item, "unit_id", None)
    unit_id = unit_id if unit_id is not None else base_unit
    best: tuple[Any, AgreedPrice] | None = None
    for rank, model_key in enumerate(reversed(SIDES[side])):
        doc, line = registry.cls(model_key), registry.cls(f"{model_key}_line")
        stmt = (
            select(doc.date, doc.created_at, line.price, doc.prices_include_tax, line.tax_rate)
            .join(doc, doc.id == line.parent_id)
            .where(
                doc.partner_id == partner_id,
                line.item_id == item_id,
                or_(line.unit_id == unit_id, line.unit_id.is_(None))
                if unit_id == base_unit
                else line.unit_id == unit_id,
                doc.status == Status.SUBMITTED,
                line.price.isnot(None),
            )
            .order_by(doc.date.desc(), doc.created_at.desc(), doc.id.desc(), line.line_no.desc(), line.id.desc())
            .limit(1)
        )
        scope = access.scope(registry.model(model_key)) if access is not None else None
        row = session.execute(stmt if scope is None else stmt.where(scope)).first()
        if row is None:
            continue
        when = (row.date, row.created_at or dt.datetime.min, rank)
        if best is None or when > best[0]:
            best = (when, AgreedPrice(Decimal(row.price), bool(row.prices_include_tax), Decimal(row.tax_rate or 0)))
    return None if best is None else best[1]


def line_defaults(
    session: Session,
    registry: Registry,
    model: ModelSpec,
    doc: Any,
    values: dict[str, Any],
    access: Access | None = None,
) -> None:
    """Fill an empty unit and tax rate from the item and an empty price from the price list, the
    partner's last price or the item, in the line's unit (a base-unit price times the unit's ratio).
    Shown to a reader (`access`), the last price is looked for only among the documents they may read."""
    line_model = registry.model(model.lines_model or "")
    item_id = values.get("item")
    if item_id is None:
        return
    item = session.get(registry.cls("item"), item_id)
    if item is None:
        return
    for name, default in (("unit", item.unit_id), ("tax_rate", getattr(item, "tax_rate", None))):
        if line_model.field(name) is not None and values.get(name) is None:
            values[name] = default
    unit_id = values.get("unit")
    side = side_of(model.key)
    wants_price = side is not None and line_model.field("price") is not None and values.get("price") is None
    if line_model.field("unit_ratio") is None and not wants_price:
        return  # nothing below needs the unit's ratio (a stocktake line): no query for it
    ratio = unit_ratios(session, registry, {(item_id, unit_id)}).get((item_id, unit_id), ONE) if unit_id else ONE
    if line_model.field("unit_ratio") is not None:
        values["unit_ratio"] = ratio  # shown while the line is edited; saving takes it again
    if not wants_price:
        return
    partner_id = getattr(doc, "partner_id", None)
    partner = session.get(registry.cls("partner"), partner_id) if partner_id is not None else None
    day = getattr(doc, "date", None) or dt.date.today()
    own_list = "customer" if side == "sales" else "supplier"
    # an agreed price for this partner, then the last price agreed, then the partner's price list, then the item
    price = list_price(session, registry, item_id, own_list, partner_id, day, unit_id, ratio)
    readable = access is None or may_read_side_prices(access, side)
    if price is None and partner_id is not None and readable and policy(session, registry, "remember_last_price"):
        agreed = last_agreed(session, registry, side, partner_id, item_id, unit_id, access)
        includes_tax = bool(getattr(doc, "prices_include_tax", False))
        price = agreed.on_basis(includes_tax, Decimal(values.get("tax_rate") or 0)) if agreed is not None else None
    default_list = getattr(partner, "price_list", None)
    if price is None and default_list in ("retail", "wholesale"):
        price = list_price(session, registry, item_id, default_list, None, day, unit_id, ratio)
    if price is None:
        base_price = item.sale_price if side == "sales" else item.purchase_price
        price = None if base_price is None else Decimal(base_price) * ratio
    if price is not None:
        values["price"] = Decimal(price).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)


def line_defaults_many(
    session: Session, registry: Registry, model: ModelSpec, doc: Any, values_list: list[dict[str, Any]]
) -> None:
    """`line_defaults` for many new lines at once (a chunk of `update_lines`), with the same outcome line by line.
    Lines that take no price and no unit ratio (a stocktake's) take their unit and tax rate from their item read
    as columns, one query per 5,000 items; the others go through `line_defaults` line by line."""
    line_model = registry.model(model.lines_model or "")
    if line_model.field("unit_ratio") is not None or (
        side_of(model.key) is not None and line_model.field("price") is not None
    ):
        for values in values_list:  # a unit ratio or a price: looked up line by line
            line_defaults(session, registry, model, doc, values)
        return
    item = registry.cls("item")
    wanted = [name for name in ("unit", "tax_rate") if line_model.field(name) is not None]
    columns = [item.id, item.unit_id, getattr(item, "tax_rate", None)]
    read = [column for column in columns if column is not None]
    found_items: dict[int, tuple[Any, Any]] = {}
    ids = sorted({pk for values in values_list if (pk := values.get("item")) is not None})
    for part in chunked(ids):
        for row in session.execute(select(*read).where(among(session, item.id, list(part)))):
            found_items[row[0]] = (row[1], row[2] if len(row) > 2 else None)
    for values in values_list:
        defaults = found_items.get(values.get("item"))
        if defaults is None:
            continue  # no item, or none by that id: nothing to take (as line_defaults)
        for name in wanted:
            if values.get(name) is None:
                values[name] = defaults[0] if name == "unit" else defaults[1]


def fill_tax_rates(session: Session, registry: Registry, lines: list[Any]) -> None:
    """A line whose tax rate is blank takes its item's (one query for all of them)."""
    blank = [line for line in lines if line.tax_rate is None and line.item_id is not None]
    if not blank:
        return
    item = registry.cls("item")
    rates = dict(session.execute(select(item.id, item.tax_rate).where(item.id.in_({ln.item_id for ln in blank}))).all())
    for line in blank:
        line.tax_rate = rates.get(line.item_id)


def list_price(
    session: Session,
    registry: Registry,
    item_id: int,
    price_list: str,
    partner_id: int | None,
    day: dt.date,
    unit_id: int | None,
    ratio: Decimal = ONE,
) -> Decimal | None:
    """The item's price in the line's unit on a price list (价格表) valid on `day`, for the partner
    (customer / supplier prices) or for everyone: a price for the line's unit beats one for the base
    unit (times the unit's `ratio`), the latest start wins."""
    if price_list in ("customer", "supplier") and partner_id is None:
        return None
    cls = registry.cls("item_price")
    item = session.get(registry.cls("item"), item_id)
    base_unit = getattr(item, "unit_id", None)
    stmt = select(cls.price, cls.unit_id).where(
        cls.item_id == item_id,
        cls.price_list == price_list,
        cls.partner_id == partner_id if partner_id is not None else cls.partner_id.is_(None),
        or_(cls.valid_from.is_(None), cls.valid_from <= day),
        or_(cls.valid_to.is_(None), cls.valid_to >= day),
        or_(cls.unit_id.is_(None), cls.unit_id.in_({unit_id, base_unit} - {None})),
    )
    rows = session.execute(stmt.order_by(cls.valid_from.desc().nulls_last(), cls.id.desc())).all()
    exact = [r.price for r in rows if unit_id is not None and r.unit_id == unit_id]
    in_base_unit = [r.price * ratio for r in rows if r.unit_id is None or r.unit_id == base_unit]
    return (exact or in_base_unit or [None])[0]


def suggested_line(
    session: Session,
    access: Access,
    model: ModelSpec,
    item_raw: Any,
    partner_raw: Any,
    unit_raw: Any = None,
    includes_tax: bool = False,
) -> dict[str, Any]:
    """What a new line of `model` gets for an item typed or scanned in a form (a case barcode gives its
    item in that unit): its unit, tax rate and price, each only if the user may see that line field."""
    resolver = Resolver(session, access)
    item_id = resolver.resolve("item", item_raw) if item_raw not in (None, "") else None
    unit_id = resolver.resolve("unit", unit_raw) if unit_raw not in (None, "") else None
    if item_id is None and item_raw not in (None, ""):
        item_id, unit_id = packaging(session, access.registry, str(item_raw).strip()) or (None, None)
    if item_id is None or not model.lines_model:
        return {"item": None}
    partner_id = resolver.resolve("partner", partner_raw) if partner_raw not in (None, "") else None
    values: dict[str, Any] = {"item": item_id, "unit": unit_id}
    doc = SimpleNamespace(partner_id=partner_id, prices_include_tax=includes_tax)
    line_defaults(session, access.registry, model, doc, values, access)
    line_model = access.registry.model(model.lines_model)
    out: dict[str, Any] = {}
    for name, value in values.items():
        spec = line_model.field(name)
        if spec is not None and access.can_see(line_model, spec):
            out[name] = value_to_json(session, access, spec, value)
    return out
