"""What a report's row opens and how a report names its grouping: a blank group's row (（未填）) opens the lines
without that value, not every line; the group column is headed by what it groups by (客户, not 汇总项) on every
channel; a page number out of bounds is said as such."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import openpyxl
from sqlalchemy import update

from app.extensions import db, registry
from tests.conftest import Api, another_instance, unique, writing
from tests.ledger_helpers import document, new_item, new_partner, post, receive
from tests.test_reports import follow, run
from tests.test_stocktake_reasons import give_reasons, new_warehouse

THIS_YEAR = "2026-01-01..2026-12-31"


def test_a_blank_reasons_row_opens_only_the_lines_without_a_reason(app, admin_api, login_as):
    """盘点损耗 by reason: the （未填） row (lines posted before a reason was required) opens 盘点差异明细 of those
    lines, not of every reason's."""
    code = new_warehouse(admin_api)
    damaged, unexplained = new_item(admin_api), new_item(admin_api)
    for sku in (damaged, unexplained):
        receive(admin_api, sku, "10", "2", warehouse=code)
    take = document(
        admin_api,
        "stocktake",
        [{"item": damaged, "counted_qty": "7"}, {"item": unexplained, "counted_qty": "8"}],
        warehouse=code,
    )
    give_reasons(admin_api, take, {damaged: "damage", unexplained: "miscount"})
    assert admin_api.post(f"/api/v1/stocktake/{take['id']}/submit").status_code == 200
    with app.app_context(), writing():  # a line posted before 差异原因 was required
        line = registry().cls("stocktake_line")
        db.session.execute(update(line).where(line.parent_id == take["id"], line.diff_qty == -2).values(reason=None))
        db.session.commit()
        db.session.remove()
    answer = run(admin_api, "stocktake_loss", period=THIS_YEAR, by="reason", warehouse=code)
    rows = {row["group"]: row for row in answer["rows"]}
    assert set(rows) == {"损坏", "（未填）"}
    blank = follow(admin_api, rows["（未填）"]["_drill"])
    assert [(r["item"]["key"], r["diff_qty"]) for r in blank["rows"]] == [(unexplained, "-2")]
    assert blank["params"]["reason"] == "（未填）"
    damage = follow(admin_api, rows["损坏"]["_drill"])
    assert [r["item"]["key"] for r in damage["rows"]] == [damaged]
    # typed, in either language, as a filter that may be left open; a parameter that may not be blank refuses it
    english = run(admin_api, "stocktake_lines", period=THIS_YEAR, warehouse=code, reason="(Not given)")
    assert english["rows"] == blank["rows"]
    page = login_as("admin").get(rows["（未填）"]["_drill"]).get_data(as_text=True)  # the filter shows it
    assert '<option value="（未填）" selected>（未填）</option>' in page
    refused = run(admin_api, "stocktake_loss", 422, by="（未填）")
    assert refused["errors"][0]["field"] == "by"


def test_a_blank_categorys_row_opens_only_the_sales_of_items_without_one(admin_api):
    """销售分析 by category: the row of items without a category opens their sales only (a link filter's blank)."""
    category = unique("C")
    assert admin_api.post("/api/v1/category/", json={"code": category, "name": f"钻取 {category}"}).status_code == 201
    filed, loose = new_item(admin_api, category=category), new_item(admin_api)
    customer, _ = new_partner(admin_api, "customer")
    for sku in (filed, loose):
        receive(admin_api, sku, "5", "2")
    lines = [{"item": filed, "qty": "1", "price": "9"}, {"item": loose, "qty": "2", "price": "9"}]
    post(admin_api, "sales_delivery", lines, warehouse="WH01", partner=customer)
    answer = run(admin_api, "sales_analysis", period=THIS_YEAR, by="category", partner=customer)
    (blank,) = [row for row in answer["rows"] if row["group"] is None]
    assert "category=%EF%BC%88%E6%9C%AA%E5%A1%AB%EF%BC%89" in blank["_drill"]  # （未填）
    assert [r["item"]["key"] for r in follow(admin_api, blank["_drill"])["rows"]] == [loose]


