"""The phone pages in a real browser (Debian chromium, zh-CN, 390 px wide) against one gunicorn server on SQLite
with the demo data: a stocktake counted by typed barcodes (a scanner gun types the code and Enter), its batch
sent twice after a lost answer and counted once; the sales order form with no sideways scrolling, lines first
and totals at the bottom; the manifest and the service worker registered, its copies dropped at a logout.
Screenshots go to test-artifacts/phone-*.png.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from in_browser import PHONE, Console, demo_server, headless_chromium, make_user, signed_in
from servers import ARTIFACTS, HttpApi

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "keeper-pass-1"
WATER = "6901001000010"  # SP0001's barcode in the demo data
TEA = "6901001000058"  # SP0005's


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from demo_server(tmp_path_factory, "phone")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from headless_chromium()


def phone_context(chromium: Any, server: Any, **options: Any) -> tuple[Any, Any, Console]:
    """A signed-in 390 px zh-CN page."""
    return signed_in(chromium, server.url, viewport=PHONE, has_touch=True, is_mobile=True, **options)


def counted(api: HttpApi, take_id: int) -> dict[str, Decimal | None]:
    status, body = api.get(f"/api/v1/stocktake/{take_id}")
    assert status == 200, body
    return {
        line["item"]["key"]: None if line["counted_qty"] is None else Decimal(line["counted_qty"])
        for line in body["result"]["lines"]
    }


def test_counting_typed_quantities_in_boxes_and_a_correction(server: Any, chromium: Any) -> None:
    """A counter holding boxes types 2 箱 (SP0001: 24 a box) where a scan adds one; a part (0.5) stays exact;
    a count is corrected to 40; a negative, a word or too many decimals is said next to the field and counts
    nothing."""
    api = HttpApi(server.url)
    status, take = api.post("/api/v1/stocktake/", {"date": "2026-11-26", "warehouse": "WH01", "lines": []})
    assert status == 201, take
    context, page, console = phone_context(chromium, server, service_workers="block")
    page.goto(f"{server.url}/phone/count/{take['id']}")

    def enter(code: str, qty: str = "", unit: str = "", correct: bool = False) -> None:
        page.fill("#ph-scan", code)  # the code first: the unit list offers that item's units
        if unit:
            page.wait_for_selector(f'#ph-count-unit option[value="{unit}"]', state="attached")
        page.select_option("#ph-count-unit", unit)
        page.fill("#ph-count-qty", qty)
        page.set_checked("#ph-count-set", correct)
        page.press("#ph-count-qty", "Enter")

    # the unit list offered every unit of the system (千克 for a bottle of water): it offers the bottle's own, once
    # its code is typed (its base unit, first, and its case), and the base unit only while no code is typed
    assert page.locator("#ph-count-unit option").all_inner_texts() == ["基本单位"]
    page.fill("#ph-scan", WATER)
    page.wait_for_selector('#ph-count-unit option[value="BOX"]', state="attached")
    assert page.locator("#ph-count-unit option").all_inner_texts() == ["瓶（基本单位）", "箱（1箱 = 24瓶）"]
    assert page.input_value("#ph-count-unit") == ""  # not counted on this stocktake yet: its base unit
    refusals = (("-1", "数量不能为负数"), ("abc", "数量须为数字，如 24 或 1.5"), ("1.23456", "数量最多 4 位小数"))
    for typed, words in refusals:
        enter(WATER, typed)
        assert page.inner_text("#ph-qty-error") == words
        assert page.is_visible("#ph-qty-error") and page.inner_text("#ph-unsent-count") == "0"
        assert page.input_value("#ph-scan") == WATER  # kept for another try
    page.fill("#ph-count-qty", "")  # typed again: what was wrong with it is not said beside what is typed now
    page.type("#ph-count-qty", "2")
    assert page.is_hidden("#ph-qty-error")
    enter(WATER, "2", "BOX")
    assert page.is_hidden("#ph-qty-error") and page.input_value("#ph-count-qty") == ""
    assert page.evaluate("document.activeElement.id") == "ph-scan"
    enter(WATER)  # a scan: one more piece
    enter(TEA, "0.5")
    assert page.inner_text("#ph-unsent-count") == "3"
    assert page.locator(f'#ph-pending [data-code="{WATER}"] .ph-qty').all_inner_texts() == ["1", "2 箱"]
    page.click("#ph-send")
    page.wait_for_selector("#ph-msg.ph-ok")
    assert counted(api, take["id"]) == {"SP0001": Decimal(49), "SP0005": Decimal("0.5")}
    enter(WATER, "40", correct=True)  # counted again: 40, not 49 + 40
    enter(WATER)
    page.click("#ph-send")
    page.wait_for_function("() => document.querySelector('#ph-unsent-count').textContent === '0'")
    page.wait_for_selector("#ph-msg.ph-ok")
    assert counted(api, take["id"]) == {"SP0001": Decimal(41), "SP0005": Decimal("0.5")}
    assert page.inner_text('#ph-lines [data-item="SP0001"] .ph-counted') == "41"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "phone-count-typed.png"), full_page=True)
    console.check()
    context.close()


def test_counting_the_sales_order_form_and_the_installable_app(server: Any, chromium: Any) -> None:
    api = HttpApi(server.url)
    status, take = api.post("/api/v1/stocktake/", {"date": "2026-11-25", "warehouse": "WH01", "lines": []})
    assert status == 201, take

    # -- counting by typed barcodes; the service worker is kept out so the test can lose an answer ------
    context, page, console = phone_context(chromium, server, service_workers="block")
    page.goto(f"{server.url}/phone/count/{take['id']}")
    assert page.evaluate("document.activeElement.id") == "ph-scan"
    for code in (WATER, WATER, TEA, WATER):
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "ph-scan"  # ready for the next scan
        assert page.input_value("#ph-scan") == ""
    assert page.inner_text(f'#ph-pending [data-code="{WATER}"] .ph-qty') == "3"
    assert page.inner_text("#ph-unsent-count") == "2"
    stored = page.evaluate(f"localStorage.getItem('jxc.count.' + JXCPhone.config.user + '.{take['id']}')")
    assert WATER in stored  # kept on the device until sent
    page.reload()  # still there after a reload
    assert page.inner_text(f'#ph-pending [data-code="{WATER}"] .ph-qty') == "3"

    lost = []

    def lose_the_answer(route: Any) -> None:
        """The request reaches the server and is applied, but its answer never comes back."""
        lost.append(route.fetch().status)
        route.abort("connectionreset")

    page.route("**/api/v1/phone/stocktake/*/counts", lose_the_answer)
    page.click("#ph-send")
    page.wait_for_selector("#ph-msg.ph-error")
    assert lost == [200]
    assert counted(api, take["id"]) == {"SP0001": Decimal(3), "SP0005": Decimal(1)}  # applied once already
    assert page.inner_text("#ph-unsent-count") == "2"  # the phone does not know: it keeps the batch
    page.unroute("**/api/v1/phone/stocktake/*/counts")
    page.click("#ph-send")  # sent again with the same key
    page.wait_for_selector("#ph-msg.ph-ok")
    assert "未重复计入" in page.inner_text("#ph-msg")
    assert counted(api, take["id"]) == {"SP0001": Decimal(3), "SP0005": Decimal(1)}  # counted once
    assert page.inner_text("#ph-unsent-count") == "0"
    assert page.inner_text('#ph-lines [data-item="SP0001"] .ph-counted') == "3"
    page.keyboard.type(WATER)  # the next scan goes on from there: a new batch adds to the count
    page.keyboard.press("Enter")
    page.click("#ph-send")
    page.wait_for_function("() => document.querySelector('#ph-unsent-count').textContent === '0'")
    page.wait_for_selector("#ph-msg.ph-ok")
    assert counted(api, take["id"])["SP0001"] == Decimal(4)
    page.screenshot(path=str(ARTIFACTS / "phone-count.png"), full_page=True)
    console.check()
    context.close()

    # -- the sales order form at 390 px, and the app itself ----------------------------------------
    context, page, console = phone_context(chromium, server)
    page.goto(server.url + "/phone/sales_order/new")
    for number, code in enumerate(("SP0001", "SP0002", "SP0003"), start=1):
        page.fill("#ph-add", code)
        page.press("#ph-add", "Enter")
        page.wait_for_function(f"() => document.querySelectorAll('#ph-order-lines .ph-order-line').length === {number}")
    page.locator("#ph-order-lines [data-field=qty]").nth(0).fill("5")
    page.fill("#ph-partner", "K001")
    page.click("#ph-partner-choices .ph-choice")
    page.wait_for_function("() => document.querySelector('[data-total=total_qty]').textContent === '7'")
    assert page.locator("#ph-order-lines [data-field=price]").nth(0).input_value() == "2.00"  # the item's price
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    lines_box = page.locator("#ph-order-lines").bounding_box()
    totals_box = page.locator("#ph-totals").bounding_box()
    assert lines_box["y"] < totals_box["y"]  # lines first, totals at the bottom
    page.screenshot(path=str(ARTIFACTS / "phone-order.png"), full_page=True)
    page.click("#ph-save")
    page.wait_for_selector("#ph-msg.ph-ok a")
    order_id = page.get_attribute("#ph-msg a", "href").rsplit("/", 1)[1]
    status, order = api.get(f"/api/v1/sales_order/{order_id}")
    assert status == 200 and order["result"]["partner"]["key"] == "K001"
    assert [(line["item"]["key"], line["qty"], line["price"]) for line in order["result"]["lines"]] == [
        ("SP0001", "5", "2.00"),
        ("SP0002", "1", "2.00"),
        ("SP0003", "1", "3.00"),
    ]

    manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["start_url"] == "/phone/" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == server.url + "/phone/"
    page.goto(server.url + "/phone/stock?q=SP0001")  # kept by the worker for a flaky connection
    page.wait_for_function(
        "() => caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys()))))"
        ".then(all => all.flat().some(r => r.url.endsWith('/phone/stock?q=SP0001')))"
    )
    console.check()
    context.set_offline(True)
    page.reload()
    assert "SP0001" in page.inner_text("main") and page.is_visible("#ph-net")  # the last copy, marked offline
    context.set_offline(False)
    context.close()


KEPT = (
    "suffix => caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys()))))"
    ".then(all => all.flat().some(r => r.url.endsWith(suffix)))"
)


def kept_becomes(page: Any, suffix: str, wanted: bool, seconds: float = 10) -> bool:
    """Wait until the service worker keeps (or no longer keeps) a copy of a URL ending so; whether it came to."""
    deadline = time.monotonic() + seconds
    while page.evaluate(KEPT, suffix) != wanted:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_logout_leaves_no_copy_of_the_phone_pages(server: Any, chromium: Any) -> None:
    """The service worker keeps the last copy of each phone page for a flaky connection; signing out drops them, so
    whoever picks the phone up next reads none of them offline (they stayed: the signed-out user's stock, customers
    and statements opened from the cache without a connection, and on a slow one)."""
    context, page, console = phone_context(chromium, server)
    page.goto(server.url + "/phone/")
    assert kept_becomes(page, "/phone/__user__", True)  # the worker knows whose copies it keeps
    page.goto(server.url + "/phone/stock?q=SP0001")
    assert kept_becomes(page, "/phone/stock?q=SP0001", True)
    page.goto(server.url + "/logout/")
    page.wait_for_url(re.compile(r".*/login/.*"))
    assert kept_becomes(page, "/phone/stock?q=SP0001", False)
    context.set_offline(True)
    try:
        page.goto(server.url + "/phone/stock?q=SP0001")
        shown = page.content()
    except Exception:  # noqa: BLE001 (the browser's own offline error: nothing was kept to show)
        shown = ""
    assert "SP0001" not in shown
    context.set_offline(False)
    console.check()
    context.close()


def test_the_order_form_shows_the_totals_of_the_last_edit_when_answers_cross(server: Any, chromium: Any) -> None:
    """An answer held back until a later one was shown (a slow request for an earlier edit) does not overwrite
    the figures of the later edit."""
    context, page, console = phone_context(chromium, server)
    held: list[Any] = []

    def hold_the_first(route: Any) -> None:
        if not held:
            held.append(route)  # answered below, after the next question's answer is on the page
        else:
            route.continue_()

    page.goto(server.url + "/phone/sales_order/new")
    page.route("**/draft_totals", hold_the_first)
    page.fill("#ph-add", "SP0001")
    page.press("#ph-add", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#ph-order-lines .ph-order-line').length === 1")
    page.locator("#ph-order-lines [data-field=qty]").nth(0).fill("4")
    page.wait_for_function("() => document.querySelector('[data-total=total_qty]').textContent === '4'")
    assert len(held) == 1
    held[0].continue_()  # the first edit's answer (a quantity of 1) arrives last
    page.wait_for_timeout(500)
    assert page.inner_text("[data-total=total_qty]") == "4"
    page.unroute("**/draft_totals")
    page.locator("#ph-order-lines [data-field=price]").nth(0).fill("1234.5")  # money reads 4,938.00, as on the desk
    page.wait_for_function("() => document.querySelector('[data-total=total_amount]').textContent === '4,938.00'")
    line_amount = page.inner_text("#ph-order-lines .ph-line-amount").strip()  # with its tax: 5,579.94
    assert re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{2}", line_amount), line_amount
    # the line's figure says what it is (it stood alone beside the unit: read as a price with its tax)
    assert page.inner_text("#ph-order-lines .ph-line-total").split() == ["价税合计", line_amount]
    console.check()
    context.close()


def test_a_lines_defaults_arriving_while_its_quantity_is_typed_leave_the_typing_alone(
    server: Any, chromium: Any
) -> None:
    """The item's defaults (unit, price) come back after its line is drawn; a clerk already in the quantity keeps
    the focus and what they type (the line was drawn anew, and the keys went nowhere)."""
    context, page, console = phone_context(chromium, server)
    held: list[Any] = []
    page.goto(server.url + "/phone/sales_order/new")
    page.route("**/line_defaults*", lambda route: held.append(route))
    page.fill("#ph-add", "SP0001")
    page.press("#ph-add", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#ph-order-lines .ph-order-line').length === 1")
    page.click("#ph-order-lines [data-field=qty]")
    assert len(held) == 1
    held[0].continue_()
    page.wait_for_function("() => document.querySelector('#ph-order-lines [data-field=price]').value === '2.00'")
    page.keyboard.press("Control+A")
    page.keyboard.type("4")
    assert page.evaluate("document.activeElement.getAttribute('data-field')") == "qty"
    page.wait_for_function("() => document.querySelector('[data-total=total_qty]').textContent === '4'")
    assert page.locator("#ph-order-lines [data-field=qty]").input_value() == "4"
    page.unroute("**/line_defaults*")
    console.check()
    context.close()


def test_a_customers_statement_keeps_each_figure_on_one_line(server: Any, chromium: Any) -> None:
    """对账单 on the customer page at 390 px: a date, an amount and a balance each read on one line (they broke
    across lines, 487. / 03 and 余额 1459.7 / 4, beside the document's type and number); the first line is 期初余额."""
    api = HttpApi(server.url)
    status, found = api.get("/api/v1/partner/?q=(filters:!((col:code,opr:eq,value:K001)))")
    assert status == 200, found
    customer = found["result"][0]["id"]
    opening = {"date": "2026-01-01", "lines": [{"partner": "K001", "receivable_amount": "123456.78"}]}
    status, made = api.post("/api/v1/opening_balance/", opening)
    assert status == 201, made
    if made["result"]["status"] == "draft":
        status, made = api.post(f"/api/v1/opening_balance/{made['id']}/submit", {})
        assert status == 200, made
    context, page, console = phone_context(chromium, server)
    page.goto(f"{server.url}/phone/customer/{customer}?period=this_year")
    entries = page.locator(".ph-line", has_text="余额")
    assert entries.count() >= 1
    assert "期初余额" in entries.first.inner_text()
    statement = "\n".join(entries.all_inner_texts())
    assert "123,456.78" in statement, statement  # money as every page reads it, thousands separated
    broken = page.evaluate(
        """() => Array.from(document.querySelectorAll('.ph-line .ph-row > *'))
            .filter(e => /^(余额 )?-?[0-9.,]+$|^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(e.textContent.trim()))
            .filter(e => { const r = document.createRange(); r.selectNodeContents(e);
                           return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size > 1; })
            .map(e => e.textContent.trim())"""
    )
    page.screenshot(path=str(ARTIFACTS / "phone-statement.png"), full_page=True)
    assert broken == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    console.check()
    context.close()


def assign_warehouses(chromium: Any, server: Any, username: str, codes: tuple[str, ...]) -> None:
    """The administrator ticks the user's warehouses on /admin/user-warehouses/ and saves."""
    context, page, console = signed_in(chromium, server.url)
    page.goto(server.url + "/admin/user-warehouses/")
    form = page.locator("form", has=page.locator(f"#save-{username}"))
    for box in form.locator("input[name=warehouse]").all():
        box.set_checked(box.get_attribute("value") in codes)
    form.locator(f"#save-{username}").click()
    page.wait_for_load_state()
    console.check()
    context.close()


def test_a_keeper_starts_a_stocktake_on_the_phone(server: Any, chromium: Any) -> None:
    """A keeper's phone: no 待审批 tile (no approval level names their role); 新建盘点单 opened the desk's form
    (its lines table scrolled sideways at 390 px) and now opens a phone page that asks the warehouse (theirs
    only), the category and the scope, makes the stocktake through its API and goes on to count it. A refusal
    (the warehouse taken from them while the page was open) is said next to the field."""
    api = HttpApi(server.url)
    make_user(api, "phkeeper", "warehouse", PASSWORD, first_name="仓管小周")
    assign_warehouses(chromium, server, "phkeeper", ("WH01", "WH02"))
    context, page, console = phone_context(chromium, server, username="phkeeper", password=PASSWORD)
    page.goto(server.url + "/phone/")
    assert page.locator("#ph-tile-count").is_visible() and page.locator("#ph-tile-inbox").count() == 0
    page.click("#ph-tile-count")
    page.click("#ph-new-stocktake")
    page.wait_for_url(server.url + "/phone/count/new")
    options = page.locator("#ph-field-warehouse option").all_inner_texts()
    assert [o.split()[0] for o in options] == ["WH01", "WH02"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]

    assign_warehouses(chromium, server, "phkeeper", ("WH01",))  # WH02 is no longer theirs
    page.select_option("#ph-field-warehouse", label=options[1])
    page.click("#ph-start")
    page.wait_for_selector("#ph-error-warehouse:not([hidden])")
    assert page.inner_text("#ph-error-warehouse") == "盘点仓库 WH02 不在您的数据范围内"  # which field, which value
    assert page.url == server.url + "/phone/count/new" and page.is_hidden("#ph-msg")
    page.select_option("#ph-field-warehouse", label=options[0])
    assert page.is_hidden("#ph-error-warehouse")  # what was wrong is not said beside the new choice
    pick_category(page, "饮料", "C01 饮料")
    page.select_option("#ph-field-scope", "whole")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "phone-count-new.png"), full_page=True)
    page.click("#ph-start")
    page.wait_for_url(re.compile(r".*/phone/count/\d+$"))
    take_id = int(page.url.rsplit("/", 1)[1])
    assert page.evaluate("document.activeElement.id") == "ph-scan"  # ready to count
    scope = page.locator("#ph-count-about .ph-about").last  # broke as 全仓盘点（未盘到的按 0 / 计）at 390 px
    assert scope.inner_text() == "全仓盘点（未盘到的按 0 计）" and scope.bounding_box()["height"] < 30
    status, take = api.get(f"/api/v1/stocktake/{take_id}")
    assert status == 200, take
    made = take["result"]
    assert (made["warehouse"]["key"], made["category"]["key"], made["scope"]) == ("WH01", "C01", "whole")
    assert made["snapshot_at"] and made["created_by"]["key"] == "phkeeper" and made["status"] == "draft"
    page.keyboard.type(WATER)
    page.keyboard.press("Enter")
    page.click("#ph-send")
    page.wait_for_selector("#ph-msg.ph-ok")
    assert counted(api, take_id) == {"SP0001": Decimal(1)}
    page.goto(server.url + "/phone/count/new?warehouse=WH02")  # asked for by its code: not theirs, said so
    assert "WH02 不在您负责的仓库内" in page.inner_text("main")
    assert [o.split()[0] for o in page.locator("#ph-field-warehouse option").all_inner_texts()] == ["WH01"]
    console.check(
        expected_failures=(f"422 {server.url}/api/v1/stocktake/", f"403 {server.url}/phone/count/new?warehouse=WH02")
    )
    context.close()


