"""A document and the stock ledger show the same money: a receipt puts its line's amount before tax into
stock, to the cent; a stocktake line's amount is what its moves posted; a transfer brings in what it took
out; an item's cost price follows its stock's average (FIFO issues and cancels too)."""

from __future__ import annotations

from decimal import Decimal as D

from tests.ledger_helpers import balance, ledger_problems, new_item, post, receive
from tests.test_units import with_box


def item_cost(api, sku):
    """The item's cost price as the API shows it."""
    found = api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{sku})))").get_json()["result"]
    return found[0]["cost_price"]


def a_third_each(api, warehouse="WH01", **item_fields):
    """An item with 300 on hand worth 100.00 (100 bought at 1.00, 200 given free): 0.3333... each."""
    sku = new_item(api, **item_fields)
    receive(api, sku, "100", "1", warehouse)
    receive(api, sku, "200", "0", warehouse)
    return sku


def test_a_receipt_with_tax_in_its_prices_stocks_the_amount_before_tax_to_the_cent(app, admin_api):
    # 1000 @ 10.00 with 13% included: 10000.00 = 8849.56 + 1150.44 (not 1000 x 8.8496 = 8849.60)
    sku = new_item(admin_api, tax_rate="13")
    receipt = post(
        admin_api,
        "purchase_receipt",
        [{"item": sku, "qty": "1000", "price": "10"}],
        warehouse="WH01",
        prices_include_tax=True,
    )
    line = receipt["lines"][0]
    assert (line["amount"], line["tax_amount"], line["amount_with_tax"]) == ("8849.56", "1150.44", "10000.00")
    assert balance(app, sku) == (D(1000), D("8849.56"))
    assert ledger_problems(app) == []


def test_a_receipt_in_boxes_stocks_its_amount_not_the_rounded_cost_per_piece(app, admin_api):
    # 2 boxes of 3 at 10.00: 20.00 for 6 pieces (not 6 x 3.3333 = 19.9998)
    sku, _ = with_box(admin_api, ratio="3")
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "2", "unit": "BOX", "price": "10"}], warehouse="WH01")
    assert balance(app, sku) == (D(6), D("20.00"))
    extra = [{"item": sku, "qty": "1", "unit": "BOX", "price": "10"}]
    post(admin_api, "stock_adjustment", extra, direction="in", warehouse="WH01", reason="other")
    assert balance(app, sku) == (D(9), D("30.00"))
    assert ledger_problems(app) == []


def test_a_stocktake_line_shows_what_its_loss_took_out_of_the_ledger(app, admin_api):
    sku = a_third_each(admin_api)
    take = post(admin_api, "stocktake", [{"item": sku, "counted_qty": "0", "reason": "theft"}], warehouse="WH01")
    line = take["lines"][0]
    # the last 300 units take exactly the 100.00 left (not 300 x 0.3333 = 99.99)
    assert (line["diff_qty"], line["price"], line["amount"]) == ("-300", "0.3333", "-100.00")
    assert take["total_amount"] == "-100.00"
    assert balance(app, sku) == (D(0), D(0))
    assert ledger_problems(app) == []


def test_a_transfer_brings_in_exactly_what_it_took_out(app, admin_api):
    sku = a_third_each(admin_api)
    post(admin_api, "stock_transfer", [{"item": sku, "qty": "300"}], from_warehouse="WH01", to_warehouse="WH02")
    assert balance(app, sku, "WH01") == (D(0), D(0))
    assert balance(app, sku, "WH02") == (D(300), D(100))  # not 300 x 0.3333 = 99.99
    assert ledger_problems(app) == []


def test_a_fifo_items_cost_price_follows_its_balance_after_an_issue(app, admin_api):
    sku = new_item(admin_api, costing="fifo")
    receive(admin_api, sku, "10", "1")
    receive(admin_api, sku, "10", "2")
    assert D(item_cost(admin_api, sku)) == D("1.5")
    post(admin_api, "sales_delivery", [{"item": sku, "qty": "15", "price": "3"}], warehouse="WH01")
    assert balance(app, sku) == (D(5), D(10))  # the five left are from the 2.00 layer
    assert D(item_cost(admin_api, sku)) == D(2)
    assert ledger_problems(app) == []


def test_an_items_cost_price_follows_a_cancelled_receipt(app, admin_api):
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "1")
    dearer = receive(admin_api, sku, "10", "2")
    assert D(item_cost(admin_api, sku)) == D("1.5")
    assert admin_api.post(f"/api/v1/purchase_receipt/{dearer['id']}/cancel").status_code == 200
    assert balance(app, sku) == (D(10), D(10))
    assert D(item_cost(admin_api, sku)) == D(1)
    assert ledger_problems(app) == []
