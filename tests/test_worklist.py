"""待入库 / 待出库 on the home page: approved orders not all received / delivered and not closed, within the reader's
row scope (a keeper's warehouses, a salesperson's own orders), with 下推 and a link to the list filtered the same
way (`?filter=<field>:<values>`)."""

from __future__ import annotations

import re

from tests.conftest import csrf_from
from tests.ledger_helpers import new_item, new_partner, post, receive

OLD = "2020-01-0"  # dated before every other test's orders: the oldest, first in a block


def _block(html: str, model: str) -> str:
    found = re.search(rf'id="jxc-waiting-{model}".*?</div></div>', html, re.S)
    assert found, f"no {model} block"
    return found.group(0)


def _href(block: str) -> str:
    found = re.search(r'class="pull-right jxc-waiting-all" href="([^"]+)"', block)
    assert found, block
    return found.group(1).replace("&amp;", "&")


def test_the_keeper_sees_what_waits_in_their_warehouses_only(admin_api, login_as):
    sku = new_item(admin_api)
    lines = [{"item": sku, "qty": "5", "price": "2"}]
    mine = post(admin_api, "purchase_order", lines, warehouse="WH01", date=OLD + "1")
    other = post(admin_api, "purchase_order", lines, warehouse="WH02", date=OLD + "1")
    done = post(admin_api, "purchase_order", lines, warehouse="WH01", date=OLD + "2")
    assert admin_api.post(f"/api/v1/purchase_order/{done['id']}/close", json={}).status_code == 200
    keeper = login_as("warehouse")
    home = keeper.get("/").get_data(as_text=True)
    block = _block(home, "purchase_order")
    assert mine["number"] in block and "未入库" in block
    assert other["number"] not in home and done["number"] not in block
    assert 'data-target="purchase_receipt"' in block  # the keeper writes receipts: 下推 on each order
    assert "jxc-waiting-sales_order" in home  # and reads the sales orders of WH01: 待出库

    listed = keeper.get(_href(block))
    assert listed.status_code == 200
    page = listed.get_data(as_text=True)
    assert mine["number"] in page and other["number"] not in page and done["number"] not in page
    assert 'id="jxc-list-filters"' in page and "入库状态：未入库、部分入库" in page
    count = re.search(r'jxc-waiting-count">(\d+)<', block).group(1)
    assert f"共{count} 条" in page  # the list counts what the block counted

    # 下推 from the home page: a receipt draft of the order's open quantity opens
    pushed = keeper.post(f"/m/purchase_order/{mine['id']}/push/purchase_receipt", data={"csrf_token": csrf_from(home)})
    assert pushed.status_code == 302 and "/m/purchase_receipt/" in pushed.headers["Location"]
    draft = int(pushed.headers["Location"].rstrip("/").split("/")[-2])
    assert keeper.post(f"/m/purchase_receipt/{draft}/submit", data={"csrf_token": csrf_from(home)}).status_code == 302
    assert admin_api.get(f"/api/v1/purchase_order/{mine['id']}").get_json()["result"]["receipt_status"] == "full"
    assert mine["number"] not in _block(keeper.get("/").get_data(as_text=True), "purchase_order")


def test_the_salesperson_sees_their_own_orders_waiting(admin_api, login_as):
    sku = new_item(admin_api)
    receive(admin_api, sku, "50", "5")
    stranger, _ = new_partner(admin_api, "customer")
    lines = [{"item": sku, "qty": "2", "price": "9"}]
    own = post(admin_api, "sales_order", lines, partner="K001", warehouse="WH01", salesperson="u_salesperson")
    other = post(admin_api, "sales_order", lines, partner=stranger, warehouse="WH01", date=OLD + "1")
    home = login_as("salesperson").get("/").get_data(as_text=True)
    assert "jxc-waiting-purchase_order" not in home  # a salesperson reads no purchase orders
    block = _block(home, "sales_order")
    assert "待出库" in block and other["number"] not in home
    listed = login_as("salesperson").get(_href(block)).get_data(as_text=True)
    assert own["number"] in listed and other["number"] not in listed


def test_a_list_takes_filters_in_its_url_and_refuses_a_malformed_one(admin_api, login_as):
    sku = new_item(admin_api)
    order = post(admin_api, "purchase_order", [{"item": sku, "qty": "1", "price": "2"}], warehouse="WH01")
    client = login_as("admin")
    shown = client.get(f"/m/purchase_order/?filter=number:{order['number']}&filter=close_status:,partly")
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and order["number"] in page and "共1 条" in page
    assert "关闭状态：（空白）、部分关闭" in page
    assert f'name="filter" value="number:{order["number"]}"' in page  # a search keeps the filters
    none = client.get(f"/m/purchase_order/?filter=number:{order['number']}&filter=close_status:closed")
    assert "共0 条" in none.get_data(as_text=True)
    bad = client.get("/m/purchase_order/?filter=receipt_status")
    assert bad.status_code == 400 and "字段:值" in bad.get_data(as_text=True)
    hidden = login_as("warehouse").get("/m/purchase_order/?filter=total_amount:1")  # a figure the keeper may not see
    assert hidden.status_code == 400
