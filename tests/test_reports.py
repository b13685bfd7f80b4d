"""Reports: the runner over a fixed stream of documents, its channels (API json / csv / xlsx, CLI), the reader's
permissions, masks and scope, and metadata checks of report files."""

from __future__ import annotations

import io
import shutil
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from app.config import ROOT
from app.meta.loader import load_metadata
from tests.ledger_helpers import balance, new_item, new_partner, post

NOV = "2026-11-01..2026-11-30"


def run(api: Any, name: str, status: int = 200, **params: str) -> Any:
    """A report's JSON answer through the API."""
    response = api.get(f"/api/v1/reports/{name}", query_string=params)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def follow(api: Any, drill: str) -> Any:
    """The answer of the report a row drills into (its `_drill` page link, asked of the API)."""
    path, _, query = drill.partition("?")
    assert path.startswith("/reports/"), drill
    response = api.get(f"/api/v1{path.rstrip('/')}?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def by(rows: list[dict[str, Any]], column: str) -> dict[str, dict[str, Any]]:
    """Rows keyed by a link column's key."""
    return {row[column]["key"]: row for row in rows}


@pytest.fixture(scope="module")
def stream(app: Any, api_as: Any) -> dict[str, Any]:
    """A month of one item's documents: opening stock, receipts, a sale and its return, a transfer, a return to
    the supplier, an other-out, and a receipt posted then cancelled."""
    api = api_as("admin")
    sku = new_item(api)
    customer, _ = new_partner(api, "customer")
    receive_on = {"date": "2026-10-20"}
    post(api, "purchase_receipt", [{"item": sku, "qty": "10", "price": "5"}], warehouse="WH01", **receive_on)
    post(api, "purchase_receipt", [{"item": sku, "qty": "5", "price": "8"}], warehouse="WH01", date="2026-11-05")
    post(
        api,
        "sales_delivery",
        [{"item": sku, "qty": "4", "price": "12"}],
        warehouse="WH01",
        partner=customer,
        date="2026-11-10",
    )
    post(
        api,
        "sales_return",
        [{"item": sku, "qty": "1", "price": "12"}],
        warehouse="WH01",
        partner=customer,
        date="2026-11-12",
    )
    post(
        api,
        "stock_transfer",
        [{"item": sku, "qty": "3"}],
        from_warehouse="WH01",
        to_warehouse="WH02",
        date="2026-11-15",
    )
    post(api, "purchase_return", [{"item": sku, "qty": "1", "price": "5"}], warehouse="WH01", date="2026-11-16")
    post(
        api,
        "stock_adjustment",
        [{"item": sku, "qty": "1"}],
        direction="out",
        warehouse="WH01",
        reason="damage",
        date="2026-11-17",
    )
    cancelled = post(
        api, "purchase_receipt", [{"item": sku, "qty": "2", "price": "6"}], warehouse="WH01", date="2026-11-18"
    )
    assert api.post(f"/api/v1/purchase_receipt/{cancelled['id']}/cancel").status_code == 200
    return {"sku": sku, "customer": customer}


def test_inventory_summary_adds_up_and_closes_at_the_stock_balance(app, admin_api, stream):
    answer = run(admin_api, "inventory_summary", period=NOV, item=stream["sku"])
    rows = by(answer["rows"], "warehouse")
    assert set(rows) == {"WH01", "WH02"}
    main, other = rows["WH01"], rows["WH02"]
    # the cancelled receipt nets out of "purchase in"; each kind where it belongs
    assert (main["opening_qty"], main["in_purchase_qty"], main["in_return_qty"]) == ("10", "5", "1")
    assert (main["out_sales_qty"], main["out_transfer_qty"], main["out_return_qty"], main["out_other_qty"]) == (
        "4",
        "3",
        "1",
        "1",
    )
    assert (other["opening_qty"], other["in_transfer_qty"]) == ("0", "3")
    for warehouse, row in rows.items():
        opening, ins, outs = D(row["opening_qty"]), D(row["in_qty"]), D(row["out_qty"])
        assert opening + ins - outs == D(row["closing_qty"])
        assert D(row["opening_value"]) + D(row["in_value"]) - D(row["out_value"]) == D(row["closing_value"])
        assert (D(row["closing_qty"]), D(row["closing_value"])) == balance(app, stream["sku"], warehouse)
    assert D(answer["totals"]["closing_qty"]) == 10  # 7 in WH01, 3 in WH02
    assert answer["chart"] == {"type": "bar", "x": "item", "series": ["in_qty", "out_qty", "closing_qty"]}
    # drill-down: a row opens the ledger lines behind it, which open their documents
    assert main["_drill"].startswith("/reports/stock_ledger/?item=")
    lines = follow(admin_api, main["_drill"])["rows"]
    assert len(lines) == 8  # 6 documents in November, the cancelled receipt and its reversal
    assert D(lines[-1]["balance_qty"]) == D(main["closing_qty"])
    assert lines[0]["_drill"].startswith("/m/purchase_receipt/?search=")


def test_stock_as_of_a_past_date_is_the_ledger_up_to_it(admin_api, stream):
    before = by(run(admin_api, "stock_as_of", date="2026-11-09", item=stream["sku"])["rows"], "warehouse")
    assert (before["WH01"]["qty"], before["WH01"]["value"]) == ("15", "90.00")
    assert "WH02" not in before


def test_sales_and_gross_profit_net_returns_against_the_ledger(admin_api, stream):
    sales = run(admin_api, "sales_analysis", period=NOV, by="item", item=stream["sku"])
    (row,) = sales["rows"]
    assert (row["qty"], row["amount"]) == ("3", "36.00")  # 4 sold less 1 returned, at 12
    assert sales["totals"]["amount"] == "36.00"
    by_customer = run(admin_api, "sales_analysis", period=NOV, by="customer", partner=stream["customer"])
    assert by_customer["rows"][0]["group"]["key"] == stream["customer"]
    monthly = run(admin_api, "sales_analysis", period=NOV, by="month", item=stream["sku"])
    assert monthly["rows"][0]["group"] == "2026-11"
    profit = run(admin_api, "gross_profit", period=NOV, by="item", item=stream["sku"])
    (row,) = profit["rows"]
    ledger = run(admin_api, "stock_ledger", period=NOV, item=stream["sku"])["rows"]
    cogs = -sum(D(line["value"]) for line in ledger if line["document_type"] in ("销售出库单", "销售退货单"))
    assert D(row["cost"]) == cogs
    assert D(row["profit"]) == D(row["revenue"]) - D(row["cost"])
    assert row["margin"] == profit["totals"]["margin"]


def test_masks_scope_and_permissions(api_as, stream):
    salesperson = api_as("salesperson")
    names = {r["name"] for r in salesperson.get("/api/v1/reports/").get_json()["result"]}
    # partner_statement: their customers' 对账单 (the account page is a view of it); sales_lines: the drill-down
    assert names == {
        "sales_analysis",
        "sales_lines",
        "ar_ageing",
        "partner_statement",
        "overdue",
        "complaints",
        "complaint_list",
        "abc",
        "recommendations",
    }
    run(salesperson, "inventory_summary", status=403, period=NOV)
    # 毛利分析 is about cost, which salespeople do not see: not a gross profit report without its profit
    run(salesperson, "gross_profit", status=403, period=NOV)
    # row scope: the stream's customer belongs to nobody, so the salesperson sees none of its sales
    scoped = run(salesperson, "sales_analysis", period=NOV, by="customer")
    assert stream["customer"] not in [row["group"]["key"] for row in scoped["rows"] if row["group"]]
    keeper = api_as("warehouse")
    summary = run(keeper, "inventory_summary", period=NOV, item=stream["sku"])
    assert set(by(summary["rows"], "warehouse")) == {"WH01"}  # only the keeper's warehouse
    assert "closing_value" not in summary["totals"] and "closing_qty" in summary["totals"]


def test_bad_parameters_are_clear_messages(admin_api):
    answer = run(admin_api, "sales_analysis", status=422, period="someday", by="planet", nope="1")
    assert {e["field"] for e in answer["errors"]} == {"period", "by", "nope"}
    assert admin_api.get("/api/v1/reports/no_such_report").status_code == 404
    unknown = run(admin_api, "inventory_summary", status=422, item="NO-SUCH-SKU")
    assert "NO-SUCH-SKU" in unknown["errors"][0]["message"]


def test_a_choice_that_is_not_offered_is_answered_with_the_choices_the_reader_is_offered(app, admin_api, api_as):
    """不是可选的值 names the choices as the reader is offered them (a salesperson is not offered ABC by margin),
    listed the language's way (、 in Chinese, ", " in English)."""

    def said(api: Any, client: Any = None, **headers: str) -> str:
        response = (client or api.client).get(
            "/api/v1/reports/abc", query_string={"by": "planet"}, headers=dict(api.headers, **headers)
        )
        assert response.status_code == 422, response.get_data(as_text=True)
        return next(e["message"] for e in response.get_json()["errors"] if e["field"] == "by")

    assert said(admin_api) == "不是可选的值：planet（可选：value 按销售额、margin 按毛利）"
    assert said(api_as("salesperson")) == "不是可选的值：planet（可选：value 按销售额）"
    english = app.test_client(use_cookies=False)  # the language is the browser's on a first visit, then kept
    assert said(admin_api, english, **{"Accept-Language": "en-US,en;q=0.9"}) == (
        "Not one of the choices: planet (the choices: value Sales value, margin Margin)"
    )


def test_exports_carry_title_period_author_and_a_native_chart(admin_api, stream):
    response = admin_api.get(
        "/api/v1/reports/inventory_summary", query_string={"period": NOV, "item": stream["sku"], "format": "xlsx"}
    )
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = book.worksheets[0]
    assert sheet["A1"].value == "进销存汇总表"
    assert sheet["A2"].value == "期间：2026-11-01 至 2026-11-30"
    assert sheet["A3"].value == f"商品：{stream['sku']} 账本测试 {stream['sku']}"  # the filter chosen, said
    assert sheet["A4"].value.startswith("制表人：")
    assert len(sheet._charts) == 1
    csv_text = admin_api.get(
        "/api/v1/reports/inventory_summary", query_string={"period": NOV, "item": stream["sku"], "format": "csv"}
    ).get_data(as_text=True)
    assert csv_text.lstrip("\ufeff").startswith("商品,仓库,期初数量")
    assert csv_text.strip().splitlines()[-1].startswith("合计,")


def test_meta_check_refuses_a_bad_report(tmp_path: Path):
    root = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", root)
    (root / "reports" / "broken.yaml").write_text(
        "label: {zh: 坏, en: Broken}\nsources: {stock_move: [nothing]}\nhandler: reports.stock.no_such\n"
        "columns:\n  value: {type: money, label: {zh: 金额, en: Value}}\n"
        "chart: {type: bar, x: item, series: [value]}\n",
        encoding="utf-8",
    )
    meta, errors = load_metadata(root)
    assert meta is None
    text = "\n".join(str(e) for e in errors)
    assert "broken.yaml" in text
    for problem in ("no field 'nothing'", "cannot be imported", "must say what figure", "'item' is not a column"):
        assert problem in text


def test_meta_check_refuses_a_report_about_what_it_does_not_show_or_a_role_cannot_see(tmp_path: Path):
    root = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", root)
    gross = root / "reports" / "gross_profit.yaml"
    gross.write_text(gross.read_text(encoding="utf-8").replace("about: [sale, cost]", "about: [sale, cash, money]"))
    roles = root / "roles.yaml"
    roles.write_text(roles.read_text(encoding="utf-8").replace("reports: [sales_analysis,", "reports: [gross_profit,"))
    text = "\n".join(str(e) for e in load_metadata(root)[1])
    assert "about: no column of the report shows a cash figure" in text
    assert "about: unknown figure 'money'" in text
    gross.write_text(gross.read_text(encoding="utf-8").replace("about: [sale, cash, money]", "about: [sale, cost]"))
    text = "\n".join(str(e) for e in load_metadata(root)[1])
    assert "role 'salesperson': lists 'gross_profit', which is about cost figures the role hides" in text


# words a report's name or description may not say to a reader who hides a kind of figure the word reveals: a
# profit is a sale less its cost, so 毛利 reveals both (a salesperson, who hides costs, is told of no 毛利)
FIGURE_WORDS = {
    ("cost",): ("成本", "cost"),
    ("purchase",): ("采购价", "进价", "应付", "purchase price", "payable"),
    ("sale",): ("销售额", "收入", "应收", "revenue", "receivable"),
    ("sale", "cost"): ("毛利", "profit", "margin"),
    ("cash",): ("资金", "现金", "cash", "money"),
}


@pytest.mark.parametrize("role", ["manager", "clerk", "purchaser", "salesperson", "warehouse", "finance"])
def test_a_report_offered_to_a_reader_is_about_figures_they_see_and_says_no_other(app, api_as, role):
    """The report's name and its description as the reader is given it (the list, the report centre and the report's
    page, in both languages): no word of a kind of figure they hide, nor of an option they are not offered."""
    registry = app.extensions["jxc_registry"].current
    hidden = registry.meta.roles[role].hidden_figures
    api = api_as(role)
    listed = {r["name"]: r for r in api.get("/api/v1/reports/").get_json()["result"]}
    english = {
        r["name"]: r for r in api.get("/api/v1/reports/", headers={"Accept-Language": "en"}).get_json()["result"]
    }
    assert listed
    for name, answer in listed.items():
        report = registry.meta.reports[name]
        assert not report.about & hidden, name
        words = " ".join([*report.label.values(), answer["help"], english[name]["help"]]).lower()
        assert "{" not in words, (name, words)
        said = [word for kinds, found in FIGURE_WORDS.items() if set(kinds) & hidden for word in found if word in words]
        assert not said, f"{role} is offered {name}, whose name or description says {said}"


def test_the_abc_description_names_the_margin_to_those_offered_it(api_as, login_as):
    said = {
        role: {r["name"]: r["help"] for r in api_as(role).get("/api/v1/reports/").get_json()["result"]}["abc"]
        for role in ("manager", "salesperson")
    }
    assert said["manager"].startswith("按销售额或按毛利给期间内的商品排名")
    assert said["salesperson"].startswith("按销售额给期间内的商品排名") and "毛利" not in said["salesperson"]
    page = login_as("salesperson").get("/reports/abc/").get_data(as_text=True)
    centre = login_as("salesperson").get("/reports/").get_data(as_text=True)
    assert "按销售额给期间内的商品排名" in page and "按销售额给期间内的商品排名" in centre and "毛利" not in centre


def test_pages_list_run_and_print_as_the_reader(login_as, stream):
    web = login_as("salesperson")
    centre = web.get("/reports/").get_data(as_text=True)
    assert 'data-report="sales_analysis"' in centre and 'data-report="inventory_summary"' not in centre
    page = web.get("/reports/sales_analysis/?period=" + NOV)
    assert page.status_code == 200
    assert "vendor/echarts.min.js" in page.get_data(as_text=True)
    assert web.get("/reports/inventory_summary/").status_code == 403
    admin = login_as("admin")
    printed = admin.get(f"/reports/inventory_summary/print?period={NOV}&item={stream['sku']}").get_data(as_text=True)
    assert "期间：2026-11-01 至 2026-11-30" in printed and "制表人：" in printed
    assert printed.count("<tr>") == 4  # header, two warehouses, totals


def test_accounts_reports_read_the_accounts_code(admin_api, stream):
    statement = run(admin_api, "partner_statement", partner=stream["customer"], period=NOV)
    amounts = [row["amount"] for row in statement["rows"] if row["amount"] is not None]
    assert amounts == ["48.00", "-12.00"] and statement["rows"][-1]["balance"] == "36.00"
    assert statement["rows"][1]["_drill"].startswith("/m/sales_delivery/?search=")
    ageing = run(admin_api, "ar_ageing", partner=stream["customer"], date="2026-11-30")
    (row,) = ageing["rows"]
    assert row["total"] == "36.00" and row["_drill"].startswith("/reports/partner_statement/?partner=")
    assert run(admin_api, "ap_ageing", partner=stream["customer"])["rows"] == []


def test_a_statement_opens_with_the_balance_brought_forward_even_without_documents_in_its_period(admin_api, stream):
    """对账单 for a month without documents of a customer who owes from before says what they owe (it was empty,
    totals 0.00: printed for the customer, nothing owed); its first line is named 期初余额 (it was blank)."""
    november = run(admin_api, "partner_statement", partner=stream["customer"], period=NOV)["rows"]
    assert (november[0]["document_type"], november[0]["balance"], november[0]["number"]) == ("期初余额", "0.00", None)
    december = run(admin_api, "partner_statement", partner=stream["customer"], period="2026-12-01..2026-12-31")
    assert [(r["document_type"], r["amount"], r["balance"]) for r in december["rows"]] == [("期初余额", None, "36.00")]
    assert december["totals"] == {"amount": "0.00"}


def test_a_period_copied_from_a_reports_header_is_taken(admin_api):
    """期间：2026-11-01 至 2026-11-30 is what a print and a workbook say; typed (or pasted) back into 期间 it was
    refused as not a period."""
    for text in ("2026-11-01 至 2026-11-30", "2026-11-01至2026-11-30", "2026-11-01 to 2026-11-30"):
        answer = admin_api.get("/api/v1/reports/sales_analysis", query_string={"period": text})
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["params"]["period"] == NOV
    refused = admin_api.get("/api/v1/reports/sales_analysis", query_string={"period": "2026-11-01 - 2026-11-30"})
    assert refused.status_code == 422


def test_a_count_of_days_is_a_whole_number_above_zero(admin_api):
    """天数 0 ran slow_moving over the default 90 days (its 近N天销量 was 90 days' sales under 天数 0) and -5 over a
    window in the future (every item 长期无出库, even one sold today): both are refused on the field, as 1 is not."""
    for name in ("slow_moving", "recommendations"):
        extra = {"customer": "K001"} if name == "recommendations" else {}
        for days in ("0", "-5"):
            answer = admin_api.get(f"/api/v1/reports/{name}", query_string={"days": days, **extra})
            assert answer.status_code == 422, answer.get_json()
            assert answer.get_json()["message"] == {"days": [f"应为大于 0 的整数：{days}"]}
        assert admin_api.get(f"/api/v1/reports/{name}", query_string={"days": "1", **extra}).status_code == 200


def test_slow_moving_names_idle_stock_with_an_action(admin_api):
    """Fixed scenario: one item received in January and never sold is idle on 1 June (90 days), with its value."""
    idle = new_item(admin_api)
    post(
        admin_api, "purchase_receipt", [{"item": idle, "qty": "6", "price": "2.5"}], warehouse="WH01", date="2026-01-05"
    )
    answer = run(admin_api, "slow_moving", days="90", date="2026-06-01", warehouse="WH01")
    rows = {row["item"]["key"]: row for row in answer["rows"]}
    assert {k: rows[idle][k] for k in ("qty", "value", "last_out", "days_idle", "days_of_cover", "action")} == {
        "qty": "6",
        "value": "15.00",
        "last_out": None,
        "days_idle": None,
        "days_of_cover": None,
        "action": "长期无出库：建议促销清仓或退回供应商",
    }


def test_a_large_export_runs_as_a_job_of_its_user(app, api_as, stream, monkeypatch):
    from tests.test_jobs import wait_for

    monkeypatch.setitem(app.config, "REDIS_URL", "")  # the in-process pool, whatever the suite's Redis
    args = {"name": "stock_ledger", "params": {"period": NOV, "item": stream["sku"]}, "format": "xlsx"}
    keeper = api_as("warehouse")
    answer = keeper.post("/api/v1/jobs/", json={"kind": "report_export", "args": args})
    assert answer.status_code == 202, answer.get_json()
    job = wait_for(app, answer.get_json()["job_id"])
    assert job["status"] == "done" and job["result"] == {"rows": 8}
    download = keeper.get(f"/api/v1/jobs/{job['id']}/result")
    data = download.get_data()
    download.close()  # the file is streamed: close it as a browser would
    book = openpyxl.load_workbook(io.BytesIO(data))
    header = [cell.value for cell in book.worksheets[0][6]]  # title, period, 商品：…, author, a blank row
    assert "入库数量" in header and "金额" not in header  # the keeper's masks: no cost figures
    refused = api_as("salesperson").post("/api/v1/jobs/", json={"kind": "report_export", "args": args})
    assert refused.status_code == 403
