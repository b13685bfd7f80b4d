"""Bulk stocktake: files of counts into a stocktake through the phone's count batches. Uploads add up (the
same item in several locations), the same file twice counts once, every bad cell is named with nothing
applied, and a whole-warehouse count zeroes what nobody counted, the ledger agreeing to the cent."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook

from tests.conftest import csrf_from, unique
from tests.ledger_helpers import balance, document, ledger_problems, new_item, post, receive

DATA = Path(__file__).resolve().parent / "data" / "imports"


def xlsx(
    rows: list[list[Any]], header: tuple[str, ...] = ("商品编码", "实盘数量", "批号", "库位", "差异原因")
) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(api: Any, take: dict[str, Any], data: bytes, name: str = "counts.xlsx") -> Any:
    return api.post(
        f"/api/v1/stocktake/{take['id']}/counts/upload",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def counted(api: Any, take: dict[str, Any]) -> dict[str, tuple[Decimal | None, str | None]]:
    body = api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
    return {
        line["item"]["key"]: (None if line["counted_qty"] is None else Decimal(line["counted_qty"]), line["reason"])
        for line in body["lines"]
    }


def test_uploads_add_up_across_locations_and_the_same_file_counts_once(app, admin_api, api_as, login_as):
    keeper = api_as("warehouse")
    shelf, other = new_item(admin_api), new_item(admin_api)
    take = document(admin_api, "stocktake", [], warehouse="WH01")
    first = xlsx([[shelf, 3, None, "A-01", None], [shelf, 2, None, "B-07", "损坏"]])
    answer = upload(keeper, take, first)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["replayed"] is False and body["rows"] == 2
    assert body["locations"] == {shelf: ["A-01", "B-07"]}
    assert counted(admin_api, take) == {shelf: (Decimal(5), "damage")}

    again = upload(keeper, take, first, name="renamed.xlsx")  # the same content: recognised, not counted twice
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert counted(admin_api, take) == {shelf: (Decimal(5), "damage")}

    csv = f"SKU,Quantity,Location\r\n{shelf},1.5,C-02\r\n{other.lower()},4,C-02\r\n".encode()
    second = upload(keeper, take, csv, name="area-c.csv")  # another area's file adds up
    assert second.status_code == 200, second.get_json()
    assert counted(admin_api, take) == {shelf: (Decimal("6.5"), "damage"), other: (Decimal(4), None)}
    # the variance on the stocktake's page: the keeper, who sees no cost, gets no 差异金额 column at all
    admin_page = login_as("admin").get(f"/m/stocktake/{take['id']}").get_data(as_text=True)
    keeper_page = login_as("warehouse").get(f"/m/stocktake/{take['id']}").get_data(as_text=True)
    assert 'id="jxc-variance-total"' in admin_page and "<th>差异金额</th>" in admin_page
    assert "jxc-variance-lines" in keeper_page or "jxc-locations" in keeper_page  # the keeper has the variance
    assert "<th>差异金额</th>" not in keeper_page and 'id="jxc-variance-total"' not in keeper_page

    lot = new_item(admin_api, track_batch=True)  # rows of the same item and batch add up, batches apart
    third = upload(
        keeper, take, xlsx([[lot, 1, "B1", "A", None], [lot, 2, "B1", "B", None], [lot, 5, "B2", "A", None]])
    )
    assert third.status_code == 200, third.get_json()
    body = admin_api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
    batches = {line["batch"]: Decimal(line["counted_qty"]) for line in body["lines"] if line["item"]["key"] == lot}
    assert batches == {"B1": Decimal(3), "B2": Decimal(5)}


def test_every_bad_cell_is_reported_and_nothing_applied(app, admin_api):
    good = new_item(admin_api)
    take = document(admin_api, "stocktake", [{"item": good, "counted_qty": "1"}], warehouse="WH01")
    data = xlsx([[good, 2, None, "A", None], ["NO-SUCH-SKU", 1, None, "A", None], [good, -3, None, "B", "塌方"]])
    answer = upload(admin_api, take, data)
    assert answer.status_code == 422
    body = answer.get_json()
    cells = {(e["row"], e["column"]): e["message"] for e in body["errors"]}
    assert cells == {
        (3, "商品编码"): "找不到「NO-SUCH-SKU」",
        (4, "实盘数量"): "实盘数量不能为负数（-3）",
        (4, "差异原因"): cells[(4, "差异原因")],
    }
    assert cells[(4, "差异原因")] == "「塌方」不是有效的差异原因（可选：损坏、过期、丢失、盘点误差、其他）"
    assert body["message"] == "发现 3 处错误，整个文件未导入，请修正后重新上传"
    assert counted(admin_api, take) == {good: (Decimal(1), None)}  # the good row was not applied either
    fixed = xlsx([[good, 2, None, "A", None]])
    assert upload(admin_api, take, fixed).status_code == 200
    assert counted(admin_api, take) == {good: (Decimal(3), None)}


def test_whole_warehouse_scope_zeroes_what_nobody_counted(app, admin_api, login_as):
    code = unique("W")
    made = admin_api.post("/api/v1/warehouse/", json={"code": code, "name": f"全盘仓 {code}"})
    assert made.status_code == 201, made.get_json()
    listed, forgotten = new_item(admin_api), new_item(admin_api)
    receive(admin_api, listed, "10", "2.50", warehouse=code)
    receive(admin_api, forgotten, "3", "1.11", warehouse=code)
    receive(admin_api, forgotten, "4", "1.27", warehouse=code)
    take = document(admin_api, "stocktake", [], warehouse=code, scope="whole")
    browser = login_as("admin")  # the button on the stocktake's page
    page = browser.get(f"/m/stocktake/{take['id']}").get_data(as_text=True)
    assert 'id="jxc-count-upload"' in page and "导入盘点数量" in page
    form = {"csrf_token": csrf_from(page), "file": (io.BytesIO(xlsx([[listed, 8, None, "A", "theft"]])), "a.xlsx")}
    sent = browser.post(f"/m/stocktake/{take['id']}/counts/upload", data=form, content_type="multipart/form-data")
    assert sent.status_code in (302, 303)
    assert "已导入 1 行盘点数量" in browser.get(sent.headers["Location"]).get_data(as_text=True)
    forgotten_before = balance(app, forgotten, code)
    assert forgotten_before == (Decimal(7), Decimal("8.41"))

    sheet = admin_api.get(f"/api/v1/stocktake/{take['id']}/variance").get_json()  # before posting
    rows = {row["item"]["key"]: row for row in sheet["lines"]}
    assert (rows[listed]["book"], rows[listed]["counted"], rows[listed]["diff"], rows[listed]["value"]) == (
        "10",
        "8",
        "-2",
        "-5.00",
    )
    assert (rows[forgotten]["counted"], rows[forgotten]["value"], rows[forgotten]["uncounted"]) == ("0", "-8.41", True)
    assert sheet["total_value"] == "-13.41"
    assert 'id="jxc-variance-total">-13.41<' in browser.get(f"/m/stocktake/{take['id']}").get_data(as_text=True)

    submitted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    doc = submitted.get_json()["result"]
    lines = {line["item"]["key"]: line for line in doc["lines"]}
    assert set(lines) == {listed, forgotten}
    assert (Decimal(lines[forgotten]["counted_qty"]), Decimal(lines[forgotten]["diff_qty"])) == (0, -7)
    assert lines[forgotten]["reason"] == "theft"  # not found: 丢失, what the whole-warehouse scope says of it
    assert Decimal(lines[forgotten]["amount"]) == -forgotten_before[1]
    assert Decimal(lines[listed]["amount"]) == Decimal("-5.00")
    assert balance(app, forgotten, code) == (Decimal(0), Decimal(0))
    assert balance(app, listed, code) == (Decimal(8), Decimal("20.00"))
    assert Decimal(doc["total_amount"]) == Decimal("-13.41")
    after = admin_api.get(f"/api/v1/stocktake/{take['id']}/variance").get_json()
    assert after["total_value"] == "-13.41" and not any(row["uncounted"] for row in after["lines"])
    assert ledger_problems(app) == []


def preview(api: Any, take: dict[str, Any], data: bytes, name: str = "counts.xlsx") -> Any:
    return api.post(
        f"/api/v1/stocktake/{take['id']}/counts/upload",
        data={"file": (io.BytesIO(data), name), "dry_run": "1"},
        content_type="multipart/form-data",
    )


def test_preview_adds_up_locations_against_the_snapshot_then_applies(app, admin_api, login_as):
    """The preview writes nothing and shows every bad cell, the rows that add up and the variance against the
    book snapshot taken when the stocktake started; moves after it are kept when it posts. Applying keeps the
    locations on the lines, and the variance sheet and the posted ledger agree to the cent."""
    code = unique("W")
    assert admin_api.post("/api/v1/warehouse/", json={"code": code, "name": f"快照仓 {code}"}).status_code == 201
    shelf, crate = new_item(admin_api), new_item(admin_api)
    receive(admin_api, shelf, "10", "2.00", warehouse=code)
    receive(admin_api, crate, "5", "3.00", warehouse=code)
    take = document(admin_api, "stocktake", [], warehouse=code)
    assert take["snapshot_at"], take  # counting starts when the stocktake is saved
    receive(admin_api, shelf, "4", "2.00", warehouse=code)  # moves after the snapshot, while people count
    post(admin_api, "sales_delivery", [{"item": crate, "qty": "2", "price": "9"}], warehouse=code)

    bad = xlsx([[shelf, 6, None, "A-01", None], ["NO-SUCH-SKU", 1, None, "A-02", None], [crate, -3, None, "C", "塌方"]])
    answer = preview(admin_api, take, bad)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["dry_run"] is True and body["applicable"] is False
    assert body["message"] == "发现 3 处错误，整个文件未导入，请修正后重新上传"
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "商品编码"), (4, "实盘数量"), (4, "差异原因")]
    assert [line["item"]["key"] for line in body["lines"]] == [shelf]  # the good rows, previewed all the same
    assert counted(admin_api, take) == {}  # nothing written

    good = xlsx([[shelf, 6, None, "A-01", None], [shelf, 3, None, "B-07", "损坏"], [crate, 5, None, "C-01", None]])
    body = preview(admin_api, take, good).get_json()
    assert body["applicable"] is True and body["errors"] == [] and body["rows"] == 3
    lines = {line["item"]["key"]: line for line in body["lines"]}
    assert lines[shelf]["rows"] == [2, 3] and lines[shelf]["added"] == "9"
    assert lines[shelf]["file_locations"] == [{"location": "A-01", "qty": "6"}, {"location": "B-07", "qty": "3"}]
    seen = {k: lines[shelf][k] for k in ("book", "moved_since", "stock_now", "counted", "diff", "stock_after", "value")}
    assert seen == {
        "book": "10",  # the snapshot, not the 14 on hand now
        "moved_since": "4",
        "stock_now": "14",
        "counted": "9",
        "diff": "-1",
        "stock_after": "13",
        "value": "-2.00",
    }
    assert (lines[crate]["book"], lines[crate]["moved_since"], lines[crate]["diff"], lines[crate]["stock_after"]) == (
        "5",
        "-2",
        "0",
        "3",
    )
    assert body["total_value"] == "-2.00"
    assert counted(admin_api, take) == {}

    applied = upload(admin_api, take, good)
    assert applied.status_code == 200, applied.get_json()
    assert applied.get_json()["locations"] == {shelf: ["A-01", "B-07"], crate: ["C-01"]}
    again = preview(admin_api, take, good).get_json()  # the same file: recognised in the preview too
    assert again["replayed"] is True and again["applicable"] is False
    doc = admin_api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
    by_item = {line["item"]["key"]: line for line in doc["lines"]}
    assert by_item[shelf]["locations"] == "A-01: 6\nB-07: 3"
    assert (by_item[shelf]["book_qty"], by_item[shelf]["counted_qty"]) == ("10", "9")
    more = f"SKU,Quantity,Location\r\n{shelf},1,B-07\r\n".encode()  # another area's file adds to a location
    assert upload(admin_api, take, more, name="b.csv").status_code == 200
    doc = admin_api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
    assert {line["item"]["key"]: line["locations"] for line in doc["lines"]}[shelf] == "A-01: 6\nB-07: 4"

    sheet = admin_api.get(f"/api/v1/stocktake/{take['id']}/variance").get_json()
    rows = {row["item"]["key"]: row for row in sheet["lines"]}
    assert (rows[shelf]["book"], rows[shelf]["counted"], rows[shelf]["moved_since"], rows[shelf]["stock_after"]) == (
        "10",
        "10",
        "4",
        "14",
    )
    assert rows[shelf]["locations"] == "A-01: 6\nB-07: 4" and sheet["total_value"] == "0.00"
    page = login_as("admin").get(f"/m/stocktake/{take['id']}").get_data(as_text=True)
    assert "A-01: 6, B-07: 4" in page and "快照后出入库" in page

    submitted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert balance(app, shelf, code) == (Decimal(14), Decimal("28.00"))  # counted 10 at the snapshot, 4 since
    assert balance(app, crate, code) == (Decimal(3), Decimal("9.00"))
    assert ledger_problems(app) == []


def test_the_page_previews_then_applies_the_kept_file(app, admin_api, login_as):
    sku = new_item(admin_api)
    take = document(admin_api, "stocktake", [], warehouse="WH01")
    browser = login_as("admin")
    page = browser.get(f"/m/stocktake/{take['id']}").get_data(as_text=True)
    data = xlsx([[sku, 2, None, "A", None], [sku, 1, None, "B", None]])
    form = {"csrf_token": csrf_from(page), "file": (io.BytesIO(data), "a.xlsx")}
    shown = browser.post(f"/m/stocktake/{take['id']}/counts/preview", data=form, content_type="multipart/form-data")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert 'id="jxc-count-preview"' in html and 'id="jxc-count-apply"' in html and "确认导入" in html
    assert counted(admin_api, take) == {}
    kept = html.split('name="upload" value="', 1)[1].split('"', 1)[0]
    sent = browser.post(
        f"/m/stocktake/{take['id']}/counts/upload",
        data={"csrf_token": csrf_from(html), "upload": kept, "filename": "a.xlsx"},
    )
    assert sent.status_code in (302, 303)
    assert "已导入 2 行盘点数量" in browser.get(sent.headers["Location"]).get_data(as_text=True)
    assert counted(admin_api, take) == {sku: (Decimal(3), None)}


def test_opening_stock_then_an_upload_the_variance_and_the_ledger_agree_to_the_cent(app, admin_api):
    """期初 in at odd costs (moving average and FIFO), then a counts file (one item in two locations), then the
    variance sheet before posting: its values are what posting writes to the ledger, to the cent."""
    code = unique("W")
    assert admin_api.post("/api/v1/warehouse/", json={"code": code, "name": f"期初仓 {code}"}).status_code == 201
    average, fifo = new_item(admin_api), new_item(admin_api, costing="fifo")
    opening = document(
        admin_api,
        "opening_balance",
        [
            {"item": average, "qty": "9", "price": "3.3333"},
            {"item": fifo, "qty": "4", "price": "1.10"},
            {"item": fifo, "qty": "6", "price": "2.2567"},
        ],
        date="2001-01-01",
        warehouse=code,
    )
    assert admin_api.post(f"/api/v1/opening_balance/{opening['id']}/submit").status_code == 200
    before = {sku: balance(app, sku, code) for sku in (average, fifo)}
    assert before[average] == (Decimal(9), Decimal("30.00")) and before[fifo] == (Decimal(10), Decimal("17.94"))
    take = document(admin_api, "stocktake", [], warehouse=code)
    data = xlsx(
        [[average, 4, None, "A-01", None], [average, 3, None, "B-02", "丢失"], [fifo, 11, None, "A-01", "盘点误差"]]
    )
    shown = preview(admin_api, take, data).get_json()
    assert shown["applicable"], shown
    assert upload(admin_api, take, data).status_code == 200
    sheet = admin_api.get(f"/api/v1/stocktake/{take['id']}/variance").get_json()
    values = {row["item"]["key"]: Decimal(row["value"]) for row in sheet["lines"]}
    assert values == {
        average: Decimal("-6.67"),  # 2 x 30.00 / 9
        fifo: Decimal("1.79"),  # 1 x 17.94 / 10, rounded
    }
    assert shown["total_value"] == sheet["total_value"] == "-4.88"
    posted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit").get_json()["result"]
    amounts = {line["item"]["key"]: Decimal(line["amount"]) for line in posted["lines"]}
    after = {sku: balance(app, sku, code) for sku in (average, fifo)}
    for sku in (average, fifo):  # the ledger keeps values at 4 places: to the cent, they are the same
        moved = (after[sku][1] - before[sku][1]).quantize(Decimal("0.01"))
        assert amounts[sku] == values[sku] == moved, sku
    assert after[average][0] == 7 and after[fifo][0] == 11
    assert Decimal(posted["total_amount"]) == Decimal("-4.88")
    assert ledger_problems(app) == []


def test_the_table_of_real_counts_files(app, admin_api):
    """Every committed counts file (count_cases.yaml) gives exactly its expected outcome, in order, into one
    stocktake: the exact errors, what each line counts and where, the same file recognised."""
    cases = yaml.safe_load((DATA / "count_cases.yaml").read_text(encoding="utf-8"))
    code = unique("W")
    assert admin_api.post("/api/v1/warehouse/", json={"code": code, "name": f"盘点表 {code}"}).status_code == 201
    for sku in ("0000731", "STK-CASE-2"):
        if admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:'{sku}')))").get_json()["result"] == []:
            new_item(admin_api, sku=sku)
    take = document(admin_api, "stocktake", [], warehouse=code)
    for case in cases:
        answer = upload(admin_api, take, (DATA / case["file"]).read_bytes(), name=case["file"])
        body = answer.get_json()
        if "refused" in case:
            assert answer.status_code == 422, (case["file"], body)
            assert body["message"] == case["refused"], case["file"]
            lines = [f"row {e['row']}, column {e['column']}: {e['message']}" for e in body["errors"]]
            assert lines == case.get("errors", []), case["file"]
        else:
            assert answer.status_code == 200, (case["file"], body)
            assert body["replayed"] is case.get("replayed", False), case["file"]
        if "counted" in case:
            doc = admin_api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
            found = {
                line["item"]["key"]: {
                    "qty": line["counted_qty"],
                    "locations": line["locations"],
                    **({"reason": line["reason"]} if line["reason"] else {}),
                }
                for line in doc["lines"]
            }
            assert found == case["counted"], case["file"]


def test_items_are_named_in_chunks_of_ids(app, admin_api, monkeypatch):
    """The preview and the applied answer name every item when link_labels asks a few ids at a time (a
    100,000-line file's items are more than a query's 65,535 parameters)."""
    from app.services.records import serialize

    monkeypatch.setattr(serialize, "LABEL_CHUNK", 2)
    skus = [new_item(admin_api) for _ in range(5)]
    take = document(admin_api, "stocktake", [], warehouse="WH01")
    data = xlsx([[sku, n + 1, None, "A-01", None] for n, sku in enumerate(skus)])
    preview = admin_api.post(
        f"/api/v1/stocktake/{take['id']}/counts/upload",
        data={"file": (io.BytesIO(data), "counts.xlsx"), "dry_run": "1"},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200, preview.get_json()
    assert sorted(line["item"]["key"] for line in preview.get_json()["lines"]) == sorted(skus)
    applied = upload(admin_api, take, data)
    assert applied.status_code == 200, applied.get_json()
    assert sorted(entry["item"]["key"] for entry in applied.get_json()["counted"]) == sorted(skus)


def test_counts_are_written_chunk_by_chunk_each_audited_the_header_once(app, admin_api, monkeypatch):
    """A file's lines go through RecordService.update_lines a chunk at a time: every line saved with its book, in
    order after the lines already there, each chunk audited in one row on the stocktake (the lines it wrote, and
    those it changed as they were), the header's totals from every line. A counted line listed again adds up."""
    from app.services.records import write

    monkeypatch.setattr(write, "LINES_CHUNK", 2)
    skus = [new_item(admin_api) for _ in range(5)]
    for sku in skus[:2]:
        receive(admin_api, sku, "4", "2.50")
    take = document(admin_api, "stocktake", [{"item": skus[0], "counted_qty": "1"}], warehouse="WH01")
    before = admin_api.get(f"/api/v1/stocktake/{take['id']}/history").get_json()["result"]
    data = xlsx([[sku, n + 1, None, "A-01", None] for n, sku in enumerate(skus)])
    assert upload(admin_api, take, data).status_code == 200
    body = admin_api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
    lines = {line["item"]["key"]: line for line in body["lines"]}
    assert [line["item"]["key"] for line in body["lines"]] == skus  # the saved line first, the new ones after
    assert [Decimal(lines[sku]["counted_qty"]) for sku in skus] == [2, 2, 3, 4, 5]
    assert [Decimal(lines[sku]["book_qty"]) for sku in skus] == [4, 4, 0, 0, 0]
    assert Decimal(body["total_counted_qty"]) == 16 and Decimal(body["total_book_qty"]) == 8
    assert Decimal(body["total_diff_qty"]) == 8
    history = admin_api.get(f"/api/v1/stocktake/{take['id']}/history").get_json()["result"]
    chunks = [row for row in history[: len(history) - len(before)] if "lines" in (row["after"] or {})]
    assert len(chunks) == 3  # five lines, two a chunk
    written = [line["item"] for row in reversed(chunks) for line in row["after"]["lines"]]
    assert len(written) == 5 and len(set(written)) == 5
    changed = [line for row in chunks for line in row["before"]["lines"]]
    assert [Decimal(line["counted_qty"]) for line in changed] == [Decimal(1)]  # the saved line as it was
    assert lines[skus[4]]["locations"] == "A-01: 5"


