"""Money: a delivery counts against the credit limit like an order; what is open on a delivery is its total
less the returns that name it; a cash or bank account that would go below zero is refused or warned about."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest

from app.clock import business_today
from app.config import ROOT
from app.meta.loader import load_metadata
from tests.conftest import unique
from tests.ledger_helpers import balance, document, new_item, new_partner, post, receive, refusal


def new_account(api, opening):
    """A bank account with an opening balance; its code."""
    code = unique("AC")
    response = api.post("/api/v1/account/", json={"code": code, "name": f"账户 {code}", "opening_balance": opening})
    assert response.status_code == 201, response.get_json()
    return code


def receipt_for(api, customer, number, allocated, amount, **header):
    """A draft 收款单 of `amount` into A001 allocating `allocated` to document `number`."""
    lines = [{"source_number": number, "allocated_amount": allocated}]
    return document(
        api, "payment", lines, direction="receipt", partner=customer, account="A001", amount=amount, **header
    )


@pytest.fixture
def refuse_negative_cash(admin_api):
    assert admin_api.put("/api/v1/settings/refuse_negative_cash", json={"value": True}).status_code == 200
    yield
    assert admin_api.put("/api/v1/settings/refuse_negative_cash", json={"value": False}).status_code == 200


def test_a_delivery_without_an_order_counts_against_the_credit_limit(app, admin_api, api_as):
    customer, _ = new_partner(admin_api, "customer", credit_limit="5000")
    sku = new_item(admin_api)
    receive(admin_api, sku, "1000", "1")

    def deliver(qty, **header):
        return document(
            admin_api, "sales_delivery", [{"item": sku, "qty": qty, "price": "10"}], partner=customer, **header
        )

    too_much = deliver("600", warehouse="WH01")  # 6,000 owed against a limit of 5,000, no order
    refused = admin_api.post(f"/api/v1/sales_delivery/{too_much['id']}/submit")
    assert refused.status_code == 422 and "5000.00" in refused.get_json()["message"]["partner"][0]
    # the warehouse keeper who ships it is refused too, without the limit, the debt or the sale's amount
    keeper = api_as("warehouse").post(f"/api/v1/sales_delivery/{too_much['id']}/submit")
    assert keeper.status_code == 422
    assert keeper.get_json()["message"]["partner"] == ["超出客户的信用额度，请联系财务或销售主管"]
    order = post(
        admin_api, "sales_order", [{"item": sku, "qty": "400", "price": "10"}], partner=customer, warehouse="WH01"
    )
    on_order = deliver("400", warehouse="WH01", source_number=order["number"])  # the order was counted already
    assert admin_api.post(f"/api/v1/sales_delivery/{on_order['id']}/submit").status_code == 200
    beyond = deliver("200", warehouse="WH01")  # 4,000 owed + 2,000
    assert admin_api.post(f"/api/v1/sales_delivery/{beyond['id']}/submit").status_code == 422
    up_to = deliver("100", warehouse="WH01")  # 4,000 owed + 1,000: exactly the limit
    answer = admin_api.post(f"/api/v1/sales_delivery/{up_to['id']}/submit")
    assert answer.status_code == 200, answer.get_json()


def test_a_return_named_on_a_delivery_lowers_what_can_be_allocated_to_it(app, admin_api):
    customer, pk = new_partner(admin_api, "customer", payment_terms_days=10)
    sku = new_item(admin_api)
    today = business_today()
    old_day = (today - dt.timedelta(days=40)).isoformat()
    receive_old = [{"item": sku, "qty": "100", "price": "1"}]
    post(admin_api, "purchase_receipt", receive_old, warehouse="WH01", date=old_day)
    older = [{"item": sku, "qty": "10", "price": "100"}]
    post(admin_api, "sales_delivery", older, warehouse="WH01", partner=customer, date=old_day)  # 1,000, overdue
    recent = [{"item": sku, "qty": "14", "price": "100"}]  # today's (the helpers' fixed date falls due as days pass)
    delivery = post(admin_api, "sales_delivery", recent, warehouse="WH01", partner=customer, date=today.isoformat())
    post(
        admin_api,
        "sales_return",
        [{"item": sku, "qty": "1", "price": "100"}],
        warehouse="WH01",
        partner=customer,
        source_number=delivery["number"],
        date=today.isoformat(),
    )
    account = admin_api.get(f"/api/v1/accounts/{pk}").get_json()
    assert account["receivable"] == "2300.00"
    # the return settles the delivery it names, not the oldest one
    assert (account["ageing"]["current"], account["ageing"]["1_30"]) == ("1300.00", "1000.00")
    too_much = receipt_for(admin_api, customer, delivery["number"], "1400", "1400")
    refused = admin_api.post(f"/api/v1/payment/{too_much['id']}/submit")
    assert refused.status_code == 422
    assert "1300.00" in refused.get_json()["message"]["lines.0.allocated_amount"][0]
    owed = receipt_for(admin_api, customer, delivery["number"], "1300", "1300")
    assert admin_api.post(f"/api/v1/payment/{owed['id']}/submit").status_code == 200
    account = admin_api.get(f"/api/v1/accounts/{pk}").get_json()
    assert (account["receivable"], account["ageing"]["current"], account["ageing"]["1_30"]) == (
        "1000.00",
        "0.00",
        "1000.00",
    )


def test_paying_out_more_than_an_account_holds_warns_by_default(app, admin_api):
    supplier, _ = new_partner(admin_api, "supplier")
    account = new_account(admin_api, "100")
    paid = document(admin_api, "payment", [], direction="payment", partner=supplier, account=account, amount="150")
    answer = admin_api.post(f"/api/v1/payment/{paid['id']}/submit")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["result"]["status"] == "submitted"
    assert any(account in text and "-50.00" in text for text in answer.get_json()["warnings"])
    balances = {row["code"]: row["balance"] for row in admin_api.get("/api/v1/cash/").get_json()["result"]}
    assert balances[account] == "-50.00"


def test_paying_out_more_than_an_account_holds_is_refused_when_the_setting_says_so(
    app, admin_api, refuse_negative_cash
):
    supplier, _ = new_partner(admin_api, "supplier")
    customer, _ = new_partner(admin_api, "customer")
    account = new_account(admin_api, "100")
    over = document(admin_api, "payment", [], direction="payment", partner=supplier, account=account, amount="100.01")
    refused = admin_api.post(f"/api/v1/payment/{over['id']}/submit")
    assert refused.status_code == 422 and "-0.01" in refused.get_json()["message"]["account"][0]
    money_in = document(admin_api, "payment", [], direction="receipt", partner=customer, account=account, amount="50")
    assert admin_api.post(f"/api/v1/payment/{money_in['id']}/submit").status_code == 200
    assert admin_api.post(f"/api/v1/payment/{over['id']}/submit").status_code == 200  # 150 held: 49.99 left
    # cancelling the receipt would take its 50 out again: below zero
    cancel = admin_api.post(f"/api/v1/payment/{money_in['id']}/cancel")
    assert cancel.status_code == 422 and "-0.01" in cancel.get_json()["message"]["account"][0]
    assert admin_api.get(f"/api/v1/payment/{money_in['id']}").get_json()["result"]["status"] == "submitted"


def test_a_salesperson_reads_their_customers_whole_account(admin_api, api_as):
    """A customer's balance is the customer's: the salesperson who owns it sees every document of it, whoever
    sold (a delivery without a salesperson, or another's), not only their own deliveries beside all its payments
    (which read a negative balance where the customer owed money)."""
    salesperson = api_as("salesperson")
    customer, pk = new_partner(admin_api, "customer", owner="u_salesperson")
    sku = new_item(admin_api)
    receive(admin_api, sku, "100", "1")
    where = {"partner": customer, "warehouse": "WH01"}
    theirs = post(salesperson, "sales_delivery", [{"item": sku, "qty": "2", "price": "100"}], **where)
    nobodys = post(admin_api, "sales_delivery", [{"item": sku, "qty": "5", "price": "100"}], **where)
    assert nobodys["salesperson"] is None
    paid = receipt_for(admin_api, customer, nobodys["number"], "300", "300")
    assert admin_api.post(f"/api/v1/payment/{paid['id']}/submit").status_code == 200
    owed = admin_api.get(f"/api/v1/accounts/{pk}").get_json()["receivable"]
    assert owed == "400.00"  # 200 + 500 - 300
    assert salesperson.get(f"/api/v1/accounts/{pk}").get_json()["receivable"] == owed
    statement = salesperson.get(
        "/api/v1/reports/partner_statement", query_string={"partner": customer, "period": "2026-11-01..2026-11-30"}
    ).get_json()
    numbers = {row["number"] for row in statement["rows"]}
    assert {theirs["number"], nobodys["number"]} <= numbers
    assert salesperson.get(f"/api/v1/sales_delivery/{nobodys['id']}").status_code == 200


def test_meta_check_refuses_a_row_scope_that_leaves_part_of_an_account_out(tmp_path):
    root = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", root)
    roles = root / "roles.yaml"
    whole, own = "sales_delivery: {salesperson: me, partner: visible}", "sales_delivery: {salesperson: me}"
    text = roles.read_text(encoding="utf-8")
    assert whole in text
    roles.write_text(text.replace(whole, own))
    meta, errors = load_metadata(root)
    assert meta is None
    assert [str(e) for e in errors] == [
        "metadata/roles.yaml: role 'salesperson': row_scope of sales_delivery leaves out rows of partners whose"
        " receivable account the role reads; add `partner: visible` to it"
    ]


def test_an_allocation_to_a_document_of_the_other_side_says_so(admin_api):
    """A 收款单 allocated to a purchase receipt read 找不到已审核的源单: it says what is wrong, as does a 付款单
    allocated to a delivery."""
    sku = new_item(admin_api)
    both, _ = new_partner(admin_api, "both")
    bought = post(
        admin_api, "purchase_receipt", [{"item": sku, "qty": "2", "price": "5"}], partner=both, warehouse="WH01"
    )
    sold = post(admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "9"}], partner=both, warehouse="WH01")
    for typed in ({}, {"source_model": "purchase_receipt"}):
        money_in = receipt_for(admin_api, both, bought["number"], "10", "10")
        if typed:
            line = money_in["lines"][0]
            changed = {"lines": [{"id": line["id"], **typed}], "version": money_in["version"]}
            assert admin_api.put(f"/api/v1/payment/{money_in['id']}", json=changed).status_code == 200
        refused = admin_api.post(f"/api/v1/payment/{money_in['id']}/submit").get_json()
        expected = f"收款单只能核销销售出库单或期初应收，{bought['number']} 是采购入库单"
        assert refused["message"]["lines.0.source_number"] == [expected], refused
    lines = [{"source_number": sold["number"], "allocated_amount": "9"}]
    money_out = document(admin_api, "payment", lines, direction="payment", partner=both, account="A001", amount="9")
    refused = admin_api.post(f"/api/v1/payment/{money_out['id']}/submit").get_json()
    assert refused["message"]["lines.0.source_number"] == [
        f"付款单只能核销采购入库单或期初应付，{sold['number']} 是销售出库单"
    ]


def test_a_line_without_a_price_does_not_post_money_nobody_owes(app, admin_api):
    """A receipt line of a new item from a new supplier has no price to default to: it posted at nothing (no payable,
    and the item's moving-average cost pulled down). Submitting asks for the price; 0 (a free item) is a price."""
    sku = new_item(admin_api)
    supplier, _ = new_partner(admin_api, "supplier")
    draft = document(admin_api, "purchase_receipt", [{"item": sku, "qty": "5"}], partner=supplier, warehouse="WH01")
    assert draft["lines"][0]["price"] is None
    refused = refusal(admin_api, "purchase_receipt", draft)
    assert refused["lines.0.price"] == "第 1 行没有单价，不能审核：请填写单价（赠品请填 0）"
    assert balance(app, sku) == (Decimal(0), Decimal(0))
    free = document(
        admin_api, "purchase_receipt", [{"item": sku, "qty": "5", "price": "0"}], partner=supplier, warehouse="WH01"
    )
    assert admin_api.post(f"/api/v1/purchase_receipt/{free['id']}/submit").status_code == 200
    assert balance(app, sku) == (Decimal(5), Decimal(0))
