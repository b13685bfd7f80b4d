"""The older accounts, overdue and reorder URLs are views of the report runner (their figures are the reports'),
and the analyses drill down to the lines behind each row: following a row's `_drill` gives lines that add up
to that row, whatever the grouping (a week in ISO weeks on both databases)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import openpyxl
import pytest

from tests.ledger_helpers import new_item, new_partner, post

WEEKS = "2025-12-29..2026-01-11"  # ISO weeks 2026-W01 and W02; 2026-01-01 is a Thursday (SQLite's %W said W00)


def run(api: Any, name: str, **params: str) -> Any:
    response = api.get(f"/api/v1/reports/{name}", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def follow(api: Any, url: str) -> Any:
    """The answer of the report a row's drill-down opens."""
    parts = urlsplit(url)
    name = parts.path.strip("/").split("/")[1]
    return name, run(api, name, **dict(parse_qsl(parts.query)))


@pytest.fixture(scope="module")
def sales(app: Any, api_as: Any) -> dict[str, Any]:
    """One item sold to two customers over two ISO weeks around new year, one delivery partly returned."""
    api = api_as("admin")
    sku = new_item(api)
    first, _ = new_partner(api, "customer")
    second, _ = new_partner(api, "customer")
    post(api, "purchase_receipt", [{"item": sku, "qty": "50", "price": "4"}], warehouse="WH01", date="2025-12-20")
    one = post(
        api,
        "sales_delivery",
        [{"item": sku, "qty": "3", "price": "10"}],
        warehouse="WH01",
        partner=first,
        date="2026-01-01",
    )
    post(
        api,
        "sales_delivery",
        [{"item": sku, "qty": "5", "price": "11"}],
        warehouse="WH01",
        partner=second,
        date="2026-01-04",
    )
    post(
        api,
        "sales_delivery",
        [{"item": sku, "qty": "2", "price": "12"}],
        warehouse="WH01",
        partner=first,
        date="2026-01-06",
    )
    back = post(
        api,
        "sales_return",
        [{"item": sku, "qty": "1", "price": "10"}],
        warehouse="WH01",
        partner=first,
        date="2026-01-07",
    )
    return {"sku": sku, "first": first, "second": second, "delivery": one["number"], "return": back["number"]}


@pytest.mark.parametrize("grouping", ["day", "week", "month", "customer", "item", "category", "salesperson"])
def test_each_sales_analysis_row_opens_the_lines_that_add_up_to_it(admin_api, sales, grouping):
    answer = run(admin_api, "sales_analysis", period=WEEKS, item=sales["sku"], by=grouping)
    assert answer["rows"], answer
    for row in answer["rows"]:
        name, lines = follow(admin_api, row["_drill"])
        assert name == "sales_lines"
        for column in ("qty", "amount", "tax", "amount_with_tax"):
            assert D(lines["totals"][column]) == D(row[column]), (grouping, row["group"], column, lines)
        assert all(line["_drill"].startswith("/m/sales_") for line in lines["rows"])
    if grouping == "week":
        assert [row["group"] for row in answer["rows"]] == ["2026-W01", "2026-W02"]  # ISO weeks on both databases
        first_week = follow(admin_api, answer["rows"][0]["_drill"])[1]
        assert {line["number"] for line in first_week["rows"]} >= {sales["delivery"]}
        assert first_week["params"]["period"] == "2025-12-29..2026-01-04"


def test_the_lines_name_their_documents_and_returns_count_negative(admin_api, sales):
    lines = run(admin_api, "sales_lines", period=WEEKS, item=sales["sku"], partner=sales["first"])["rows"]
    assert [(line["date"], line["number"], line["qty"], line["amount"]) for line in lines] == [
        ("2026-01-01", sales["delivery"], "3", "30.00"),
        ("2026-01-06", lines[1]["number"], "2", "24.00"),
        ("2026-01-07", sales["return"], "-1", "-10.00"),
    ]
    assert (
        lines[2]["document_type"] == "销售退货单" and lines[2]["_drill"] == f"/m/sales_return/?search={sales['return']}"
    )


def test_a_salesperson_drills_into_their_own_lines_only(admin_api, api_as, sales):
    """The lines report is run as the reader too: another salesperson's customers are not in it."""
    seller = api_as("salesperson")
    assert seller.get("/api/v1/reports/sales_lines", query_string={"period": WEEKS}).status_code == 200
    rows = run(seller, "sales_lines", period=WEEKS)["rows"]
    assert sales["delivery"] not in {row["number"] for row in rows}  # the admin's delivery, no salesperson
    assert api_as("warehouse").get("/api/v1/reports/sales_lines").status_code == 403