def pick_category(page: Any, typed: str, shown: str) -> None:
    """Type into the category field of a new stocktake and tap the match shown as `shown` (code and name)."""
    page.fill("#ph-field-category", typed)
    page.locator("#ph-choices-category .ph-choice", has_text=shown).click()
    assert page.input_value("#ph-field-category") == shown and page.is_hidden("#ph-choices-category")


OLD_SELECT_LIMIT = 1000  # the new stocktake page listed the first 1,000 categories by code in a select


def test_a_new_stocktakes_category_is_looked_up_among_any_number(server: Any, chromium: Any) -> None:
    """The new stocktake page listed at most 1,000 categories in a select, the others silently missing: with more
    (a category sorting after all of them among them), the field looks categories up as they are typed, through
    the grid's link lookup (code and name), and the one picked is the stocktake's; a category typed that does
    not exist is refused next to the field, and nothing is made."""
    api = HttpApi(server.url)
    tag = f"ZC{uuid.uuid4().hex[:4].upper()}"  # sorts after the demo's C01..C05
    ops = [
        {"op": "create", "tmp_id": f"t{i}", "values": {"code": f"{tag}{i:04d}", "name": f"分类{i}"}}
        for i in range(OLD_SELECT_LIMIT + 5)
    ]
    status, saved = api.post("/api/v1/grid/category/batch", {"client_batch_id": tag, "source": "edit", "ops": ops})
    assert status == 200 and not saved.get("errors"), saved
    last = f"{tag}{OLD_SELECT_LIMIT + 4:04d}"
    make_user(api, "phcounter", "warehouse", PASSWORD, first_name="仓管小吴")
    assign_warehouses(chromium, server, "phcounter", ("WH01",))
    context, page, console = phone_context(chromium, server, username="phcounter", password=PASSWORD)
    page.goto(server.url + "/phone/count/new")
    assert page.locator("#ph-field-category option").count() == 0  # no list of every category
    page.fill("#ph-field-category", tag)
    page.wait_for_selector("#ph-choices-category:not([hidden])")
    assert page.locator("#ph-choices-category .ph-choice").first.inner_text() == f"{tag}0000 分类0"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]

    page.fill("#ph-field-category", "没有这个分类")  # typed, not picked, and no such category: refused by name
    page.click("#ph-start")
    page.wait_for_selector("#ph-error-category:not([hidden])")
    assert page.inner_text("#ph-error-category") == "找不到「没有这个分类」"
    assert page.url == server.url + "/phone/count/new"

    pick_category(page, last, f"{last} 分类{OLD_SELECT_LIMIT + 4}")  # beyond the old select's 1,000
    assert page.is_hidden("#ph-error-category")
    page.screenshot(path=str(ARTIFACTS / "phone-count-new-category.png"), full_page=True)
    page.click("#ph-start")
    page.wait_for_url(re.compile(r".*/phone/count/\d+$"))
    status, take = api.get(f"/api/v1/stocktake/{page.url.rsplit('/', 1)[1]}")
    assert status == 200, take
    assert (take["result"]["warehouse"]["key"], take["result"]["category"]["key"]) == ("WH01", last)
    console.check(expected_failures=(f"422 {server.url}/api/v1/stocktake/",))
    context.close()


