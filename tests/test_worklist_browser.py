"""待入库 in a real browser (Debian chromium, zh-CN) on the demo data: a warehouse keeper of WH01 signs in, the home
page lists the approved purchase order of WH01 waiting for its goods (not WH02's), its 查看全部 link opens the order
list filtered the same way, and 下推 from the home page opens a receipt draft of the order. Screenshots go to
test-artifacts/worklist-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import PASSWORD
from in_browser import demo_server, headless_chromium, make_user, shot, signed_in
from playwright.sync_api import expect
from servers import HttpApi

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KEEPER = "wl_keeper"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from demo_server(tmp_path_factory, "worklist-browser")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from headless_chromium()


def _order(api: HttpApi, warehouse: str) -> dict[str, Any]:
    """A submitted purchase order of one line for the warehouse."""
    lines = [{"item": "SP0001", "qty": "6", "price": "2.5"}]
    status, made = api.post("/api/v1/purchase_order/", {"partner": "S001", "warehouse": warehouse, "lines": lines})
    assert status == 201, made
    status, body = api.post(f"/api/v1/purchase_order/{made['id']}/submit", {})
    assert status == 200, body
    return body["result"]


def test_the_keepers_home_lists_what_waits_and_opens_the_filtered_list(server, chromium):
    api = HttpApi(server.url)
    make_user(api, KEEPER, "warehouse", PASSWORD, first_name="王", last_name="仓管")
    mine, other = _order(api, "WH01"), _order(api, "WH02")

    # the admin gives the keeper WH01 on the users' warehouses page, as a person does
    context, page, console = signed_in(chromium, server.url)
    page.goto(server.url + "/admin/user-warehouses/")
    row = page.locator("tr", has=page.locator(f"code:text-is('{KEEPER}')"))
    row.locator("input[name=warehouse][value=WH01]").check()
    row.locator(f"#save-{KEEPER}").click()
    page.wait_for_load_state()
    context.close()

    context, page, console = signed_in(chromium, server.url, KEEPER, PASSWORD)
    block = page.locator("#jxc-waiting-purchase_order")
    expect(block).to_contain_text("待入库")
    expect(block.locator(f"tr[data-id='{mine['id']}']")).to_contain_text("未入库")
    expect(block).not_to_contain_text(other["number"])
    expect(page.locator("#jxc-waiting-sales_order")).to_contain_text("待出库")
    shot(page, "worklist-home")

    block.locator(".jxc-waiting-all").click()
    page.wait_for_url("**/m/purchase_order/?*")
    expect(page.locator("#jxc-list-filters")).to_contain_text("入库状态：未入库、部分入库")
    table = page.locator("table.jxc-table")
    expect(table).to_contain_text(mine["number"])
    expect(table).not_to_contain_text(other["number"])
    shot(page, "worklist-list")

    page.go_back()
    block.locator(f"tr[data-id='{mine['id']}'] button[data-target=purchase_receipt]").click()
    page.wait_for_url("**/m/purchase_receipt/*/edit")
    expect(page.locator("[name=source_number]")).to_have_value(mine["number"])
    shot(page, "worklist-pushed")
    console.check()
    context.close()
