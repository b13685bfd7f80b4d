"""Line prices from the price list (价格表): the partner's agreed price, then the last price, then the
partner's price list (retail / wholesale), then the item; only prices valid on the document's date."""

from __future__ import annotations

from tests.conftest import unique
from tests.ledger_helpers import document, new_item, new_partner, post, receive


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


def test_the_last_price_on_one_date_is_the_document_written_last_whatever_its_table(admin_api):
    """An order and a delivery the same day: the one written later holds the last price, even when the
    earlier one's line id (in its own table) is the larger number."""
    customer, partner_id = new_partner(admin_api, "customer")
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "1")
    line = {"item": sku, "qty": "1"}
    order_line = document(admin_api, "sales_order", [line], warehouse="WH01", partner=customer)["lines"][0]["id"]
    # the delivery written first gets a line id above the order's: a draft filler moves its table on
    filler = max(order_line - _next_line_id(admin_api, "sales_delivery", customer, sku) + 2, 0)
    if filler:
        document(admin_api, "sales_delivery", [line] * filler, warehouse="WH01", partner=customer)
    delivery = post(admin_api, "sales_delivery", [dict(line, price="6")], warehouse="WH01", partner=customer)
    order = post(admin_api, "sales_order", [dict(line, price="5.5")], warehouse="WH01", partner=customer)
    assert delivery["lines"][0]["id"] > order["lines"][0]["id"]
    assert first_price(admin_api, sku, customer) == "5.50"  # the order, written after the delivery
    item_id = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{sku})))").get_json()["ids"][0]
    assert admin_api.get(f"/api/v1/accounts/{partner_id}/last_price/{item_id}").get_json()["price"] == "5.5000"


def _next_line_id(api, model, partner, sku):
    """About the next line id of a document model: a draft's line id (the draft stays)."""
    return document(api, model, [{"item": sku, "qty": "1"}], warehouse="WH01", partner=partner)["lines"][0]["id"]


def test_a_price_names_the_partner_its_price_list_is_for(admin_api):
    """客户价填写客户，供应商价填写供应商；零售价和批发价留空, the field's own help, was never checked: a customer price
    naming a supplier, or nobody, and a retail price naming a customer were all saved (and the import said nothing)."""
    sku = "SP0009"
    cases = [
        ({"price_list": "customer", "partner": "S001"}, "S001 不是客户：客户价须填写客户"),
        ({"price_list": "customer"}, "客户价须填写客户"),
        ({"price_list": "supplier", "partner": "K001"}, "K001 不是供应商：供应商价须填写供应商"),
        ({"price_list": "retail", "partner": "K001"}, "零售价不填往来单位（客户价填写客户，供应商价填写供应商）"),
    ]
    for values, message in cases:
        refused = admin_api.post("/api/v1/item_price/", json={"item": sku, "price": "6"} | values)
        assert refused.status_code == 422, (values, refused.get_json())
        assert refused.get_json()["message"] == {"partner": [message]}, values
    price_row(admin_api, item=sku, price_list="wholesale", price="5.5")
    price_row(admin_api, item=sku, price_list="customer", partner="K002", price="5.2")
    price_row(admin_api, item=sku, price_list="supplier", partner="S001", price="3.1")