def test_a_keeper_reviews_and_submits_a_stocktake_on_the_phone(server: Any, chromium: Any) -> None:
    """A stocktake counted on the phone had to be finished at a desk. The keeper reviews it on the phone (the lines
    that differ first, what is not counted and what submitting does with it, no cost shown to them), is held back
    while counts are still on the phone, gives the reasons a difference needs, confirms, and it is submitted
    through its own API. Counted by someone else in between, nothing is submitted, the page says to review again
    and keeps the reasons chosen."""
    api = HttpApi(server.url)
    make_user(api, "phreviewer", "warehouse", PASSWORD, first_name="仓管小陈")
    assign_warehouses(chromium, server, "phreviewer", ("WH01",))
    status, take = api.post(
        "/api/v1/stocktake/",
        {
            "date": "2026-11-27",
            "warehouse": "WH01",
            "remark": "二号货架到五号货架，冷藏区除外，盘点人：张三、李四、王五；复盘人：赵六",
            "lines": [{"item": "SP0001"}, {"item": "SP0005"}, {"item": "SP0002"}],
        },
    )
    assert status == 201, take
    books = {line["item"]["key"]: Decimal(line["book_qty"]) for line in take["result"]["lines"]}
    context, page, console = phone_context(
        chromium, server, username="phreviewer", password=PASSWORD, service_workers="block"
    )
    # the list of stocktakes: a long remark squeezed the warehouse's name into a column of single characters
    page.goto(f"{server.url}/phone/count/")
    card = page.locator(f'a[href="/phone/count/{take["id"]}"]')
    where = card.locator(".ph-count-where")
    assert where.inner_text() == "主仓库" and where.bounding_box()["height"] < 30  # one line
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    card.click()
    page.wait_for_url(f"{server.url}/phone/count/{take['id']}")
    for code, qty in ((WATER, books["SP0001"] + 2), ("SP0005", books["SP0005"])):  # two bottles more than booked
        page.fill("#ph-scan", code)
        page.fill("#ph-count-qty", str(qty))
        page.set_checked("#ph-count-set", True)  # the count is this number (0 too)
        page.press("#ph-count-qty", "Enter")
    page.wait_for_selector(f'#ph-pending [data-code="{WATER}"]:has-text("SP0001")')  # named, not only a barcode
    page.click("#ph-review")  # not sent yet: the review says so and submits nothing
    page.wait_for_url(f"{server.url}/phone/count/{take['id']}/review")
    assert "还有 2 条盘点数量没有发送" in page.inner_text("#ph-unsent")
    page.click("#ph-submit")
    assert page.is_hidden("#ph-confirm")
    page.click("#ph-back-to-count")
    page.click("#ph-send")
    page.wait_for_selector("#ph-msg.ph-ok")
    page.click("#ph-review")
    page.wait_for_url(f"{server.url}/phone/count/{take['id']}/review")
    assert page.is_hidden("#ph-unsent")
    shown = page.locator("#ph-review-lines .ph-line").evaluate_all("ls => ls.map(l => l.dataset.item)")
    assert shown == ["SP0001", "SP0002", "SP0005"]  # the difference first, then what is not counted, then the rest
    assert page.inner_text('#ph-review-lines [data-item="SP0001"] .ph-diff') == "2"
    assert page.inner_text("#ph-sum-uncounted") == "1" and "未盘的 1 行不调整库存" in page.inner_text("#ph-effect")
    assert "金额" not in page.inner_text("main")  # a keeper sees no cost
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.click("#ph-submit")  # no reason for the difference yet: said on its line
    assert page.inner_text('#ph-review-lines [data-item="SP0001"] .ph-line-error') == "请选择差异原因"
    assert page.is_hidden("#ph-confirm")
    page.select_option('#ph-review-lines [data-item="SP0001"] select', "damage")
    page.click("#ph-submit")
    assert page.is_visible("#ph-confirm") and "将按差异调整 1 个商品的库存" in page.inner_text("#ph-confirm")
    page.screenshot(path=str(ARTIFACTS / "phone-count-review.png"), full_page=True)

    status, _ = api.post(  # counted at the same time elsewhere: the stocktake is saved again
        f"/api/v1/phone/stocktake/{take['id']}/counts", {"key": uuid.uuid4().hex, "counts": [{"code": TEA, "qty": "1"}]}
    )
    assert status == 200
    page.click("#ph-confirm-yes")
    page.wait_for_selector("#ph-result.ph-error")
    assert "这张盘点单在您核对之后已被修改" in page.inner_text("#ph-result")
    status, body = api.get(f"/api/v1/stocktake/{take['id']}")
    assert body["result"]["status"] == "draft"  # nothing submitted
    page.click("#ph-review-again")
    page.wait_for_selector('#ph-review-lines [data-item="SP0005"] select')  # now a gain of 1: a reason too
    assert page.input_value('#ph-review-lines [data-item="SP0001"] select') == "damage"  # kept
    page.select_option('#ph-review-lines [data-item="SP0005"] select', "miscount")
    page.click("#ph-submit")
    page.click("#ph-confirm-yes")
    page.wait_for_selector("#ph-result.ph-ok")
    assert "已审核" in page.inner_text("#ph-result") and page.is_hidden("#ph-submit-bar")
    # its status shown, and no way back leads to counting it: 返回盘点 is gone, the header's ‹ goes to the list
    assert page.inner_text("#ph-status") == "已审核"
    assert page.is_hidden("#ph-back-to-count") and page.get_attribute("#ph-back", "href") == "/phone/count/"
    status, body = api.get(f"/api/v1/stocktake/{take['id']}")
    assert body["result"]["status"] == "submitted"
    reasons = {line["item"]["key"]: line["reason"] for line in body["result"]["lines"]}
    assert reasons == {"SP0001": "damage", "SP0005": "miscount", "SP0002": None}
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "phone-count-submitted.png"), full_page=True)
    page.click("#ph-back")
    page.wait_for_url(f"{server.url}/phone/count/")
    assert page.locator(f'a[href="/phone/count/{take["id"]}"]').count() == 0  # a draft no more: not to be counted
    # its counting page opened anyway (a bookmark, the browser's back): said in Chinese, nothing to count, the way back
    page.goto(f"{server.url}/phone/count/{take['id']}")
    number = body["result"]["number"]
    assert page.inner_text("#ph-count-closed").startswith(f"盘点单 {number} 已审核，不能再录入盘点数量。")
    assert page.locator("#ph-scan").count() == 0 and page.locator("#ph-send").count() == 0
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "phone-count-closed.png"), full_page=True)
    page.click("#ph-back-list")
    page.wait_for_url(f"{server.url}/phone/count/")

    # deleted at a desk while the keeper reviews it: said so, not 记录不存在
    status, gone = api.post("/api/v1/stocktake/", {"date": "2026-11-27", "warehouse": "WH01", "lines": []})
    assert status == 201, gone
    page.goto(f"{server.url}/phone/count/{gone['id']}/review")
    assert api.call("DELETE", f"/api/v1/stocktake/{gone['id']}")[0] == 200
    page.click("#ph-submit")
    page.click("#ph-confirm-yes")
    page.wait_for_selector("#ph-result.ph-error")
    assert "找不到这张盘点单了：它可能已被删除，或已不在您负责的仓库内" in page.inner_text("#ph-result")
    console.check(
        expected_failures=(
            f"409 {server.url}/api/v1/phone/stocktake/{take['id']}/reasons",
            f"404 {server.url}/api/v1/stocktake/{gone['id']}/submit",
        )
    )
    context.close()


