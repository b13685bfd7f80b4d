"""Reports in Chromium (zh-CN): the dashboard with its trend chart (also on a 390 px phone), a report drawn with
its chart and grid, a row drilled down to the ledger lines behind it, and the Excel export opened with openpyxl
holding its native chart."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import PASSWORD, unique
from in_browser import DESKTOP, PHONE, Console, demo_server, headless_chromium
from servers import HttpApi

from app.clock import business_today

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from demo_server(tmp_path_factory, "reports-browser")


@pytest.fixture(scope="module")
def sku(server: Any) -> str:
    """An item bought and sold today, so this month's reports and the dashboard have something to draw."""
    api = HttpApi(server.url)
    code = unique("RB")
    status, body = api.call("POST", "/api/v1/item/", {"sku": code, "name": "报表测试商品", "unit": "PCS"})
    assert status == 201, body
    today = business_today().isoformat()
    for model, partner, qty, price in (("purchase_receipt", "S001", "10", "5"), ("sales_delivery", "K001", "4", "9")):
        body = {
            "date": today,
            "partner": partner,
            "warehouse": "WH01",
            "lines": [{"item": code, "qty": qty, "price": price}],
        }
        status, doc = api.call("POST", f"/api/v1/{model}/", body)
        assert status == 201, doc
        status, done = api.call("POST", f"/api/v1/{model}/{doc['id']}/submit")
        assert status == 200, done
    return code


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from headless_chromium()


def signed_in(chromium: Any, server: Any, viewport: dict[str, int]) -> tuple[Any, Any, Console]:
    context = chromium.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    console = Console()
    console.attach(page)
    page.goto(server.url + "/login/")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(server.url + "/")
    return context, page, console


def test_dashboard_report_drill_down_and_export(server, sku, chromium, tmp_path: Path):
    context, page, console = signed_in(chromium, server, DESKTOP)
    assert page.locator("#tile-sales_mtd .jxc-tile-value").inner_text().strip() != ""
    page.wait_for_selector("#jxc-trend[data-drawn=line]")
    page.goto(f"{server.url}/reports/inventory_summary/?item={sku}")
    page.wait_for_selector("#jxc-report[data-rows='1']")
    page.wait_for_selector("#jxc-report-chart[data-drawn=bar]")
    assert page.locator("#jxc-report-chart canvas").count() >= 1
    assert sku in page.locator("#jxc-report-grid .tabulator-row").first.inner_text()
    assert "合计" in page.locator("#jxc-report-grid .tabulator-calcs-bottom").inner_text()
    with page.expect_download() as download:
        page.click("#jxc-report-xlsx")
    path = tmp_path / "report.xlsx"
    download.value.save_as(str(path))
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    sheet = book.worksheets[0]
    assert sheet["A1"].value == "进销存汇总表" and len(sheet._charts) == 1
    page.locator("#jxc-report-grid .tabulator-row").first.click()  # drill down to the ledger lines
    page.wait_for_url("**/reports/stock_ledger/**")
    page.wait_for_selector("#jxc-report[data-rows='2']")  # the receipt and the delivery
    console.check()
    context.close()


def test_dashboard_on_a_phone(server, sku, chromium):
    context, page, console = signed_in(chromium, server, PHONE)
    page.wait_for_selector("#jxc-trend[data-drawn=line]")
    assert page.locator("#tile-sales_mtd").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the dashboard scrolls sideways on a phone: {width}px"
    console.check()
    context.close()
