"""The spreadsheet grid (/grid/<model>/) in a real browser (Debian chromium through Playwright) against a
real gunicorn server on SQLite with the demo data: paste of an Excel block past the loaded page, refused
cells, undo / redo, fill-down, copy, a conflict between two people, masked columns, export of the
current view, and the phone cards.

Test data is made through the grid's batch API (one request for hundreds of rows) and checked through
the REST API /api/v1/item/. Screenshots go to test-artifacts/grid-*.png.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import prison
import pytest
from conftest import PASSWORD, unique
from in_browser import DESKTOP, PHONE, Console, demo_server, headless_chromium
from servers import ARTIFACTS, HttpApi

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SALES_USER = "u_grid_sales"
IDLE = "() => window.jxcGrid && window.jxcGrid.idle()"


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One server with the demo data for the module."""
    yield from demo_server(tmp_path_factory, "grid")


@pytest.fixture(scope="module")
def api(server: Any) -> HttpApi:
    return HttpApi(server.url)


@pytest.fixture(scope="module")
def salesperson(api: HttpApi) -> str:
    """A user with the salesperson role, made through FAB's security API (as an administrator would)."""
    query = prison.dumps({"filters": [{"col": "name", "opr": "eq", "value": "salesperson"}]})
    status, roles = api.get("/api/v1/security/roles/?q=" + quote(query, safe=""))
    assert status == 200 and roles["count"] == 1, roles
    user = {
        "username": SALES_USER,
        "first_name": "网格",
        "last_name": "销售",
        "email": f"{SALES_USER}@jxc.local",
        "password": PASSWORD,
        "active": True,
        "roles": [roles["ids"][0]],
    }
    status, body = api.post("/api/v1/security/users/", user)
    assert status == 201, body
    return SALES_USER


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from headless_chromium()


