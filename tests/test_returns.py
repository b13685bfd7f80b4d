"""Returns linked to the delivery or receipt they return: quantities capped, cost of the original, cancel."""

from __future__ import annotations

from decimal import Decimal as D

from tests.ledger_helpers import balance, document, ledger_problems, new_item, post, receive


def submit(api, model, doc):
    return api.post(f"/api/v1/{model}/{doc['id']}/submit")


def test_sales_return_against_its_delivery(app, admin_api):
    sku, other = new_item(admin_api), new_item(admin_api)
    receive(admin_api, sku, "10", "3")
    receive(admin_api, other, "5", "1")
    delivery = post(admin_api, "sales_delivery", [{"item": sku, "qty": "6", "price": "10"}], warehouse="WH01")
    receive(admin_api, sku, "10", "5")  # the average moves to (4 x 3 + 10 x 5) / 14
    ret = post(
        admin_api,
        "sales_return",
        [{"item": sku, "qty": "2", "price": "10"}],
        warehouse="WH01",
        source_number=delivery["number"],
    )
    assert balance(app, sku) == (D(16), D(4 * 3 + 50 + 2 * 3))  # back at the cost it left at, not 4.43
    source = admin_api.get(f"/api/v1/sales_delivery/{delivery['id']}").get_json()["result"]
    assert source["lines"][0]["returned_qty"] == "2"

    def attempt(item, qty, **header):
        """Submit a one-line sales return (against `delivery` unless the header says otherwise)."""
        header = {"warehouse": "WH01", "source_number": delivery["number"], **header}
        draft = document(admin_api, "sales_return", [{"item": item, "qty": qty, "price": "10"}], **header)
        return submit(admin_api, "sales_return", draft)

    refused = attempt(sku, "5")
    assert refused.status_code == 422 and "lines.0.qty" in refused.get_json()["message"]
    assert attempt(other, "1").status_code == 422  # not on the delivery
    refused = attempt(sku, "1", partner="K002")
    assert refused.status_code == 422 and "source_number" in refused.get_json()["message"]
    assert attempt(sku, "1", source_number="XS-NO-SUCH").status_code == 422

    rest = post(
        admin_api,
        "sales_return",
        [{"item": sku, "qty": "4", "price": "10"}],
        warehouse="WH01",
        source_number=delivery["number"],
    )
    assert rest["status"] == "submitted"
    assert admin_api.post(f"/api/v1/sales_return/{ret['id']}/cancel").status_code == 200
    source = admin_api.get(f"/api/v1/sales_delivery/{delivery['id']}").get_json()["result"]
    assert source["lines"][0]["returned_qty"] == "4"
    assert ledger_problems(app) == []


def test_purchase_return_against_its_receipt(app, admin_api):
    sku = new_item(admin_api)
    receipt = receive(admin_api, sku, "10", "2")
    over = document(
        admin_api,
        "purchase_return",
        [{"item": sku, "qty": "11", "price": "2"}],
        warehouse="WH01",
        source_number=receipt["number"],
    )
    assert submit(admin_api, "purchase_return", over).status_code == 422
    post(
        admin_api,
        "purchase_return",
        [{"item": sku, "qty": "3", "price": "2"}],
        warehouse="WH01",
        source_number=receipt["number"],
    )
    assert (
        admin_api.get(f"/api/v1/purchase_receipt/{receipt['id']}").get_json()["result"]["lines"][0]["returned_qty"]
        == "3"
    )
    assert balance(app, sku) == (D(7), D(14))
    unlinked = post(admin_api, "purchase_return", [{"item": sku, "qty": "1", "price": "2"}], warehouse="WH01")
    assert unlinked["status"] == "submitted" and balance(app, sku)[0] == D(6)
    assert ledger_problems(app) == []


def test_a_sales_return_credits_no_more_than_its_delivery_charged(app, admin_api):
    """A return against a delivery at 999.00 of one unit sold at 19.99 credited the customer 1,128.87: the price is
    checked against what the delivery charged a unit (with tax, after the discount), to the cent. (A purchase
    return at another price is the supplier's 退货差价: test_money_reports.)"""
    sku = new_item(admin_api, tax_rate="13")
    receive(admin_api, sku, "10", "5")
    lines = [{"item": sku, "qty": "3", "price": "19.99", "discount_rate": "0.075"}]
    delivery = post(admin_api, "sales_delivery", lines, warehouse="WH01")
    assert delivery["total_with_tax"] == "62.68"  # 55.47 + 7.21
    header = {"warehouse": "WH01", "source_number": delivery["number"]}

    def attempt(price, qty="1", discount="0", **more):
        line = {"item": sku, "qty": qty, "price": price, "discount_rate": discount}
        return submit(admin_api, "sales_return", document(admin_api, "sales_return", [line], **header, **more))

    refused = attempt("999")
    assert refused.status_code == 422
    # 19.99 x 0.925 = 18.49075 a unit before tax, the most a line without a discount may ask
    assert refused.get_json()["message"] == {
        "lines.0.price": [f"退货单价高于源单 {delivery['number']} 的单价，最多 18.4907"]
    }
    assert attempt("19.99").status_code == 422  # the discount is not given back twice
    taken = attempt("19.99", discount="0.075")  # as delivered: 18.49 + 2.40
    assert taken.status_code == 200, taken.get_json()
    assert taken.get_json()["result"]["total_with_tax"] == "20.89"
    with_tax = attempt("20.89", prices_include_tax=True)  # the same unit priced with tax, to the cent
    assert with_tax.status_code == 200, with_tax.get_json()
    assert ledger_problems(app) == []
