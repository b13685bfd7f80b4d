"""Documents that flow into each other: line links, 下推 and 选单, open quantities taken on submit (never
below zero under concurrency), cancelling a source with live follow-ons, links from source_number."""

from __future__ import annotations

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import select, text

from app.extensions import db, registry
from tests.conftest import csrf_from, hide_prices
from tests.ledger_helpers import balance, document, new_item, new_partner, post, receive, refusal


def _reserved(app: Any, sku: str, warehouse: str = "WH01") -> D:
    with app.app_context():
        reg = registry()
        item, wh, bal = reg.cls("item"), reg.cls("warehouse"), reg.cls("stock_balance")
        found = db.session.execute(
            select(bal.reserved_qty)
            .join(item, item.id == bal.item_id)
            .join(wh, wh.id == bal.warehouse_id)
            .where(item.sku == sku, wh.code == warehouse)
        ).scalar()
        db.session.rollback()
        return D(found or 0)


def _push(api: Any, model: str, pk: int, target: str, **header: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/{model}/{pk}/push/{target}", json=header)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["result"]


def _set_qty(api: Any, model: str, draft: dict[str, Any], *qtys: str) -> dict[str, Any]:
    """Keep the draft's first lines with these quantities (its links ride along unchanged)."""
    lines = [
        {"id": line["id"], "item": line["item"]["id"], "qty": qty}
        for line, qty in zip(draft["lines"], qtys, strict=False)
    ]
    response = api.put(f"/api/v1/{model}/{draft['id']}", json={"lines": lines, "version": draft["version"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["result"]


def _submit(api: Any, model: str, doc: dict[str, Any]) -> dict[str, Any]:
    response = api.post(f"/api/v1/{model}/{doc['id']}/submit")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["result"]


def _get(api: Any, model: str, pk: int) -> dict[str, Any]:
    return api.get(f"/api/v1/{model}/{pk}").get_json()["result"]


def test_sales_order_delivered_in_three_parts_a_return_of_the_second_and_the_rest_closed(app, admin_api, api_as):
    sku = new_item(admin_api)
    receive(admin_api, sku, "20", "5")
    customer, _ = new_partner(admin_api, "customer")
    order = post(
        admin_api, "sales_order", [{"item": sku, "qty": "10", "price": "9"}], partner=customer, warehouse="WH01"
    )
    assert _reserved(app, sku) == D(10)
    deliveries = []
    for qty in ("3", "4", "2"):
        draft = _push(admin_api, "sales_order", order["id"], "sales_delivery")
        line = draft["lines"][0]
        assert (line["source_model"], line["source_id"], line["source_line_id"]) == (
            "sales_order",
            order["id"],
            order["lines"][0]["id"],
        )
        assert D(line["qty"]) == D(10) - sum((D(q) for q in ("3", "4", "2")[: len(deliveries)]), D(0))
        assert (draft["partner"]["key"], draft["warehouse"]["key"], draft["source_number"]) == (
            customer,
            "WH01",
            order["number"],
        )
        deliveries.append(_submit(admin_api, "sales_delivery", _set_qty(admin_api, "sales_delivery", draft, qty)))
    assert D(_get(admin_api, "sales_order", order["id"])["lines"][0]["delivered_qty"]) == D(9)
    assert _reserved(app, sku) == D(1)
    assert balance(app, sku)[0] == D(11)

    # the order shows its three deliveries; a delivery shows its order
    flow = admin_api.get(f"/api/v1/sales_order/{order['id']}/flow").get_json()
    assert [d["number"] for d in flow["result"]["follow_ons"]] == [d["number"] for d in deliveries]
    assert "sales_delivery" in [t["model"] for t in flow["targets"]]
    back = admin_api.get(f"/api/v1/sales_delivery/{deliveries[1]['id']}/flow").get_json()["result"]
    assert [(s["number"], s["lines"][0]["line_no"]) for s in back["sources"]] == [(order["number"], 1)]

    # a return of the second delivery, pushed down from it: its 4 units, no more
    returned = _push(admin_api, "sales_delivery", deliveries[1]["id"], "sales_return")
    assert D(returned["lines"][0]["qty"]) == D(4) and returned["lines"][0]["source_id"] == deliveries[1]["id"]
    too_many = _set_qty(admin_api, "sales_return", returned, "5")
    assert "lines.0.qty" in refusal(admin_api, "sales_return", too_many)
    _submit(admin_api, "sales_return", _set_qty(admin_api, "sales_return", too_many, "4"))
    assert D(_get(admin_api, "sales_delivery", deliveries[1]["id"])["lines"][0]["returned_qty"]) == D(4)
    assert balance(app, sku)[0] == D(15)
    assert _push_refused(admin_api, "sales_delivery", deliveries[1]["id"], "sales_return")

    # the second delivery cannot be cancelled while its return is live; the list names the return
    refused = refusal(admin_api, "sales_delivery", deliveries[1], action="cancel")
    assert too_many["number"] in refused["_record"]
    refused = refusal(admin_api, "sales_order", order, action="cancel")
    assert all(d["number"] in refused["_record"] for d in deliveries)

    # 关闭: the last unit is no longer expected; its reservation goes, nothing is open to push any more
    assert api_as("warehouse").post(f"/api/v1/sales_order/{order['id']}/close").status_code == 403
    closed = admin_api.post(f"/api/v1/sales_order/{order['id']}/close", json={})
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["result"]["close_status"] == "closed"
    assert D(closed.get_json()["result"]["lines"][0]["closed_qty"]) == D(1)
    assert _reserved(app, sku) == D(0)
    assert _push_refused(admin_api, "sales_order", order["id"], "sales_delivery")
    assert admin_api.post(f"/api/v1/sales_order/{order['id']}/close").status_code == 422  # nothing left
    listed = admin_api.get(f"/api/v1/sales_order/?q=(filters:!((col:id,opr:eq,value:{order['id']})))").get_json()
    assert listed["result"][0]["close_status"] == "closed"


def test_an_orders_discount_goes_down_to_its_delivery_and_the_return(admin_api):
    """The customer is billed what the order agreed: a line's discount travels with 下推 (the delivery had no
    discount column, so a 7.5% discount was dropped and the delivery billed 67.77 for an order line of 62.68)."""
    sku = new_item(admin_api, tax_rate="13")
    receive(admin_api, sku, "20", "5")
    customer, customer_id = new_partner(admin_api, "customer")
    lines = [
        {"item": sku, "qty": "3", "price": "19.99", "discount_rate": "0.075"},
        {"item": sku, "qty": "2.5", "price": "19.99"},
    ]
    order = post(admin_api, "sales_order", lines, partner=customer, warehouse="WH01")
    # by hand: 3 x 19.99 x 0.925 = 55.47225 -> 55.47, tax 7.21; 2.5 x 19.99 = 49.975 -> 49.98, tax 6.50
    assert [(x["amount"], x["tax_amount"]) for x in order["lines"]] == [("55.47", "7.21"), ("49.98", "6.50")]
    assert (order["total_amount"], order["total_with_tax"]) == ("105.45", "119.16")
    draft = _push(admin_api, "sales_order", order["id"], "sales_delivery")
    assert [D(x["discount_rate"]) for x in draft["lines"]] == [D("0.075"), D(0)]
    delivery = _submit(admin_api, "sales_delivery", draft)
    assert [(x["amount"], x["tax_amount"], x["amount_with_tax"]) for x in delivery["lines"]] == [
        (x["amount"], x["tax_amount"], x["amount_with_tax"]) for x in order["lines"]
    ]
    assert (delivery["total_amount"], delivery["total_tax"], delivery["total_with_tax"]) == (
        "105.45",
        "13.71",
        "119.16",
    )
    owed = admin_api.get(f"/api/v1/accounts/{customer_id}").get_json()
    assert D(owed["receivable"]) == D("119.16")
    returned = _push(admin_api, "sales_delivery", delivery["id"], "sales_return")
    assert returned["lines"][0]["discount_rate"] is not None and D(returned["lines"][0]["discount_rate"]) == D("0.075")
    assert (returned["lines"][0]["amount"], returned["total_with_tax"]) == ("55.47", "119.16")


def test_the_rest_of_an_order_in_boxes_pushes_down_in_pieces_at_the_piece_price_to_four_places(app, admin_api):
    """100 boxes of 7 at 10.00, one piece delivered: the 699 pieces left are not whole boxes, so they go down in
    pieces at 10.00 / 7 = 1.4286 (a line price keeps 4 places). The unrounded 1.428571... was refused as "最多 4 位小数"
    on a price nobody typed, and the rest of the order could not be pushed at all."""
    sku = new_item(admin_api)
    assert admin_api.post("/api/v1/item_unit/", json={"item": sku, "unit": "BOX", "ratio": "7"}).status_code == 201
    receive(admin_api, sku, "1500", "1")
    order = post(
        admin_api, "sales_order", [{"item": sku, "unit": "BOX", "qty": "100", "price": "10"}], warehouse="WH01"
    )
    draft = _push(admin_api, "sales_order", order["id"], "sales_delivery")
    one = {"id": draft["lines"][0]["id"], "item": sku, "unit": "PCS", "qty": "1", "price": "1.4286"}
    answer = admin_api.put(f"/api/v1/sales_delivery/{draft['id']}", json={"lines": [one], "version": draft["version"]})
    assert answer.status_code == 200, answer.get_json()
    _submit(admin_api, "sales_delivery", answer.get_json()["result"])
    rest = _push(admin_api, "sales_order", order["id"], "sales_delivery")
    line = rest["lines"][0]
    # its amount is what the order still has open: 1,000.00 - 1.43, not 699 x 1.4286 = 998.59 (1,000.02 in all)
    assert (line["unit"]["key"], D(line["qty"]), line["price"], line["amount"]) == ("PCS", D(699), "1.4286", "998.57")
    _submit(admin_api, "sales_delivery", rest)
    delivered = admin_api.get(
        "/api/v1/sales_delivery/",
        query_string={"q": f"(filters:!((col:source_number,opr:eq,value:'{order['number']}')))"},
    )
    assert sum(D(_get(admin_api, "sales_delivery", pk)["total_amount"]) for pk in delivered.get_json()["ids"]) == D(
        "1000.00"
    )
    # a rest whose quantity is changed is priced as typed again
    again = _push(admin_api, "sales_order", _reopened(admin_api, sku), "sales_delivery")
    assert again["lines"][0]["amount"] == "998.57"
    edited = _set_qty(admin_api, "sales_delivery", again, "600")
    assert edited["lines"][0]["amount"] == "857.16"  # 600 x 1.4286


def test_a_rest_pushed_beside_a_draft_carries_what_the_line_has_left_to_the_cent(admin_api):
    """3 at 3.3317 is 10.00 (not 3 x 3.3317 = 9.9951), pushed as 1 then 2: the rest pushed beside the unsubmitted
    draft of 1 (3.33) took its own 2 x 3.3317 = 6.66, and the two deliveries came to 9.99. Now the rest carries the
    line's amount less what the draft carries, 6.67. A return of that delivery pushed as 1 then 1 carries from the
    delivery's own carried 6.67 (not 2 x 3.3317 = 6.66): 3.33 and 3.34."""
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "1")
    order = post(admin_api, "sales_order", [{"item": sku, "qty": "3", "price": "3.3317"}], warehouse="WH01")
    assert order["lines"][0]["amount"] == "10.00"
    rest, amounts, total = _one_then_the_rest(admin_api, "sales_order", order["id"], "sales_delivery")
    assert (amounts, total) == (("3.33", [(D(2), "6.67")]), D("10.00"))
    _, amounts, total = _one_then_the_rest(admin_api, "sales_delivery", rest["id"], "sales_return")
    assert (amounts, total) == (("3.33", [(D(1), "3.34")]), D("6.67"))


def _one_then_the_rest(api: Any, model: str, pk: int, target: str) -> tuple[dict[str, Any], tuple[Any, Any], D]:
    """Push, keep 1 in that draft (left unsubmitted), push the rest beside it, then submit both: the rest, the
    amounts (the first's, the rest's (qty, amount) lines) and the two follow-ons' total."""
    first = _set_qty(api, target, _push(api, model, pk, target), "1")
    rest = _push(api, model, pk, target)
    amounts = (first["lines"][0]["amount"], [(D(x["qty"]), x["amount"]) for x in rest["lines"]])
    posted = [_submit(api, target, first), _submit(api, target, rest)]
    return rest, amounts, sum((D(d["total_amount"]) for d in posted), D(0))


def _reopened(api: Any, sku: str) -> int:
    """A second order of 100 boxes of 7 at 10.00 with one piece delivered (its id)."""
    order = post(api, "sales_order", [{"item": sku, "unit": "BOX", "qty": "100", "price": "10"}], warehouse="WH01")
    draft = _push(api, "sales_order", order["id"], "sales_delivery")
    one = {"id": draft["lines"][0]["id"], "item": sku, "unit": "PCS", "qty": "1", "price": "1.4286"}
    answer = api.put(f"/api/v1/sales_delivery/{draft['id']}", json={"lines": [one], "version": draft["version"]})
    assert answer.status_code == 200, answer.get_json()
    _submit(api, "sales_delivery", answer.get_json()["result"])
    return order["id"]


def _push_refused(api: Any, model: str, pk: int, target: str) -> bool:
    response = api.post(f"/api/v1/{model}/{pk}/push/{target}", json={})
    return response.status_code == 422 and response.get_json()["errors"][0]["field"] == "_record"


def test_purchase_request_to_order_to_receipt_and_two_orders_picked_into_one_receipt(app, admin_api):
    sku, other = new_item(admin_api), new_item(admin_api)
    supplier, supplier_id = new_partner(admin_api, "supplier")
    made = admin_api.post(
        "/api/v1/purchase_request/",
        json={"date": "2026-11-25", "warehouse": "WH01", "lines": [{"item": sku, "qty": "6", "price": "2"}]},
    )
    request = made.get_json()["result"]
    _submit(admin_api, "purchase_request", request)  # pending: a manager approves requests
    assert admin_api.post(f"/api/v1/purchase_request/{request['id']}/approve").status_code == 200
    order = _push(admin_api, "purchase_request", request["id"], "purchase_order", partner=supplier)
    assert (order["partner"]["key"], D(order["lines"][0]["qty"]), D(order["lines"][0]["price"])) == (
        supplier,
        D(6),
        D(2),
    )
    order = _submit(admin_api, "purchase_order", order)
    assert D(_get(admin_api, "purchase_request", request["id"])["lines"][0]["ordered_qty"]) == D(6)
    assert _push_refused(admin_api, "purchase_request", request["id"], "purchase_order")  # nothing open

    second = post(
        admin_api, "purchase_order", [{"item": other, "qty": "5", "price": "3"}], partner=supplier, warehouse="WH01"
    )
    open_lines = admin_api.get(f"/api/v1/purchase_receipt/open_lines?partner={supplier_id}").get_json()["result"]
    assert sorted((o["source"]["number"], o["open_qty"]) for o in open_lines) == sorted(
        [(order["number"], "6"), (second["number"], "5")]
    )
    picked = admin_api.post(
        "/api/v1/purchase_receipt/pick", json={"source_line_ids": [o["line"]["id"] for o in open_lines]}
    )
    assert picked.status_code == 201, picked.get_json()
    receipt = picked.get_json()["result"]
    assert sorted(line["source_id"] for line in receipt["lines"]) == sorted([order["id"], second["id"]])
    assert receipt["source_number"] is None  # two sources: the lines say where they come from
    receipt = _submit(admin_api, "purchase_receipt", _set_qty(admin_api, "purchase_receipt", receipt, "4", "5"))
    assert D(_get(admin_api, "purchase_order", order["id"])["lines"][0]["received_qty"]) == D(4)
    assert D(_get(admin_api, "purchase_order", second["id"])["lines"][0]["received_qty"]) == D(5)
    assert balance(app, sku)[0] == D(4) and balance(app, other)[0] == D(5)
    left = admin_api.get(f"/api/v1/purchase_receipt/open_lines?source_ids={order['id']},{second['id']}")
    assert [(o["source"]["number"], o["open_qty"]) for o in left.get_json()["result"]] == [(order["number"], "2")]

    # cancelling the receipt gives both orders their quantities back, and then an order may be cancelled
    assert admin_api.post(f"/api/v1/purchase_receipt/{receipt['id']}/cancel").status_code == 200
    assert D(_get(admin_api, "purchase_order", second["id"])["lines"][0]["received_qty"]) == D(0)
    assert admin_api.post(f"/api/v1/purchase_order/{second['id']}/cancel").status_code == 200


def test_links_are_checked_on_submit_partner_item_and_scope(app, admin_api, api_as):
    sku, other = new_item(admin_api), new_item(admin_api)
    receive(admin_api, sku, "10", "1")
    customer, _ = new_partner(admin_api, "customer")
    stranger, _ = new_partner(admin_api, "customer")
    order = post(
        admin_api, "sales_order", [{"item": sku, "qty": "2", "price": "9"}], partner=customer, warehouse="WH01"
    )
    link = {"source_model": "sales_order", "source_id": order["id"], "source_line_id": order["lines"][0]["id"]}
    wrong_partner = document(
        admin_api, "sales_delivery", [{"item": sku, "qty": "1", **link}], partner=stranger, warehouse="WH01"
    )
    assert "lines.0.source_line_id" in refusal(admin_api, "sales_delivery", wrong_partner)
    wrong_item = document(
        admin_api, "sales_delivery", [{"item": other, "qty": "1", **link}], partner=customer, warehouse="WH01"
    )
    assert "lines.0.item" in refusal(admin_api, "sales_delivery", wrong_item)
    made_up = document(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "1", **link, "source_line_id": 10**9}],
        partner=customer,
        warehouse="WH01",
    )
    assert "lines.0.source_line_id" in refusal(admin_api, "sales_delivery", made_up)
    # a warehouse keeper reads the orders of their own warehouses only: another's is not theirs to push or pick from
    receive(admin_api, sku, "2", "1", warehouse="WH02")
    elsewhere = post(
        admin_api, "sales_order", [{"item": sku, "qty": "2", "price": "9"}], partner=customer, warehouse="WH02"
    )
    keeper = api_as("warehouse")
    assert keeper.post(f"/api/v1/sales_order/{elsewhere['id']}/push/sales_delivery", json={}).status_code in (403, 404)
    assert D(_get(admin_api, "sales_order", elsewhere["id"])["lines"][0]["delivered_qty"] or 0) == D(0)


def test_twenty_drafts_for_the_last_five_units_submitted_at_once(app, admin_api):
    sku = new_item(admin_api)
    receive(admin_api, sku, "40", "1")
    customer, _ = new_partner(admin_api, "customer")
    order = post(
        admin_api, "sales_order", [{"item": sku, "qty": "10", "price": "9"}], partner=customer, warehouse="WH01"
    )
    first = _push(admin_api, "sales_order", order["id"], "sales_delivery")
    _submit(admin_api, "sales_delivery", _set_qty(admin_api, "sales_delivery", first, "5"))
    link = {"source_model": "sales_order", "source_id": order["id"], "source_line_id": order["lines"][0]["id"]}
    drafts = [
        document(
            admin_api,
            "sales_delivery",
            [{"item": sku, "qty": "1", **link}],
            partner=customer,
            warehouse="WH01",
            date=first["date"],
        )
        for _ in range(20)
    ]

    def submit(doc: dict[str, Any]) -> int:
        client = app.test_client()
        return client.post(f"/api/v1/sales_delivery/{doc['id']}/submit", headers=admin_api.headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(submit, drafts))
    assert codes.count(200) == 5, codes
    assert set(codes) - {200} <= {409, 422}, codes
    line = _get(admin_api, "sales_order", order["id"])["lines"][0]
    assert D(line["delivered_qty"]) == D(10)
    assert _get(admin_api, "sales_order", order["id"])["delivery_status"] == "full"
    assert _reserved(app, sku) == D(0)
    assert balance(app, sku)[0] == D(30)


def _migration() -> Any:
    path = Path(__file__).resolve().parent.parent / "app" / "migrations" / "versions" / "0010_line_links.py"
    spec = importlib.util.spec_from_file_location("line_links", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_links_filled_from_source_number_on_upgrade(app, admin_api):
    migration = _migration()
    sku = new_item(admin_api)
    customer, _ = new_partner(admin_api, "customer")
    receive(admin_api, sku, "5", "1")
    order = post(
        admin_api, "sales_order", [{"item": sku, "qty": "3", "price": "9"}], partner=customer, warehouse="WH01"
    )
    old = post(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "2"}],
        partner=customer,
        warehouse="WH01",
        source_number=order["number"],
    )
    assert old["lines"][0]["source_line_id"] == order["lines"][0]["id"]  # a named order links on submit too
    with app.app_context():
        with db.engine.begin() as conn:  # the lines as a JXC before links left them
            for column in ("source_model", "source_id", "source_line_id"):
                if column == "source_id" or column == "source_line_id":
                    conn.execute(text(f"DROP INDEX IF EXISTS ix_sales_delivery_line_{column}"))
                conn.execute(text(f"ALTER TABLE sales_delivery_line DROP COLUMN {column}"))
        with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            migration.upgrade()
        db.session.remove()
    line = _get(admin_api, "sales_delivery", old["id"])["lines"][0]
    assert (line["source_model"], line["source_id"], line["source_line_id"]) == (
        "sales_order",
        order["id"],
        order["lines"][0]["id"],
    )


