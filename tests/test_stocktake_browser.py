"""A counts file on the stocktake's page in Chromium: uploaded, previewed (a bad cell named, rows of one item in
several locations added up, the variance against the book snapshot with the moves since), applied; the
variance sheet then says what the preview said and keeps the locations (gunicorn on SQLite, demo data)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import servers
from in_browser import headless_chromium, signed_in
from openpyxl import Workbook, load_workbook
from servers import ARTIFACTS, HttpApi, jxc_server

pytestmark = pytest.mark.slow  # run early: see tests/conftest.py

ROWS = 300
ITEMS = [f"SP{n:04d}" for n in range(1, 21)]  # demo items, none tracked by batch or serial


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    instance = tmp_path_factory.mktemp("stocktake-browser") / "instance"
    patience, servers.START_TIMEOUT = servers.START_TIMEOUT, 120  # gunicorn boots the whole app: slow when busy
    with jxc_server(
        f"sqlite:///{instance / 'jxc.db'}", instance, name="stocktake-web", extra_env={"REDIS_URL": ""}, demo=True
    ) as running:
        servers.START_TIMEOUT = patience
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium for the module's tests (each test opens contexts of its own)."""
    yield from headless_chromium()


def counts_file(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    book.active.append(["商品编码", "实盘数量", "库位"])
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def posted(api: HttpApi, model: str, lines: list[dict[str, Any]], **header: Any) -> dict[str, Any]:
    status, body = api.post(f"/api/v1/{model}/", {"date": "2026-11-25", "lines": lines, **header})
    assert status == 201, body
    status, body = api.post(f"/api/v1/{model}/{body['id']}/submit", {})
    assert status == 200, body
    return body["result"]


def test_counts_uploaded_previewed_and_applied_on_the_stocktake_page(server, chromium, tmp_path):
    api = HttpApi(server.url)
    posted(
        api, "purchase_receipt", [{"item": "SP0001", "qty": "50", "price": "1.15"}], warehouse="WH01", partner="S001"
    )
    status, take = api.post("/api/v1/stocktake/", {"date": "2026-11-25", "warehouse": "WH01", "lines": []})
    assert status == 201, take
    take = take["result"]
    # received while the count goes on: kept when it posts, not taken for a gain
    posted(api, "purchase_receipt", [{"item": "SP0001", "qty": "7", "price": "1.15"}], warehouse="WH01", partner="S001")

    rows = [[ITEMS[n % len(ITEMS)], n % 5 + 1, f"L{n // len(ITEMS):02d}"] for n in range(ROWS)]
    expected: dict[str, Decimal] = {}
    for sku, qty, _ in rows:
        expected[sku] = expected.get(sku, Decimal(0)) + qty
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(counts_file([*rows[:10], ["NO-SUCH-SKU", 1, "X"], [ITEMS[0], "三", "X"]]))
    good = tmp_path / "counts.xlsx"
    good.write_bytes(counts_file(rows))

    context, page, console = signed_in(chromium, server.url)
    page.goto(f"{server.url}/m/stocktake/{take['id']}")
    page.set_input_files("#jxc-count-upload input[type=file]", str(bad))
    page.click("#jxc-count-upload button[type=submit]")
    page.wait_for_selector("#jxc-count-preview")
    assert page.inner_text("#jxc-count-errors-summary") == "发现 2 处错误，整个文件未导入，请修正后重新上传"
    errors = [[c.strip() for c in r.split("\t")] for r in page.inner_text("#jxc-count-errors tbody").splitlines()]
    assert errors == [["12", "商品编码", "找不到「NO-SUCH-SKU」"], ["13", "实盘数量", "「三」不是数字"]]
    assert page.locator("#jxc-count-apply").count() == 0  # nothing to apply while a cell is wrong

    page.set_input_files("#jxc-count-upload input[type=file]", str(good))
    page.click("#jxc-count-upload button[type=submit]")
    page.wait_for_selector("#jxc-count-apply")
    assert page.locator("#jxc-count-lines tbody tr").count() == len(ITEMS)  # 300 rows added up to 20 lines
    first = page.locator('#jxc-count-lines tbody tr[data-item="SP0001"] td')
    cells = [first.nth(i).inner_text().strip() for i in range(12)]
    per_item = ROWS // len(ITEMS)
    assert cells[2].split(", ") == [str(2 + n * len(ITEMS)) for n in range(per_item)]  # its sheet rows
    assert cells[3].splitlines()[:2] == [f"L00: {rows[0][1]}", f"L01: {rows[20][1]}"]
    assert (cells[4], cells[5], cells[6]) == (str(expected["SP0001"]), "—", str(expected["SP0001"]))
    # book 50 at the snapshot, 7 received since; the stock once posted is what was counted plus those 7
    diff = expected["SP0001"] - 50
    assert (cells[7], cells[8], cells[9], cells[10]) == ("50", "7", str(diff), str(expected["SP0001"] + 7))
    preview_total = page.inner_text("#jxc-count-preview-total")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "stocktake-count-preview.png"), full_page=True)
    status, body = api.get(f"/api/v1/stocktake/{take['id']}")
    assert status == 200 and body["result"]["lines"] == []  # the preview wrote nothing

    page.click("#jxc-count-apply button[type=submit]")
    page.wait_for_selector("#jxc-variance")
    assert f"已导入 {ROWS} 行盘点数量" in page.inner_text("body")
    assert page.inner_text("#jxc-variance-total") == preview_total
    assert page.locator("#jxc-variance tbody tr").count() == len(ITEMS)
    places = page.inner_text('#jxc-variance tbody tr[data-item="SP0001"] td.jxc-locations')
    assert places.startswith(f"L00: {rows[0][1]}, L01: {rows[20][1]}")
    page.screenshot(path=str(ARTIFACTS / "stocktake-count-applied.png"), full_page=True)
    console.check()
    context.close()

    status, sheet = api.get(f"/api/v1/stocktake/{take['id']}/variance")
    assert status == 200 and sheet["total_value"] == preview_total
    assert {row["item"]["key"]: Decimal(row["counted"]) for row in sheet["lines"]} == expected