def test_a_bad_line_in_a_later_chunk_leaves_the_stocktake_as_it_was(app, admin_api, monkeypatch):
    """update_lines writes chunk by chunk, but all or nothing: a bad cell in the second chunk names its line and
    rolls back the first chunk's lines (the ones written already) with it."""
    import pytest

    from app.errors import ValidationFailed
    from app.extensions import db
    from app.services.records import write
    from app.services.users.access import access_for

    monkeypatch.setattr(write, "LINES_CHUNK", 2)
    skus = [new_item(admin_api) for _ in range(3)]
    take = document(admin_api, "stocktake", [], warehouse="WH01")
    with app.app_context():
        records = write.RecordService(db.session, access_for(app.appbuilder.sm.find_user(username="admin")))
        item = records.registry.cls("item")
        ids = [db.session.execute(select_id(item, sku)).scalar_one() for sku in skus]
        lines = [{"item": ids[0], "counted_qty": "1"}, {"item": ids[1], "counted_qty": "2"}]
        lines.append({"item": ids[2], "counted_qty": "三"})
        with pytest.raises(ValidationFailed) as refused:
            records.update_lines("stocktake", take["id"], lines)
        assert [error.field for error in refused.value.errors] == ["lines.2.counted_qty"]
        line = records.registry.cls("stocktake_line")
        written = db.session.execute(select_id(line, None).where(line.parent_id == take["id"])).all()
        assert written == []  # in this very transaction: the first chunk's lines were taken back
        db.session.rollback()
    assert counted(admin_api, take) == {}