def test_pages_push_down_pick_and_close(app, admin_api, login_as):
    sku = new_item(admin_api)
    supplier, supplier_id = new_partner(admin_api, "supplier")
    orders = [
        post(admin_api, "purchase_order", [{"item": sku, "qty": q, "price": "2"}], partner=supplier, warehouse="WH01")
        for q in ("3", "4")
    ]
    client = login_as("admin")
    page = client.get(f"/m/purchase_order/{orders[0]['id']}").get_data(as_text=True)
    assert 'data-target="purchase_receipt"' in page and 'id="jxc-close"' in page
    pushed = client.post(
        f"/m/purchase_order/{orders[0]['id']}/push/purchase_receipt", data={"csrf_token": csrf_from(page)}
    )
    assert pushed.status_code == 302 and "/m/purchase_receipt/" in pushed.headers["Location"]
    listing = client.get(f"/m/purchase_receipt/pick?partner={supplier_id}").get_data(as_text=True)
    assert orders[1]["number"] in listing and "选单" in listing
    picked = client.post(
        f"/m/purchase_receipt/pick?partner={supplier_id}",
        data={"csrf_token": csrf_from(listing), "line": [str(orders[1]["lines"][0]["id"])]},
    )
    assert picked.status_code == 302 and "/edit" in picked.headers["Location"]
    draft_id = int(picked.headers["Location"].rstrip("/").split("/")[-2])
    draft = _get(admin_api, "purchase_receipt", draft_id)
    assert [(line["source_id"], D(line["qty"])) for line in draft["lines"]] == [(orders[1]["id"], D(4))]
    closed = client.post(f"/m/purchase_order/{orders[0]['id']}/close", data={"csrf_token": csrf_from(page)})
    assert closed.status_code == 302
    assert _get(admin_api, "purchase_order", orders[0]["id"])["close_status"] == "closed"
    shown = client.get(f"/m/purchase_order/{orders[1]['id']}").get_data(as_text=True)
    assert "jxc-flow-follow-ons" in shown and draft["number"] in shown  # the order lists its follow-on draft


