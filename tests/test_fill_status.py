"""入库状态 / 出库状态: an order's stored receipt_status / delivery_status follows what its receipts and deliveries
filled and what was closed, in the posting's transaction; upgrading fills it for orders already there."""

from __future__ import annotations

import importlib.util
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openpyxl
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text

from app.extensions import db, registry
from app.meta.schema import sync_schema
from tests.ledger_helpers import document, new_item, new_partner, post, receive


def _push(api: Any, model: str, pk: int, target: str, *qtys: str) -> dict[str, Any]:
    """A submitted follow-on pushed down from `pk`, its first lines at these quantities."""
    response = api.post(f"/api/v1/{model}/{pk}/push/{target}", json={})
    assert response.status_code == 201, response.get_json()
    draft = response.get_json()["result"]
    kept = zip(draft["lines"], qtys, strict=False)
    lines = [{"id": line["id"], "item": line["item"]["id"], "qty": qty} for line, qty in kept]
    saved = api.put(f"/api/v1/{target}/{draft['id']}", json={"lines": lines, "version": draft["version"]})
    assert saved.status_code == 200, saved.get_json()
    submitted = api.post(f"/api/v1/{target}/{draft['id']}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    return submitted.get_json()["result"]


def _status(api: Any, model: str, pk: int) -> str:
    found = api.get(f"/api/v1/{model}/{pk}").get_json()["result"]
    return found["receipt_status" if model == "purchase_order" else "delivery_status"]


def test_purchase_order_receipt_status_partial_full_cancelled_and_closed(admin_api):
    one, two = new_item(admin_api), new_item(admin_api)
    lines = [{"item": one, "qty": "10", "price": "2"}, {"item": two, "qty": "5", "price": "3"}]
    draft = document(admin_api, "purchase_order", lines, warehouse="WH01")
    assert draft["receipt_status"] == "none"  # a new order: nothing received
    order = admin_api.post(f"/api/v1/purchase_order/{draft['id']}/submit").get_json()["result"]
    assert order["receipt_status"] == "none"

    first = _push(admin_api, "purchase_order", order["id"], "purchase_receipt", "4", "5")
    assert _status(admin_api, "purchase_order", order["id"]) == "partly"
    rest = _push(admin_api, "purchase_order", order["id"], "purchase_receipt", "6")
    assert _status(admin_api, "purchase_order", order["id"]) == "full"

    # cancelling a receipt gives its quantities back: partly, then nothing received
    assert admin_api.post(f"/api/v1/purchase_receipt/{rest['id']}/cancel").status_code == 200
    assert _status(admin_api, "purchase_order", order["id"]) == "partly"
    assert admin_api.post(f"/api/v1/purchase_receipt/{first['id']}/cancel").status_code == 200
    assert _status(admin_api, "purchase_order", order["id"]) == "none"

    # a line closed for its rest counts as done; 关闭状态 says what was closed beside it
    again = _push(admin_api, "purchase_order", order["id"], "purchase_receipt", "10")
    assert _status(admin_api, "purchase_order", order["id"]) == "partly"
    closed = admin_api.post(f"/api/v1/purchase_order/{order['id']}/close", json={})
    assert closed.status_code == 200, closed.get_json()
    assert (closed.get_json()["result"]["receipt_status"], closed.get_json()["result"]["close_status"]) == (
        "full",
        "closed",
    )
    # the receipt cancelled after the close: its 10 are open again
    assert admin_api.post(f"/api/v1/purchase_receipt/{again['id']}/cancel").status_code == 200
    assert _status(admin_api, "purchase_order", order["id"]) == "partly"

    # listed, filtered and sorted like any select
    found = admin_api.get(
        f"/api/v1/purchase_order/?q=(filters:!((col:id,opr:eq,value:{order['id']}),"
        "(col:receipt_status,opr:in,value:!(none,partly))),order_column:receipt_status,order_direction:asc)"
    )
    assert found.status_code == 200, found.get_json()
    assert [r["receipt_status"] for r in found.get_json()["result"]] == ["partly"]
    # the grid's rows and its export, by the status's header filter and sort
    view = {
        "filter[0][field]": "number",
        "filter[0][type]": "=",
        "filter[0][value]": order["number"],
        "filter[1][field]": "receipt_status",
        "filter[1][type]": "=",
        "filter[1][value]": "partly",
        "sort[0][field]": "receipt_status",
        "sort[0][dir]": "desc",
    }
    rows = admin_api.get("/api/v1/grid/purchase_order/rows", query_string=view)
    assert [r["receipt_status"] for r in rows.get_json()["data"]] == ["partly"], rows.get_json()
    exported = admin_api.get(
        "/api/v1/grid/purchase_order/export", query_string=view | {"columns": "number,receipt_status"}
    )
    assert exported.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(exported.data)).active
    assert list(sheet.iter_rows(values_only=True)) == [("单据编号", "入库状态"), (order["number"], "部分入库")]