def sign_in(chromium: Any, server: Any, username: str, path: Path) -> Path:
    context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(server.url + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(server.url + "/")
    context.storage_state(path=str(path))
    context.close()
    return path


@pytest.fixture(scope="module")
def admin_state(server: Any, chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sign_in(chromium, server, "admin", tmp_path_factory.mktemp("state") / "admin.json")


@pytest.fixture(autouse=True)
def default_layout(api: HttpApi) -> None:
    """Every test starts from the default column layout (a test may hide columns)."""
    status, body = api.put("/api/v1/grid/item/layout", {"columns": []})
    assert status == 200, body


def open_page(
    chromium: Any, state: Path, viewport: dict[str, int] = DESKTOP, locale: str = "zh-CN", **options: Any
) -> tuple[Any, Any, Console]:
    context = chromium.new_context(
        viewport=viewport,
        locale=locale,
        storage_state=str(state),
        permissions=["clipboard-read", "clipboard-write"],
        **options,
    )
    console = Console()
    page = context.new_page()
    console.attach(page)
    return context, page, console


@pytest.fixture
def desktop(chromium: Any, admin_state: Path) -> Iterator[tuple[Any, Console]]:
    context, page, console = open_page(chromium, admin_state)
    yield page, console
    context.close()


# --- helpers --------------------------------------------------------------------------------------


def make_items(api: HttpApi, prefix: str, count: int, **values: str) -> list[str]:
    """Create items PREFIX0000.. in one grid batch; return their skus."""
    skus = [f"{prefix}{i:04d}" for i in range(count)]
    ops = [
        {"op": "create", "tmp_id": f"t{i}", "values": {"sku": sku, "name": f"网格测试 {sku}", "unit": "PCS", **values}}
        for i, sku in enumerate(skus)
    ]
    status, body = api.post(
        "/api/v1/grid/item/batch", {"client_batch_id": unique("setup"), "source": "edit", "ops": ops}
    )
    assert status == 200, body
    return skus


def items(api: HttpApi, prefix: str) -> dict[str, dict[str, Any]]:
    """Items whose sku starts with prefix, by sku, read through the REST API."""
    query = prison.dumps(
        {
            "filters": [{"col": "sku", "opr": "sw", "value": prefix}],
            "order_column": "sku",
            "order_direction": "asc",
            "page": 0,
            "page_size": 1000,
        }
    )
    status, body = api.get("/api/v1/item/?q=" + quote(query, safe=""))
    assert status == 200, body
    return {row["sku"]: row for row in body["result"]}


def dec(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value).replace(",", ""))


def open_grid(page: Any, server: Any, sku_filter: str | None = None, total: int | None = None) -> None:
    page.goto(server.url + "/grid/item/")
    page.locator(".tabulator-row").first.wait_for(timeout=15000)
    page.wait_for_function(IDLE)
    if sku_filter:
        header_filter(page, "sku", sku_filter)
        wait_count(page, total)


def header_filter(page: Any, field: str, text: str) -> None:
    box = page.locator(f".tabulator-col[tabulator-field={field}] .tabulator-header-filter input")
    box.fill(text)
    box.press("Enter")  # the live filter also runs on keyup after a short delay


def wait_count(page: Any, total: int | None) -> None:
    if total is not None:
        page.wait_for_function(
            "(n) => document.querySelector('.jxc-grid-count').textContent === '共 ' + n + ' 条'", arg=total
        )
    page.wait_for_function(IDLE)


def cell(page: Any, sku: str, field: str) -> Any:
    row = page.locator(".tabulator-row", has=page.locator(f".tabulator-cell[tabulator-field=sku]:text-is('{sku}')"))
    return row.locator(f".tabulator-cell[tabulator-field={field}]")


def paste(page: Any, text: str) -> None:
    """Put text on the clipboard as Excel would, then Ctrl+V in the grid."""
    page.evaluate("(text) => navigator.clipboard.writeText(text)", text)
    page.keyboard.press("Control+V")


def copy(page: Any) -> str:
    """Ctrl+C in the grid; what is on the clipboard then."""
    page.evaluate("() => navigator.clipboard.writeText('')")
    page.keyboard.press("Control+C")
    return page.evaluate("() => navigator.clipboard.readText()")


def edit(page: Any, target: Any, text: str, commit: bool = True) -> None:
    target.dblclick()
    page.locator(".jxc-grid-input").wait_for()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    if commit:
        page.keyboard.press("Enter")


def idle(page: Any) -> None:
    page.wait_for_timeout(50)
    page.wait_for_function(IDLE, timeout=20000)


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"grid-{name}.png"
    page.screenshot(path=str(path))
    return path


def set_columns(page: Any, hidden: list[str], show: bool = False) -> None:
    page.click("[data-action=columns]")
    for field in hidden:
        box = page.locator(f".jxc-grid-colpanel input[data-field={field}]")
        if show:
            box.check()
        else:
            box.uncheck()
    page.click(".jxc-grid-title")  # closes the panel


# --- tests ----------------------------------------------------------------------------------------


def excel_block(count: int) -> tuple[str, list[tuple[str, Decimal, Decimal]]]:
    """A block as Excel puts it on the clipboard (spec, sale price, wholesale price) and what it means."""
    prices = [("1,234.50", Decimal("1234.50")), ("¥1,200", Decimal("1200")), ("１２３.５", Decimal("123.5"))]
    lines, expected = [], []
    for i in range(count):
        spec = f"规格 {i}"
        cell_text = spec
        if i == 7:
            spec = "甲\t乙"  # a cell holding a tab: Excel quotes it
            cell_text = '"甲\t乙"'
        if i == 8:
            spec = '5" 屏\n第二行'  # a quote and a line break inside one cell
            cell_text = '"5"" 屏\n第二行"'
        price_text, price = prices[i % 3] if i % 4 else (str(i), Decimal(i))
        wholesale = Decimal(i) + Decimal("0.25")
        lines.append(f"{cell_text}\t{price_text}\t{wholesale}")
        expected.append((spec, price, wholesale))
    return "\r\n".join(lines) + "\r\n", expected


def test_paste_of_500_excel_rows_past_the_page_saves_all_and_undoes_as_one_step(server, api, desktop):
    page, console = desktop
    prefix = unique("PA")
    skus = make_items(api, prefix, 520)
    open_grid(page, server, prefix, 520)
    with page.expect_response(lambda r: "/rows" in r.url and "sort" in r.url):
        page.click(".tabulator-col[tabulator-field=sku] .tabulator-col-title")
    idle(page)
    assert page.locator(".tabulator-row").count() <= 100  # the page holds 100 rows; the block is 500
    set_columns(page, ["category", "unit", "barcode", "pinyin", "purchase_price"])
    headers = page.locator(".tabulator-col[tabulator-field]:visible .tabulator-col-title").all_inner_texts()
    assert headers[:5] == ["商品编码", "商品名称", "规格型号", "零售价", "批发价"], headers

    text, expected = excel_block(500)
    cell(page, skus[0], "spec").click()
    stack = page.evaluate("window.jxcGrid.undoStack()")
    with page.expect_response(lambda r: r.url.endswith("/batch")) as answer:
        paste(page, text)
    assert answer.value.status == 200, answer.value.text()
    idle(page)
    assert page.locator(".jxc-grid-banner").is_hidden()
    sent = answer.value.request.post_data_json
    assert sent["source"] == "paste" and len(sent["ops"]) == 500  # one batch: 100 rows on the page, 400 past it
    assert page.evaluate("window.jxcGrid.undoStack()") == [answer.value.json()["batch_id"], *stack]  # one step

    saved = items(api, prefix)
    assert len(saved) == 520
    for sku, (spec, price, wholesale) in zip(skus, expected, strict=False):
        row = saved[sku]
        assert (row["spec"], dec(row["sale_price"]), dec(row["wholesale_price"])) == (spec, price, wholesale), sku
    for sku in skus[500:]:  # rows below the block are untouched (no blank row from a trailing newline)
        assert saved[sku]["spec"] is None and saved[sku]["sale_price"] is None
    assert cell(page, skus[3], "sale_price").inner_text() == "1,234.50"

    cell(page, skus[1], "sku").click()
    with page.expect_response(lambda r: "/undo" in r.url) as answer:
        page.keyboard.press("Control+z")
    assert answer.value.status == 200, answer.value.text()
    idle(page)
    undone = items(api, prefix)
    assert all(undone[s]["spec"] is None and undone[s]["sale_price"] is None for s in skus), "undo left values"
    assert cell(page, skus[3], "sale_price").inner_text() == ""

    with page.expect_response(lambda r: "/undo" in r.url) as answer:
        page.keyboard.press("Control+y")
    assert answer.value.status == 200, answer.value.text()
    idle(page)
    redone = items(api, prefix)
    assert [(redone[s]["spec"], dec(redone[s]["sale_price"])) for s in skus[:500]] == [(e[0], e[1]) for e in expected]
    assert cell(page, skus[3], "sale_price").inner_text() == "1,234.50"
    console.check()


def test_block_with_three_bad_cells_saves_nothing_until_they_are_fixed(server, api, desktop):
    page, console = desktop
    prefix = unique("BD")
    skus = make_items(api, prefix, 6, sale_price="10", wholesale_price="8")
    open_grid(page, server, prefix, 6)
    block = "\r\n".join(["11\t9", "abc\t9.5", "12\t7", "13\t1.2.3", "-5\t6"]) + "\r\n"
    cell(page, skus[0], "sale_price").click()
    with page.expect_response(lambda r: r.url.endswith("/batch")) as answer:
        paste(page, block)
    assert answer.value.status == 422
    idle(page)

    red = page.locator(".jxc-cell-error")
    assert red.count() == 3
    refused = {
        (cell(page, skus[1], "sale_price"), "sale_price"),
        (cell(page, skus[3], "wholesale_price"), "wholesale_price"),
        (cell(page, skus[4], "sale_price"), "sale_price"),
    }
    messages = []
    for target, _field in refused:
        assert "jxc-cell-error" in (target.get_attribute("class") or "")
        title = target.get_attribute("title") or ""
        assert title.strip(), "a red cell tells why on hover"
        messages.append(title)
    banner = page.locator(".jxc-grid-banner")
    assert banner.is_visible() and "3 个单元格" in banner.inner_text()
    for message in messages:
        assert message in banner.inner_text()
    assert cell(page, skus[1], "sale_price").inner_text() == "abc"  # the refused text stays for fixing
    shot(page, "errors-zh")
    before = items(api, prefix)
    assert {s: (dec(r["sale_price"]), dec(r["wholesale_price"])) for s, r in before.items()} == {
        s: (Decimal(10), Decimal(8)) for s in skus
    }, "a refused block saves nothing"

    edit(page, cell(page, skus[1], "sale_price"), "10.5")
    idle(page)
    assert page.locator(".jxc-cell-error").count() == 2
    assert all(dec(r["sale_price"]) == Decimal(10) for r in items(api, prefix).values())
    edit(page, cell(page, skus[3], "wholesale_price"), "1.23")
    idle(page)
    edit(page, cell(page, skus[4], "sale_price"), "5")
    idle(page)
    assert page.locator(".jxc-cell-error").count() == 0
    assert banner.is_hidden()
    after = items(api, prefix)
    assert [(dec(after[s]["sale_price"]), dec(after[s]["wholesale_price"])) for s in skus] == [
        (Decimal("11"), Decimal("9")),
        (Decimal("10.5"), Decimal("9.5")),
        (Decimal("12"), Decimal("7")),
        (Decimal("13"), Decimal("1.23")),
        (Decimal("5"), Decimal("6")),
        (Decimal("10"), Decimal("8")),
    ]
    console.check(expected_failures=(f"422 {server.url}/api/v1/grid/item/batch",))


def test_fill_down_and_copy_of_a_range(server, api, desktop):
    page, console = desktop
    prefix = unique("FD")
    skus = make_items(api, prefix, 5, spec='带"引号\t和制表符', sale_price="3", name="<b>粗</b>")
    first = items(api, prefix)[skus[0]]
    update = {"op": "update", "id": first["id"], "version": first["version"], "values": {"sale_price": "1234.5"}}
    status, body = api.post(
        "/api/v1/grid/item/batch", {"client_batch_id": unique("up"), "source": "edit", "ops": [update]}
    )
    assert status == 200, body
    open_grid(page, server, prefix, 5)
    name = cell(page, skus[0], "name")
    assert name.inner_text() == "<b>粗</b>" and name.locator("b").count() == 0  # user text is never HTML

    cell(page, skus[0], "sale_price").click()
    cell(page, skus[3], "sale_price").click(modifiers=["Shift"])
    with page.expect_response(lambda r: r.url.endswith("/batch")) as answer:
        page.keyboard.press("Control+d")
    assert answer.value.status == 200
    idle(page)
    saved = items(api, prefix)
    assert [dec(saved[s]["sale_price"]) for s in skus] == [Decimal("1234.5")] * 4 + [Decimal(3)]
    assert cell(page, skus[3], "sale_price").inner_text() == "1,234.50"

    # Ctrl+C: TSV with Excel quoting, CRLF, links as their key, decimals as plain strings
    cell(page, skus[0], "spec").click()
    cell(page, skus[1], "unit").click(modifiers=["Shift"])
    quoted = '"带""引号\t和制表符"'  # spec, the empty category, the unit's key
    assert copy(page) == f"{quoted}\t\tPCS\r\n{quoted}\t\tPCS"
    cell(page, skus[0], "sale_price").click()
    assert copy(page) == "1234.50"
    console.check()


def test_the_sums_row_adds_up_amounts_to_the_cent_and_leaves_prices_blank(server, api, desktop):
    """库存余额: 结存数量 and 结存金额 are amounts (summed), 平均成本 a unit price (no sum; docs/metadata.md Measures);
    money is read to the cent: 6.6667 a row shows 6.67 and the two rows' sum 13.33 (the exact 13.3334 rounded), the
    unit cost every place it has."""
    from playwright.sync_api import expect
    from test_stocktake_browser import posted

    page, console = desktop
    code = unique("WS")
    assert api.post("/api/v1/warehouse/", {"code": code, "name": f"三分仓 {code}"})[0] == 201
    skus = make_items(api, unique("SR"), 2)
    for sku in skus:  # 3 bought for 10.00 (3.3333 each, to the cent), one sold at the average: 2 worth 6.6667
        bought = [{"item": sku, "qty": "3", "price": "3.3333"}]
        posted(api, "purchase_receipt", bought, warehouse=code, partner="S001")
        posted(api, "sales_delivery", [{"item": sku, "qty": "1", "price": "5"}], warehouse=code, partner="K001")
    page.goto(server.url + "/grid/stock_balance/")
    page.locator(".tabulator-row").first.wait_for(timeout=15000)
    page.wait_for_function(IDLE)
    header_filter(page, "warehouse", code)
    wait_count(page, 2)
    sums = page.locator(".tabulator-calcs-bottom").first

    def summed(field: str) -> str:
        return sums.locator(f".tabulator-cell[tabulator-field={field}]").inner_text().strip()

    # the sums row is made in the frame after the filtered rows' (docs/grid.md): wait for it, then read the rest
    expect(sums.locator(".tabulator-cell[tabulator-field=value]")).to_have_text("13.33", timeout=15000)
    assert (summed("qty"), summed("avg_cost")) == ("4", "")
    values = page.locator(
        ".tabulator-row:not(.tabulator-calcs) .tabulator-cell[tabulator-field=value]"
    ).all_inner_texts()
    costs = page.locator(
        ".tabulator-row:not(.tabulator-calcs) .tabulator-cell[tabulator-field=avg_cost]"
    ).all_inner_texts()
    assert [v.strip() for v in values] == ["6.67", "6.67"] and [c.strip() for c in costs] == ["3.3334", "3.3334"]
    console.check()


def test_a_grid_of_lines_names_their_documents_and_the_sums_row_is_no_row_to_edit(server, api, desktop):
    """销售出库单明细: each line's 单据编号 (its document's number, a link to the document's page), filtered, sorted and
    exported as any link column; and the sums row (本页合计) of an editable grid is no data row: no cell of it is
    marked editable (Tabulator marked every cell of an editable column, the sums' too)."""
    from openpyxl import load_workbook

    page, console = desktop
    skus = make_items(api, unique("DL"), 3)
    made = []
    for lines in ([skus[0]], skus[1:]):
        body = {"partner": "K001", "warehouse": "WH01", "lines": [{"item": s, "qty": "1", "price": "2"} for s in lines]}
        status, answer = api.post("/api/v1/sales_delivery/", body)
        assert status == 201, answer
        made.append(answer["result"])
    page.goto(server.url + "/grid/sales_delivery_line/")
    page.locator(".tabulator-row").first.wait_for(timeout=15000)
    page.wait_for_function(IDLE)
    titles = page.locator(".tabulator-col .tabulator-col-title").all_inner_texts()
    assert titles[0] == "单据编号", titles  # first, frozen with the item
    header_filter(page, "parent", made[1]["number"])
    wait_count(page, 2)
    numbers = page.locator(".tabulator-row:not(.tabulator-calcs) .tabulator-cell[tabulator-field=parent]")
    assert [n.strip() for n in numbers.all_inner_texts()] == [made[1]["number"]] * 2
    assert numbers.first.locator("a").get_attribute("href") == f"/m/sales_delivery/{made[1]['id']}"
    header_filter(page, "parent", "")
    header_filter(page, "item", skus[0][:-4])  # the three lines of this test, in two documents
    wait_count(page, 3)
    with page.expect_response(lambda r: "/rows" in r.url and "=parent" in r.url and "desc" in r.url):
        page.click(".tabulator-col[tabulator-field=parent] .tabulator-col-title")  # asc, then desc
        page.click(".tabulator-col[tabulator-field=parent] .tabulator-col-title")
    idle(page)
    shown = [n.strip() for n in numbers.all_inner_texts()]
    assert shown == [made[1]["number"]] * 2 + [made[0]["number"]], shown
    with page.expect_download() as download:
        page.click("[data-action=export]")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0][0] == "单据编号" and [row[0] for row in table[1:]] == shown
    shot(page, "document-lines")

    open_grid(page, server)  # 商品: the admin edits every column, the sums row still none of its cells
    sums = page.locator(".tabulator-calcs .tabulator-cell")
    assert sums.count() > 5 and page.locator(".tabulator-row:not(.tabulator-calcs) .tabulator-editable").count() > 0
    marks = sums.evaluate_all(
        "cells => cells.map(c => [c.classList.contains('tabulator-editable'), c.hasAttribute('tabindex')])"
    )
    assert all(mark == [False, False] for mark in marks), marks
    console.check()