def test_the_inbox_shows_an_amount_only_to_who_sees_it(app, admin_api, api_as):
    """价格屏蔽 on the manager: what waits for their approval is listed without its amount (a purchase figure)."""
    clerk, manager = api_as("clerk"), api_as("manager")
    lines = [{"item": new_item(admin_api), "qty": "2", "price": "3"}]
    made = clerk.post("/api/v1/purchase_request/", json={"date": "2026-11-25", "warehouse": "WH01", "lines": lines})
    assert made.status_code == 201, made.get_json()
    request = made.get_json()["result"]
    assert clerk.post(f"/api/v1/purchase_request/{request['id']}/submit").status_code == 200
    amounts = {}
    for hidden in ([], ["manager"]):
        hide_prices(app, hidden)
        try:
            waiting = manager.get("/api/v1/inbox/").get_json()["result"]
        finally:
            admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []})
        (amounts[bool(hidden)],) = [d["amount"] for d in waiting if d["number"] == request["number"]]
    assert amounts == {False: "6.00", True: None}


def test_the_inbox_says_whom_each_document_is_with_and_who_made_it(app, admin_api, api_as):
    """An approver reads each waiting document's 往来单位 and 制单人 as its page shows them (a request has no partner:
    empty); they read only a number, a date and an amount."""
    clerk, manager = api_as("clerk"), api_as("manager")
    sku = new_item(admin_api)
    order = {"date": "2026-11-25", "partner": "S001", "warehouse": "WH01"}
    made = clerk.post("/api/v1/purchase_order/", json=order | {"lines": [{"item": sku, "qty": "300", "price": "40"}]})
    assert made.status_code == 201, made.get_json()
    request = clerk.post(
        "/api/v1/purchase_request/", json={"date": "2026-11-25", "lines": [{"item": sku, "qty": "2", "price": "3"}]}
    )
    assert request.status_code == 201, request.get_json()
    documents = {"purchase_order": made.get_json()["result"], "purchase_request": request.get_json()["result"]}
    for model, doc in documents.items():
        assert clerk.post(f"/api/v1/{model}/{doc['id']}/submit").status_code == 200
    waiting = {d["number"]: d for d in manager.get("/api/v1/inbox/").get_json()["result"]}
    shown = {model: waiting[doc["number"]] for model, doc in documents.items()}
    assert shown["purchase_order"]["partner"].startswith("S001 ") and shown["purchase_request"]["partner"] == ""
    assert {d["created_by"].split()[0] for d in shown.values()} == {"u_clerk"}


