"""Document imports: one sheet, one row per line with the header's columns repeated, grouped by the file's
document number (kept as external_ref while JXC numbers the document); drafts or posted; every bad cell
reported on its row and column; an opening balance typed in a spreadsheet."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import unique
from tests.ledger_helpers import balance, new_item, new_partner, receive
from tests.test_imports import finished, import_as_admin, in_process, run, upload, workbook

__all__ = ["in_process"]  # a fixture of tests/test_imports.py, used here


def documents(app: Any, model: str, reference: str) -> list[dict[str, Any]]:
    """The documents holding this external reference, with their lines' items and quantities."""
    from app.extensions import db, registry

    with app.app_context():
        cls, item = registry().cls(model), registry().cls("item")
        rows = db.session.execute(select(cls).where(cls.external_ref == reference)).scalars().all()
        skus = {pk: sku for pk, sku in db.session.execute(select(item.id, item.sku))}
        found = [
            {
                "number": doc.number,
                "status": doc.status,
                "lines": [(skus[line.item_id], Decimal(line.qty)) for line in doc.lines],
                "total": doc.total_amount,
            }
            for doc in rows
        ]
        db.session.rollback()
        return found


def test_two_documents_of_three_lines_as_drafts_then_posted(app, admin_api):
    skus = [new_item(admin_api) for _ in range(3)]
    customer, _ = new_partner(admin_api, "customer")
    first, second = unique("F"), unique("G")
    header = ["单据编号", "单据日期", "客户", "发货仓库", "商品", "数量", "单价", "明细备注", "备注"]
    rows = [header]
    for number, price in ((first, "2"), (second, "3")):
        for n, sku in enumerate(skus, start=1):
            rows.append(
                [number, "2026-11-20", customer, "WH01", sku, n, price, f"第{n}行", "导入的订单" if n == 1 else None]
            )
    outcome = import_as_admin(app, "sales_order", workbook(rows))
    assert outcome.applied and outcome.created == 2, [i.line() for i in outcome.issues]
    (draft,) = documents(app, "sales_order", first)
    assert draft["status"] == "draft" and draft["number"].startswith("XS") and draft["number"] != first
    assert draft["lines"] == [(sku, Decimal(n)) for n, sku in enumerate(skus, start=1)]
    assert draft["total"] == Decimal("12.00")  # (1 + 2 + 3) x 2
    assert documents(app, "sales_order", second)[0]["total"] == Decimal("18.00")
    again = run(app, "sales_order", workbook(rows), mode="valid")  # the same numbers: already imported
    assert again.created == 0 and {i.line("en").split(":")[0] for i in again.issues} == {
        "row 2, column 单据编号",
        "row 5, column 单据编号",
    }

    purchase = [["单据编号", "单据日期", "供应商", "收货仓库", "商品", "数量", "单价"]]
    number = unique("P")
    purchase += [[number, "2026-11-21", "S001", "WH01", sku, "4", "1.5"] for sku in skus]
    posted = run(app, "purchase_order", workbook(purchase), post=True)
    assert posted.applied and posted.created == 1, [i.line() for i in posted.issues]
    (order,) = documents(app, "purchase_order", number)
    assert order["status"] == "submitted" and order["total"] == Decimal("18.00")
    template = admin_api.get("/api/v1/imports/template/sales_order?lang=zh")
    assert template.status_code == 200
    headers = [c.value for c in load_workbook(io.BytesIO(template.data)).worksheets[0][1]]
    assert headers[0] == "*单据编号" and {"*客户", "*商品", "*数量", "明细备注", "备注"} <= set(headers)