def test_enter_on_a_cell_that_cannot_be_edited_does_nothing(server, api, desktop):
    """Enter on a read-only cell (a time stamp of the item grid, any cell of a lines grid) starts no edit and
    throws nothing (Tabulator began an edit the column has no editor for: an uncaught TypeError); on a
    writable cell it still opens the editor."""
    page, console = desktop
    prefix = unique("EN")
    (sku,) = make_items(api, prefix, 1)
    order = {"partner": "K001", "warehouse": "WH01", "lines": [{"item": sku, "qty": "2", "price": "3"}]}
    assert api.post("/api/v1/sales_order/", order)[0] == 201  # a draft: a row of the lines grid
    open_grid(page, server, prefix, 1)
    cell(page, sku, "created_at").click()
    page.keyboard.press("Enter")
    cell(page, sku, "name").click()
    page.keyboard.press("Enter")
    page.locator(".jxc-grid-input").wait_for()
    page.keyboard.press("Escape")
    page.goto(server.url + "/grid/sales_order_line/")
    page.locator(".tabulator-row").first.wait_for(timeout=15000)
    page.wait_for_function(IDLE)
    page.locator(".tabulator-row .tabulator-cell[tabulator-field=qty]").first.click()
    page.keyboard.press("Enter")
    page.wait_for_timeout(100)
    assert page.locator(".jxc-grid-input").count() == 0
    console.check()