def test_the_inbox_holds_what_waits_for_my_step(app, admin_api, api_as):
    clerk, manager = api_as("clerk"), api_as("manager")
    sku = new_item(admin_api)
    made = clerk.post(
        "/api/v1/purchase_request/",
        json={"date": "2026-11-25", "warehouse": "WH01", "lines": [{"item": sku, "qty": "2", "price": "3"}]},
    )
    assert made.status_code == 201, made.get_json()
    request = made.get_json()["result"]
    assert clerk.post(f"/api/v1/purchase_request/{request['id']}/submit").status_code == 200
    mine = manager.get("/api/v1/inbox/").get_json()
    waiting = [d for d in mine["result"] if d["number"] == request["number"]]
    assert len(waiting) == 1 and (waiting[0]["level"], waiting[0]["role"]) == (1, "manager")
    assert mine["count"] == len(mine["result"])
    assert all(d["number"] != request["number"] for d in clerk.get("/api/v1/inbox/").get_json()["result"])
    approved = manager.post(f"/api/v1/purchase_request/{request['id']}/approve", json={"comment": "同意采购"})
    assert approved.status_code == 200, approved.get_json()
    assert all(d["number"] != request["number"] for d in manager.get("/api/v1/inbox/").get_json()["result"])
    steps = [
        h
        for h in admin_api.get(f"/api/v1/purchase_request/{request['id']}/history").get_json()["result"]
        if h["action"] == "approve"
    ]
    assert steps and steps[0]["after"]["comment"] == "同意采购" and steps[0]["user"] == "u_manager"