def test_sales_order_delivery_status_and_a_closed_line_with_nothing_delivered(admin_api):
    one, two = new_item(admin_api), new_item(admin_api)
    receive(admin_api, one, "20", "5")
    receive(admin_api, two, "20", "5")
    customer, _ = new_partner(admin_api, "customer")
    order = post(
        admin_api,
        "sales_order",
        [{"item": one, "qty": "3", "price": "9"}, {"item": two, "qty": "2", "price": "9"}],
        partner=customer,
        warehouse="WH01",
    )
    assert order["delivery_status"] == "none"
    _push(admin_api, "sales_order", order["id"], "sales_delivery", "3", "0.5")
    assert _status(admin_api, "sales_order", order["id"]) == "partly"
    # the second line's rest closed: every line done, though its 1.5 never shipped
    second = order["lines"][1]["id"]
    closed = admin_api.post(f"/api/v1/sales_order/{order['id']}/close", json={"lines": [second]})
    assert closed.status_code == 200, closed.get_json()
    assert (closed.get_json()["result"]["delivery_status"], closed.get_json()["result"]["close_status"]) == (
        "full",
        "closed",
    )


def test_a_closed_order_with_nothing_received_partly_when_one_line_is_closed(admin_api):
    one, two = new_item(admin_api), new_item(admin_api)
    lines = [{"item": one, "qty": "1", "price": "2"}, {"item": two, "qty": "1", "price": "2"}]
    order = post(admin_api, "purchase_order", lines, warehouse="WH01")
    closed = admin_api.post(f"/api/v1/purchase_order/{order['id']}/close", json={"lines": [order["lines"][0]["id"]]})
    assert (closed.get_json()["result"]["receipt_status"], closed.get_json()["result"]["close_status"]) == (
        "partly",
        "partly",
    )


def test_receipts_of_each_line_submitted_at_once_leave_the_order_received(app, admin_api):
    """Two receipts, each of one line of the order, submitted at the same moment: each reads the other's line under
    the order's lock, so the last one sees both filled (none is left at 部分入库)."""
    one, two = new_item(admin_api), new_item(admin_api)
    orders = [
        post(
            admin_api,
            "purchase_order",
            [{"item": one, "qty": "3", "price": "2"}, {"item": two, "qty": "4", "price": "2"}],
            warehouse="WH01",
        )
        for _ in range(3)
    ]
    drafts = []
    for order in orders:
        for index, (sku, qty) in enumerate(((one, "3"), (two, "4"))):
            link = {"source_model": "purchase_order", "source_id": order["id"]}
            line = {"item": sku, "qty": qty, "price": "2", **link, "source_line_id": order["lines"][index]["id"]}
            drafts.append(document(admin_api, "purchase_receipt", [line], warehouse="WH01"))

    def submit(doc: dict[str, Any]) -> int:
        client = app.test_client()
        return client.post(f"/api/v1/purchase_receipt/{doc['id']}/submit", headers=admin_api.headers).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(submit, drafts)) == [200] * len(drafts)
    assert [_status(admin_api, "purchase_order", order["id"]) for order in orders] == ["full"] * 3


def _migration() -> Any:
    path = Path(__file__).resolve().parents[1] / "app/migrations/versions/0019_fill_status.py"
    spec = importlib.util.spec_from_file_location("fill_status_migration", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_upgrade_fills_the_status_of_orders_already_there(app, admin_api):
    """A database from before the field: the column dropped and added again by the migration, which fills it from
    the lines (none, partly, full with a closed rest) for every order, drafts too."""
    one, two = new_item(admin_api), new_item(admin_api)
    lines = [{"item": one, "qty": "10", "price": "2"}, {"item": two, "qty": "5", "price": "3"}]
    untouched = post(admin_api, "purchase_order", lines, warehouse="WH01")
    partly = post(admin_api, "purchase_order", lines, warehouse="WH01")
    _push(admin_api, "purchase_order", partly["id"], "purchase_receipt", "4")
    closed = post(admin_api, "purchase_order", lines, warehouse="WH01")
    _push(admin_api, "purchase_order", closed["id"], "purchase_receipt", "10", "1")
    assert admin_api.post(f"/api/v1/purchase_order/{closed['id']}/close", json={}).status_code == 200
    draft = document(admin_api, "purchase_order", lines, warehouse="WH01")
    ids = {"none": untouched["id"], "partly": partly["id"], "full": closed["id"], "draft": draft["id"]}
    migration = _migration()
    with app.app_context():
        with db.engine.begin() as conn:  # every order there, the demo's and every test's, has its status
            for table, column in (("purchase_order", "receipt_status"), ("sales_order", "delivery_status")):
                assert not conn.execute(text(f"SELECT count(*) FROM {table} WHERE {column} IS NULL")).scalar()
        with db.engine.begin() as conn:  # the orders as a JXC before the field left them
            for table, column in (("purchase_order", "receipt_status"), ("sales_order", "delivery_status")):
                conn.execute(text(f"DROP INDEX IF EXISTS ix_{table}_{column}"))
                conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            migration.upgrade()
        with db.engine.begin() as conn:
            found = dict(conn.execute(text("SELECT id, receipt_status FROM purchase_order")).all())
            delivered = conn.execute(text("SELECT count(*) FROM sales_order WHERE delivery_status IS NULL")).scalar()
            changes = sync_schema(conn, registry())  # the index again, as `jxc init` makes it after the migration
        db.session.remove()
    assert "create index ix_purchase_order_receipt_status" in changes
    assert {name: found[pk] for name, pk in ids.items()} == {
        "none": "none",
        "partly": "partly",
        "full": "full",
        "draft": "none",
    }
    assert delivered == 0
    assert _status(admin_api, "purchase_order", partly["id"]) == "partly"
