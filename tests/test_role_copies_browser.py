"""A copied role in a real browser (Debian chromium, zh-CN) against a gunicorn server on the demo data: the owner
copies 销售员 on the role list (「Copy Role」) and sees it named 「销售员（副本）」 on the list and the user form, a user
of the copy signs in and saves a sales order from the form. Before, the copy's users saw no field and could save nothing
(app/services/access/origins.py), and the copy read 「salesperson copy（复制自销售员）」.

Screenshots go to test-artifacts/role-copy-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import PASSWORD, unique
from in_browser import demo_server, headless_chromium, make_user, signed_in
from playwright.sync_api import expect
from servers import ARTIFACTS, HttpApi

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from demo_server(tmp_path_factory, "role-copy-browser")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from headless_chromium()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"role-copy-{name}.png"), full_page=True)


def test_a_user_of_a_copy_of_salesperson_saves_a_sales_order_from_the_form(server: Any, chromium: Any) -> None:
    api = HttpApi(server.url)
    status, roles = api.get("/api/v1/security/roles/?q=(page_size:100)")
    assert status == 200, roles
    (seller_id,) = [row["id"] for row in roles["result"] if row["name"] == "salesperson"]

    context, page, console = signed_in(chromium, server.url)
    page.goto(server.url + "/roles/list/")
    page.check(f"input.action_check[value='{seller_id}']")
    page.click("text=操作")  # the actions menu
    page.click(".copyrole_menu_item")
    expect(page.locator("#modal-confirm")).to_be_visible()  # FAB asks 「Copy the selected roles?」
    with page.expect_navigation():
        page.click("#modal-confirm-ok")
    _shot(page, "list")
    assert "不能这样修改角色" not in page.content()
    expect(page.locator("td", has_text="销售员（副本）")).to_have_count(1)
    expect(page.locator("td", has_text="copy")).to_have_count(0)
    page.goto(server.url + "/users/add")  # the roles a user is given: the copy by its Chinese name
    expect(page.locator("select#roles option", has_text="销售员（副本）")).to_have_count(1)
    expect(page.locator("select#roles option", has_text="copy")).to_have_count(0)
    _shot(page, "user-form")
    console.check()
    context.close()

    username = unique("copy_seller").lower()
    make_user(api, username, "销售员（副本）", PASSWORD, first_name="复制", last_name="销售员")
    seller = HttpApi(server.url, username, PASSWORD)
    customer = unique("KC")
    status, body = seller.post("/api/v1/partner/", {"code": customer, "name": "复制角色的客户", "kind": "customer"})
    assert status == 201, body

    context, page, console = signed_in(chromium, server.url, username, PASSWORD)
    page.goto(server.url + "/m/sales_order/new")
    page.fill("#f-date", "2026-11-25")
    page.fill("#f-partner", customer)
    page.fill("#f-warehouse", "WH01")
    page.fill("#l-0-item", "SP0002")
    page.press("#l-0-item", "Tab")
    expect(page.locator("#l-0-price")).not_to_have_value("")  # the customer's price, a figure the copy sees
    page.fill("#l-0-qty", "2")
    page.click("#jxc-save")
    page.wait_for_url(re.compile(r".*/m/sales_order/\d+$"), timeout=15000)
    _shot(page, "order")
    order_id = int(page.url.rsplit("/", 1)[1])
    status, order = seller.get(f"/api/v1/sales_order/{order_id}")
    assert status == 200, order
    assert order["result"]["partner"]["key"] == customer and order["result"]["total_with_tax"]
    assert "cost_price" not in order["result"]["lines"][0]  # a cost, hidden from salespeople and their copies
    console.check()
    context.close()
