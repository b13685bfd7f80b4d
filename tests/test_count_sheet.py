"""下载盘点表: a draft stocktake's count sheet lists what its warehouse holds (and what it lists), with the columns
导入盘点数量 reads; filled in and sent back as it is, the rows counted count and the rows left empty do not."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from openpyxl import load_workbook

from tests.conftest import csrf_from, unique
from tests.ledger_helpers import document, new_item, post, receive
from tests.test_stocktake_upload import counted, upload, xlsx

HEADER = ["商品编码", "商品名称", "规格型号", "单位", "批号", "账面数量", "实盘数量", "库位", "差异原因"]


def sheet_of(api: Any, take: dict[str, Any], blind: bool = False) -> tuple[Any, list[list[Any]]]:
    answer = api.get(f"/api/v1/stocktake/{take['id']}/counts/sheet" + ("?blind=1" if blind else ""))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    book = load_workbook(io.BytesIO(answer.get_data()))
    rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    return answer, rows


def filled(rows: list[list[Any]], counts: dict[tuple[str, str], tuple[Any, str | None]]) -> bytes:
    """The sheet as a keeper sends it back: 实盘数量 (and 差异原因) typed on the rows they counted."""
    book = load_workbook(io.BytesIO(xlsx([])))
    sheet = book.active
    sheet.delete_rows(1)
    sheet.append(rows[0])
    qty_col, reason_col = rows[0].index("实盘数量"), rows[0].index("差异原因")
    for row in rows[1:]:
        row = list(row)
        count = counts.get((row[0], row[4] or ""))
        if count is not None:
            row[qty_col], row[reason_col] = count
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_sheet_lists_the_warehouse_and_goes_back_as_filled(app, admin_api):
    code = unique("W")
    assert admin_api.post("/api/v1/warehouse/", json={"code": code, "name": f"盘点表仓 {code}"}).status_code == 201
    counted_sku, left_sku, listed_sku, elsewhere_sku = (new_item(admin_api) for _ in range(4))
    lot = new_item(admin_api, track_batch=True)
    receive(admin_api, counted_sku, "10", "2.50", warehouse=code)
    receive(admin_api, left_sku, "3", "1.00", warehouse=code)
    receive(admin_api, elsewhere_sku, "6", "1.00", warehouse="WH01")  # another warehouse: not on this sheet
    lots = [{"item": lot, "qty": qty, "price": "4.00", "batch": batch} for qty, batch in (("2", "B1"), ("5", "B2"))]
    post(admin_api, "purchase_receipt", lots, warehouse=code)
    take = document(admin_api, "stocktake", [{"item": listed_sku}], warehouse=code)

    answer, rows = sheet_of(admin_api, take)
    name = unquote(answer.headers["Content-Disposition"].split("filename*=UTF-8''", 1)[1])
    assert name == f"盘点表-{take['number']}.xlsx"
    assert rows[0] == HEADER
    body = {(row[0], row[4] or ""): row for row in rows[1:]}
    assert sorted(body) == sorted([(counted_sku, ""), (left_sku, ""), (listed_sku, ""), (lot, "B1"), (lot, "B2")]), (
        "every stock of the warehouse and every line listed, once each"
    )
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])  # by SKU
    assert {key: Decimal(str(row[5])) for key, row in body.items()} == {
        (counted_sku, ""): Decimal(10),
        (left_sku, ""): Decimal(3),
        (listed_sku, ""): Decimal(0),
        (lot, "B1"): Decimal(2),
        (lot, "B2"): Decimal(5),
    }
    assert all(row[6] is None and row[7] is None and row[8] is None for row in rows[1:])  # for the keeper to fill
    assert body[(counted_sku, "")][1] and body[(counted_sku, "")][3]  # its name and unit, to find it on the shelf

    back = filled(rows, {(counted_sku, ""): (8, "损坏"), (lot, "B1"): (2, None)})
    sent = upload(admin_api, take, back, name="盘点表.xlsx")
    assert sent.status_code == 200, sent.get_json()
    result = sent.get_json()
    assert (result["rows"], result["uncounted"]) == (2, 3)
    assert result["message"] == "已导入 2 行盘点数量；3 行未填实盘数量，未计入"
    lines = admin_api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]["lines"]
    by_slot = {(line["item"]["key"], line["batch"] or ""): line for line in lines}
    assert (Decimal(by_slot[(counted_sku, "")]["counted_qty"]), by_slot[(counted_sku, "")]["reason"]) == (8, "damage")
    assert Decimal(by_slot[(lot, "B1")]["counted_qty"]) == 2
    assert by_slot[(listed_sku, "")]["counted_qty"] is None  # listed, left empty: still not counted
    assert (left_sku, "") not in by_slot and (lot, "B2") not in by_slot


def test_a_blind_sheet_has_no_book_and_a_sheet_with_no_count_is_refused(app, admin_api):
    sku = new_item(admin_api)
    receive(admin_api, sku, "4", "1.00", warehouse="WH01")
    take = document(admin_api, "stocktake", [], warehouse="WH01")
    answer, rows = sheet_of(admin_api, take, blind=True)
    assert "盲盘表" in unquote(answer.headers["Content-Disposition"])
    assert rows[0] == [h for h in HEADER if h != "账面数量"]
    assert not any(isinstance(cell, (int, float)) for row in rows[1:] for cell in row)  # no quantity anywhere

    nothing = upload(admin_api, take, filled(rows, {}))
    assert nothing.status_code == 422
    assert nothing.get_json()["message"] == "文件中没有填写实盘数量的行，未导入"
    assert counted(admin_api, take) == {}
    preview = admin_api.post(
        f"/api/v1/stocktake/{take['id']}/counts/upload",
        data={"file": (io.BytesIO(filled(rows, {})), "s.xlsx"), "dry_run": "1"},
        content_type="multipart/form-data",
    ).get_json()
    assert preview["applicable"] is False and preview["message"] == "文件中没有填写实盘数量的行，未导入"
    assert preview["uncounted"] == len(rows) - 1
    assert preview["uncounted_rows"] == list(range(2, 2 + min(10, len(rows) - 1)))  # the first ten named, then …


def test_only_a_draft_the_reader_may_count_has_a_sheet(app, admin_api, api_as):
    take = document(admin_api, "stocktake", [], warehouse="WH01")
    keeper = api_as("warehouse")  # WH01 is theirs: they count it
    assert keeper.get(f"/api/v1/stocktake/{take['id']}/counts/sheet").status_code == 200
    seller = api_as("salesperson")  # may not write stocktakes
    assert seller.get(f"/api/v1/stocktake/{take['id']}/counts/sheet").status_code in (403, 404)
    assert admin_api.get("/api/v1/stocktake/999999/counts/sheet").status_code == 404
    assert admin_api.post(f"/api/v1/stocktake/{take['id']}/submit").status_code == 200
    posted = admin_api.get(f"/api/v1/stocktake/{take['id']}/counts/sheet")
    assert posted.status_code == 409, posted.get_data(as_text=True)[:300]


def test_the_page_offers_both_sheets_and_its_preview_says_what_is_left_out(app, admin_api, login_as):
    sku, other = new_item(admin_api), new_item(admin_api)
    receive(admin_api, sku, "4", "1.00", warehouse="WH01")
    receive(admin_api, other, "2", "1.00", warehouse="WH01")
    take = document(admin_api, "stocktake", [], warehouse="WH01")
    browser = login_as("admin")
    page = browser.get(f"/m/stocktake/{take['id']}").get_data(as_text=True)
    assert 'id="jxc-count-sheet"' in page and "下载盘点表" in page and "下载盲盘表（不含账面数量）" in page
    sheet = browser.get(f"/m/stocktake/{take['id']}/counts/sheet")
    assert sheet.status_code == 200 and sheet.mimetype.endswith("spreadsheetml.sheet")
    blind = browser.get(f"/m/stocktake/{take['id']}/counts/sheet?blind=1")
    assert "账面数量" not in [c.value for c in load_workbook(io.BytesIO(blind.get_data())).worksheets[0][1]]

    rows = [list(r) for r in load_workbook(io.BytesIO(sheet.get_data())).worksheets[0].iter_rows(values_only=True)]
    form = {"csrf_token": csrf_from(page), "file": (io.BytesIO(filled(rows, {(sku, ""): (3, None)})), "s.xlsx")}
    shown = browser.post(f"/m/stocktake/{take['id']}/counts/preview", data=form, content_type="multipart/form-data")
    html = shown.get_data(as_text=True)
    left = len(rows) - 2  # every row but the header and the one counted
    assert f"{left} 行未填实盘数量，不计入（第 " in html and 'id="jxc-count-apply"' in html
    assert "（UTC）" not in html  # the snapshot in the business's time, as everywhere on the page