def select_id(cls: Any, sku: str | None) -> Any:
    from sqlalchemy import select

    return select(cls.id) if sku is None else select(cls.id).where(cls.sku == sku)


def test_new_lines_are_audited_as_they_read_once_saved_and_each_item_takes_its_unit(app, admin_api):
    """update_lines builds new lines without ORM objects: each chunk's audit row has every new line as the saved
    line reads back (same fields, same values), and lines of one item take that item's unit, each line its book."""
    from sqlalchemy import select

    from app.extensions import db
    from app.services.records import write
    from app.services.records.audit import encoded
    from app.services.records.serialize import snapshot
    from app.services.records.tables import audit_log
    from app.services.users.access import access_for

    skus = [new_item(admin_api) for _ in range(2)]
    receive(admin_api, skus[0], "4", "2.50")
    take = document(admin_api, "stocktake", [], warehouse="WH01")
    with app.app_context():
        records = write.RecordService(db.session, access_for(app.appbuilder.sm.find_user(username="admin")))
        item = records.registry.cls("item")
        found = {sku: db.session.execute(select(item.id, item.unit_id).where(item.sku == sku)).one() for sku in skus}
        lines = [{"item": found[skus[0]].id, "counted_qty": "1", "batch": "", "locations": "A: 1"}]
        lines += [{"item": found[skus[1]].id, "counted_qty": "2"}, {"item": found[skus[0]].id, "counted_qty": "3"}]
        records.update_lines("stocktake", take["id"], lines)
        records.commit()
        model = records.registry.model("stocktake_line")
        line = records.registry.cls("stocktake_line")
        saved = db.session.scalars(select(line).where(line.parent_id == take["id"]).order_by(line.line_no)).all()
        units = [found[sku].unit_id for sku in (skus[0], skus[1], skus[0])]
        assert [row.unit_id for row in saved] == units
        assert [row.book_qty for row in saved] == [Decimal(4), Decimal(0), Decimal(4)]
        assert [row.line_no for row in saved] == [1, 2, 3]
        expected = [snapshot(model, row) for row in saved]
        texts = db.session.scalars(
            select(audit_log.c.after).where(audit_log.c.model == "stocktake", audit_log.c.record_id == take["id"])
        ).all()
        assert encoded({"lines": expected}) in texts  # the very text a snapshot of the saved lines encodes to
    history = admin_api.get(f"/api/v1/stocktake/{take['id']}/history").get_json()["result"]
    chunk = next(row for row in history if "lines" in (row["after"] or {}))
    assert chunk["before"] == {"lines": []}
    assert chunk["after"]["lines"] == expected