def test_bad_cells_are_reported_per_cell_and_nothing_is_written(app, admin_api):
    sku = new_item(admin_api)
    number, other = unique("B"), unique("C")
    rows = [
        ["单据编号", "单据日期", "客户", "发货仓库", "商品", "数量", "单价"],
        [number, "2026-11-20", "K001", "WH01", sku, "abc", "2"],
        [number, "2026-11-21", "K001", "WH01", "NO-SUCH-SKU", "1", "2"],  # another date on the same document
        [other, "2026-11-20", "K001", "WH01", sku, "-1", "2"],
        [None, "2026-11-20", "K001", "WH01", sku, "1", "2"],
    ]
    outcome = run(app, "sales_order", workbook(rows))
    assert not outcome.applied and outcome.created == 0
    assert [i.line("en") for i in outcome.issues] == [
        "row 2, column 数量: 应为数字",
        "row 3, column 单据日期: 同一单号的表头与第 2 行不一致",
        "row 3, column 商品: 找不到「NO-SUCH-SKU」",
        "row 4, column 数量: 不能小于 0",
        "row 5, column 单据编号: 必填：同一张单据的各行填写相同的单号，这些行导入为一张单据",
    ]
    assert documents(app, "sales_order", number) == [] and documents(app, "sales_order", other) == []


def test_the_template_asks_for_the_number_that_groups_the_rows_and_a_row_without_one_is_told_why(app, admin_api):
    """The template's 单据编号 column carried the form's help, 留空则自动生成, and no *: a clerk who left it blank as
    told had every row refused with a bare 必填. It is marked required and says what it is for, and so does the
    refusal."""
    answer = admin_api.get("/api/v1/imports/template/purchase_receipt?lang=zh")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.data))
    first = book.worksheets[0]["A1"]
    assert first.value == "*单据编号" and "同一张单据的各行填写相同的单号" in first.comment.text
    notes = book.worksheets[-1]
    assert "单据编号相同的行导入为一张单据" in notes["A1"].value
    row = next(r for r in notes.iter_rows(min_row=4, values_only=True) if r[1] == "number")
    assert row[3] == "是" and "留空则自动生成" not in row[5] and "这些行导入为一张单据" in row[5]
    english = load_workbook(io.BytesIO(admin_api.get("/api/v1/imports/template/purchase_receipt?lang=en").data))
    assert (
        english.worksheets[0]["A1"].value.startswith("*") and "same number" in english.worksheets[0]["A1"].comment.text
    )

    sku = new_item(admin_api)
    headers = [c.value for c in first.parent[1]]  # the columns as the template heads them
    number = unique("R")
    rows = [
        ["*单据编号", "*单据日期", "*供应商", "*入库仓库", "*商品", "*入库数量", "单价"],
        [None, "2026-11-20", "S001", "WH01", sku, "2", "3"],
        [number, "2026-11-20", "S001", "WH01", sku, "1", "3"],
    ]
    assert set(rows[0]) <= set(headers)
    outcome = run(app, "purchase_receipt", workbook(rows))
    assert not outcome.applied and outcome.created == 0 and not outcome.problems, outcome.problems
    assert [i.line() for i in outcome.issues] == [
        "第 2 行，「*单据编号」列：必填：同一张单据的各行填写相同的单号，这些行导入为一张单据"
    ]
    assert documents(app, "purchase_receipt", number) == []


def test_a_posted_document_the_ledger_refuses_is_reported_on_its_cells(app, admin_api):
    """Posting problems are cell problems too: a delivery beyond the stock on hand, on its line's row."""
    sku = new_item(admin_api)
    number = unique("D")
    rows = [
        ["单据编号", "单据日期", "客户", "出库仓库", "商品", "出库数量", "单价"],
        [number, "2026-11-20", "K001", "WH01", sku, "1", "2"],
        [number, "2026-11-20", "K001", "WH01", sku, "5", "2"],
    ]
    refused = run(app, "sales_delivery", workbook(rows), post=True)
    assert not refused.applied and refused.created == 0, refused.refused
    assert [i.line("en").split(":")[0] for i in refused.issues] == [
        "row 2, column 出库数量",
        "row 3, column 出库数量",
    ], (
        refused.refused,
        refused.problems,
    )
    assert documents(app, "sales_delivery", number) == []
    drafts = run(app, "sales_delivery", workbook(rows))  # as drafts nothing posts
    assert drafts.applied and documents(app, "sales_delivery", number)[0]["status"] == "draft"


