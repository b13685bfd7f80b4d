"""Bulk stocktake: files of counts into a stocktake through the phone's count batches. Uploads add up (the
same item in several locations), the same file twice counts once, every bad cell is named with nothing
applied, and a whole-warehouse count zeroes what nobody counted, the ledger agreeing to the cent."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from tests.conftest import unique
from tests.ledger_helpers import balance, document, ledger_problems, new_item, receive


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


def test_uploads_add_up_across_locations_and_the_same_file_counts_once(app, admin_api, api_as):
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
    assert cells[(4, "差异原因")].startswith("「塌方」不是有效的差异原因")
    assert body["message"] == "发现 3 处错误，整个文件未导入，请修正后重新上传"
    assert counted(admin_api, take) == {good: (Decimal(1), None)}  # the good row was not applied either
    fixed = xlsx([[good, 2, None, "A", None]])
    assert upload(admin_api, take, fixed).status_code == 200
    assert counted(admin_api, take) == {good: (Decimal(3), None)}


def test_whole_warehouse_scope_zeroes_what_nobody_counted(app, admin_api):
    code = unique("W")
    made = admin_api.post("/api/v1/warehouse/", json={"code": code, "name": f"全盘仓 {code}"})
    assert made.status_code == 201, made.get_json()
    listed, forgotten = new_item(admin_api), new_item(admin_api)
    receive(admin_api, listed, "10", "2.50", warehouse=code)
    receive(admin_api, forgotten, "3", "1.11", warehouse=code)
    receive(admin_api, forgotten, "4", "1.27", warehouse=code)
    take = document(admin_api, "stocktake", [], warehouse=code, scope="whole")
    assert upload(admin_api, take, xlsx([[listed, 8, None, "A", "theft"]])).status_code == 200
    forgotten_before = balance(app, forgotten, code)
    assert forgotten_before == (Decimal(7), Decimal("8.41"))

    submitted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    doc = submitted.get_json()["result"]
    lines = {line["item"]["key"]: line for line in doc["lines"]}
    assert set(lines) == {listed, forgotten}
    assert (Decimal(lines[forgotten]["counted_qty"]), Decimal(lines[forgotten]["diff_qty"])) == (0, -7)
    assert Decimal(lines[forgotten]["amount"]) == -forgotten_before[1]
    assert Decimal(lines[listed]["amount"]) == Decimal("-5.00")
    assert balance(app, forgotten, code) == (Decimal(0), Decimal(0))
    assert balance(app, listed, code) == (Decimal(8), Decimal("20.00"))
    assert Decimal(doc["total_amount"]) == Decimal("-13.41")
    assert ledger_problems(app) == []