def test_new_row_saved_with_ctrl_s_then_deleted_and_brought_back_by_undo(server, api, desktop):
    page, console = desktop
    prefix = unique("NR")
    (existing,) = make_items(api, prefix, 1)
    open_grid(page, server, prefix, 1)
    sku = prefix + "NEW"
    page.click("[data-action=add]")
    page.locator(".jxc-row-new .jxc-grid-input").wait_for()  # the new row opens on its first cell
    page.keyboard.type(sku)
    page.keyboard.press("Tab")
    page.keyboard.type("New item")  # typing starts editing the next cell
    page.keyboard.press("Tab")
    page.wait_for_timeout(600)
    assert items(api, prefix).keys() == {existing}, "a new row waits for Save"
    with page.expect_response(lambda r: r.url.endswith("/batch")) as answer:
        page.keyboard.press("Control+s")
    assert answer.value.status == 422  # the unit is required
    idle(page)
    unit = page.locator(".jxc-row-new .tabulator-cell[tabulator-field=unit]")
    assert "jxc-cell-error" in (unit.get_attribute("class") or "") and unit.get_attribute("title")
    with page.expect_response(lambda r: r.url.endswith("/batch")) as answer:
        edit(page, unit, "PCS")  # fixing the red cell resends the new row
    assert answer.value.status == 200
    idle(page)
    row = items(api, prefix)[sku]
    assert (row["name"], row["unit"]["key"]) == ("New item", "PCS")
    assert page.locator(".jxc-row-new").count() == 0 and cell(page, sku, "unit").inner_text() == "PCS 个"

    cell(page, sku, "name").click()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: r.url.endswith("/batch")) as answer:
        page.click("[data-action=delete]")
    assert answer.value.status == 200 and answer.value.request.post_data_json["ops"][0]["op"] == "delete"
    idle(page)
    assert sku not in items(api, prefix) and cell(page, sku, "name").count() == 0
    with page.expect_response(lambda r: "/undo" in r.url) as answer:
        page.click("[data-action=undo]")
    assert answer.value.status == 200
    idle(page)
    assert items(api, prefix)[sku]["name"] == "New item"
    assert cell(page, sku, "name").inner_text() == "New item"
    console.check(expected_failures=(f"422 {server.url}/api/v1/grid/item/batch",))


def test_conflict_between_two_people_offers_reload_and_overwrite(server, api, chromium, admin_state):
    from playwright.sync_api import expect

    prefix = unique("CF")
    (sku,) = make_items(api, prefix, 1, sale_price="10")
    context_a, a, console_a = open_page(chromium, admin_state)
    context_b, b, console_b = open_page(chromium, admin_state)
    try:
        open_grid(a, server, prefix, 1)
        open_grid(b, server, prefix, 1)

        edit(b, cell(b, sku, "sale_price"), "12", commit=False)  # B is typing...
        edit(a, cell(a, sku, "sale_price"), "11")  # ...while A saves
        idle(a)
        assert dec(items(api, prefix)[sku]["sale_price"]) == Decimal(11)
        with b.expect_response(lambda r: r.url.endswith("/batch")) as answer:
            b.keyboard.press("Enter")
        assert answer.value.status == 409
        idle(b)
        banner = b.locator(".jxc-grid-banner")
        assert banner.is_visible() and sku in banner.inner_text()
        assert b.locator("[data-banner=reload]").is_visible() and b.locator("[data-banner=overwrite]").is_visible()
        shot(b, "conflict-zh")
        b.click("[data-banner=reload]")
        idle(b)
        assert cell(b, sku, "sale_price").inner_text() == "11.00"  # A's value
        assert b.evaluate("Object.keys(window.jxcGrid.pending()).length") == 0
        assert dec(items(api, prefix)[sku]["sale_price"]) == Decimal(11)

        edit(b, cell(b, sku, "sale_price"), "14", commit=False)
        edit(a, cell(a, sku, "sale_price"), "13")
        idle(a)
        with b.expect_response(lambda r: r.url.endswith("/batch")) as answer:
            b.keyboard.press("Enter")
        assert answer.value.status == 409
        idle(b)
        with b.expect_response(lambda r: r.url.endswith("/batch")) as answer:
            b.click("[data-banner=overwrite]")
        assert answer.value.status == 200
        idle(b)
        assert dec(items(api, prefix)[sku]["sale_price"]) == Decimal(14)
        assert cell(b, sku, "sale_price").inner_text() == "14.00"
        assert b.locator(".jxc-grid-banner").is_hidden()
        # A sees B's value without reloading (the change feed is polled every 3 s). Polled from here: a
        # wait_for_function string cannot poll under the page's CSP, it only passed when already true
        expect(cell(a, sku, "sale_price")).to_have_text("14.00", timeout=15000)
        console_a.check()
        console_b.check(expected_failures=(f"409 {server.url}/api/v1/grid/item/batch",) * 2)
    finally:
        context_a.close()
        context_b.close()


def test_salesperson_does_not_see_masked_item_columns(server, chromium, salesperson, tmp_path):
    state = sign_in(chromium, server, salesperson, tmp_path / "sales.json")
    context, page, console = open_page(chromium, state)
    try:
        with page.expect_response(lambda r: "/api/v1/grid/item/rows" in r.url) as answer:
            page.goto(server.url + "/grid/item/")
        page.locator(".tabulator-row").first.wait_for()
        rows = answer.value.json()["data"]
        assert rows and all("purchase_price" not in r and "cost_price" not in r for r in rows)
        assert all("sale_price" in r for r in rows)
        headers = page.locator(".tabulator-col[tabulator-field]:visible .tabulator-col-title").all_inner_texts()
        assert "零售价" in headers
        assert "采购价" not in headers and "成本价" not in headers, headers
        fields = page.evaluate("window.jxcGrid.table.getColumns().map(c => c.getField())")
        assert "purchase_price" not in fields and "cost_price" not in fields
        # item is read-only for the role: no editing buttons, no editor on double-click
        assert page.locator("[data-action=add]").count() == 0 and page.locator("[data-action=save]").count() == 0
        page.locator(".tabulator-cell[tabulator-field=sale_price]").first.dblclick()
        assert page.locator(".jxc-grid-input").count() == 0
        status, body = HttpApi(server.url, salesperson).get("/api/v1/grid/item/rows?page=1&size=5")
        assert status == 200 and all("purchase_price" not in r and "cost_price" not in r for r in body["data"])
        console.check()
    finally:
        context.close()


