"""A copied role in a real browser (Debian chromium, zh-CN) against a gunicorn server on the demo data: the owner
copies 销售员 on the role list (「Copy Role」) and sees it named 「销售员（副本）」 on the list and the user form, a
user of the copy signs in and saves a sales order from the form; a user of a copy of 老板/经理 approves a purchase
request from 待审批. Before, the copy's users saw no field and could save nothing (app/services/access/origins.py),
the copy read 「salesperson copy（复制自销售员）」, and a copy of 老板/经理 was refused its approval."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import PASSWORD, unique
from in_browser import demo_server, headless_chromium, make_user, shot, signed_in
from playwright.sync_api import expect
from servers import HttpApi

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from demo_server(tmp_path_factory, "role-copy-browser")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from headless_chromium()


def _copy_on_the_role_list(api: HttpApi, page: Any, url: str, role: str) -> None:
    """「Copy Role」 on the role list for the role named `role`, as the owner does it."""
    status, roles = api.get("/api/v1/security/roles/?q=(page_size:100)")
    assert status == 200, roles
    (role_id,) = [row["id"] for row in roles["result"] if row["name"] == role]
    page.goto(url + "/roles/list/")
    page.check(f"input.action_check[value='{role_id}']")
    page.click("text=操作")  # the actions menu
    page.click(".copyrole_menu_item")
    expect(page.locator("#modal-confirm")).to_be_visible()  # FAB asks 「Copy the selected roles?」
    with page.expect_navigation():
        page.click("#modal-confirm-ok")


def test_a_user_of_a_copy_of_salesperson_saves_a_sales_order_from_the_form(server: Any, chromium: Any) -> None:
    api = HttpApi(server.url)
    context, page, console = signed_in(chromium, server.url)
    _copy_on_the_role_list(api, page, server.url, "salesperson")
    shot(page, "role-copy-list")
    assert "不能这样修改角色" not in page.content()
    expect(page.locator("td", has_text="销售员（副本）")).to_have_count(1)
    expect(page.locator("td", has_text="copy")).to_have_count(0)
    page.goto(server.url + "/users/add")  # the roles a user is given: the copy by its Chinese name
    expect(page.locator("select#roles option", has_text="销售员（副本）")).to_have_count(1)
    expect(page.locator("select#roles option", has_text="copy")).to_have_count(0)
    shot(page, "role-copy-user-form")
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
    shot(page, "role-copy-order")
    order_id = int(page.url.rsplit("/", 1)[1])
    status, order = seller.get(f"/api/v1/sales_order/{order_id}")
    assert status == 200, order
    assert order["result"]["partner"]["key"] == customer and order["result"]["total_with_tax"]
    assert "cost_price" not in order["result"]["lines"][0]  # a cost, hidden from salespeople and their copies
    console.check()
    context.close()


def test_a_user_of_a_copy_of_manager_approves_from_the_inbox_and_the_page(server: Any, chromium: Any) -> None:
    """老板/经理 copied on the role list: a user of the copy finds the purchase request waiting for 老板/经理 in 待审批,
    presses 审批 on its page and it posts; the approval step names the copy. Before: refused 需要「老板/经理」审批."""
    api = HttpApi(server.url)
    context, page, console = signed_in(chromium, server.url)
    _copy_on_the_role_list(api, page, server.url, "manager")
    expect(page.locator("td", has_text="老板/经理（副本）")).to_have_count(1)
    context.close()
    username = unique("copy_boss").lower()
    make_user(api, username, "老板/经理（副本）", PASSWORD, first_name="复制", last_name="经理")
    lines = [{"item": "SP0002", "qty": "2", "price": "3"}]
    status, made = api.post("/api/v1/purchase_request/", {"date": "2026-11-25", "warehouse": "WH01", "lines": lines})
    assert status == 201, made
    status, body = api.post(f"/api/v1/purchase_request/{made['id']}/submit", {})
    assert status == 200 and body["result"]["status"] == "pending", body

    context, page, console = signed_in(chromium, server.url, username, PASSWORD)
    page.goto(server.url + "/inbox/")
    expect(page.locator(f"a[href$='/m/purchase_request/{made['id']}']").first).to_be_visible()
    page.goto(server.url + f"/m/purchase_request/{made['id']}")
    page.fill("#jxc-approve-comment", "同意")
    with page.expect_navigation():
        page.click("#jxc-approve")
    shot(page, "role-copy-approved")
    assert "需要「老板/经理」审批" not in page.content()
    expect(page.locator("td", has_text="（老板/经理（副本））").first).to_be_visible()
    status, doc = api.get(f"/api/v1/purchase_request/{made['id']}")
    assert status == 200 and doc["result"]["status"] == "submitted", doc
    console.check()
    context.close()


def test_a_renamed_copy_says_on_the_role_list_and_page_what_it_was_copied_from(server: Any, chromium: Any) -> None:
    """采购员 copied on the role list, then renamed on its edit page as an owner does: the list row and the role page
    still say 「复制自 采购员」 (the stored origin), which the name no longer does. Before, nothing said it."""
    api = HttpApi(server.url)
    context, page, console = signed_in(chromium, server.url)
    _copy_on_the_role_list(api, page, server.url, "purchaser")
    expect(page.locator("tr", has_text="采购员（副本）").locator(".jxc-role-origin")).to_have_text("复制自 采购员")
    status, roles = api.get("/api/v1/security/roles/?q=(page_size:100)")
    assert status == 200, roles
    (role_id,) = [row["id"] for row in roles["result"] if row["name"] == "采购员（副本）"]
    page.goto(server.url + f"/roles/edit/{role_id}")
    page.fill("#name", "华东采购组")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    page.goto(server.url + "/roles/list/")
    row = page.locator("tr", has_text="华东采购组")
    expect(row.locator(".jxc-role-origin")).to_have_text("复制自 采购员")
    expect(page.locator(".jxc-role-origin", has_text="复制自 采购员")).to_have_count(1)  # the copy's row only
    shot(page, "role-copy-renamed-list")
    page.goto(server.url + f"/roles/show/{role_id}")
    expect(page.locator(".jxc-role-origin")).to_have_text("复制自 采购员")
    expect(page.locator("body")).to_contain_text("华东采购组")
    shot(page, "role-copy-renamed-page")
    console.check()
    context.close()
