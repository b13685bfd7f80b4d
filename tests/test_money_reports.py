"""利润表 and 资产负债表 over one month of documents with the figures written out: revenue, cost of goods sold
from the ledger, stocktake loss, other stock out, the purchase return difference, other income and expense
(tax split out), money in and out, a cancelled expense; equity's change over the month is its profit."""

from __future__ import annotations

import io
from decimal import Decimal as D
from typing import Any

import openpyxl

from app.meta.types import money_text
from tests.conftest import hide_prices, unique
from tests.ledger_helpers import new_item, new_partner, post

MONTH = "2029-03-01..2029-03-31"  # no other test dates anything in March 2029
BEFORE = "2029-02-28"


def run(api: Any, name: str, status: int = 200, **params: str) -> Any:
    response = api.get(f"/api/v1/reports/{name}", query_string=params)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def money(api: Any, model: str, **body: Any) -> dict[str, Any]:
    """A submitted money document (no lines)."""
    made = api.post(f"/api/v1/{model}/", json=body)
    assert made.status_code == 201, made.get_json()
    doc = made.get_json()["result"]
    posted = api.post(f"/api/v1/{model}/{doc['id']}/submit")
    assert posted.status_code == 200, posted.get_json()
    return posted.get_json()["result"]


def test_income_statement_and_balance_sheet_of_a_month(app, admin_api, api_as, login_as):
    api = admin_api
    sku = new_item(api, tax_rate="13")
    customer, _ = new_partner(api, "customer")
    supplier, _ = new_partner(api, "supplier")
    bank, cash = unique("AB"), unique("AC")
    for code, kind in ((bank, "bank"), (cash, "cash")):
        body = {"code": code, "name": code, "kind": kind, "opening_balance": "1000"}
        assert api.post("/api/v1/account/", json=body).status_code == 201
    line = {"item": sku, "tax_rate": "13"}
    receipt = post(
        api,
        "purchase_receipt",
        [{**line, "qty": "10", "price": "10"}],
        partner=supplier,
        warehouse="WH01",
        date="2029-03-02",
    )  # 100.00 + 13.00 tax: stock 10 @ 10
    delivery = post(
        api,
        "sales_delivery",
        [{**line, "qty": "4", "price": "25"}],
        partner=customer,
        warehouse="WH01",
        date="2029-03-05",
    )  # revenue 100.00, tax 13.00, cost 40.00
    post(
        api,
        "sales_return",
        [{**line, "qty": "1", "price": "25"}],
        partner=customer,
        warehouse="WH01",
        source_number=delivery["number"],
        date="2029-03-06",
    )  # revenue -25.00, tax -3.25, cost back 10.00
    post(
        api,
        "purchase_return",
        [{**line, "qty": "2", "price": "12"}],
        partner=supplier,
        warehouse="WH01",
        source_number=receipt["number"],
        date="2029-03-08",
    )  # owe 24.00 + 3.12 less; 20.00 of stock out: a difference of 4.00
    post(
        api, "stocktake", [{"item": sku, "counted_qty": "4", "reason": "damage"}], warehouse="WH01", date="2029-03-10"
    )  # 1 @ 10
    post(
        api,
        "stock_adjustment",
        [{"item": sku, "qty": "1"}],
        direction="out",
        warehouse="WH01",
        reason="damage",
        date="2029-03-12",
    )  # 10.00 out
    common = {"date": "2029-03-15", "account": bank}
    money(api, "other_income_expense", direction="income", category="interest", amount="10.60", tax_rate="6", **common)
    money(api, "other_income_expense", direction="expense", category="rent", amount="545", tax_rate="9", **common)
    dropped = money(api, "other_income_expense", direction="expense", category="office", amount="99", **common)
    assert api.post(f"/api/v1/other_income_expense/{dropped['id']}/cancel").status_code == 200
    money(api, "payment", direction="receipt", partner=customer, amount="50", **common)
    money(api, "payment", direction="payment", partner=supplier, amount="100", **common)
    money(api, "account_transfer", date="2029-03-20", from_account=bank, to_account=cash, amount="200")

    finance = api_as("finance")
    statement = run(finance, "income_statement", period=MONTH)
    assert [row["month"] for row in statement["rows"]] == ["2029-03"]
    assert statement["totals"] == {
        "revenue": "75.00",
        "cogs": "30.00",
        "gross_profit": "45.00",
        "gross_margin": "60.00",
        "stocktake_gain": "0.00",
        "stocktake_loss": "10.00",
        "other_stock": "-10.00",
        "return_difference": "4.00",
        "other_income": "10.00",
        "other_expense": "500.00",
        "profit": "-461.00",
    }
    sheet = run(finance, "balance_sheet", date="2029-03-31", compare=BEFORE)
    start, end = ({k: v for k, v in row.items() if k != "date"} for row in sheet["rows"])
    assert [row["date"] for row in sheet["rows"]] == [BEFORE, "2029-03-31"]
    change = {name: D(end[name]) - D(start[name]) for name in end}
    assert change["cash"] == D("-584.40")  # 10.60 - 545 + 50 - 100; the transfer moves nothing in total
    assert change["receivables"] == D("34.75")  # 113 - 28.25 - 50
    assert (change["advances_paid"], change["payables"]) == (D("14.12"), D(0))  # 113 - 27.12 - 100: paid ahead
    assert change["inventory"] == D("30.00")  # 3 left @ 10
    # output tax 13 - 3.25 + 0.60, input tax 13 - 3.12 + 45: 44.53 more to carry forward (or less to pay)
    assert change["vat_credit"] - change["vat_payable"] == D("44.53")
    assert change["equity"] == D(statement["totals"]["profit"])
    for row in sheet["rows"]:
        assert D(row["equity"]) == D(row["total_assets"]) - D(row["total_liabilities"])

    # masks: 价格屏蔽 hides every kind of figure, and both reports are about them: not offered at all (an income
    # statement of months without a figure is no income statement)
    hide_prices(app, ["finance"])
    try:
        run(finance, "income_statement", status=403, period=MONTH)
        run(finance, "balance_sheet", status=403, date="2029-03-31")
        offered = {r["name"] for r in finance.get("/api/v1/reports/").get_json()["result"]}
        assert "stock_ledger" in offered and not offered & {"income_statement", "balance_sheet", "gross_profit"}
    finally:
        api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []})
    for role in ("clerk", "purchaser", "salesperson", "warehouse"):
        run(api_as(role), "income_statement", status=403, period=MONTH)
        run(api_as(role), "balance_sheet", status=403)
    run(api_as("manager"), "balance_sheet")
    book = finance.get("/api/v1/reports/income_statement", query_string={"period": MONTH, "format": "xlsx"})
    sheet_xlsx = openpyxl.load_workbook(io.BytesIO(book.get_data())).worksheets[0]
    assert sheet_xlsx["A1"].value == "利润表" and len(sheet_xlsx._charts) == 1
    web = login_as("finance")
    assert web.get("/reports/balance_sheet/?date=2029-03-31&compare=2029-02-28").status_code == 200
    printed = web.get("/reports/balance_sheet/print?date=2029-03-31&compare=2029-02-28").get_data(as_text=True)
    assert "资产负债表" in printed and "所有者权益" in printed and money_text(end["equity"]) in printed  # 206,550.00


