"""A fresh `make run` demo (`jxc init --demo --history`) in a real browser (Debian chromium, zh-CN): the admin's home
shows 待入库 and 待出库 with the demo's orders under way (未入库 and 部分入库, 未出库 and 部分出库; the order received
whole and the one closed are not listed), 查看全部 opens the sales orders with their 出库状态, 关闭状态 and 销售员
columns, and 下推 of the order shipped in part opens a delivery draft of what is left. Screenshots go to
test-artifacts/demo-orders-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from in_browser import PHONE, headless_chromium, shot, signed_in
from playwright.sync_api import expect
from servers import HttpApi, demo_documents_posted, jxc_init, jxc_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    instance = tmp_path_factory.mktemp("demo-orders") / "instance"
    instance.mkdir(parents=True)
    url = f"sqlite:///{instance / 'jxc.db'}"
    output = jxc_init(url, instance, demo=True, history=True, log_name="jxc-init-demo-orders")  # the run's copy
    assert demo_documents_posted(output) > 100, output
    with jxc_server(url, instance, name="demo-orders", demo=True) as running:
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from headless_chromium()


def test_the_demo_home_shows_orders_under_way_and_pushes_the_rest(server, chromium):
    api = HttpApi(server.url)
    context, page, console = signed_in(chromium, server.url)
    received = page.locator("#jxc-waiting-purchase_order")
    shipped = page.locator("#jxc-waiting-sales_order")
    for block, statuses in ((received, ("未入库", "部分入库")), (shipped, ("未出库", "部分出库"))):
        for status in statuses:
            expect(block.locator("tr", has_text=status).first).to_be_visible()
    assert received.locator("tr[data-id]").count() == 2 and shipped.locator("tr[data-id]").count() == 3
    expect(received).not_to_contain_text("全部入库")
    shot(page, "demo-orders-home")

    shipped.locator(".jxc-waiting-all").click()
    page.wait_for_url("**/m/sales_order/?*")
    headers = page.locator("table.jxc-table thead th").all_inner_texts()
    assert {"出库状态", "关闭状态", "销售员"} <= {h.strip() for h in headers}, headers
    shot(page, "demo-orders-list")

    page.go_back()
    partly = shipped.locator("tr[data-id]", has_text="部分出库")
    order_id = partly.get_attribute("data-id")
    status, order = api.get(f"/api/v1/sales_order/{order_id}")
    assert status == 200, order
    first = order["result"]["lines"][0]
    partly.locator("button[data-target=sales_delivery]").click()
    page.wait_for_url("**/m/sales_delivery/*/edit")
    expect(page.locator("[name=source_number]")).to_have_value(order["result"]["number"])
    draft_id = int(page.url.rstrip("/").split("/")[-2])
    status, draft = api.get(f"/api/v1/sales_delivery/{draft_id}")
    assert status == 200, draft
    rest = {line["source_line_id"]: line["qty"] for line in draft["result"]["lines"]}
    open_first = float(first["base_qty"]) - float(first["delivered_qty"] or 0)
    assert float(rest[first["id"]]) == open_first > 0  # the rest of the line shipped in part
    console.check()
    context.close()


def test_the_demo_home_fits_a_phone_with_its_push_buttons_in_reach(server, chromium):
    """On a phone (390 px) the 待入库 / 待出库 rows wrap inside the screen: the page was 502 px wide, each
    下推 button past the right edge, reached only by scrolling sideways."""
    context, page, console = signed_in(chromium, server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    buttons = page.locator(".jxc-waiting-push button")
    assert buttons.count() == 5  # 2 purchase orders and 3 sales orders under way
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for button in buttons.all():
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    shot(page, "demo-orders-phone-home")
    console.check()
    context.close()
