"""Line prices from the price list (价格表): the partner's agreed price, then the last price, then the
partner's price list (retail / wholesale), then the item; only prices valid on the document's date."""

from __future__ import annotations

from tests.conftest import unique
from tests.ledger_helpers import document, new_item


def price_row(api, **values):
    response = api.post("/api/v1/item_price/", json=values)
    assert response.status_code == 201, response.get_json()


def first_price(api, sku, partner, date="2026-11-25"):
    doc = document(api, "sales_order", [{"item": sku, "qty": "1"}], warehouse="WH01", partner=partner, date=date)
    return doc["lines"][0]["price"]


def test_prices_come_from_the_price_list_then_last_price_then_item(admin_api):
    sku = new_item(admin_api, sale_price="12")
    wholesale_buyer = unique("PW")
    assert (
        admin_api.post(
            "/api/v1/partner/",
            json={"code": wholesale_buyer, "name": "批发客户", "kind": "customer", "price_list": "wholesale"},
        ).status_code
        == 201
    )
    price_row(admin_api, item=sku, price_list="wholesale", price="9.5")
    price_row(admin_api, item=sku, price_list="customer", partner="K001", price="8.8", valid_from="2026-01-01")
    price_row(admin_api, item=sku, price_list="customer", partner="K001", price="7.7", valid_to="2025-12-31")  # expired

    assert first_price(admin_api, sku, "K001") == "8.80"  # the customer's agreed price
    assert first_price(admin_api, sku, "K001", date="2025-06-01") == "7.70"  # the one valid then
    assert first_price(admin_api, sku, wholesale_buyer) == "9.50"  # the partner's price list
    plain = unique("PN")
    assert (
        admin_api.post("/api/v1/partner/", json={"code": plain, "name": "散客", "kind": "customer"}).status_code == 201
    )
    assert first_price(admin_api, sku, plain) == "12.00"  # nothing on a list: the item's price
    line_defaults = admin_api.get(f"/api/v1/grid/sales_order/line_defaults?item={sku}&partner=K001").get_json()
    assert line_defaults["price"] == "8.80"
