"""Tax on priced documents: each line's rate (from the item), prices with or without tax per document
(the 单价含税 switch as its default), amounts exact to the cent, what partners owe with tax and the
stock ledger's cost without it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.ledger_helpers import balance, document, ledger_problems, new_item, new_partner, post, receive

CENT = Decimal("0.01")


def money(line):
    return line["amount"], line["tax_amount"], line["amount_with_tax"]


@pytest.fixture
def prices_include_tax(admin_api):
    assert admin_api.put("/api/v1/settings/prices_include_tax", json={"value": True}).status_code == 200
    yield
    assert admin_api.put("/api/v1/settings/prices_include_tax", json={"value": False}).status_code == 200


def test_prices_without_tax_add_the_tax_and_the_customer_owes_the_total(app, admin_api):
    sku = new_item(admin_api, tax_rate="13")
    receive(admin_api, sku, "10", "5")
    customer, pk = new_partner(admin_api, "customer")
    doc = document(
        admin_api, "sales_delivery", [{"item": sku, "qty": "3", "price": "19.99"}], partner=customer, warehouse="WH01"
    )
    assert doc["prices_include_tax"] is False  # the switch's default: off
    line = doc["lines"][0]
    assert line["tax_rate"] == "13"  # from the item
    assert money(line) == ("59.97", "7.80", "67.77")  # 59.97 x 13% = 7.7961
    assert (doc["total_amount"], doc["total_tax"], doc["total_with_tax"]) == ("59.97", "7.80", "67.77")
    assert admin_api.post(f"/api/v1/sales_delivery/{doc['id']}/submit").status_code == 200
    account = admin_api.get(f"/api/v1/accounts/{pk}").get_json()
    assert account["receivable"] == "67.77"
    assert [row["amount"] for row in account["statement"]] == ["67.77"]

    # a receipt settles the document up to its total with tax, not a cent more
    def receipt(allocated, amount):
        lines = [{"source_number": doc["number"], "allocated_amount": allocated}]
        return document(
            admin_api, "payment", lines, direction="receipt", partner=customer, account="A001", amount=amount
        )

    refused = admin_api.post(f"/api/v1/payment/{receipt('67.78', '100')['id']}/submit")
    assert refused.status_code == 422 and "67.77" in refused.get_json()["errors"][0]["message"]
    exact = receipt("67.77", "67.77")
    assert admin_api.post(f"/api/v1/payment/{exact['id']}/submit").status_code == 200
    assert admin_api.get(f"/api/v1/accounts/{pk}").get_json()["receivable"] == "0.00"


def test_prices_with_tax_take_the_tax_out_and_stock_is_valued_without_it(app, admin_api, prices_include_tax):
    sku = new_item(admin_api, tax_rate="13")
    supplier, pk = new_partner(admin_api, "supplier")
    doc = document(
        admin_api, "purchase_receipt", [{"item": sku, "qty": "3", "price": "11.3"}], partner=supplier, warehouse="WH01"
    )
    assert doc["prices_include_tax"] is True  # new documents follow the switch
    assert money(doc["lines"][0]) == ("30.00", "3.90", "33.90")
    assert admin_api.post(f"/api/v1/purchase_receipt/{doc['id']}/submit").status_code == 200
    assert balance(app, sku) == (Decimal("3"), Decimal("30.0000"))  # input VAT is not stock cost
    assert admin_api.get(f"/api/v1/accounts/{pk}?side=payable").get_json()["payable"] == "33.90"
    returned = post(
        admin_api,
        "purchase_return",
        [{"item": sku, "qty": "1", "price": "11.3"}],
        partner=supplier,
        warehouse="WH01",
        source_number=doc["number"],
    )
    assert money(returned["lines"][0]) == ("10.00", "1.30", "11.30")
    assert admin_api.get(f"/api/v1/accounts/{pk}?side=payable").get_json()["payable"] == "22.60"
    assert balance(app, sku) == (Decimal("2"), Decimal("20.0000"))
    assert ledger_problems(app) == []


def test_each_document_keeps_its_own_basis_and_recomputes_when_it_changes(app, admin_api):
    sku = new_item(admin_api, tax_rate="13")
    doc = document(admin_api, "sales_order", [{"item": sku, "qty": "2", "price": "56.5"}], warehouse="WH01")
    assert money(doc["lines"][0]) == ("113.00", "14.69", "127.69")
    admin_api.put("/api/v1/settings/prices_include_tax", json={"value": True})
    try:
        kept = admin_api.get(f"/api/v1/sales_order/{doc['id']}").get_json()["result"]
        assert kept["prices_include_tax"] is False and kept["total_with_tax"] == "127.69"  # the switch is a default
        # ticking the box on the draft re-reads its prices as including tax
        changed = admin_api.put(
            f"/api/v1/sales_order/{doc['id']}", json={"prices_include_tax": True, "version": kept["version"]}
        )
        assert changed.status_code == 200, changed.get_json()
        result = changed.get_json()["result"]
        assert money(result["lines"][0]) == ("100.00", "13.00", "113.00")
        assert (result["total_amount"], result["total_tax"], result["total_with_tax"]) == ("100.00", "13.00", "113.00")
    finally:
        admin_api.put("/api/v1/settings/prices_include_tax", json={"value": False})


def test_a_line_rate_typed_wins_over_the_item_and_discounts_come_before_tax(app, admin_api):
    sku = new_item(admin_api, tax_rate="13")
    doc = document(
        admin_api,
        "sales_order",
        [
            {"item": sku, "qty": "1", "price": "100", "tax_rate": "0"},
            {"item": sku, "qty": "1", "price": "100", "tax_rate": "6"},
            {"item": sku, "qty": "3", "price": "10", "discount_rate": "0.1"},
        ],
        warehouse="WH01",
    )
    assert [line["tax_rate"] for line in doc["lines"]] == ["0", "6", "13"]
    assert [money(line) for line in doc["lines"]] == [
        ("100.00", "0.00", "100.00"),
        ("100.00", "6.00", "106.00"),
        ("27.00", "3.51", "30.51"),
    ]
    assert (doc["total_amount"], doc["total_tax"], doc["total_with_tax"]) == ("227.00", "9.51", "236.51")
    refused = admin_api.post(
        "/api/v1/sales_order/",
        json={
            "date": "2026-11-25",
            "partner": "K001",
            "warehouse": "WH01",
            "lines": [
                {"item": sku, "qty": "1", "price": "1", "tax_rate": "101"},
            ],
        },
    )
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "lines.0.tax_rate"


def test_large_amounts_split_exactly_on_every_backend(app, admin_api):
    sku = new_item(admin_api, tax_rate="13")
    price, qty = Decimal("1234567890123.4567"), Decimal(3)
    doc = document(admin_api, "sales_order", [{"item": sku, "qty": str(qty), "price": str(price)}], warehouse="WH01")
    amount = (qty * price).quantize(CENT, rounding=ROUND_HALF_UP)
    tax = (amount * Decimal("0.13")).quantize(CENT, rounding=ROUND_HALF_UP)
    assert money(doc["lines"][0]) == (str(amount), str(tax), str(amount + tax))
    assert doc["total_with_tax"] == "4185185147518.52"


def test_credit_limit_and_approval_bands_count_the_tax(app, admin_api, api_as):
    sku = new_item(admin_api, tax_rate="13")
    customer, _ = new_partner(admin_api, "customer", credit_limit="100")
    order = document(
        admin_api, "sales_order", [{"item": sku, "qty": "1", "price": "90"}], partner=customer, warehouse="WH01"
    )
    response = admin_api.post(f"/api/v1/sales_order/{order['id']}/submit")  # 101.70 with tax
    assert response.status_code == 422 and "101.70" in response.get_json()["errors"][0]["message"]
    # a purchase order of 9,000 before tax is 10,170 with it: over the manager's band of 10,000
    big = document(admin_api, "purchase_order", [{"item": sku, "qty": "1", "price": "9000"}], warehouse="WH01")
    assert big["total_with_tax"] == "10170.00"
    assert (
        api_as("clerk").post(f"/api/v1/purchase_order/{big['id']}/submit").get_json()["result"]["status"] == "pending"
    )


def test_a_blank_rate_on_a_saved_line_takes_the_items(app, admin_api):
    sku = new_item(admin_api, tax_rate="13")
    doc = document(
        admin_api, "sales_order", [{"item": sku, "qty": "1", "price": "100", "tax_rate": "0"}], warehouse="WH01"
    )
    line = doc["lines"][0]
    assert doc["total_with_tax"] == "100.00"
    changed = admin_api.put(
        f"/api/v1/sales_order/{doc['id']}",
        json={
            "version": doc["version"],
            "lines": [{"id": line["id"], "item": sku, "qty": "1", "price": "100", "tax_rate": None}],
        },
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["result"]["lines"][0]["tax_rate"] == "13"
    assert changed.get_json()["result"]["total_with_tax"] == "113.00"


def test_the_last_price_is_offered_on_the_new_documents_basis(app, admin_api, prices_include_tax):
    """Agreed at 100 before 13% tax: offered at 113 on a document whose prices include tax."""
    sku = new_item(admin_api, tax_rate="13")
    supplier, _ = new_partner(admin_api, "supplier")
    order = document(
        admin_api,
        "purchase_order",
        [{"item": sku, "qty": "1", "price": "100"}],
        partner=supplier,
        warehouse="WH01",
        prices_include_tax=False,
    )
    assert admin_api.post(f"/api/v1/purchase_order/{order['id']}/submit").status_code == 200
    again = document(admin_api, "purchase_order", [{"item": sku, "qty": "1"}], partner=supplier, warehouse="WH01")
    assert again["prices_include_tax"] is True
    assert again["lines"][0]["price"] == "113.00" and again["total_with_tax"] == "113.00"
    url = f"/api/v1/grid/purchase_order/line_defaults?item={sku}&partner={supplier}"
    assert admin_api.get(url).get_json()["price"] == "100.00"
    assert admin_api.get(url + "&prices_include_tax=1").get_json()["price"] == "113.00"
