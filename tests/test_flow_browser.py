"""Issue 17 in a real browser (Debian chromium, zh-CN) against one gunicorn server on the demo data: 下推
from a purchase request to an order to a receipt with no line typed, 选单 of two orders into one receipt,
and an approver's 待审批 page approving with a comment (the count on the menu, the step on the document).

One server and one Chromium for the module; one test walks the whole flow. Screenshots go to
test-artifacts/flow-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from conftest import PASSWORD
from in_browser import Console, demo_server, headless_chromium, made_document, make_user, shot, signed_in
from playwright.sync_api import expect
from servers import HttpApi

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLERK, MANAGER = "flow_clerk", "flow_manager"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from demo_server(tmp_path_factory, "flow-browser")


@pytest.fixture(scope="module")
def api(server: Any) -> HttpApi:
    return HttpApi(server.url)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from headless_chromium()


def _user(api: HttpApi, username: str, role: str) -> HttpApi:
    """A user with one role, made through FAB's security API; their API client."""
    make_user(api, username, role, PASSWORD, first_name=role, last_name="流程", email=f"{username}@jxc.local")
    return HttpApi(api.base_url, username, PASSWORD)


def _page(chromium: Any, server: Any, username: str) -> tuple[Any, Any, Console]:
    """A signed-in page of this user (signed in through /login/, like a person)."""
    return signed_in(chromium, server.url, username)


def _doc(api: HttpApi, model: str, pk: int) -> dict[str, Any]:
    status, body = api.get(f"/api/v1/{model}/{pk}")
    assert status == 200, body
    return body["result"]


def _id_in(url: str, model: str) -> int:
    found = re.search(rf"/m/{model}/(\d+)", url)
    assert found, url
    return int(found.group(1))


def _save_and_submit(page: Any, server: Any, model: str) -> int:
    """On a draft's edit form: save as it is (nothing typed), then 审核 on its page; the document's id."""
    page.click("#jxc-save")
    page.wait_for_url(re.compile(rf".*/m/{model}/\d+$"))
    pk = _id_in(page.url, model)
    page.click("#jxc-submit")
    page.wait_for_url(re.compile(rf".*/m/{model}/{pk}$"))
    assert page.locator(".alert-success").count() >= 1, page.content()[:2000]
    return pk


