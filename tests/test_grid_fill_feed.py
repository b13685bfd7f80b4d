"""An open grid of orders hears of a receipt or delivery that moved an order's 入库状态 / 出库状态: the change feed
(`GET /api/v1/grid/<model>/changes`, polled every 3 s) names the order when its follow-on posts or is cancelled, read
from the follow-on's own audit row and its line links (or source_number); the order's history gets no row of an edit
nobody made. The feed stays within the reader's row scope."""

from __future__ import annotations

from tests.ledger_helpers import new_item, post, receive


def _feed(api, model: str, cursor: int) -> dict:
    answer = api.get(f"/api/v1/grid/{model}/changes", query_string={"since": cursor})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _cursor(api, model: str) -> int:
    return api.get(f"/api/v1/grid/{model}/changes").get_json()["cursor"]


def test_a_receipt_posted_or_cancelled_names_its_order_in_the_feed(admin_api):
    sku = new_item(admin_api)  # its own: the receipt is dated today, and other tests post SP… on earlier days
    order = post(admin_api, "purchase_order", [{"item": sku, "qty": "4", "price": "1"}], warehouse="WH01")
    history = admin_api.get(f"/api/v1/purchase_order/{order['id']}/history").get_json()["result"]
    cursor = _cursor(admin_api, "purchase_order")
    pushed = admin_api.post(f"/api/v1/purchase_order/{order['id']}/push/purchase_receipt", json={})
    assert pushed.status_code == 201, pushed.get_json()
    receipt = pushed.get_json()["id"]
    assert _feed(admin_api, "purchase_order", cursor)["changed"] == []  # a draft fills nothing
    assert admin_api.post(f"/api/v1/purchase_receipt/{receipt}/submit").status_code == 200
    feed = _feed(admin_api, "purchase_order", cursor)
    assert feed["changed"] == [order["id"]] and feed["deleted"] == []
    assert admin_api.get(f"/api/v1/purchase_order/{order['id']}").get_json()["result"]["receipt_status"] == "full"
    assert admin_api.get(f"/api/v1/purchase_order/{order['id']}/history").get_json()["result"] == history
    cursor = feed["cursor"]
    assert _feed(admin_api, "purchase_order", cursor)["changed"] == []
    assert admin_api.post(f"/api/v1/purchase_receipt/{receipt}/cancel").status_code == 200
    assert _feed(admin_api, "purchase_order", cursor)["changed"] == [order["id"]]


def test_a_delivery_naming_its_order_by_number_and_the_readers_scope(admin_api, api_as):
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "1")
    mine = post(admin_api, "sales_order", [{"item": sku, "qty": "2", "price": "2"}], warehouse="WH01")
    theirs = post(admin_api, "sales_order", [{"item": sku, "qty": "2", "price": "2"}], warehouse="WH01", partner="K003")
    seller = api_as("salesperson")  # K001 is theirs (the suite's fixtures), K003 is not
    cursor = _cursor(admin_api, "sales_order")
    for order, partner in ((mine, "K001"), (theirs, "K003")):  # named by number only: no line links
        shipped = [{"item": sku, "qty": "1", "price": "2"}]
        post(admin_api, "sales_delivery", shipped, warehouse="WH01", partner=partner, source_number=order["number"])
    assert sorted(_feed(admin_api, "sales_order", cursor)["changed"]) == sorted([mine["id"], theirs["id"]])
    assert _feed(seller, "sales_order", cursor)["changed"] == [mine["id"]]
    shown = admin_api.get(f"/api/v1/sales_order/{mine['id']}").get_json()["result"]
    assert shown["delivery_status"] == "partly"
