"""Make the workbooks of tests/data/imports (committed; run again only to change them):

    .venv/bin/python tests/data/imports/make_files.py

Each file is one case of cases.yaml: what a clerk's spreadsheet really looks like (merged title cells,
numbers stored as text, leading zeros, dates as serials and as Chinese text, thousands separators,
full-width digits, trailing spaces, duplicates, unknown links, formulas with cached values, GBK csv) and
what an attacker sends (a compression bomb, an XXE file, a renamed executable, an encrypted workbook).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import xlsxwriter
from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
ITEM_HEADER = ["*商品编码", "*商品名称", "*基本单位", "商品分类", "零售价", "安全库存", "批次管理", "备注"]


def save(book: Workbook, name: str) -> None:
    book.save(HERE / name)


def clerk_items() -> None:
    """A title row merged over the header, codes with leading zeros, numbers as text, full-width digits."""
    book = Workbook()
    sheet = book.active
    sheet.append(["商品资料导入（2026年12月）"])
    sheet.merge_cells("A1:H1")
    sheet.append(ITEM_HEADER)
    sheet.append(["000101", "可口可乐 330ml  ", "个", "饮料", "1,234.50", "１２", "否", "数字是文本"])
    sheet.append(["000102", "雪碧 330ml", "PCS", "C01", 3.5, 10, "是", None])
    sheet.append(["IMP-CLERK-3", "  百事可乐", "瓶", "饮料", "¥4.00", "0", None, "备注  "])
    for row in sheet.iter_rows(min_row=3, max_col=1):
        row[0].number_format = "@"
    save(book, "clerk_items.xlsx")


def bad_items() -> None:
    """Every kind of bad cell at once: duplicate key, unknown unit and category, a negative price, text in
    a number, a missing required value, an unknown option."""
    book = Workbook()
    sheet = book.active
    sheet.append([*ITEM_HEADER, "计价方法", "Colour"])
    sheet.append(["IMP-BAD-1", "好的一行", "个", "饮料", "2", "1", "否", None, "先进先出", "red"])
    sheet.append(["IMP-BAD-1", "重复的编码", "个", None, None, None, None, None, None, None])
    sheet.append(["IMP-BAD-3", "没有的单位", "打", "不存在的分类", "-1", "abc", "也许", None, "后进先出", None])
    sheet.append(["IMP-BAD-4", None, "个", None, None, None, None, None, None, None])
    save(book, "bad_items.xlsx")


def formulas() -> None:
    """Formulas written with their cached results (as Excel saves them): the cached value is imported."""
    path = HERE / "formulas.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("商品")
    for col, text in enumerate(["*商品编码", "*商品名称", "*基本单位", "零售价", "安全库存"]):
        sheet.write_string(0, col, text)
    sheet.write_string(1, 0, "IMP-FX-1")
    sheet.write_string(1, 1, "公式商品")
    sheet.write_string(1, 2, "个")
    sheet.write_formula(1, 3, "=2*3.25", None, 6.5)
    sheet.write_formula(1, 4, '=LEN("abcd")', None, 4)
    book.close()


def dated_prices() -> None:
    """Price list rows with dates as date cells, Excel serial numbers and Chinese / slashed text."""
    book = Workbook()
    sheet = book.active
    sheet.append(["*商品", "*价格类型", "*单价", "生效日期", "失效日期"])
    sheet.append(["SP0001", "零售价", "9.90", dt.date(2026, 12, 1), None])
    sheet.append(["SP0001", "批发价", 8, 46357, "2027/1/31"])  # 46357 = 2026-12-01
    sheet.append(["SP0002", "零售价", "1,000.00", "2026年12月1日", "2026/13/1"])
    save(book, "dated_prices.xlsx")


def csv_files() -> None:
    text = "商品编码,商品名称,基本单位,零售价\nIMP-GBK-1,国标编码的商品,个,12.50\nIMP-GBK-2,第二个 ,箱,1\n"
    (HERE / "gbk_items.csv").write_bytes(text.encode("gbk"))
    bom = "\ufeffsku,name,unit,sale_price\nIMP-BOM-1,带BOM的商品,PCS,2\n"
    (HERE / "bom_items.csv").write_bytes(bom.encode("utf-8"))


def minimal_xlsx() -> bytes:
    book = Workbook()
    book.active.append(["商品编码", "商品名称", "基本单位"])
    book.active.append(["IMP-HOSTILE", "x", "个"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite(data: bytes, member: str, content: bytes) -> bytes:
    """The xlsx `data` with one member replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, content if info.filename == member else src.read(info.filename))
    return out.getvalue()