def test_push_down_pick_and_approve_in_the_browser(server, api, chromium):
    clerk = _user(api, CLERK, "clerk")
    _user(api, MANAGER, "manager")
    request = made_document(
        clerk,
        "purchase_request",
        {
            "date": "2026-11-25",
            "warehouse": "WH01",
            "lines": [
                {"item": "SP0001", "qty": "6", "price": "2.5", "suggested_supplier": "S001"},
                {"item": "SP0002", "qty": "4", "price": "3", "suggested_supplier": "S001"},
            ],
        },
    )
    assert request["status"] == "pending"

    # the approver: the count on the menu, the inbox page, approve with a comment
    context, page, console = _page(chromium, server, MANAGER)
    try:
        badge = page.locator(".jxc-inbox-badge").first
        assert badge.inner_text().strip() == "1"
        page.goto(f"{server.url}/m/purchase_request/{request['id']}")  # a page whose menu counts (kept per stamp)
        assert page.locator(".jxc-inbox-badge").first.inner_text().strip() == "1"
        page.click("a.dropdown-toggle:has(.jxc-inbox-badge)")
        page.click("a[href='/inbox/']")
        page.wait_for_url(server.url + "/inbox/")
        row = page.locator(f"tr[data-number='{request['number']}']")
        assert "请购单" in row.inner_text() and "第 1 / 1 级" in row.inner_text()
        row.locator(".jxc-inbox-comment").fill("同意，尽快下单")
        shot(page, "flow-inbox")
        row.locator(".jxc-inbox-approve").click()
        page.wait_for_url(server.url + "/inbox/")
        assert "已通过全部 1 级审批" in page.locator(".alert-success").inner_text()
        assert page.locator("#jxc-inbox-empty").inner_text() == "没有等待您审批的单据"
        assert page.locator(".jxc-inbox-badge").count() == 0
        page.goto(f"{server.url}/m/purchase_request/{request['id']}")
        assert page.locator(".jxc-inbox-badge").count() == 0  # the kept count is not the one before the approval
        steps = page.locator(".jxc-approval-steps tbody").inner_text()
        assert "提交审批" in steps and "审批通过" in steps and "同意，尽快下单" in steps and MANAGER in steps
        console.check()
    finally:
        context.close()

    # 下推: request -> order -> receipt, no line typed
    context, page, console = _page(chromium, server, "admin")
    try:
        page.goto(f"{server.url}/m/purchase_request/{request['id']}")
        page.click("button.jxc-push[data-target='purchase_order']")
        page.wait_for_url(re.compile(r".*/m/purchase_order/\d+/edit$"))
        assert "已生成草稿" in page.locator(".alert-success").inner_text()
        order_id = _save_and_submit(page, server, "purchase_order")
        order = _doc(api, "purchase_order", order_id)
        assert (order["status"], order["partner"]["key"], order["total_amount"]) == ("submitted", "S001", "27.00")
        assert [(line["item"]["key"], Decimal(line["qty"]), line["source_id"]) for line in order["lines"]] == [
            ("SP0001", Decimal(6), request["id"]),
            ("SP0002", Decimal(4), request["id"]),
        ]
        page.click("button.jxc-push[data-target='purchase_receipt']")
        page.wait_for_url(re.compile(r".*/m/purchase_receipt/\d+/edit$"))
        headers = page.locator("table.jxc-lines thead th").all_inner_texts()
        assert not [h for h in headers if "ID" in h], headers  # 源单ID, 源单行ID ride in hidden inputs
        receipt_id = _save_and_submit(page, server, "purchase_receipt")
        assert "源单行ID" not in page.locator(".jxc-show").inner_text()
        receipt = _doc(api, "purchase_receipt", receipt_id)
        assert receipt["status"] == "submitted" and receipt["warehouse"]["key"] == "WH01"
        assert [(line["source_line_id"], Decimal(line["qty"])) for line in receipt["lines"]] == [
            (line["id"], Decimal(line["qty"])) for line in order["lines"]
        ]
        assert receipt["number"] in page.locator(".jxc-show h3").inner_text()
        page.goto(f"{server.url}/m/purchase_order/{order_id}")
        assert receipt["number"] in page.locator(".jxc-flow-follow-ons").inner_text()

        # 选单: two orders of one supplier into one receipt
        orders = [
            made_document(
                api,
                "purchase_order",
                {
                    "date": "2026-11-26",
                    "partner": "S002",
                    "warehouse": "WH01",
                    "lines": [{"item": sku, "qty": qty, "price": "1.5"}],
                },
            )
            for sku, qty in (("SP0003", "7"), ("SP0004", "9"))
        ]
        page.goto(f"{server.url}/m/purchase_receipt/")
        page.click("#jxc-pick")
        page.wait_for_url(re.compile(r".*/m/purchase_receipt/pick"))
        page.select_option("#jxc-pick-partner", value=str(orders[0]["partner"]["id"]))
        page.click("#jxc-pick-show")
        page.wait_for_url(re.compile(r".*partner=\d+"))
        for made in orders:
            page.check(f"input[name=line][data-source='{made['number']}']")
        shot(page, "flow-pick")
        page.click("#jxc-pick-make")
        page.wait_for_url(re.compile(r".*/m/purchase_receipt/\d+/edit$"))
        picked_id = _save_and_submit(page, server, "purchase_receipt")
        picked = _doc(api, "purchase_receipt", picked_id)
        assert picked["partner"]["key"] == "S002"
        assert [(line["source_id"], Decimal(line["qty"])) for line in picked["lines"]] == [
            (orders[0]["id"], Decimal(7)),
            (orders[1]["id"], Decimal(9)),
        ]
        sources = page.locator(".jxc-flow-sources").inner_text()
        assert orders[0]["number"] in sources and orders[1]["number"] in sources
        shot(page, "flow-picked-receipt")
        console.check()
    finally:
        context.close()