def _order_of_ten_and_five(api: Any) -> tuple[dict[str, Any], int]:
    """A submitted purchase order of two items, 10 and 5; and its supplier's id."""
    sku, other = new_item(api), new_item(api)
    supplier, supplier_id = new_partner(api, "supplier")
    lines = [{"item": sku, "qty": "10", "price": "2"}, {"item": other, "qty": "5", "price": "3"}]
    return post(api, "purchase_order", lines, partner=supplier, warehouse="WH01"), supplier_id


def test_pushing_twice_opens_the_draft_already_made_and_pushes_only_what_no_draft_holds(admin_api):
    """下推 twice made two drafts of the same open quantity, and the second was refused at submit as beyond the
    order. Now the second push opens the first draft (200, nothing made); once the first draft holds part only,
    a push makes a draft of the rest, and both post."""
    order, _ = _order_of_ten_and_five(admin_api)
    url = f"/api/v1/purchase_order/{order['id']}/push/purchase_receipt"
    first = _push(admin_api, "purchase_order", order["id"], "purchase_receipt")
    again = admin_api.post(url, json={})
    assert again.status_code == 200, again.get_json()
    body = again.get_json()
    assert (body["id"], body["result"]["number"]) == (first["id"], first["number"])
    assert body["message"] == f"已有未审核的 采购入库单 {first['number']} 来自此采购订单，已为您打开"
    flow = admin_api.get(f"/api/v1/purchase_order/{order['id']}/flow").get_json()["result"]
    assert [d["number"] for d in flow["follow_ons"]] == [first["number"]]  # no second draft

    first = _set_qty(admin_api, "purchase_receipt", first, "4", "5")
    rest = admin_api.post(url, json={})
    assert rest.status_code == 201, rest.get_json()
    second = rest.get_json()
    assert second["message"] == (
        f"已生成草稿 {second['result']['number']}，只含尚未下推的数量"
        f"（未审核的 采购入库单 {first['number']} 已含此采购订单的部分数量）"
    )
    assert [(line["source_line_id"], D(line["qty"])) for line in second["result"]["lines"]] == [
        (order["lines"][0]["id"], D(6))
    ]
    _submit(admin_api, "purchase_receipt", first)
    _submit(admin_api, "purchase_receipt", second["result"])
    lines = _get(admin_api, "purchase_order", order["id"])["lines"]
    assert [D(line["received_qty"]) for line in lines] == [D(10), D(5)]
    assert _push_refused(admin_api, "purchase_order", order["id"], "purchase_receipt")