def test_the_group_column_is_headed_by_what_it_groups_by_on_every_channel(app, admin_api, login_as):
    """销售分析 by customer heads its group column 客户 (not 汇总项) on the page's JSON, the workbook and the csv,
    and the workbook and print say the grouping: 汇总方式：按客户."""
    params = {"period": THIS_YEAR, "by": "customer"}
    answer = run(admin_api, "sales_analysis", **params)
    assert answer["columns"][0]["label"] == "客户"
    assert run(admin_api, "sales_analysis", period=THIS_YEAR, by="item")["columns"][0]["label"] == "商品"
    assert run(admin_api, "stocktake_loss", period=THIS_YEAR)["columns"][0]["label"] == "原因"  # its default
    book = admin_api.get("/api/v1/reports/sales_analysis", query_string={**params, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(book.get_data())).worksheets[0]
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None]
    assert "汇总方式：按客户" in cells and "客户" in cells and "汇总项" not in cells
    text = admin_api.get("/api/v1/reports/sales_analysis", query_string={**params, "format": "csv"})
    header = next(csv.reader(io.StringIO(text.get_data(as_text=True).lstrip("\ufeff"))))
    assert header[0] == "客户"
    with app.app_context():
        from app.schedules.reporting import runner_report
        from app.services.users.access import access_for

        mailed = runner_report(
            db.session, access_for(app.appbuilder.sm.find_user(username="admin")), "sales_analysis", params
        )
        db.session.remove()
    assert mailed.columns[0] == ("group", "客户")
    printed = login_as("admin").get("/reports/sales_analysis/print?by=customer").get_data(as_text=True)
    assert "汇总方式：按客户" in printed and "<th>客户</th>" in printed.replace(" ", "")


def test_a_page_number_out_of_bounds_says_what_a_page_is(admin_api):
    """Pages count from 1 (第 1 页, as the grid's rows): 0, a negative or a fraction is a 422 saying so."""
    for page in ("0", "-1", "x", "1.5"):
        answer = admin_api.get("/api/v1/reports/sales_analysis", query_string={"page": page, "page_size": "10"})
        assert answer.status_code == 422, page
        assert answer.get_json()["message"] == f"页码应为从 1 起的整数（第一页为 1）：{page}"
        assert answer.get_json()["errors"][0]["field"] == "page"
    first = admin_api.get("/api/v1/reports/sales_analysis", query_string={"page": "1", "page_size": "10"})
    assert first.status_code == 200 and "count" in first.get_json()
    unnumbered = admin_api.get("/api/v1/reports/sales_analysis", query_string={"page_size": "10"})
    assert unnumbered.get_json() == first.get_json()  # no page: the first


def offered_users(api, report: str, param: str, q: str = "", status: int = 200) -> list[str]:
    """The user names a report's user parameter offers as `q` is typed."""
    answer = api.get(f"/api/v1/reports/{report}/users", query_string={"param": param, "q": q})
    assert answer.status_code == status, answer.get_data(as_text=True)
    return [user["key"] for user in answer.get_json()["results"]] if status == 200 else []


def test_a_reports_user_filter_offers_whom_the_reader_may_filter_by(api_as, login_as):
    """业务员 on 销售分析 offers users by user name or name: a manager anyone, a salesperson (whose sales are their own
    by 业务员) only themselves, a keeper who may not run the report nobody (403); the page's input asks for them."""
    manager, salesperson = api_as("manager"), api_as("salesperson")
    assert "u_salesperson" in offered_users(manager, "sales_analysis", "salesperson", "u_sales")
    assert offered_users(manager, "sales_analysis", "salesperson", "u_manager") == ["u_manager"]
    assert offered_users(salesperson, "sales_analysis", "salesperson") == ["u_salesperson"]
    assert offered_users(salesperson, "sales_analysis", "salesperson", "u_manager") == []
    assert offered_users(salesperson, "complaints", "owner") == ["u_salesperson"]  # 负责人: their own complaints
    offered_users(api_as("warehouse"), "sales_analysis", "salesperson", status=403)
    offered_users(manager, "sales_analysis", "period", status=404)  # not a user parameter
    page = login_as("salesperson").get("/reports/sales_analysis/").get_data(as_text=True)
    assert 'data-lookup="/api/v1/reports/sales_analysis/lookup?param=salesperson"' in page


def offered_rows(api, report: str, param: str, q: str = "", status: int = 200) -> list[str]:
    """The keys (codes, SKUs) a report's link parameter offers as `q` is typed."""
    answer = api.get(f"/api/v1/reports/{report}/lookup", query_string={"param": param, "q": q})
    assert answer.status_code == status, answer.get_data(as_text=True)
    return [row["key"] for row in answer.get_json()["results"]] if status == 200 else []