def test_opening_balances_are_equity_from_the_start_never_profit(app, admin_api):
    """期初单: its stock and what partners owe count at every date, like an account's opening balance, so the
    month it is dated in has no profit from it and no change of equity."""
    sku = new_item(admin_api)
    customer, _ = new_partner(admin_api, "customer")
    lines = [{"item": sku, "qty": "10", "price": "2.50"}, {"partner": customer, "receivable_amount": "80"}]
    made = admin_api.post("/api/v1/opening_balance/", json={"date": "2001-01-01", "warehouse": "WH01", "lines": lines})
    assert made.status_code == 201, made.get_json()
    assert admin_api.post(f"/api/v1/opening_balance/{made.get_json()['result']['id']}/submit").status_code == 200
    totals = run(admin_api, "income_statement", period="2001-01-01..2001-01-31")["totals"]
    assert (totals["other_stock"], totals["profit"]) == ("0.00", "0.00")
    sheet = run(admin_api, "balance_sheet", date="2001-01-31", compare="2000-12-31")["rows"]
    assert sheet[0] == {**sheet[1], "date": "2000-12-31"}  # every opening there before its date too
    before = run(admin_api, "balance_sheet", date="2029-02-28")["rows"][0]
    assert D(before["inventory"]) >= D(25) and D(before["receivables"]) >= D(80)
