"""Helpers for ledger tests: stock documents through the API and the invariant check over the DB."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select

from app.extensions import db, registry
from app.ledger.checks import (
    LayerRow,
    MoveRow,
    SerialRow,
    SerialStepRow,
    TakeRow,
    check_layers,
    check_ledger,
    check_serials,
)
from app.services.stock.tables import cost_layer, cost_take, serial, serial_move
from tests.conftest import unique


def new_item(api: Any, **fields: Any) -> str:
    """Create an item and return its sku."""
    sku = unique("L")
    response = api.post("/api/v1/item/", json={"sku": sku, "name": f"账本测试 {sku}", "unit": "PCS", **fields})
    assert response.status_code == 201, response.get_json()
    return sku


@contextmanager
def statements_sent(app: Any) -> Iterator[list[tuple[str, bool]]]:
    """The statements the app's engine sends meanwhile, each with whether it went in a psycopg pipeline."""
    with app.app_context():
        engine = db.engine
    sent: list[tuple[str, bool]] = []

    def seen(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        raw = conn.connection.driver_connection
        sent.append((statement, engine.dialect.name == "postgresql" and raw.pgconn.pipeline_status != 0))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def new_partner(api: Any, kind: str, **fields: Any) -> tuple[str, int]:
    """Create a partner (customer, supplier or both); its (code, id)."""
    code = unique("P")
    response = api.post("/api/v1/partner/", json={"code": code, "name": f"往来单位 {code}", "kind": kind, **fields})
    assert response.status_code == 201, response.get_json()
    return code, response.get_json()["id"]


def document(api: Any, model: str, lines: list[dict[str, Any]], **header: Any) -> dict[str, Any]:
    """Create a draft document (date and partner defaulted) and return its JSON."""
    body = {"date": "2026-11-25", "lines": lines, **header}
    if model.startswith("purchase_") and "partner" not in body:
        body["partner"] = "S001"
    if model.startswith("sales_") and "partner" not in body:
        body["partner"] = "K001"
    response = api.post(f"/api/v1/{model}/", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["result"]


def post(api: Any, model: str, lines: list[dict[str, Any]], **header: Any) -> dict[str, Any]:
    """Create and submit a document; assert it posted."""
    doc = document(api, model, lines, **header)
    response = api.post(f"/api/v1/{model}/{doc['id']}/submit")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["result"]


def receive(api: Any, sku: str, qty: str, price: str, warehouse: str = "WH01") -> dict[str, Any]:
    """Post a purchase receipt of one line."""
    return post(api, "purchase_receipt", [{"item": sku, "qty": qty, "price": price}], warehouse=warehouse)


def balance(app: Any, sku: str, warehouse: str = "WH01", batch: str | None = None) -> tuple[Decimal, Decimal]:
    """(qty, value) on hand for an item in a warehouse (in one batch when `batch` is given)."""
    with app.app_context():
        reg = registry()
        item, wh, bal = reg.cls("item"), reg.cls("warehouse"), reg.cls("stock_balance")
        query = (
            select(bal.qty, bal.value)
            .join(item, item.id == bal.item_id)
            .join(wh, wh.id == bal.warehouse_id)
            .where(item.sku == sku, wh.code == warehouse)
        )
        if batch is not None:
            query = query.where(bal.batch == batch)
        row = db.session.execute(query).first()
        db.session.rollback()
        return (row.qty, row.value) if row else (Decimal(0), Decimal(0))


def refusal(api: Any, model: str, doc: dict[str, Any], action: str = "submit") -> dict[str, str]:
    """Submit (or cancel) a document that must be refused: its per-cell messages by field."""
    response = api.post(f"/api/v1/{model}/{doc['id']}/{action}")
    assert response.status_code == 422, response.get_json()
    found: dict[str, str] = {}
    for error in response.get_json()["errors"]:
        found[error["field"]] = " | ".join(filter(None, [found.get(error["field"]), error["message"]]))
    return found


def serials_in_stock(app: Any, sku: str, warehouse: str = "WH01") -> set[str]:
    """The item's serial numbers in stock in a warehouse (any batch)."""
    with app.app_context():
        reg = registry()
        item, wh = reg.cls("item"), reg.cls("warehouse")
        found = set(
            db.session.execute(
                select(serial.c.serial)
                .join(item, item.id == serial.c.item_id)
                .join(wh, wh.id == serial.c.warehouse_id)
                .where(item.sku == sku, wh.code == warehouse, serial.c.in_stock.is_(True))
            ).scalars()
        )
        db.session.rollback()
        return found


def ledger_problems(app: Any) -> list[str]:
    """Every ledger invariant problem in the whole database."""
    with app.app_context():
        reg = registry()
        move, bal = reg.cls("stock_move"), reg.cls("stock_balance")
        moves = [
            MoveRow(m.id, (m.item_id, m.warehouse_id, m.batch or ""), m.qty, m.value, m.qty_after, m.value_after)
            for m in db.session.execute(select(move)).scalars()
        ]
        balances = {
            (b.item_id, b.warehouse_id, b.batch or ""): (b.qty, b.value)
            for b in db.session.execute(select(bal)).scalars()
            if b.qty != 0 or b.value != 0 or any(m.key == (b.item_id, b.warehouse_id, b.batch or "") for m in moves)
        }
        item, warehouse = reg.cls("item"), reg.cls("warehouse")
        allowed_items = set(db.session.execute(select(item.id).where(item.allow_negative.is_(True))).scalars())
        allowed_whs = set(db.session.execute(select(warehouse.id).where(warehouse.allow_negative.is_(True))).scalars())
        negative_ok = frozenset(m.key for m in moves if m.key[0] in allowed_items or m.key[1] in allowed_whs)
        problems = check_ledger(moves, balances, negative_ok=negative_ok)
        problems += fifo_problems(reg, balances)
        problems += serial_problems(reg)
        db.session.rollback()
        return problems


def fifo_problems(reg: Any, balances: dict[tuple[Any, ...], tuple[Decimal, Decimal]]) -> list[str]:
    """The FIFO invariants over the whole database (inside an app context)."""
    move, bal = reg.cls("stock_move"), reg.cls("stock_balance")
    layers = [
        LayerRow(r.id, (r.item_id, r.warehouse_id, r.batch), r.kind, r.remaining_qty, r.remaining_value, r.is_open)
        for r in db.session.execute(select(cost_layer))
    ]
    takes = [TakeRow(r.layer_id, r.move_key, r.qty, r.value) for r in db.session.execute(select(cost_take))]
    fifo_keys = frozenset(
        (b.item_id, b.warehouse_id, b.batch or "")
        for b in db.session.execute(select(bal).where(bal.costing == "fifo")).scalars()
    )
    moves = {
        m.move_key: ((m.item_id, m.warehouse_id, m.batch or ""), m.qty, m.value)
        for m in db.session.execute(select(move)).scalars()
    }
    return check_layers(layers, takes, balances, fifo_keys, moves)


def serial_problems(reg: Any) -> list[str]:
    """The serial-number invariants over the whole database (inside an app context)."""
    move, bal, item = reg.cls("stock_move"), reg.cls("stock_balance"), reg.cls("item")
    serials = [
        SerialRow(r.item_id, r.serial, (r.warehouse_id, r.batch), r.in_stock)
        for r in db.session.execute(select(serial))
    ]
    steps = [
        SerialStepRow(r.id, r.item_id, r.serial, (r.warehouse_id, r.batch), r.qty, r.move_key)
        for r in db.session.execute(select(serial_move))
    ]
    serial_items = frozenset(db.session.execute(select(item.id).where(item.track_serial.is_(True))).scalars())
    balances = {
        (b.item_id, b.warehouse_id, b.batch or ""): (b.qty, b.value)
        for b in db.session.execute(select(bal).where(bal.item_id.in_(serial_items))).scalars()
    }
    moves = {
        m.move_key: ((m.item_id, m.warehouse_id, m.batch or ""), m.qty)
        for m in db.session.execute(
            select(move.move_key, move.item_id, move.warehouse_id, move.batch, move.qty).where(
                move.move_key.in_({step.move_key for step in steps})
            )
        )
    }
    return check_serials(serials, steps, balances, serial_items, moves)
