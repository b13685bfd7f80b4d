"""A clerk on the desk's document forms in a real browser (Debian chromium, zh-CN): a 销售订单 whose customer is
typed and does not exist asks nothing and shows no error (it asked for recommendations and the console showed a
422), a known customer still gets them, and a line the save would refuse is left out of the form's total; on a
phone (390x844) a document's lines are cards within the screen (the table scrolled sideways in its box, 数量 / 单价
/ 金额 out of sight) and a line's quantity is typed and saved. Screenshots go to test-artifacts/clerk-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import unique
from in_browser import PHONE, demo_server, headless_chromium, made_document, shot, signed_in
from playwright.sync_api import expect
from servers import HttpApi

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from demo_server(tmp_path_factory, "clerk-forms")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from headless_chromium()


def _items(api: HttpApi, count: int) -> list[str]:
    skus = [unique("CF") for _ in range(count)]
    for sku in skus:
        status, body = api.post("/api/v1/item/", {"sku": sku, "name": f"推荐测试 {sku}", "unit": "PCS"})
        assert status == 201, body
    return skus


def _customer(api: HttpApi) -> str:
    code = unique("KCF")
    status, body = api.post("/api/v1/partner/", {"code": code, "name": f"表单客户 {code}", "kind": "customer"})
    assert status == 201, body
    return code


def test_an_unknown_customer_asks_nothing_and_a_known_one_gets_recommendations(server, chromium):
    api = HttpApi(server.url)
    mine, theirs = _items(api, 2)
    stock = [{"item": sku, "qty": "50", "price": "2"} for sku in (mine, theirs)]
    made_document(api, "purchase_receipt", {"partner": "S001", "warehouse": "WH01", "lines": stock})
    me, other = _customer(api), _customer(api)
    sold = {"warehouse": "WH01"}
    made_document(api, "sales_delivery", {**sold, "partner": me, "lines": [{"item": mine, "qty": "2", "price": "5"}]})
    both = [{"item": sku, "qty": "1", "price": "5"} for sku in (mine, theirs)]
    made_document(api, "sales_delivery", {**sold, "partner": other, "lines": both})

    context, page, console = signed_in(chromium, server.url)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/reports/recommendations" in r.url else None)
    page.goto(server.url + "/m/sales_order/new")
    partner = page.locator("#f-partner")
    hint = page.locator("#jxc-recommend")
    partner.press_sequentially("没有这个客户")
    with page.expect_response(lambda r: "/api/v1/reports/recommendations" in r.url):
        partner.press("Tab")  # the change a clerk makes by leaving the field
    page.wait_for_timeout(500)  # time for a request that would follow
    expect(hint).to_be_hidden()
    assert not [url for url in asked if "/lookup" not in url], asked  # the report itself was never asked
    console.check()  # no 422, no console error

    partner.fill(me)
    partner.press("Tab")
    expect(hint).to_be_visible()
    expect(hint.locator(".jxc-recommend-item", has_text=theirs)).to_be_visible()  # others buy it with theirs
    shot(page, "clerk-recommend")
    hint.locator(".jxc-recommend-item", has_text=theirs).click()
    expect(page.locator("#l-0-item")).to_have_value(theirs)
    console.check()

    # the total is of the lines that count: a line the save refuses (an item nobody has) is shaded and left out
    page.locator("#l-0-qty").fill("2")
    page.locator("#l-0-price").fill("10")
    page.locator("#l-1-item").fill("没有这个商品")
    page.locator("#l-1-qty").fill("5")
    page.locator("#l-1-price").fill("100")
    page.locator("#l-1-price").press("Tab")
    total = page.locator("#jxc-lines-total")
    expect(total).to_contain_text("合计：1 行，数量 2，金额 ¥20.00")
    expect(total).to_contain_text("（第 2 行有错误，保存不了，未计入合计）")
    expect(page.locator("table.jxc-lines tbody tr").nth(1)).to_have_class(re.compile("jxc-line-refused"))
    expect(page.locator("table.jxc-lines tbody tr").nth(0)).not_to_have_class(re.compile("jxc-line-refused"))
    shot(page, "clerk-refused-line")
    console.check()
    context.close()


def test_a_documents_lines_fit_a_phone_and_a_quantity_typed_there_is_saved(server, chromium):
    """A 3-line 销售出库单 draft on the desk's form at 390x844: neither the page nor the lines' box scrolls
    sideways, every line's 数量, 单价 and 金额 are on screen; the second line's quantity typed and saved."""
    api = HttpApi(server.url)
    skus = _items(api, 3)
    lines = [{"item": sku, "qty": str(n + 1), "price": "12.50"} for n, sku in enumerate(skus)]
    draft = made_document(api, "sales_delivery", {"partner": "K001", "warehouse": "WH01", "lines": lines}, submit=False)
    context, page, console = signed_in(chromium, server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(f"{server.url}/m/sales_delivery/{draft['id']}/edit")
    rows = page.locator("table.jxc-lines tbody tr")
    expect(page.locator("#l-2-item")).to_have_value(skus[2])  # the three lines, then empty ones to fill
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    box = page.locator("table.jxc-lines").locator("xpath=..")
    widths = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], widths  # the lines' box: nothing to scroll sideways
    for index in range(rows.count()):
        for name in ("qty", "price", "amount"):
            field = page.locator(f"#l-{index}-{name}")
            field.scroll_into_view_if_needed()
            shown = field.bounding_box()
            assert shown and shown["x"] >= 0 and shown["x"] + shown["width"] <= PHONE["width"], (name, shown)
        said = rows.nth(index).locator(f"td:has(#l-{index}-qty)")
        assert said.evaluate("td => getComputedStyle(td, '::before').content") == '"出库数量"'  # says what it is
    shot(page, "clerk-phone-lines")

    page.locator("#l-1-qty").fill("7")
    page.locator("#jxc-save").click()
    page.wait_for_url(re.compile(rf".*/m/sales_delivery/{draft['id']}$"), timeout=15000)
    shown = page.locator(
        ".table-responsive", has=page.locator("th", has_text="出库数量")
    )  # the document's page after the save: cards too
    widths = shown.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1] and page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"], widths
    expect(shown.locator("tbody tr").nth(1)).to_contain_text("87.50")
    status, saved = api.get(f"/api/v1/sales_delivery/{draft['id']}")
    assert status == 200, saved
    assert [float(line["qty"]) for line in saved["result"]["lines"]] == [1, 7, 3]
    assert saved["result"]["lines"][1]["amount"] == "87.50"
    console.check()
    context.close()
