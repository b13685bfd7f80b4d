"""The figures a document form shows while it is typed come from the server, computed by the same handlers
as a save (POST /api/v1/grid/<document>/draft_totals): what the form shows is what is saved."""

from __future__ import annotations

import pytest

from tests.ledger_helpers import document, new_item

URL = "/api/v1/grid/{model}/draft_totals"
MONEY = ("amount", "tax_amount", "amount_with_tax")
TOTALS = ("total_qty", "total_amount", "total_tax", "total_with_tax")


def draft(api, model, payload, status=200):
    response = api.post(URL.format(model=model), json=payload)
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("inclusive", [False, True])
def test_the_draft_comes_to_what_the_save_stores(app, admin_api, inclusive):
    sku = new_item(admin_api, tax_rate="13")
    lines = [
        {"item": sku, "qty": "3", "price": "11.3", "tax_rate": "13"},
        {"item": sku, "qty": "7", "price": "1.15", "tax_rate": "6", "discount_rate": "0.1"},
        {"item": sku, "qty": "1234", "price": "1000.01", "tax_rate": "13"},
    ]
    figures = draft(admin_api, "sales_order", {"prices_include_tax": inclusive, "lines": lines})
    saved = document(admin_api, "sales_order", lines, warehouse="WH01", prices_include_tax=inclusive)
    for shown, stored in zip(figures["lines"], saved["lines"], strict=True):
        assert {k: shown[k] for k in (*MONEY, "base_qty")} == {k: stored[k] for k in (*MONEY, "base_qty")}
    assert {k: figures["totals"][k] for k in TOTALS} == {k: saved[k] for k in TOTALS}
    amount = f"{float(saved['total_amount']):,.2f}"
    assert figures["summary"].startswith("合计：3 行，数量 1,244，金额 ¥" + amount), figures["summary"]
    assert f"价税合计 ¥{float(saved['total_with_tax']):,.2f}" in figures["summary"]


def test_typed_numbers_are_read_as_a_save_reads_them_and_refused_lines_are_left_out(app, admin_api):
    sku = new_item(admin_api)
    lines = [
        {"item": sku, "qty": "３", "price": "¥1,200", "tax_rate": ""},  # full-width digit, a currency sign, thousands
        {"item": sku, "qty": "2", "price": "abc"},  # refused on save: not in the total
        {"item": sku, "qty": "", "price": "5"},  # no quantity: refused on save too
        {"item": "", "qty": "", "price": ""},  # nothing typed: no line (the form leaves it out), not refused
        {"item": sku, "qty": "4"},  # no price yet: saved as it is, with no amount
    ]
    figures = draft(admin_api, "purchase_order", {"lines": lines})
    assert [line.get("amount") for line in figures["lines"]] == ["3600.00", None, None, None, None]
    assert [line.get("base_qty") for line in figures["lines"]] == ["3", None, None, None, "4"]
    assert figures["totals"]["total_amount"] == "3600.00" and figures["totals"]["total_qty"] == "7"
    assert figures["refused"] == [1, 2]
    assert figures["summary"] == (
        "合计：2 行，数量 7，金额 ¥3,600.00，税额 ¥0.00，价税合计 ¥3,600.00（第 2、3 行有错误，保存不了，未计入合计）"
    )


def test_the_total_leaves_out_the_lines_a_save_refuses(app, admin_api):
    """A line naming an item nobody has, or a quantity below the field's minimum, is refused by the save: the order's
    total is of the lines that count, what the server stores once the refused lines are mended or removed."""
    sku = new_item(admin_api, tax_rate="13")
    good = {"item": sku, "qty": "2", "price": "10", "tax_rate": "13"}
    lines = [good, {"item": "NO-SUCH-ITEM", "qty": "5", "price": "100"}, {"item": sku, "qty": "-3", "price": "10"}]
    figures = draft(admin_api, "sales_order", {"lines": lines})
    saved = document(admin_api, "sales_order", [good], warehouse="WH01")
    assert {k: figures["totals"][k] for k in TOTALS} == {k: saved[k] for k in TOTALS}
    assert figures["refused"] == [1, 2] and figures["lines"][1].get("amount") is None
    assert figures["summary"].startswith("合计：1 行，数量 2，金额 ¥20.00") and "第 2、3 行有错误" in figures["summary"]
    refused = admin_api.post("/api/v1/sales_order/", json={"partner": "K001", "warehouse": "WH01", "lines": lines})
    assert refused.status_code == 422  # the save refuses them indeed


def test_a_user_who_may_not_see_prices_gets_no_money(app, api_as, admin_api):
    line = {"item": new_item(admin_api), "qty": "2", "price": "10"}
    figures = draft(api_as("warehouse"), "sales_delivery", {"lines": [line]})
    line = figures["lines"][0]
    assert line["base_qty"] == "2" and "amount" not in line  # amounts are masked for this role
    assert "total_amount" not in figures["totals"] and "金额" not in figures["summary"]


def test_only_documents_and_only_lists_of_lines(app, admin_api):
    assert admin_api.post(URL.format(model="item"), json={"lines": []}).status_code == 404
    refused = draft(admin_api, "sales_order", {"lines": "3 lines"}, status=422)
    assert refused["errors"][0]["field"] == "lines"
    assert draft(admin_api, "sales_order", {"lines": []})["summary"].startswith("合计：0 行")


def test_a_line_without_a_tax_rate_shows_the_items_rate_as_the_save_takes_it(app, admin_api):
    """The form showed tax 0 for a line without a tax rate while saving took the item's 13%."""
    sku = new_item(admin_api, tax_rate="13")
    lines = [{"item": sku, "qty": "2", "price": "50"}]
    figures = draft(admin_api, "sales_order", {"lines": lines})
    saved = document(admin_api, "sales_order", lines, warehouse="WH01")
    assert saved["lines"][0]["tax_amount"] == "13.00"
    assert {k: figures["lines"][0][k] for k in MONEY} == {k: saved["lines"][0][k] for k in MONEY}
    assert {k: figures["totals"][k] for k in TOTALS} == {k: saved[k] for k in TOTALS}


def test_a_line_in_another_unit_reads_its_ratio_as_the_save_takes_it(app, admin_api):
    """A line typed in 箱 (24 瓶 to the 箱) is answered with its 换算率 as the save takes it: a form sent back with an
    error shows it again beside the amounts (it came back blank)."""
    figures = draft(
        admin_api, "purchase_order", {"lines": [{"item": "SP0001", "unit": "BOX", "qty": "2", "price": "30"}]}
    )
    line = figures["lines"][0]
    assert line["unit_ratio"] == "24" and line["base_qty"] == "48"
    saved = document(admin_api, "purchase_order", [{"item": "SP0001", "unit": "BOX", "qty": "2", "price": "30"}])
    assert saved["lines"][0]["unit_ratio"] == line["unit_ratio"]


def test_a_payments_lines_are_summed_by_their_amount_not_by_a_quantity_they_have_not(app, admin_api):
    """收付款单's lines hold amounts, no quantity: the form's total line said 合计：0 行，数量 0 under a line of
    13,820.37."""
    lines = [
        {"source_model": "purchase_receipt", "source_number": "X1", "allocated_amount": "13820.37"},
        {"source_model": "purchase_receipt", "source_number": "X2", "allocated_amount": "0.01"},
        {"source_model": "", "source_number": "", "allocated_amount": ""},
    ]
    figures = draft(admin_api, "payment", {"direction": "payment", "amount": "13820.38", "lines": lines})
    assert figures["summary"] == "合计：2 行，金额 ¥13,820.38", figures["summary"]