def test_approving_on_the_phone_says_what_the_approval_did(server: Any, chromium: Any) -> None:
    """A manager approves the first of two levels from the phone's 待审批 with a comment, on the last of several cards
    (scrolled down to it): the page says, in their language and where they are looking (it was said at the top of the
    list, out of sight), what the approval did (level 1 of 2 given, who is next) and the card goes; the administrator,
    on an English phone, gives the last level and is told it posted. The comment is kept in the approval's audit
    row."""
    api = HttpApi(server.url)
    manager, buyer = "phone_mgr_" + uuid.uuid4().hex[:6], "phone_buy_" + uuid.uuid4().hex[:6]
    make_user(api, manager, "manager", PASSWORD)
    make_user(api, buyer, "purchaser", PASSWORD)
    lines = [{"item": "SP0010", "qty": "1300", "price": "42"}]  # 59,514 with tax: a manager, then an admin
    buying = HttpApi(server.url, buyer, PASSWORD)  # neither approver made it (creator_cannot_approve)
    for _ in range(5):  # cards above it: 12,600 each, the manager's level only
        status, made = buying.post(
            "/api/v1/purchase_order/",
            {"date": "2026-11-26", "partner": "S001", "warehouse": "WH01", "lines": [dict(lines[0], qty="300")]},
        )
        assert status == 201, made
        assert buying.post(f"/api/v1/purchase_order/{made['id']}/submit", {})[0] == 200
    status, made = buying.post(
        "/api/v1/purchase_order/", {"date": "2026-11-26", "partner": "S001", "warehouse": "WH01", "lines": lines}
    )
    assert status == 201, made
    order = made["result"]
    status, body = buying.post(f"/api/v1/purchase_order/{order['id']}/submit", {})
    assert status == 200 and body["result"]["status"] == "pending", body

    context, page, console = phone_context(chromium, server, username=manager, password=PASSWORD)
    page.goto(server.url + "/phone/inbox")
    card = page.locator(f'[data-doc="purchase_order/{order["id"]}"]')
    card.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > PHONE["height"] / 2  # scrolled well past the top of the list
    card.locator('input[name="comment"]').fill("数量已核对")
    card.locator('[data-decide="approve"]').click()
    message = page.locator("#ph-msg")
    message.wait_for(state="visible")
    assert message.inner_text() == "已通过第 1 级审批（共 2 级），等待下一级（系统管理员）审批"
    bar, said = page.locator(".ph-bar").bounding_box(), message.bounding_box()
    assert bar and said and said["y"] >= bar["y"] + bar["height"] - 1, (bar, said)  # not under the bar
    assert said["y"] + said["height"] <= PHONE["height"], said  # nor below the screen
    card.wait_for(state="detached")
    shot = ARTIFACTS / "phone-approved.png"
    page.screenshot(path=str(shot))
    console.check()
    context.close()

    context, page, console = phone_context(chromium, server, locale="en-US")
    page.goto(server.url + "/phone/inbox")
    page.locator(f'[data-doc="purchase_order/{order["id"]}"] [data-decide="approve"]').click()
    page.locator("#ph-msg").wait_for(state="visible")
    assert page.locator("#ph-msg").inner_text() == (
        "All 2 approval level(s) given; Submitted (this document does not move stock)"
    )
    console.check()
    context.close()
    status, body = api.get(f"/api/v1/purchase_order/{order['id']}")
    assert body["result"]["status"] == "submitted"
    status, history = api.get(f"/api/v1/purchase_order/{order['id']}/history")
    comments = [entry["after"].get("comment") for entry in history["result"] if entry["action"] == "approve"]
    assert "数量已核对" in comments, history


