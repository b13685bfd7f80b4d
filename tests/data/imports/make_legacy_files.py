"""Make the two files of tests/data/imports that need tools JXC does not depend on (committed; run again only
to change them), in a scratch virtualenv:

    python3 -m venv /tmp/legacy && /tmp/legacy/bin/pip install xlwt msoffcrypto-tool openpyxl
    /tmp/legacy/bin/python tests/data/imports/make_legacy_files.py

legacy_items.xls: an Excel 97-2003 workbook (BIFF8) as old systems still export it.
encrypted.xlsx: a workbook saved with a password (agile encryption, as Excel does it).
"""

from __future__ import annotations

import io
from pathlib import Path

import msoffcrypto.format.ooxml
import openpyxl
import xlwt

HERE = Path(__file__).resolve().parent


def legacy_xls() -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("商品")
    for col, text in enumerate(["*商品编码", "*商品名称", "*基本单位", "零售价", "安全库存"]):
        sheet.write(0, col, text)
    rows = [["IMP-XLS-1", "旧版 Excel 商品", "个", 3.5, 12], ["007", "前导零编码", "PCS", "1,234.50", "５"]]
    for number, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            sheet.write(number, col, value)
    book.save(str(HERE / "legacy_items.xls"))


def encrypted_xlsx() -> None:
    book = openpyxl.Workbook()
    book.active.append(["商品编码", "商品名称", "基本单位"])
    book.active.append(["IMP-ENC", "加密", "个"])
    plain = io.BytesIO()
    book.save(plain)
    plain.seek(0)
    out = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("secret", out)
    (HERE / "encrypted.xlsx").write_bytes(out.getvalue())


if __name__ == "__main__":
    legacy_xls()
    encrypted_xlsx()