def test_a_loss_without_a_reason_is_refused_on_the_page_and_the_posted_sheet_keeps_its_figures(server, chromium):
    """审核 on the stocktake's page: a loss without a 差异原因 is refused, its line named, the draft kept; once the
    reason is given it posts, and the 盘点差异表 shows what moved between the snapshot and the posting (4 received)
    and the stock it left (11), not blanks."""
    from conftest import unique

    api = HttpApi(server.url)
    code = unique("WB")
    assert api.post("/api/v1/warehouse/", {"code": code, "name": f"页面盘点仓 {code}"})[0] == 201
    posted(api, "purchase_receipt", [{"item": "SP0002", "qty": "10", "price": "2"}], warehouse=code, partner="S001")
    line = {"item": "SP0002", "counted_qty": "7"}
    status, take = api.post("/api/v1/stocktake/", {"date": "2026-11-25", "warehouse": code, "lines": [line]})
    assert status == 201, take
    take = take["result"]
    posted(api, "purchase_receipt", [{"item": "SP0002", "qty": "4", "price": "2"}], warehouse=code, partner="S001")

    context, page, console = signed_in(chromium, server.url)
    page.goto(f"{server.url}/m/stocktake/{take['id']}")
    page.click("#jxc-submit")
    page.wait_for_selector("#jxc-submit")  # back on the page, still a draft
    assert "第 1 行盘亏 3，没有填写差异原因，不能审核" in page.inner_text("body")
    explained = {"lines": [{"id": take["lines"][0]["id"], "item": "SP0002", "reason": "damage"}]}
    assert api.put(f"/api/v1/stocktake/{take['id']}", explained)[0] == 200
    page.goto(f"{server.url}/m/stocktake/{take['id']}")
    page.click("#jxc-submit")
    page.wait_for_selector("#jxc-cancel")  # posted: 反审核 offered
    row = page.locator('#jxc-variance tbody tr[data-item="SP0002"] td')
    # book, counted, difference, 快照后出入库, 审核后库存
    assert [row.nth(i).inner_text().strip() for i in range(3, 8)] == ["10", "7", "-3", "4", "11"]
    console.check()
    context.close()


def test_the_count_sheet_downloaded_filled_and_sent_back_on_the_page(server, chromium, tmp_path):
    """下载盘点表 in Chromium: the warehouse's stock, one row per item; a keeper fills two rows and leaves the rest,
    sends the same file back; the preview says how many rows it leaves out, and 确认导入 counts the two."""
    api = HttpApi(server.url)
    status, take = api.post("/api/v1/stocktake/", {"date": "2026-11-25", "warehouse": "WH02", "lines": []})
    assert status == 201, take
    take = take["result"]
    posted(api, "purchase_receipt", [{"item": sku, "qty": "6", "price": "2.00"} for sku in ITEMS[:3]],
           warehouse="WH02", partner="S001")  # fmt: skip
    context, page, console = signed_in(chromium, server.url)
    page.goto(f"{server.url}/m/stocktake/{take['id']}")
    boxes = [page.locator(f"#jxc-count-upload {part}").bounding_box() for part in ("input[type=file]", "button")]
    assert abs(boxes[0]["y"] + boxes[0]["height"] / 2 - boxes[1]["y"] - boxes[1]["height"] / 2) < 6, boxes
    with page.expect_download() as fetched:
        page.click("#jxc-count-sheet")
    assert fetched.value.suggested_filename == f"盘点表-{take['number']}.xlsx"
    sheet = tmp_path / "sheet.xlsx"
    fetched.value.save_as(sheet)
    book = load_workbook(sheet)
    rows = book.worksheets[0]
    header = [cell.value for cell in rows[1]]
    assert [row[0].value for row in rows.iter_rows(min_row=2)] == ITEMS[:3]
    qty = header.index("实盘数量") + 1
    rows.cell(row=2, column=qty, value=5)
    rows.cell(row=3, column=qty, value=6)
    book.save(sheet)

    page.set_input_files("#jxc-count-upload input[type=file]", str(sheet))
    page.click("#jxc-count-upload button[type=submit]")
    page.wait_for_selector("#jxc-count-apply")
    assert page.inner_text("#jxc-count-uncounted") == "1 行未填实盘数量，不计入（第 4 行）"
    page.click("#jxc-count-apply button[type=submit]")
    page.wait_for_selector("#jxc-variance")
    assert "已导入 2 行盘点数量；1 行未填实盘数量，未计入" in page.inner_text("body")
    console.check()
    context.close()
    status, body = api.get(f"/api/v1/stocktake/{take['id']}")
    assert status == 200
    assert {line["item"]["key"]: Decimal(line["counted_qty"]) for line in body["result"]["lines"]} == {
        ITEMS[0]: Decimal(5),
        ITEMS[1]: Decimal(6),
    }