def test_picking_lists_and_takes_only_what_no_unsubmitted_follow_on_holds(admin_api, login_as):
    """选单 listed and took what an unsubmitted receipt (a draft pushed before) already held, as 下推 did before it
    counted them: the second draft was refused at submit as beyond the order. The list (API and page) and the picked
    draft now count those drafts as 下推 does; the draft being edited does not count against itself; a line wholly
    held is refused naming the draft."""
    order, supplier_id = _order_of_ten_and_five(admin_api)
    first = _set_qty(
        admin_api, "purchase_receipt", _push(admin_api, "purchase_order", order["id"], "purchase_receipt"), "4", "5"
    )
    url = f"/api/v1/purchase_receipt/open_lines?source_ids={order['id']}"
    listed = admin_api.get(url).get_json()["result"]
    assert [(o["line"]["id"], o["open_qty"]) for o in listed] == [(order["lines"][0]["id"], "6")]
    editing = admin_api.get(f"{url}&draft={first['id']}").get_json()["result"]
    assert [o["open_qty"] for o in editing] == ["10", "5"]  # the draft being edited: not against itself
    page = login_as("admin").get(f"/m/purchase_receipt/pick?partner={supplier_id}").get_data(as_text=True)
    assert order["number"] in page and '<td class="text-right">6</td>' in page and ">10<" not in page

    ids = [line["id"] for line in order["lines"]]
    refused = admin_api.post("/api/v1/purchase_receipt/pick", json={"source_line_ids": ids})
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["errors"][0]["message"] == (
        f"{order['number']} 第 2 行的未完成数量已全部在未审核的 采购入库单 {first['number']} 中："
        "请打开并审核它，或先减少它的数量再选单"
    )
    picked = admin_api.post("/api/v1/purchase_receipt/pick", json={"source_line_ids": ids[:1]})
    assert picked.status_code == 201, picked.get_json()
    second = picked.get_json()["result"]
    assert [(line["source_line_id"], D(line["qty"])) for line in second["lines"]] == [(ids[0], D(6))]
    _submit(admin_api, "purchase_receipt", first)
    _submit(admin_api, "purchase_receipt", second)  # both post: nothing beyond the order
    assert [D(line["received_qty"]) for line in _get(admin_api, "purchase_order", order["id"])["lines"]] == [
        D(10),
        D(5),
    ]