def test_export_is_exactly_the_filtered_sorted_view(server, desktop):
    from openpyxl import load_workbook

    page, console = desktop
    open_grid(page, server)
    header_filter(page, "name", "茶")
    page.wait_for_function("() => document.querySelector('.jxc-grid-count').textContent !== '共 0 条'")
    idle(page)
    for direction in ("asc", "desc"):
        with page.expect_response(lambda r, d=direction: "/rows" in r.url and "=sale_price" in r.url and d in r.url):
            page.click(".tabulator-col[tabulator-field=sale_price] .tabulator-col-title")
        idle(page)
    with page.expect_response(lambda r: r.url.endswith("/layout") and r.request.method == "PUT") as saved:
        set_columns(page, ["barcode", "pinyin"])
    assert saved.value.status == 200
    screen = page.evaluate(
        """() => {
            const cols = window.jxcGrid.table.getColumns().filter(c => c.isVisible());
            const rows = [...document.querySelectorAll('.tabulator-tableholder .tabulator-row')];
            return {
                fields: cols.map(c => c.getField()),
                titles: cols.map(c => c.getDefinition().title),
                rows: rows.map(r => cols.map(c => r.querySelector(`[tabulator-field=${c.getField()}]`).textContent)),
            };
        }"""
    )
    count = int(page.locator(".jxc-grid-count").inner_text().strip("共 条"))
    assert 2 <= count == len(screen["rows"]) < 100
    prices = [dec(r[screen["fields"].index("sale_price")]) for r in screen["rows"]]
    assert prices == sorted(prices, reverse=True) and all("茶" in r[1] for r in screen["rows"])

    with page.expect_download() as download:
        page.click("[data-action=export]")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0] == screen["titles"]
    assert len(table) - 1 == len(screen["rows"])
    config = page.evaluate("JSON.parse(document.getElementById('jxc-grid').dataset.config)")
    formats = {c["field"]: c["format"] for c in config["columns"]}
    for got, shown in zip(table[1:], screen["rows"], strict=True):
        for field, value, text in zip(screen["fields"], got, shown, strict=True):
            kind = formats[field]
            if kind == "number":
                assert dec(value) == dec(text), (field, value, text)
            elif kind == "tick":
                assert {"是": "✓", "否": ""}[value] == text, (field, value, text)
            elif kind == "datetime":  # an xlsx time is a float of days: allow its rounding
                assert abs(value - dt.datetime.fromisoformat(text)) < dt.timedelta(seconds=1), (field, value, text)
            elif isinstance(value, dt.date):
                assert value.strftime("%Y-%m-%d") == text
            else:
                assert (value or "") == text, (field, value, text)

    # timestamps are stored in UTC and shown (and exported) in the business's time, Beijing
    first = dict(zip(screen["fields"], screen["rows"][0], strict=True))
    found = page.request.get(f"{server.url}/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{first['sku']})))")
    stored = dt.datetime.fromisoformat(found.json()["result"][0]["updated_at"][:19])
    assert first["updated_at"] == (stored + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")

    page.reload()  # the hidden columns stay hidden: the layout is kept per user
    page.locator(".tabulator-row").first.wait_for()
    visible = page.evaluate("window.jxcGrid.table.getColumns().filter(c => c.isVisible()).map(c => c.getField())")
    assert "barcode" not in visible and "pinyin" not in visible and "sku" in visible
    console.check()


def test_screenshots_desktop_and_phone_cards(server, chromium, admin_state, desktop):
    page, console = desktop
    open_grid(page, server)
    assert page.locator(".jxc-frozen[tabulator-field=sku]").count() > 1  # frozen key columns
    assert page.locator(".tabulator-calcs-bottom").first.inner_text().startswith("本页合计")
    assert page.locator(".jxc-grid-count").inner_text().startswith("共 ")
    shot(page, "desktop-zh")
    console.check()

    context, phone, phone_console = open_page(
        chromium, admin_state, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    try:
        phone.goto(server.url + "/grid/item/")
        phone.locator(".jxc-card").first.wait_for()
        assert phone.locator(".tabulator").count() == 0
        assert phone.locator(".jxc-card").count() == 20
        assert "SP0001" in phone.locator(".jxc-card").first.inner_text()
        shot(phone, "phone-zh")
        assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390
        phone.fill(".jxc-cards-search", "SP0002")
        phone.wait_for_function("() => document.querySelectorAll('.jxc-card').length === 1")
        phone.locator(".jxc-card").first.click()
        phone.wait_for_url("**/m/item/*/edit")
        phone_console.check()
    finally:
        context.close()


def new_row_selected(page: Any) -> None:
    """新增行, its editor closed (its first cell stays selected); the next question (more new rows) answered yes."""
    page.click("[data-action=add]")
    page.locator(".jxc-row-new .jxc-grid-input").wait_for()
    page.keyboard.press("Escape")
    page.once("dialog", lambda dialog: dialog.accept())


def one_item_and_a_new_row(page: Any, server: Any, api: HttpApi, tag: str) -> tuple[str, str]:
    """A saved item (the grid filtered to its prefix) under a new row whose first cell is selected."""
    prefix = unique(tag)
    (existing,) = make_items(api, prefix, 1)
    open_grid(page, server, prefix, 1)
    new_row_selected(page)
    return prefix, existing


def test_a_two_row_paste_into_a_new_row_adds_a_second_new_row(server, api, desktop):
    """新增行 puts the new row on top: the block's second line must not overwrite the saved row under it."""
    page, console = desktop
    prefix, existing = one_item_and_a_new_row(page, server, api, "NP")
    with page.expect_response(lambda r: r.url.endswith("/batch")) as answer:
        paste(page, f"{prefix}A\t粘贴一\tPCS\r\n{prefix}B\t粘贴二\tPCS\r\n")
    ops = answer.value.request.post_data_json["ops"]
    assert [op["op"] for op in ops] == ["create", "create"], ops
    idle(page)
    saved = items(api, prefix)
    assert saved[existing]["name"] == f"网格测试 {existing}"
    console.check(expected_failures=(f"422 {server.url}/api/v1/grid/item/batch",))


DELAY_FETCH = """([batchMs, rowsMs]) => {
  const real = window.fetch;
  window.fetch = (url, options) => {
    const ms = String(url).includes('/batch') ? batchMs : (String(url).includes('/rows?') ? rowsMs : 0);
    return new Promise((done) => setTimeout(done, ms)).then(() => real(url, options));
  };
}"""


def test_frozen_columns_undo_in_view_and_typing_during_a_reload(server, api, desktop):
    """No Tabulator warning (frozen key columns are sticky cells, not Tabulator's frozen columns, which it
    does not support with range selection); the key column stays put when the grid scrolls sideways; a row
    brought back by undo shows at once though the page's order puts it on the last page; keys typed while
    the grid reloads after a paste go on in the cell they were typed into."""
    page, console = desktop
    prefix = unique("UV")
    skus = make_items(api, prefix, 120)
    open_grid(page, server, prefix, 120)
    assert not [w for w in console.warnings if "tabulator" in w.lower()], console.warnings

    key = page.locator(".tabulator-col[tabulator-field=sku]")
    before = (key.bounding_box()["x"], cell(page, skus[0], "sku").bounding_box()["x"])
    page.evaluate("() => { document.querySelector('.tabulator-tableholder').scrollLeft = 600; }")
    page.wait_for_timeout(200)
    assert page.evaluate("() => document.querySelector('.tabulator-tableholder').scrollLeft") > 0
    assert (key.bounding_box()["x"], cell(page, skus[0], "sku").bounding_box()["x"]) == before
    page.evaluate("() => { document.querySelector('.tabulator-tableholder').scrollLeft = 0; }")

    cell(page, skus[1], "name").click()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: r.url.endswith("/batch")) as answer:
        page.click("[data-action=delete]")
    assert answer.value.status == 200
    idle(page)
    assert cell(page, skus[1], "name").count() == 0
    with page.expect_response(lambda r: "/undo" in r.url) as answer:
        page.click("[data-action=undo]")
    assert answer.value.status == 200
    idle(page)
    assert cell(page, skus[1], "name").inner_text() == f"网格测试 {skus[1]}", "the row brought back is in view"

    page.evaluate(DELAY_FETCH, [500, 1200])
    cell(page, skus[2], "name").click()
    paste(page, "贴入名称")  # saved, then the page reloads
    cell(page, skus[5], "sale_price").click()
    page.keyboard.type("2")  # starts the editor of 售价 while the paste is being saved
    page.wait_for_function("() => window.jxcGrid.state.loading", timeout=5000)
    page.keyboard.type(".80")  # the rows are loading
    page.wait_for_function("() => !window.jxcGrid.state.loading", timeout=10000)
    page.locator(".jxc-grid-input").wait_for()
    assert page.locator(".jxc-grid-input").input_value() == "2.80"
    page.keyboard.press("Enter")
    idle(page)
    saved = items(api, prefix)
    assert saved[skus[2]]["name"] == "贴入名称" and dec(saved[skus[5]]["sale_price"]) == Decimal("2.80")
    assert all(sku in saved for sku in skus[3:6]), "no code was typed over"
    assert not [w for w in console.warnings if "tabulator" in w.lower()], console.warnings
    console.check()


def selected_skus(page: Any) -> list[str]:
    """The sku of each row of the selected range, top to bottom."""
    return page.evaluate(
        """() => { const b = window.jxcGrid.bounds();
          return window.jxcGrid.table.getRows('display').slice(b.top, b.bottom + 1).map((r) => r.getData().sku); }"""
    )


def new_rows_on_screen(page: Any) -> list[str]:
    return page.locator(".jxc-row-new .tabulator-cell[tabulator-field=sku]").all_inner_texts()


def test_a_block_pasted_into_a_new_row_keeps_its_order_and_names_its_rows_as_shown(server, api, desktop):
    """Three lines into one new row: new rows in the order pasted, the error list's 新行 N as on screen."""
    page, console = desktop
    prefix, existing = one_item_and_a_new_row(page, server, api, "NO")
    lines = [
        f"{prefix}A\t名一\t\t\tPCS",
        f"{prefix}B\t名二\t\t\t打",
        f"{existing}\t名三\t\t\tPCS",
    ]  # sku, name, .., unit
    with page.expect_response(lambda r: r.url.endswith("/batch")) as answer:
        paste(page, "\r\n".join(lines) + "\r\n")
    assert answer.value.status == 422
    idle(page)
    assert new_rows_on_screen(page) == [f"{prefix}A", f"{prefix}B", existing]
    listed = page.locator(".jxc-grid-banner-list li").all_inner_texts()
    assert len(listed) == 2 and listed[0].startswith(f"新行 2（{prefix}B） · 基本单位："), listed
    assert listed[1].startswith(f"新行 3（{existing}） · 商品编码："), listed
    console.check(expected_failures=(f"422 {server.url}/api/v1/grid/item/batch",))


def test_a_saved_paste_says_so_and_keeps_its_new_rows_selected_where_they_were(server, api, desktop):
    page, console = desktop
    prefix = unique("NK")
    make_items(api, prefix, 4)
    open_grid(page, server, prefix, 4)
    with page.expect_response(lambda r: "/rows" in r.url and "sort" in r.url):
        page.click(".tabulator-col[tabulator-field=sku] .tabulator-col-title")  # the new codes sort last
    idle(page)
    new_row_selected(page)
    pasted = [f"{prefix}Z{n}" for n in (3, 1, 2)]
    with page.expect_response(lambda r: r.url.endswith("/batch")) as answer:
        paste(page, "".join(f"{sku}\t贴入 {sku}\t\t\tPCS\r\n" for sku in pasted))
    assert answer.value.status == 200, answer.value.text()
    idle(page)
    assert page.locator(".jxc-grid-status").inner_text() == "已保存 3 行"
    skus = page.evaluate("() => window.jxcGrid.table.getRows('display').map((r) => r.getData().sku)")
    assert skus[:3] == pasted and len(skus) == 7, skus  # where they were pasted, not where the order puts them
    assert selected_skus(page) == pasted
    assert set(items(api, prefix)) >= set(pasted)
    console.check()


def pager_words(page: Any) -> list[str]:
    """Every text, title and aria-label of the grid's footer (pager, page size, counter)."""
    return page.evaluate(
        """() => { const out = [];
          document.querySelectorAll('.tabulator-footer *').forEach((node) => {
            ['title', 'aria-label'].forEach((a) => { if (node.getAttribute(a)) { out.push(node.getAttribute(a)); } });
            if (!node.children.length && node.textContent.trim()) { out.push(node.textContent.trim()); }
          });
          return out; }"""
    )


def test_pager_speaks_the_readers_language(server, desktop):
    page, console = desktop
    open_grid(page, server)
    assert page.locator(".tabulator-page[data-page='1']").get_attribute("title") == "页码 1"
    words = pager_words(page)
    assert words and not [w for w in words if any("a" <= c.lower() <= "z" for c in w)], words
    try:
        page.goto(server.url + "/lang/en")
        open_grid(page, server)
        assert page.locator(".tabulator-page[data-page='1']").get_attribute("aria-label") == "Show page 1"
        words = pager_words(page)
        assert "First" in words and not [w for w in words if any("\u4e00" <= c <= "\u9fff" for c in w)], words
    finally:
        page.goto(server.url + "/lang/zh")
    console.check()


def test_first_rows_are_asked_for_once_and_opened_again_without_static_requests(server, desktop):
    page, console = desktop
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.replace(server.url, "")))
    open_grid(page, server)
    first = [u for u in asked if u.startswith("/api/v1/grid/item/rows?page=1&")]
    assert first == ["/api/v1/grid/item/rows?page=1&size=100"], first  # early.js's request, taken by Tabulator
    assert page.locator(".tabulator-row:not(.tabulator-calcs)").count() > 1
    asked.clear()
    open_grid(page, server)  # opened again: scripts and styles come from the browser's cache, unasked
    fetched = page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/static/') && e.name.includes('?v=')).map(e => [e.name, e.transferSize])"
    )
    assert len(fetched) > 10 and not [f for f in fetched if f[1]], fetched
    assert [u for u in asked if u.startswith("/api/v1/grid/item/rows?page=1&")] == first
    console.check()