def test_overdue_and_accounts_answer_what_the_reports_answer(admin_api, api_as):
    """/api/v1/accounts/overdue is the overdue report; a partner's account is partner_statement and ar_ageing."""
    customer, pk = new_partner(admin_api, "customer", payment_terms_days="10")
    sku = new_item(admin_api)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "5", "price": "1"}], warehouse="WH01", date="2026-01-01")
    post(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "2", "price": "35"}],
        warehouse="WH01",
        partner=customer,
        date="2026-01-05",
    )
    for role in ("admin", "finance"):
        api = api_as(role)
        legacy = {row["partner"]: row for row in api.get("/api/v1/accounts/overdue").get_json()["result"]}
        report = {row["partner"]["key"]: row for row in run(api, "overdue")["rows"]}
        assert set(legacy) == set(report) and customer in legacy
        for code, row in legacy.items():
            assert row["overdue"] == report[code]["overdue"]
            assert row["ageing"]["over_90"] == report[code]["over_90"]
        mine = legacy[customer]
        assert mine["overdue"] == "70.00" and sum(D(v) for v in mine["ageing"].values()) == D("70.00")
        account = api.get(f"/api/v1/accounts/{pk}").get_json()
        statement = run(api, "partner_statement", partner=customer, period="2000-01-01..2099-12-31")["rows"]
        assert [r["number"] for r in account["statement"]] == [r["number"] for r in statement if r["number"]]
        assert account["receivable"] == statement[-1]["balance"] == "70.00"
        ageing = by_partner(run(api, "ar_ageing", partner=customer)["rows"])[customer]
        assert account["ageing"]["over_90"] == ageing["over_90"] and account["ageing"]["current"] == ageing["current"]


def by_partner(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["partner"]["key"]: row for row in rows}


def test_reorder_suggestions_are_the_reorder_report(admin_api, api_as):
    new_item(admin_api, reorder_point="30", max_stock="100")
    for role in ("admin", "purchaser"):
        api = api_as(role)
        legacy = api.get("/api/v1/reorder/suggestions").get_json()["result"]
        report = run(api, "reorder")["rows"]
        assert [row["item"] for row in legacy] == [row["item"]["key"] for row in report]  # the report's order
        for old, new in zip(legacy, report, strict=True):
            assert (old["suggested_qty"], old["projected"], old["max_stock"]) == (
                new["suggested_qty"],
                new["projected"],
                new["max_stock"],
            )
    assert "abc_class" not in run(api_as("purchaser"), "reorder")["rows"][0]  # a sale figure: masked, not leaked


def test_a_report_file_keeps_a_clerks_text_as_text(admin_api):
    """Text typed into a record (a customer's contact) and shown by a report: in xlsx a text cell, even text
    xlsxwriter would otherwise copy into the sheet as XML (its cell closed, a formula cell added); in csv with a
    leading quote where a spreadsheet would run it as a formula."""
    formula = '=HYPERLINK("http://evil.example","open")'
    xml = '<r>x</r></is></c><c r="Z9"><f>A1</f></c><c><is><r>z</r>'  # within contact's 64 characters
    sku = new_item(admin_api)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "5", "price": "1"}], warehouse="WH01", date="2026-01-01")
    customers = []
    for contact in (formula, xml):
        customer, _ = new_partner(admin_api, "customer", payment_terms_days="10", contact=contact)
        lines = [{"item": sku, "qty": "1", "price": "35"}]
        post(admin_api, "sales_delivery", lines, warehouse="WH01", partner=customer, date="2026-01-05")
        customers.append(customer)
    xlsx = admin_api.get("/api/v1/reports/overdue", query_string={"format": "xlsx"})
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert {formula, xml} <= {cell.value for cell in cells}
    assert all(cell.data_type != "f" for cell in cells) and sheet["Z9"].value is None
    answer = admin_api.get("/api/v1/reports/overdue", query_string={"format": "csv"}).get_data(as_text=True)
    rows = {row[0].split()[0]: row for row in csv.reader(io.StringIO(answer.lstrip("\ufeff"))) if row}
    assert "'" + formula in rows[customers[0]] and formula not in rows[customers[0]]
    assert xml in rows[customers[1]]


def test_a_printed_or_exported_statement_names_its_partner_and_side(admin_api, login_as):
    """The 对账单 printed for a customer (and its workbook) said the period and who made it, but not whose statement
    it is: the customer and the side are said as the filters chosen."""
    customer, pk = new_partner(admin_api, "customer")
    name = admin_api.get(f"/api/v1/partner/{pk}").get_json()["result"]["name"]
    params = {"partner": customer, "side": "receivable", "period": "2026-01-01..2026-12-31"}
    printed = login_as("finance").get("/reports/partner_statement/print", query_string=params).get_data(as_text=True)
    assert f"<p>往来单位：{customer} {name}</p>" in printed and "<p>方向：应收</p>" in printed, printed[:800]
    book = admin_api.get("/api/v1/reports/partner_statement", query_string={**params, "format": "xlsx"})
    cells = [
        c
        for row in openpyxl.load_workbook(io.BytesIO(book.get_data())).worksheets[0].iter_rows(values_only=True)
        for c in row
        if c is not None
    ]
    assert f"往来单位：{customer} {name}" in cells and "方向：应收" in cells
