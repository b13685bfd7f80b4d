"""Stock lookup for the phone: items by code, barcode or name with what each warehouse holds.

Reads go through the query layer as the reader: items they may read (a scanned code matches an SKU or
barcode exactly, else the text is searched like a list page's search box), balances in their row scope
(a warehouse keeper sees their warehouses), and only the fields they may see (prices and costs by figure).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.orm import Session

from app.errors import Forbidden, NotFound
from app.i18n import t
from app.meta.types import ValueProblem, plain_decimal
from app.services.access.rights import Access
from app.services.records.codes import code_key, normalise_code, same_code
from app.services.records.query import base_select, search_condition
from app.services.records.serialize import rows_to_json

LIMIT = 20
ITEM_COLUMNS = ["sku", "name", "spec", "unit", "barcode", "sale_price", "wholesale_price", "purchase_price"]
BALANCE_COLUMNS = ["warehouse", "batch", "qty", "reserved_qty", "avg_cost", "value"]


def find_items(session: Session, access: Access, text: str, limit: int = LIMIT) -> list[Any]:
    """Items the reader may read: an exact SKU or barcode (a unit's barcode too) first, else a search."""
    access.require("item", "read")
    model = access.registry.model("item")
    cls = access.registry.cls("item")
    text = text.strip()[:100]
    if not text:
        return []
    try:
        key = code_key(normalise_code(text))
    except ValueProblem:
        key = None
    if key:
        exact = [func.lower(cls.sku) == key, func.lower(cls.barcode) == key]
        if access.can("item_unit", "read"):
            units = base_select(access, access.registry.model("item_unit")).with_only_columns(
                access.registry.cls("item_unit").item_id
            )
            unit_cls = access.registry.cls("item_unit")
            exact.append(cls.id.in_(units.where(func.lower(unit_cls.barcode) == key)))
        rows = list(
            session.execute(base_select(access, model).where(or_(*exact)).order_by(cls.sku).limit(limit)).scalars()
        )
        if rows:
            return rows
    cond = search_condition(access, model, text)
    if cond is None:
        return []
    return list(session.execute(base_select(access, model).where(cond).order_by(cls.sku).limit(limit)).scalars())


def work_warehouses(session: Session, access: Access, model_key: str) -> list[Any]:
    """The warehouses the reader may read and work in on `model_key` (their row scope on it: a keeper, their own)."""
    if not access.can("warehouse", "read"):
        return []
    cls = access.registry.cls("warehouse")
    stmt = base_select(access, access.registry.model("warehouse")).order_by(cls.code)
    ids = access.warehouses_for(access.registry.model(model_key), "warehouse")
    return list(session.execute(stmt if ids is None else stmt.where(cls.id.in_(ids))).scalars())


def stock_warehouses(session: Session, access: Access) -> list[Any]:
    """The warehouses the reader may pick to look stock up in: those they may read whose stock they see."""
    if not access.can("stock_balance", "read"):
        return []
    return work_warehouses(session, access, "stock_balance")


def warehouse_id(session: Session, access: Access, code: str, model_key: str = "stock_balance") -> int:
    """The id of a warehouse the reader may read, by its code; NotFound otherwise, Forbidden when it is outside
    the warehouses they work in on `model_key` (rather than answering 没有库存 or an empty list there)."""
    model = access.registry.model("warehouse")
    cls = access.registry.cls("warehouse")
    found = session.execute(base_select(access, model).where(same_code(cls.code, normalise_code(code)))).scalar()
    if found is None:
        raise NotFound(t("not_found"))
    if not access.works_in(session, access.registry.model(model_key), found.id):
        key = "phone.outside_warehouses" if model_key == "stock_balance" else "phone.outside_work_warehouses"
        raise Forbidden(t(key, warehouse=found.code))
    return int(found.id)


def stock_lookup(session: Session, access: Access, text: str, warehouse: str = "") -> dict[str, Any]:
    """{items: [item fields the reader sees + stock: [{warehouse, batch, qty, reserved_qty, available, ...}],
    total, available_total]}: the matching items and their balances in the reader's scope (one warehouse when asked)."""
    items = find_items(session, access, text)
    item_model = access.registry.model("item")
    out = rows_to_json(session, access, item_model, items, columns=ITEM_COLUMNS)
    if not items or not access.can("stock_balance", "read"):
        return {"items": [dict(row, stock=None) for row in out]}
    balance_model = access.registry.model("stock_balance")
    cls = access.registry.cls("stock_balance")
    stmt = base_select(access, balance_model).where(cls.item_id.in_([item.id for item in items]), cls.qty != 0)
    if warehouse:
        stmt = stmt.where(cls.warehouse_id == warehouse_id(session, access, warehouse))
    balances = list(session.execute(stmt.order_by(cls.item_id, cls.warehouse_id, cls.batch)).scalars())
    shown = rows_to_json(session, access, balance_model, balances, columns=BALANCE_COLUMNS)
    by_item: dict[int, list[dict[str, Any]]] = {}
    for row, data in zip(balances, shown, strict=True):
        data.pop("id", None)
        data["available"] = plain_decimal(Decimal(row.qty or 0) - Decimal(row.reserved_qty or 0))
        by_item.setdefault(row.item_id, []).append(data)
    for item, data in zip(items, out, strict=True):
        rows = by_item.get(item.id, [])
        data["stock"] = rows
        data["total"] = plain_decimal(sum((Decimal(r["qty"] or 0) for r in rows), Decimal(0)))
        data["available_total"] = plain_decimal(sum((Decimal(r["available"]) for r in rows), Decimal(0)))
    return {"items": out}