def test_rows_are_one_line_high_and_columns_resize_from_their_header(server, api, desktop):
    """Rows and cells are drawn 27 px high (sized as they are drawn, not measured), the rows scrolled to are drawn
    one under the other at that height, no resize handle sits in the rows, and a column is still resized by
    dragging its header's edge."""
    page, console = desktop
    skus = make_items(api, "RH", 60)
    open_grid(page, server, sku_filter="RH", total=60)
    heights = page.evaluate(
        "() => [...document.querySelectorAll('.tabulator-row:not(.tabulator-calcs)')]"
        ".map(r => [r.offsetHeight, ...[...r.querySelectorAll('.tabulator-cell')].map(c => c.offsetHeight)])"
    )
    assert len(heights) > 10 and all(set(h) == {27} for h in heights), heights
    assert page.locator(".tabulator-row .tabulator-col-resize-handle").count() == 0
    page.evaluate("() => { const h = document.querySelector('.tabulator-tableholder'); h.scrollTop = h.scrollHeight; }")
    last = cell(page, skus[-1], "sku")
    last.wait_for(timeout=5000)
    tops = page.evaluate(
        "() => [...document.querySelectorAll('.tabulator-row:not(.tabulator-calcs)')]"
        ".map(r => [r.getBoundingClientRect().top, r.offsetHeight])"
    )
    assert all(h == 27 for _, h in tops), tops
    assert all(b[0] - a[0] == 27 for a, b in zip(tops, tops[1:], strict=False)), tops
    assert page.evaluate("() => document.querySelector('.tabulator-tableholder').scrollHeight") >= 60 * 27

    width = "() => window.jxcGrid.table.getColumn('name').getWidth()"
    before = page.evaluate(width)
    handle = page.locator(".tabulator-headers .tabulator-col[tabulator-field=name] + .tabulator-col-resize-handle")
    grip = handle.bounding_box()
    assert grip
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(grip["x"] + grip["width"] / 2 + 60, grip["y"] + grip["height"] / 2, steps=5)
    page.mouse.up()
    assert abs(page.evaluate(width) - (before + 60)) <= 3, (before, page.evaluate(width))
    assert abs(cell(page, skus[-1], "name").bounding_box()["width"] - (before + 60)) <= 3
    console.check()