def test_an_approver_reads_who_the_document_is_with_and_who_made_it(server: Any, chromium: Any) -> None:
    """待审批 on the phone and on the desktop shows each document's 往来单位 and 制单人 beside its number and amount:
    a boss saw only 采购订单 CG…, a date and 13,560.00, and had to open every document to learn whom it pays."""
    api = HttpApi(server.url)
    boss, clerk = "inbox_boss_" + uuid.uuid4().hex[:6], "inbox_clerk_" + uuid.uuid4().hex[:6]
    make_user(api, boss, "manager", PASSWORD)
    make_user(api, clerk, "clerk", PASSWORD, first_name="王", last_name="文员")
    typing = HttpApi(server.url, clerk, PASSWORD)
    order = {"date": "2026-11-26", "partner": "S002", "warehouse": "WH01", "lines": [{"item": "SP0041", "qty": "300"}]}
    status, made = typing.post("/api/v1/purchase_order/", dict(order, lines=[dict(order["lines"][0], price="40")]))
    assert status == 201, made
    assert typing.post(f"/api/v1/purchase_order/{made['id']}/submit", {})[0] == 200  # 13,560.00: the manager's
    context, page, console = phone_context(chromium, server, username=boss, password=PASSWORD)
    page.goto(server.url + "/phone/inbox")
    card = page.locator(f'[data-doc="purchase_order/{made["id"]}"]')
    expect_text = card.inner_text()
    assert "S002 广州味佳食品贸易有限公司" in expect_text and "13,560.00" in expect_text, expect_text
    assert f"制单 {clerk} 王 文员" in expect_text or f"制单 {clerk} 王文员" in expect_text, expect_text
    console.check()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(server.url + "/inbox/")
    row = page.locator(f'tr[data-number="{made["result"]["number"]}"]')
    assert row.locator(".jxc-inbox-partner").inner_text() == "S002 广州味佳食品贸易有限公司"
    assert row.locator(".jxc-inbox-creator").inner_text().startswith(f"{clerk} 王")
    assert "13,560.00" in row.inner_text()
    console.check()
    context.close()