def test_pushing_an_order_twice_opens_its_draft_in_the_browser(server, api, chromium):
    """下推 twice on an order's page: the second press opens the draft the first made, saying so, and makes
    no second draft of the same quantity (it was refused at submit as beyond the order)."""
    order = made_document(
        api,
        "purchase_order",
        {
            "date": "2026-11-27",
            "partner": "S003",
            "warehouse": "WH01",
            "lines": [{"item": "SP0005", "qty": "8", "price": "2"}],
        },
    )
    context, page, console = _page(chromium, server, "admin")
    try:
        drafts = []
        for _ in range(2):
            page.goto(f"{server.url}/m/purchase_order/{order['id']}")
            page.click("button.jxc-push[data-target='purchase_receipt']")
            page.wait_for_url(re.compile(r".*/m/purchase_receipt/\d+/edit$"))
            drafts.append(_id_in(page.url, "purchase_receipt"))
        assert drafts[0] == drafts[1]
        number = _doc(api, "purchase_receipt", drafts[0])["number"]
        shown = page.locator(".alert-info").inner_text()
        assert f"已有未审核的 采购入库单 {number} 来自此采购订单，已为您打开" in shown
        shot(page, "flow-pushed-twice")
        assert _save_and_submit(page, server, "purchase_receipt") == drafts[0]
        assert Decimal(_doc(api, "purchase_order", order["id"])["lines"][0]["received_qty"]) == Decimal(8)
        console.check()
    finally:
        context.close()


def test_a_receipt_pushed_to_a_payment_in_the_browser_asks_its_account_and_carries_every_cent(server, api, chromium):
    """下推：收付款单 on a receipt's page asks the 结算账户 beside the button (the draft needs one the receipt cannot
    give: pressed alone it said only 必填); chosen, the draft opens with the receipt's 价税合计 to the cent, and
    posts."""
    receipt = made_document(
        api,
        "purchase_receipt",
        {
            "partner": "S002",
            "warehouse": "WH01",
            "lines": [
                {"item": "SP0001", "qty": "3000", "price": "3.3317"},
                {"item": "SP0005", "qty": "1999", "price": "1.1111"},
            ],
        },
    )
    context, page, console = _page(chromium, server, "admin")
    try:
        page.goto(f"{server.url}/m/purchase_receipt/{receipt['id']}")
        account = page.locator("form:has(button.jxc-push[data-target='payment']) select[name=account]")
        assert account.get_attribute("aria-label") == "结算账户"
        page.click("button.jxc-push[data-target='payment']")  # none chosen yet: the browser asks, nothing is made
        assert page.url.endswith(f"/m/purchase_receipt/{receipt['id']}")
        account.select_option(label="A002 工商银行基本户")
        shot(page, "flow-push-payment-account")
        page.click("button.jxc-push[data-target='payment']")
        page.wait_for_url(re.compile(r".*/m/payment/\d+/edit$"))
        payment = _doc(api, "payment", _id_in(page.url, "payment"))
        assert payment["account"]["key"] == "A002" and payment["partner"]["key"] == "S002"
        assert Decimal(payment["amount"]) == Decimal(receipt["total_with_tax"]) == Decimal("13804.29")
        # the lines' total counts the line and its amount (it said 合计：0 行，数量 0)
        expect(page.locator("#jxc-lines-total")).to_have_text("合计：1 行，金额 ¥13,804.29")
        assert _save_and_submit(page, server, "payment") == payment["id"]
        assert _doc(api, "payment", payment["id"])["status"] == "submitted"
        console.check()
    finally:
        context.close()