def hostile() -> None:
    base = minimal_xlsx()
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    # a bomb: 200 MB of whitespace inside the sheet packs into a few hundred KB
    padded = sheet_xml.replace(b"<sheetData>", b"<sheetData>" + b" " * (200 * 1024 * 1024))
    (HERE / "bomb.xlsx").write_bytes(rewrite(base, "xl/worksheets/sheet1.xml", padded))
    xxe = b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n' + (
        sheet_xml.split(b"?>", 1)[1] if sheet_xml.startswith(b"<?xml") else sheet_xml
    )
    (HERE / "xxe.xlsx").write_bytes(rewrite(base, "xl/worksheets/sheet1.xml", xxe))
    # an executable renamed to .xlsx (the first bytes of an ELF program)
    (HERE / "program.xlsx").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(57) + b"\x00" * 200)
    # encrypted.xlsx (a real password-protected workbook) and legacy_items.xls: make_legacy_files.py
    empty = Workbook()
    save(empty, "empty.xlsx")
    # a zip that is not a workbook (a .docx-like archive renamed)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    (HERE / "document.xlsx").write_bytes(out.getvalue())


def partners() -> None:
    """Upsert: one existing partner changed, one new; English headers with odd spacing and case."""
    book = Workbook()
    sheet = book.active
    sheet.append(["  CODE ", "name", "Ｋｉｎｄ"])
    sheet.append(["IMP-P1", "导入客户一", "客户"])
    sheet.append(["IMP-P2", "导入客户二", "customer"])
    save(book, "partners_v1.xlsx")
    book = Workbook()
    sheet = book.active
    sheet.append(["Code", "Name"])
    sheet.append(["IMP-P1", "导入客户一（改名）"])
    sheet.append(["IMP-P3", "导入客户三"])
    save(book, "partners_v2.xlsx")


def documents() -> None:
    """Two sales orders of three lines each, the header's cells repeated, grouped by the file's number; and
    a file of orders with bad cells (a quantity as words, a header that differs, an unknown item)."""
    header = ["单据编号", "单据日期", "客户", "发货仓库", "商品", "数量", "单价", "明细备注"]
    book = Workbook()
    book.active.append(header)
    for number, day in (("IMP-SO-1", "2026/11/20"), ("IMP-SO-2", dt.date(2026, 11, 21))):
        for n, sku in enumerate(("SP0001", "SP0002", "SP0003"), start=1):
            book.active.append([number, day, "K001", "WH01", sku, n, "2.50", f"第{n}行"])
    save(book, "sales_orders.xlsx")
    bad = Workbook()
    bad.active.append(header)
    bad.active.append(["IMP-SO-9", "2026-11-20", "K001", "WH01", "SP0001", "三个", "2", None])
    bad.active.append(["IMP-SO-9", "2026-11-22", "K001", "WH01", "NO-SUCH-SKU", 1, "2", None])
    save(bad, "bad_sales_orders.xlsx")


def counts() -> None:
    """Stocktake counts (count_cases.yaml) as a clerk's sheet has them: a title merged over the header, SKUs with
    leading zeros and in lower case with trailing spaces, a thousands separator, full-width digits, a formula
    with its cached value, one item in two locations; then an unknown SKU and a negative count. And the same
    good rows as a GBK csv (another counting area's file)."""
    path = HERE / "counts.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("盘点")
    text = book.add_format({"num_format": "@"})
    sheet.merge_range("A1:E1", "三号仓 12 月盘点（A、B 区）")
    sheet.write_row(1, 0, ["商品编码", "实盘数量", "批号", "库位", "差异原因"])
    sheet.write_row(2, 0, ["0000731", "1,234.5", None, "A-01 ", "损坏"], text)
    sheet.write_row(3, 0, ["0000731", "１２", None, "B-07"], text)
    sheet.write_row(4, 0, ["stk-case-2 ", 5, None, "A-01"])
    sheet.write_row(5, 0, ["STK-CASE-2"])
    sheet.write_formula(5, 1, "=2*2", None, 4)
    sheet.write(5, 3, "C-01")
    sheet.write_row(6, 0, ["NO-SUCH-SKU", 1, None, "C-01"])
    sheet.write_row(7, 0, ["STK-CASE-2", -3, None, "C-02", "丢失"])
    book.close()
    good = HERE / "counts_good.xlsx"
    book = xlsxwriter.Workbook(str(good))
    sheet = book.add_worksheet("盘点")
    sheet.write_row(0, 0, ["商品编码", "实盘数量", "库位", "差异原因"])
    sheet.write_row(1, 0, ["0000731", "1,234.5", "A-01 ", "损坏"], book.add_format({"num_format": "@"}))
    sheet.write_row(2, 0, ["0000731", "１２", "B-07"])
    sheet.write_row(3, 0, ["stk-case-2 ", 5, "A-01"])
    sheet.write_formula(4, 1, "=2*2", None, 4)
    sheet.write(4, 0, "STK-CASE-2")
    sheet.write(4, 2, "C-01")
    book.close()
    (HERE / "counts_gbk.csv").write_bytes("商品编码,实盘数量,库位\r\n0000731,2,货架甲\r\n".encode("gbk"))


if __name__ == "__main__":
    clerk_items()
    bad_items()
    formulas()
    dated_prices()
    csv_files()
    hostile()
    partners()
    documents()
    counts()