def test_a_reports_link_filter_offers_only_what_the_reader_may_name_and_takes_nothing_else(admin_api, api_as, login_as):
    """客户 on 销售分析 offers customers by code or Chinese name, a salesperson only their own; 仓库 on the stock
    reports offers a warehouse keeper only their own (WH01), and a warehouse typed outside them is refused by name,
    where it read nothing before."""
    code = unique("P")
    made = admin_api.post("/api/v1/partner/", json={"code": code, "name": f"翠湖商行{code}", "kind": "customer"})
    assert made.status_code == 201, made.get_json()
    manager, salesperson, keeper = api_as("manager"), api_as("salesperson"), api_as("warehouse")
    assert code in offered_rows(manager, "sales_analysis", "partner", "翠湖")  # by its Chinese name
    assert offered_rows(manager, "sales_analysis", "partner", code) == [code]  # by its code
    assert offered_rows(salesperson, "sales_analysis", "partner", "翠湖") == []  # not their customer
    assert {"K001", "K002"} <= set(offered_rows(salesperson, "sales_analysis", "partner", "K00"))
    refused = salesperson.get("/api/v1/reports/sales_analysis", query_string={"partner": code})
    assert refused.status_code == 422 and refused.get_json()["message"] == {"partner": [f"找不到：{code}"]}
    for report in ("inventory_summary", "stocktake_lines"):  # a handler's own filter and a query's
        assert {"WH01", "WH02"} <= set(offered_rows(manager, report, "warehouse", "WH0")), report
        mine = offered_rows(keeper, report, "warehouse", "WH0")
        assert "WH01" in mine and "WH02" not in mine, (report, mine)
        assert offered_rows(keeper, report, "warehouse", "门店") == []  # WH02 门店仓 by name: not theirs either
        refused = keeper.get(f"/api/v1/reports/{report}", query_string={"warehouse": "WH02"})
        assert refused.status_code == 422, (report, refused.get_json())
        said = "不在您可查看的范围内：WH02（请从输入时提示的选项中选择）"
        assert refused.get_json()["message"] == {"warehouse": [said]}
        assert keeper.get(f"/api/v1/reports/{report}", query_string={"warehouse": "WH01"}).status_code == 200
    offered_rows(keeper, "sales_analysis", "partner", status=403)  # a report they may not run
    assert offered_rows(salesperson, "sales_analysis", "salesperson") == ["u_salesperson"]  # users, as /users
    offered_rows(manager, "sales_analysis", "period", status=404)  # neither a link nor a user parameter
    offered_users(manager, "sales_analysis", "partner", status=404)  # /users: user parameters only
    page = login_as("warehouse").get("/reports/inventory_summary/").get_data(as_text=True)
    assert 'data-lookup="/api/v1/reports/inventory_summary/lookup?param=warehouse"' in page
    assert 'placeholder="编码、名称或拼音"' in page


def test_a_reports_link_filter_offers_no_name_the_readers_masks_hide(app, admin_api, monkeypatch):
    """A warehouse keeper whose role hides 仓库名称 (`hidden_fields: {warehouse: [name]}`, roles.yaml): 仓库 on
    进销存汇总表 offers WH01 by its code and no name, as the grid's lookup of 仓库 does (one lookup, through the
    reader's masks), and the name typed finds nothing; a reader without the mask reads it. The lookup offered the
    name."""
    name = admin_api.get("/api/v1/grid/lookup/warehouse", query_string={"q": "WH01"}).get_json()["results"][0]["name"]
    assert name
    with another_instance(app) as started:
        roles = started.extensions["jxc_registry"].current.meta.roles
        hidden = {**roles["warehouse"].hidden_fields, "warehouse": ("name",)}
        monkeypatch.setitem(roles, "warehouse", replace(roles["warehouse"], hidden_fields=hidden))
        keeper = Api(started, "u_warehouse")
        for asked in (
            "/api/v1/reports/inventory_summary/lookup?param=warehouse&q=WH01",
            "/api/v1/grid/lookup/warehouse?q=WH01",
        ):
            answer = keeper.get(asked)
            assert answer.status_code == 200, answer.get_data(as_text=True)
            assert [(row["key"], row["name"]) for row in answer.get_json()["results"]] == [("WH01", None)], asked
        assert offered_rows(keeper, "inventory_summary", "warehouse", name) == []
        assert offered_rows(Api(started, "admin"), "inventory_summary", "warehouse", "WH01") == ["WH01"]
        seen = Api(started, "admin").get("/api/v1/reports/inventory_summary/lookup?param=warehouse&q=WH01")
        assert seen.get_json()["results"][0]["name"] == name