FIRST_PAINT = """
window.__jxcFirstPaint = null;
new MutationObserver(function (_, observer) {
  if (document.querySelector('.tabulator-row:not(.tabulator-calcs)')) {
    observer.disconnect();
    requestAnimationFrame(function () {  // the frame that paints the first rows, before its paint
      const row = document.querySelector('.tabulator-row:not(.tabulator-calcs)');
      const fields = (els) => [...els].map((c) => c.getAttribute('tabulator-field'));
      const cells = [...row.querySelectorAll('.tabulator-cell')];
      window.__jxcFirstPaint = {
        cells: fields(cells),
        shown: fields(cells.filter((c) => getComputedStyle(c).display !== 'none')),
        headers: fields(document.querySelectorAll('.tabulator-headers > .tabulator-col')),
        columns: window.jxcGrid.table.getColumns().length,
        idle: window.jxcGrid.idle(),
      };
    });
  }
}).observe(document, {childList: true, subtree: true});
"""

COLUMNS_ON_SCREEN = """() => {
  const holder = document.querySelector('.tabulator-tableholder');
  const left = holder.getBoundingClientRect().left;
  const row = document.querySelector('.tabulator-row:not(.tabulator-calcs)');
  const sums = document.querySelector('.tabulator-calcs');
  const shown = (el) => !!el && getComputedStyle(el).display !== 'none';
  const box = (c) => document.querySelector(`.jxc-grid-colpanel input[data-field=${c.getField()}]`);
  return {
    width: holder.clientWidth,
    columns: window.jxcGrid.table.getColumns().map((c) => {
      const f = c.getField();
      const cell = row.querySelector(`.tabulator-cell[tabulator-field=${f}]`);
      const sum = sums.querySelector(`.tabulator-cell[tabulator-field=${f}]`);
      return {field: f, visible: c.isVisible(), checked: !!box(c) && box(c).checked, width: Math.round(c.getWidth()),
              header: shown(c.getElement()) ? c.getElement().offsetWidth : 0, cell: shown(cell) ? cell.offsetWidth : 0,
              sum: shown(sum) ? sum.offsetWidth : 0, left: cell.getBoundingClientRect().left - left};
    }),
  };
}"""


def test_columns_right_of_the_view_are_drawn_in_the_frame_after_the_first_rows(server, api, chromium, admin_state):
    """The table is built and its first rows painted with the columns that start on screen only (no header,
    cell or sum of the others is made before); the frame after, every other column is there with its header,
    header filter, cells and sum at its width, as if built at once, and its cells are edited and saved as any
    other; a column the user hid stays hidden and the saved layout is not written."""
    context, page, console = open_page(chromium, admin_state)
    sku = make_items(api, unique("LATE")[:12], 1)[0]
    open_grid(page, server)
    order = page.evaluate("() => window.jxcGrid.table.getColumns().map((c) => c.getField())")
    hidden = order[-1]
    status, body = api.put(
        "/api/v1/grid/item/layout", {"columns": [{"field": f, "visible": f != hidden} for f in order]}
    )
    assert status == 200, body
    page.add_init_script(FIRST_PAINT)
    written: list[str] = []
    page.on("request", lambda r: written.append(r.url) if r.method == "PUT" else None)
    open_grid(page, server)
    page.wait_for_timeout(300)
    painted = page.evaluate("window.__jxcFirstPaint")
    screen = page.evaluate(COLUMNS_ON_SCREEN)
    width = screen["width"]
    shown = [c for c in screen["columns"] if c["visible"]]
    assert [c["field"] for c in shown] == [f for f in order if f != hidden]
    on_screen = [c["field"] for c in shown if c["left"] <= width]
    assert painted["cells"] == painted["shown"] == painted["headers"] == on_screen, (painted, screen)
    assert painted["columns"] == len(on_screen) and not painted["idle"], painted  # idle once every column is there
    assert "sku" in on_screen and len(on_screen) < len(shown) - 2, on_screen  # frozen key column; columns left out
    assert all(c["header"] == c["cell"] == c["sum"] == c["width"] > 0 for c in shown), shown
    assert all(b["left"] - a["left"] == a["width"] for a, b in zip(shown, shown[1:], strict=False)), shown
    assert all(c["checked"] for c in shown), shown
    last = next(c for c in screen["columns"] if c["field"] == hidden)
    assert not last["visible"] and not last["checked"] and last["cell"] == last["header"] == 0, last
    page.evaluate("() => { const h = document.querySelector('.tabulator-tableholder'); h.scrollLeft = h.scrollWidth; }")
    far = page.locator(f".tabulator-row:not(.tabulator-calcs) .tabulator-cell[tabulator-field={shown[-1]['field']}]")
    box = far.first.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= DESKTOP["width"], box
    assert not written, written
    assert "remark" not in on_screen, on_screen
    header_filter(page, "sku", sku)
    wait_count(page, 1)
    edit(page, cell(page, sku, "remark"), "后加的列")  # a column added after the first rows
    page.keyboard.press("Control+S")
    idle(page)
    assert items(api, sku)[sku]["remark"] == "后加的列"
    console.check()
    context.close()


