"""Reorder suggestions and stock alerts; one click turns suggestions into draft purchase orders.

projected = on hand + on order (submitted purchase orders not yet received) - reserved.
Below the reorder point -> suggest enough to reach max_stock (or the reorder quantity, at least).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from app.clock import business_today
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.meta.sqltypes import ExactDecimal
from app.meta.status import Status
from app.meta.types import format_decimal
from app.services.access.rights import Access
from app.services.records.write import RecordService

ZERO = Decimal(0)


@dataclass(frozen=True)
class StockPosition:
    """Where an item stands: on hand, on order, reserved, and its thresholds."""

    item_id: int
    sku: str
    name: str
    supplier_id: int | None
    on_hand: Decimal
    on_order: Decimal
    reserved: Decimal
    reorder_point: Decimal | None
    reorder_qty: Decimal | None
    max_stock: Decimal | None
    price: Decimal | None
    abc_class: str | None = None  # A / B / C from the ABC classification job (a sale figure)

    @property
    def projected(self) -> Decimal:
        """What will be free to sell once open purchase orders arrive."""
        return self.on_hand + self.on_order - self.reserved

    @property
    def suggested_qty(self) -> Decimal:
        """How much to order (zero when the item is above its reorder point)."""
        if self.reorder_point is None or self.projected >= self.reorder_point:
            return ZERO
        target = self.max_stock if self.max_stock else self.reorder_point
        return max(target - self.projected, self.reorder_qty or ZERO, ZERO)

    def as_json(self) -> dict[str, Any]:
        """For the API (quantities as exact strings)."""
        return {
            "item": self.sku,
            "name": self.name,
            **{key: _text(getattr(self, key)) for key in QUANTITIES},
        }


QUANTITIES = ("on_hand", "on_order", "reserved", "projected", "reorder_point", "max_stock", "suggested_qty")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value, 0)


@dataclass(frozen=True)
class Filters:
    """What a clerk narrows the suggestions to (ids; None: all): a warehouse (its stock, reservations and the
    open purchase orders into it, against the item's thresholds), the item's default supplier, its category,
    or these SKUs."""

    warehouse: int | None = None
    supplier: int | None = None
    category: int | None = None
    skus: tuple[str, ...] | None = None


ALL = Filters()


@dataclass(frozen=True)
class _Query:
    """Every active item's position as one SELECT, and the conditions that flag an item (exactly those of
    StockPosition: `low` is suggested_qty > 0, `over` on hand above a maximum stock), with the SQL of its
    quantities for totals."""

    rows: Select[Any]
    low: ColumnElement[bool]
    over: ColumnElement[bool]
    figures: dict[str, ColumnElement[Any]]  # on_hand, on_order, reserved, projected, suggested_qty


def _query(session: Session, access: Access, filters: Filters = ALL) -> _Query:
    reg = access.registry
    item, balance = reg.cls("item"), reg.cls("stock_balance")
    order, line = reg.cls("purchase_order"), reg.cls("purchase_order_line")
    thresholds = (item.reorder_point, item.reorder_qty, item.max_stock)
    columns = (balance.qty, balance.reserved_qty, line.base_qty, line.qty, line.received_qty, line.closed_qty)
    scale = max(c.type.scale for c in (*columns, *thresholds))
    at = _at_scale(session, scale)  # SQLite keeps each column as an integer at its own scale
    stock_q = select(
        balance.item_id.label("item_id"),
        func.sum(at(balance.qty)).label("on_hand"),
        func.sum(at(balance.reserved_qty)).label("reserved"),
    ).group_by(balance.item_id)
    scope = access.scope(reg.model("stock_balance"))
    if scope is not None:
        stock_q = stock_q.where(scope)
    if filters.warehouse is not None:
        stock_q = stock_q.where(balance.warehouse_id == filters.warehouse)
    stock = stock_q.subquery()
    still_open = func.coalesce(at(line.base_qty), at(line.qty)) - func.coalesce(at(line.received_qty), 0)
    ordered_q = (
        select(line.item_id.label("item_id"), func.sum(still_open - func.coalesce(at(line.closed_qty), 0)).label("qty"))
        .join(order, order.id == line.parent_id)
        .where(order.status == Status.SUBMITTED)
        .group_by(line.item_id)
    )  # all in base units; an item over-received counts as nothing on order
    if filters.warehouse is not None:
        ordered_q = ordered_q.where(order.warehouse_id == filters.warehouse)
    ordered = ordered_q.subquery()
    on_hand = func.coalesce(stock.c.on_hand, 0)
    on_order = case((ordered.c.qty > 0, ordered.c.qty), else_=0)
    reserved = func.coalesce(stock.c.reserved, 0)
    projected = on_hand + on_order - reserved
    has_max = and_(item.max_stock.isnot(None), item.max_stock != 0)
    target = case((has_max, at(item.max_stock)), else_=at(item.reorder_point))
    low = and_(
        item.reorder_point.isnot(None),
        projected < at(item.reorder_point),
        or_(target > projected, func.coalesce(at(item.reorder_qty), 0) > 0),
    )
    greatest = func.max if session.get_bind().dialect.name == "sqlite" else func.greatest  # SQLite: max(a, b, c)
    suggested = greatest(target - projected, func.coalesce(at(item.reorder_qty), 0), 0)
    exact = ExactDecimal(18, scale)  # the sums come back as raw numbers: read them at the scale they were added at
    rows = (
        select(
            item.id,
            item.sku,
            item.name,
            item.default_supplier_id,
            type_coerce(on_hand, exact),
            type_coerce(on_order, exact),
            type_coerce(reserved, exact),
            *thresholds,
            item.purchase_price,
            item.abc_class,
        )
        .outerjoin(stock, stock.c.item_id == item.id)
        .outerjoin(ordered, ordered.c.item_id == item.id)
        .where(item.active.isnot(False))
    )
    if filters.supplier is not None:
        rows = rows.where(item.default_supplier_id == filters.supplier)
    if filters.category is not None:
        rows = rows.where(item.category_id == filters.category)
    if filters.skus is not None:
        rows = rows.where(item.sku.in_(filters.skus))
    figures = {"on_hand": on_hand, "on_order": on_order, "reserved": reserved, "projected": projected}
    figures = {name: type_coerce(sql, exact) for name, sql in (*figures.items(), ("suggested_qty", suggested))}
    return _Query(rows, low, and_(has_max, on_hand > at(item.max_stock)), figures)


def _at_scale(session: Session, scale: int) -> Any:
    """A column as a number comparable with others at `scale` digits: itself on PostgreSQL (NUMERIC), its
    stored integer times 10^(scale - its own scale) on SQLite (app.meta.sqltypes.ExactDecimal)."""
    if session.get_bind().dialect.name != "sqlite":
        return lambda column: column
    return lambda column: column * 10 ** (scale - column.type.scale) if column.type.scale != scale else column


def positions(
    session: Session,
    access: Access,
    which: str = "any",
    first: int | None = None,
    *,
    filters: Filters = ALL,
    offset: int = 0,
    by_class: bool = False,
) -> list[StockPosition]:
    """The active items that need a look, across the warehouses the user may see, by SKU: projected below
    their reorder point so that something is to be ordered (`which="low"`), on hand above their maximum stock
    ("over") or either ("any"); the `first` of them only (from `offset`), when given; `by_class`: A items
    first (then B, C, unclassed). The database picks, orders and pages them (stock and open purchase orders
    summed per item beside the item's thresholds), so a catalogue of 100,000 items costs no Python per item
    beyond the page asked for."""
    query = _query(session, access, filters)
    flagged = {"low": query.low, "over": query.over, "any": or_(query.low, query.over)}[which]
    item = access.registry.cls("item")
    stmt = query.rows.where(flagged).order_by(*_order(session, item.abc_class, item.sku, item.id, by_class))
    return [StockPosition(*row) for row in session.execute(stmt.offset(offset or None).limit(first))]


def _order(session: Session, abc_class: Any, sku: Any, pk: Any, by_class: bool) -> list[Any]:
    """ORDER BY of the positions: (the ABC class, blanks last,) the SKU in code point order on both databases."""
    order: list[Any] = [or_(abc_class.is_(None), abc_class == ""), abc_class] if by_class else []
    return [*order, sku if session.get_bind().dialect.name == "sqlite" else sku.collate("C"), pk]


def suggestions_page(
    session: Session, access: Access, filters: Filters, first: int, offset: int = 0, by_class: bool = False
) -> tuple[list[StockPosition], int, dict[str, Decimal]]:
    """A page of the suggestions, how many there are in all and their totals (on_hand, on_order, reserved,
    projected, suggested_qty). Two statements: the page (a top-N sort) and the count with the sums; one
    statement with window aggregates took longer on PostgreSQL (every row kept and summed before the page)."""
    found = suggestions(session, access, filters, first=first, offset=offset, by_class=by_class)
    count, totals = suggestion_totals(session, access, filters)
    return found, count, totals


def suggestions(session: Session, access: Access, filters: Filters = ALL, **page: Any) -> list[StockPosition]:
    """Items whose projected quantity is below their reorder point (`page`: first, offset, by_class)."""
    access.require("item", "read")
    return positions(session, access, "low", filters=filters, **page)


def suggestion_totals(session: Session, access: Access, filters: Filters = ALL) -> tuple[int, dict[str, Decimal]]:
    """(how many suggestions, {on_hand, on_order, reserved, projected, suggested_qty: their sum}), in one
    statement: what a page of suggestions shows as its count and totals."""
    access.require("item", "read")
    query = _query(session, access, filters)
    sums = [type_coerce(func.coalesce(func.sum(sql), 0), sql.type) for sql in query.figures.values()]
    found = session.execute(query.rows.where(query.low).with_only_columns(func.count(), *sums)).one()
    return int(found[0] or 0), {name: Decimal(v or 0) for name, v in zip(query.figures, found[1:], strict=True)}


def counts(session: Session, access: Access) -> tuple[int, int]:
    """(items below their reorder point with something to order, items above their maximum stock)."""
    access.require("item", "read")

    def flagged() -> Select[Any]:
        query = _query(session, access)
        return query.rows.with_only_columns(
            func.sum(case((query.low, 1), else_=0)), func.sum(case((query.over, 1), else_=0))
        )

    registry, key = access.registry, ("reorder_counts", session.get_bind().dialect.name)
    # the reader's stock only, or the same for every reader who sees all stock: built once per metadata version
    scoped = access.scope(registry.model("stock_balance")) is not None
    low, over = session.execute(flagged() if scoped else registry.kept(key, flagged)).one()
    return int(low or 0), int(over or 0)


def alerts(session: Session, access: Access, first: int | None = None) -> dict[str, Any]:
    """Low stock (below the reorder point) and overstock (above max stock): the items (the `first` of each
    only, when given: the home page shows ten) and how many there are in all (`low_count`, `overstock_count`)."""
    access.require("item", "read")
    low = positions(session, access, "low", first)
    over = positions(session, access, "over", first)
    low_count, over_count = counts(session, access) if first is not None else (len(low), len(over))
    return {
        "low": [p.as_json() for p in low],
        "overstock": [p.as_json() for p in over],
        "low_count": low_count,
        "overstock_count": over_count,
    }


def create_purchase_orders(
    session: Session,
    access: Access,
    warehouse: str,
    skus: list[str] | None = None,
    filters: Filters = ALL,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Draft purchase orders, one per default supplier, through the write service, dated the business's
    today: for every suggestion (within `filters`), or (`skus`) for those items only, each of which must be a
    suggestion; `progress(done, of)` after each order (a job's progress)."""
    if skus is not None:
        chosen = suggestions(session, access, replace(filters, skus=tuple(dict.fromkeys(skus))))
        by_sku = {p.sku: p for p in chosen}
        errors = [
            CellError(f"items.{i}", t("reorder_not_suggested", item=sku))
            for i, sku in enumerate(skus)
            if sku not in by_sku
        ]
        if not skus:
            errors.append(CellError("items", t("reorder_nothing_asked")))
        if errors:
            raise ValidationFailed(errors)
        chosen = [by_sku[sku] for sku in dict.fromkeys(skus)]
    else:
        chosen = suggestions(session, access, filters)
    by_supplier: dict[int, list[StockPosition]] = defaultdict(list)
    skipped = []
    for position in chosen:
        if position.supplier_id is None:
            skipped.append(position.sku)
        else:
            by_supplier[position.supplier_id].append(position)
    service = RecordService(session, access)
    created = []
    for supplier_id, items in sorted(by_supplier.items()):
        row = service.create(
            "purchase_order",
            {
                "date": business_today().isoformat(),
                "partner": supplier_id,
                "warehouse": warehouse,
                "remark": t("reorder_remark"),
                "lines": [
                    {"item": p.item_id, "qty": str(p.suggested_qty), "price": None if p.price is None else str(p.price)}
                    for p in items
                ],
            },
        )
        created.append({"id": row.id, "number": row.number, "lines": len(items)})
        if progress is not None:
            progress(len(created), len(by_supplier))
    service.commit()
    return {"orders": created, "skipped_without_supplier": skipped}