def test_an_import_in_mode_all_names_every_error_the_check_does_and_writes_nothing(in_process, admin_api):
    """有错误就全部不导入 with a bad cell (数量 abc) and a delivery beyond the stock (what only posting finds): the
    import names both on their cells, as 检查文件 does, its errors workbook marks both, and nothing is written, not
    even the good document. (It named the bad cell alone: the clerk fixed it, imported again, and only then met the
    stock.) 只导入正确的行 still writes the good document and names the same two."""
    stocked, empty = new_item(admin_api), new_item(admin_api)
    receive(admin_api, stocked, "10", "1")
    good, bad, short = unique("A"), unique("B"), unique("C")
    rows = [
        ["单据编号", "客户", "出库仓库", "商品", "出库数量", "单价"],
        [good, "K001", "WH01", stocked, "2", "3"],
        [bad, "K001", "WH01", stocked, "abc", "3"],
        [short, "K001", "WH01", empty, "5", "3"],
    ]
    data = workbook(rows)

    def job(**form: str) -> dict[str, Any]:
        return finished(
            admin_api,
            upload(admin_api, "sales_delivery", data, "deliveries.xlsx", post="1", **form).get_json()["job_id"],
        )

    check = job(dry_run="1")
    assert check["status"] == "done" and check["kind"] == "import_check"
    imported = job()
    assert imported["status"] == "failed", imported
    found = [(i["row"], i["column"], i["message"]) for i in imported["result"]["issues"]]
    assert found == [(3, "出库数量", "应为数字"), (4, "出库数量", found[1][2])], found
    assert "库存不足" in found[1][2]
    assert imported["result"]["issues"] == check["result"]["issues"]
    assert imported["result"]["refused"].startswith("发现 2 处错误") and not imported["result"]["applied"]
    assert imported["counts"]["errors"] == 2 and imported["counts"]["created"] == 0
    report = admin_api.get(f"/api/v1/imports/{imported['id']}/errors.xlsx")
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.data)).active
    report.close()
    assert sheet["E3"].comment.text == "应为数字" and "库存不足" in sheet["E4"].comment.text
    assert sheet["E2"].comment is None and sheet["G3"].value and sheet["G4"].value  # 错误说明 on both rows
    assert [documents(in_process, "sales_delivery", n) for n in (good, bad, short)] == [[], [], []]
    assert balance(in_process, stocked)[0] == Decimal(10)

    valid = job(mode="valid")
    assert valid["status"] == "done" and valid["counts"]["created"] == 1 and valid["counts"]["errors"] == 2
    assert valid["result"]["issues"] == check["result"]["issues"]
    assert documents(in_process, "sales_delivery", good)[0]["status"] == "submitted"
    assert balance(in_process, stocked)[0] == Decimal(8)


def test_an_opening_balance_from_a_spreadsheet(app, admin_api):
    sku = new_item(admin_api)
    customer, _ = new_partner(admin_api, "customer")
    number = unique("Q")
    rows = [
        ["单据编号", "期初日期", "商品", "仓库", "数量", "单位成本", "往来单位", "期初应收", "到期日"],
        [number, "2001-01-01", sku, "WH01", "12", "2.5", None, None, None],
        [number, "2001-01-01", sku, "WH02", "2", "3", None, None, None],
        [number, "2001-01-01", None, None, None, None, customer, "88.80", "2026-12-31"],
    ]
    outcome = run(app, "opening_balance", workbook(rows), post=True)
    assert outcome.applied and outcome.created == 1, [i.line() for i in outcome.issues]
    assert balance(app, sku) == (Decimal(12), Decimal("30.00")) and balance(app, sku, "WH02")[1] == Decimal("6.00")
    response = admin_api.get("/api/v1/reports/ar_ageing", query_string={"partner": customer, "date": "2026-11-30"})
    assert response.get_json()["rows"][0]["current"] == "88.80"