FILTER_WRITES = """
window.__jxcFilterWrites = [];
new MutationObserver(function (records) {
  records.forEach(function (r) {
    const col = r.target.closest && r.target.closest('.tabulator-header-filter') && r.target.closest('.tabulator-col');
    if (col) { window.__jxcFilterWrites.push(col.getAttribute('tabulator-field')); }
  });
}).observe(document, {attributes: true, attributeFilter: ['style'], subtree: true});
"""

HEADERS_AFTER_LOAD = """() => {
  const headers = document.querySelector('.tabulator-headers');
  const cols = [...headers.querySelectorAll(':scope > .tabulator-col')];
  return {
    height: headers.offsetHeight,
    heights: cols.map((c) => c.offsetHeight),
    filters: cols.filter((c) => c.querySelector('.tabulator-header-filter input')).length,
    columns: window.jxcGrid.table.getColumns().length,
    panel: document.querySelectorAll('.jxc-grid-colpanel input[data-field]').length,
  };
}"""


ACTIVE_CELL = """() => {
  const row = document.querySelector('.tabulator-row:not(.tabulator-calcs)');
  const box = (el) => {
    const b = el.getBoundingClientRect();
    return [b.left, b.top, b.width, b.height].map(Math.round);
  };
  const first = row.querySelector('.tabulator-cell');
  return {
    marked: [...document.querySelectorAll('.tabulator-row .tabulator-cell.tabulator-range-selected')]
      .map((c) => c.getAttribute('tabulator-field')),
    box: box(document.querySelector('.tabulator-range-cell-active')),
    cell: box(first),
  };
}"""


def test_opening_the_grid_leaves_header_filters_alone_and_aligns_headers_after_the_first_rows(
    server, api, chromium, admin_state
):
    """The build makes every column's header filter without hiding and showing the others' (Tabulator did,
    27 x 27 times); after the first rows every header has the header row's height, every column has its
    filter and its box in the column panel, and a filter typed in works on a column right of the view."""
    context, page, console = open_page(chromium, admin_state)
    page.add_init_script(FILTER_WRITES)
    open_grid(page, server)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__jxcFilterWrites") == []
    screen = page.evaluate(HEADERS_AFTER_LOAD)
    assert screen["height"] > 0 and set(screen["heights"]) == {screen["height"]}, screen
    assert screen["filters"] == screen["columns"] == screen["panel"] > 20, screen
    active = page.evaluate(ACTIVE_CELL)  # the range selection's marks, made in the frame after the first rows
    assert active["marked"] == ["sku"] and active["box"] == active["cell"], active
    tag = unique("hfw")
    wanted = make_items(api, "HFWA", 1, remark=tag)
    make_items(api, "HFWB", 1, remark="other")
    fields = page.evaluate("() => window.jxcGrid.table.getColumns().map((c) => c.getField())")
    assert fields.index("remark") > 10, fields  # a column right of the view, drawn after the first rows
    header_filter(page, "remark", tag)
    wait_count(page, 1)
    skus = page.locator(".tabulator-row:not(.tabulator-calcs) .tabulator-cell[tabulator-field=sku]").all_inner_texts()
    assert skus == wanted, skus
    console.check()
    context.close()


def test_a_date_cell_is_edited_as_yyyy_mm_dd_under_an_english_browser(server, api, chromium, admin_state):
    """The grid's date editor is text showing yyyy-mm-dd (Chromium's date input would show mm/dd/yyyy under
    en-US), and a day typed the usual other ways is saved as that day."""
    status, body = api.post(
        "/api/v1/item_price/", {"item": "SP0001", "price_list": "retail", "price": "9.90", "valid_from": "2031-05-17"}
    )
    assert status == 201, body
    context, page, console = open_page(chromium, admin_state, locale="en-US")
    try:
        page.goto(server.url + "/grid/item_price/")
        page.locator(".tabulator-row").first.wait_for(timeout=15000)
        page.wait_for_function(IDLE)
        header_filter(page, "valid_from", "2031-05-17")
        wait_count(page, 1)
        target = page.locator(".tabulator-cell[tabulator-field=valid_from]").first
        target.dblclick()
        editor = page.locator(".jxc-grid-input")
        editor.wait_for()
        assert editor.evaluate("e => e.type") == "text" and editor.input_value() == "2031-05-17"
        page.keyboard.press("Control+A")
        page.keyboard.type("2031/6/3")
        page.keyboard.press("Enter")
        page.wait_for_function(IDLE)
        page.keyboard.press("Control+S")
        page.wait_for_function(IDLE)
        assert api.get(f"/api/v1/item_price/{body['id']}")[1]["result"]["valid_from"] == "2031-06-03"
        assert target.inner_text().strip() == "2031-06-03"
        console.check()
    finally:
        context.close()


def test_an_orders_receipt_status_changes_in_an_open_grid_without_reload(server, api, desktop):
    """A receipt pushed down from an order and posted elsewhere (another clerk, the API) moves the order's 入库状态 in a
    grid of orders left open, without a reload, and its cancellation moves it back: the change feed names the order."""
    from playwright.sync_api import expect
    from test_stocktake_browser import posted

    page, console = desktop
    order = posted(
        api, "purchase_order", [{"item": "SP0001", "qty": "4", "price": "1"}], warehouse="WH01", partner="S001"
    )
    page.goto(server.url + "/grid/purchase_order/")
    page.locator(".tabulator-row").first.wait_for(timeout=15000)
    page.wait_for_function(IDLE)
    header_filter(page, "number", order["number"])
    wait_count(page, 1)
    row = page.locator(
        ".tabulator-row", has=page.locator(f".tabulator-cell[tabulator-field=number]:text-is('{order['number']}')")
    )
    shown = row.locator(".tabulator-cell[tabulator-field=receipt_status]")
    expect(shown).to_have_text("未入库")
    # dated as the module's other documents: a receipt of today would refuse their earlier dates for SP0001
    status, pushed = api.post(f"/api/v1/purchase_order/{order['id']}/push/purchase_receipt", {"date": "2026-11-25"})
    assert status == 201, pushed
    receipt = pushed["result"]
    line = receipt["lines"][0]
    status, body = api.put(
        f"/api/v1/purchase_receipt/{receipt['id']}",
        {"version": receipt["version"], "lines": [{"id": line["id"], "item": "SP0001", "qty": "1"}]},
    )
    assert status == 200, body
    assert api.post(f"/api/v1/purchase_receipt/{receipt['id']}/submit", {})[0] == 200
    expect(shown).to_have_text("部分入库", timeout=15000)
    assert api.post(f"/api/v1/purchase_receipt/{receipt['id']}/cancel", {})[0] == 200
    expect(shown).to_have_text("未入库", timeout=15000)
    shot(page, "order-receipt-status-live")
    console.check()
