"""A share (折扣率, a decimal bounded 0..1, stored 0.075) is read and typed as a percent, as a rate kept in percent
(税率 13) is: the grid, forms, prints, pastes and imports show 7.5% and take 7.5% (a bare 7.5 where a person types:
the grid's editor and paste, a form); the API keeps the stored share (docs/grid.md, docs/metadata.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from app.meta.loader import load_metadata
from app.meta.types import FIELD_TYPES, ValueProblem
from tests.conftest import csrf_from
from tests.ledger_helpers import document, new_item

META, _ = load_metadata(Path(__file__).resolve().parent.parent / "metadata")
DISCOUNT = META.model("sales_order_line").field("discount_rate")
TAX = META.model("sales_order_line").field("tax_rate")
PRICE = META.model("sales_order_line").field("price")
DECIMAL = FIELD_TYPES["decimal"]


@pytest.mark.parametrize(
    ("raw", "stored"), [("7.5%", "0.0750"), ("7.5 ％", "0.0750"), ("100%", "1.0000"), ("0.075", "0.0750")]
)
def test_a_share_takes_a_percent_typed_with_its_sign(raw, stored):
    assert DECIMAL.parse(DISCOUNT, raw) == Decimal(stored)


def test_a_rate_kept_in_percent_takes_the_sign_too_and_a_price_does_not():
    assert DECIMAL.parse(TAX, "13%") == Decimal("13")
    with pytest.raises(ValueProblem):
        FIELD_TYPES["money"].parse(PRICE, "13%")
    with pytest.raises(ValueProblem, match="7.5%"):  # out of range: said in percents, not "at most 1"
        DECIMAL.parse(DISCOUNT, "7.5")


def test_forms_the_grid_and_spreadsheets_show_a_share_as_a_percent():
    assert DECIMAL.form_value(DISCOUNT, "0.0750", readonly=False) == "7.5%"
    assert DECIMAL.form_value(DISCOUNT, "8%", readonly=False) == "8%"  # as typed, shown again after an error
    assert DECIMAL.form_value(TAX, "13", readonly=False) == "13"
    assert DECIMAL.form_raw(DISCOUNT, MultiDict({"d": "7.5"}), "d") == "7.5%"  # a bare number typed is a percent
    assert DECIMAL.form_raw(TAX, MultiDict({"d": "13"}), "d") == "13"
    assert DECIMAL.grid_look(DISCOUNT)["percent"] is True and DECIMAL.grid_look(TAX)["percent"] is False
    assert DECIMAL.excel_format(DISCOUNT) == {"num_format": "0.00%"}  # Excel's 7.5% is the cell 0.075
    assert DECIMAL.read_text(DISCOUNT, "0.0750") == "7.5%"


def test_a_share_written_as_a_percent_is_stored_as_the_share(admin_api):
    sku = new_item(admin_api, tax_rate="13")
    line = {"item": sku, "qty": "2", "price": "100", "discount_rate": "7.5%", "tax_rate": "13%"}
    saved = document(admin_api, "sales_order", [line], warehouse="WH01")["lines"][0]
    assert (saved["discount_rate"], saved["tax_rate"], saved["amount"]) == ("0.075", "13", "185.00")


def test_a_document_form_shows_the_share_as_a_percent_and_takes_a_bare_number_as_one(admin_api, login_as):
    sku = new_item(admin_api)
    client = login_as("admin")
    token = csrf_from(client.get("/m/sales_order/new").get_data(as_text=True))
    data = {"csrf_token": token, "partner": "K001", "date": "2026-11-25", "warehouse": "WH01"}
    data.update({"lines-0-item": sku, "lines-0-qty": "2"})
    data.update({"lines-0-price": "100", "lines-0-discount_rate": "7.5"})
    saved = client.post("/m/sales_order/new", data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    pk = int(saved.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert admin_api.get(f"/api/v1/sales_order/{pk}").get_json()["result"]["lines"][0]["discount_rate"] == "0.075"
    edit = client.get(f"/m/sales_order/{pk}/edit").get_data(as_text=True)
    assert 'value="7.5%" inputmode="decimal" data-share="1"' in edit


def _order_with_discounts(header: str, cells: list[object], percent_cells: tuple[int, ...] = ()) -> bytes:
    """A sales order of one line per discount cell, under `header`; `percent_cells`: those formatted 0.00% in Excel
    (a percent typed there is its share: 7.5% is the cell 0.075)."""
    import io

    from openpyxl import Workbook

    from tests.conftest import unique

    sku, number = "SP0001", unique("SH")
    book = Workbook()
    sheet = book.active
    sheet.append(["单据编号", "客户", "发货仓库", "商品", "数量", "单价", header])
    for cell in cells:
        sheet.append([number, "K001", "WH01", sku, 1, 100, cell])
    for index in percent_cells:
        sheet.cell(row=index + 2, column=7).number_format = "0.00%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _imported_discounts(app, data: bytes, spec=DISCOUNT) -> list[str]:
    from app.extensions import db, registry
    from tests.test_imports import run

    outcome = run(app, "sales_order", data)
    assert outcome.applied, [i.line() for i in outcome.issues]
    assert not outcome.unknown_columns, outcome.unknown_columns
    with app.app_context():
        order = db.session.get(registry().cls("sales_order"), outcome.created_ids[0][0])
        found = [FIELD_TYPES["decimal"].to_json(spec, getattr(line, spec.name)) for line in order.lines]
        db.session.rollback()
    return found


def test_an_imported_share_reads_a_bare_number_as_a_percent_as_the_grid_does(app, admin_api):
    """A bare 7.5 in an unformatted cell of 折扣率 is 7.5%, as the grid's paste and a form take it (one rule,
    FieldType.typed); a cell Excel formats as a percent holds the share (0.075, shown 7.5%); under the template's
    折扣率(%) every other number is a percent
    (docs/imports.md "Percents")."""
    plain = _order_with_discounts("折扣率", [7.5, "7.5%", 0.075, "8", 12], percent_cells=(2,))
    assert _imported_discounts(app, plain) == ["0.075", "0.075", "0.075", "0.08", "0.12"]
    typed = _order_with_discounts("折扣率(%)", [7.5, "7.5%", 0.5, "8", 100])
    assert _imported_discounts(app, typed) == ["0.075", "0.075", "0.005", "0.08", "1"]
    assert DECIMAL.typed(DISCOUNT, 7.5) == DECIMAL.form_raw(DISCOUNT, MultiDict({"d": "7.5"}), "d") == "7.5%"
    assert DECIMAL.typed(TAX, 13) == 13  # a rate kept in percent is typed as it is
    from tests.test_imports import run

    refused = run(app, "sales_order", _order_with_discounts("折扣率(%)", [101]))
    assert [i.line() for i in refused.issues] == ["第 2 行，「折扣率(%)」列：请填 0% 到 100% 之间的百分数，如 7.5%"]


def test_the_template_says_a_share_is_typed_in_percents_and_reads_back_as_typed(app, admin_api):
    """The template's 折扣率 column is headed 折扣率(%) (as 税率(%) is), not formatted as a percent: 7.5 typed under
    it is 7.5%. The export keeps the share's percent cells under 折扣率 (0.075 shown 7.50%): each reads back exactly."""
    import io

    from openpyxl import load_workbook

    template = admin_api.get("/api/v1/imports/template/sales_order?lang=zh")
    sheet = load_workbook(io.BytesIO(template.data)).worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert "折扣率(%)" in headers and "*税率(%)" not in headers and "税率(%)" in headers
    column = sheet.column_dimensions[sheet.cell(row=1, column=headers.index("折扣率(%)") + 1).column_letter]
    assert column.number_format == "General"
    english = admin_api.get("/api/v1/imports/template/sales_order?lang=en")
    assert "Discount rate (%)" in [c.value for c in load_workbook(io.BytesIO(english.data)).worksheets[0][1]]
    assert DECIMAL.excel_format(DISCOUNT) == {"num_format": "0.00%"}  # the export's cell of 7.5% is 0.075
    assert _imported_discounts(app, _order_with_discounts("折扣率", [0.075, 1], percent_cells=(0, 1))) == ["0.075", "1"]


def test_exported_shares_edited_and_imported_back_are_exact(app, admin_api):
    """Export → edit → import: an order's lines imported under the template's 折扣率(%) (7.5 and 0.5), exported from
    the grid (折扣率, percent cells 0.075 and 0.005), one cell edited as Excel keeps a typed 8% (0.08), the cells
    copied with their format into a new order under the export's own header: the same shares again."""
    import io

    from openpyxl import load_workbook

    first = _imported_discounts(app, _order_with_discounts("折扣率(%)", [7.5, 0.5]))
    assert first == ["0.075", "0.005"]
    exported = admin_api.get(
        "/api/v1/grid/sales_order_line/export?columns=discount_rate&sort[0][field]=id&sort[0][dir]=desc"
    )
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.data)).active
    header, newest = sheet["A1"].value, [sheet.cell(row=r, column=1) for r in (3, 2)]  # the two lines, in order
    assert header == "折扣率" and [c.value for c in newest] == [0.075, 0.005]
    assert {c.number_format for c in newest} == {"0.00%"}
    edited = [newest[0].value, newest[1].value, 0.08]  # a third line typed 8% in Excel
    again = _imported_discounts(app, _order_with_discounts(header, edited, percent_cells=(0, 1, 2)))
    assert again == ["0.075", "0.005", "0.08"]


def test_a_header_without_the_labels_unit_names_the_field_and_reads_its_numbers_as_the_label_says(app, admin_api):
    """A clerk's own workbook heads 税率(%) as 税率 (Tax rate, without its (%)): the column was unknown. A
    label's unit (its `unit`: (%), （天）; docs/imports.md "Matching columns") may be left out; under 税率 a number
    from 1 up is the percent typed (13 is 13 %, 1 is 1 %) and a cell Excel formats as a percent the share it keeps
    (13% typed there is 0.13); under 税率(%) every number is as typed."""
    from importers.matcher import match_columns, unitless_names

    plain = _order_with_discounts("税率", [13, "13%", 0.13, "9", 6, 0, 1], percent_cells=(2,))
    assert _imported_discounts(app, plain, TAX) == ["13", "13", "13", "9", "6", "0", "1"]  # 1 is 1 %, not 100 %
    english = _order_with_discounts("Tax rate", [13, 0.09], percent_cells=(1,))
    assert _imported_discounts(app, english, TAX) == ["13", "9"]
    labelled = _order_with_discounts("税率(%)", [13, "13%", 0.5])
    assert _imported_discounts(app, labelled, TAX) == ["13", "13", "0.5"]
    terms = META.model("partner").field("payment_terms_days")
    assert unitless_names(terms) == {"账期", "paymentterms"}
    matched = match_columns([["账期"]], list(META.model("partner").data_fields))
    assert matched.mapping == {0: terms.name} and not matched.unknown


def test_a_number_below_one_under_a_header_without_its_percent_sign_is_refused_asking_which_it_is(app, admin_api):
    """0.5 under 税率 (or 折扣率) may be 0.5 % (二手车经销 减按0.5%) or 50 % kept as Excel keeps a percent: the cell
    does not say, so it is refused on its row, saying how to write it; a cell Excel formats as a percent (made here
    with openpyxl: 0.13 shown 13%) says it is the share, under any header, and 0.5% says it is 0.5 %. It was read
    50 %."""
    from tests.test_imports import run

    unclear = run(app, "sales_order", _order_with_discounts("税率", [9, 0.5, "0.5%"]))
    assert not unclear.applied
    assert [i.line() for i in unclear.issues] == [
        "第 3 行，「税率」列：0.5 是 0.5% 还是 50%？请写成 0.5% 或 50%，或使用模板的「税率(%)」列"
    ]
    share = run(app, "sales_order", _order_with_discounts("折扣率", [0.075]))
    assert [i.line() for i in share.issues] == [
        "第 2 行，「折扣率」列：0.075 是 0.075% 还是 7.5%？请写成 0.075% 或 7.5%，或使用模板的「折扣率(%)」列"
    ]
    said = _order_with_discounts("税率", ["0.5%", 0.13, 0.005, 1, 13], percent_cells=(1, 2))
    assert _imported_discounts(app, said, TAX) == ["0.5", "13", "0.5", "1", "13"]
    # a percent cell under the template's 税率(%) is what it shows (13%), not 0.13 %; a bare 1 under 折扣率 is 1 %
    formatted = _order_with_discounts("税率(%)", [0.13, 6], percent_cells=(0,))
    assert _imported_discounts(app, formatted, TAX) == ["13", "6"]
    assert _imported_discounts(app, _order_with_discounts("折扣率", [1, 1], percent_cells=(1,))) == ["0.01", "1"]


def test_a_csv_has_no_formats_so_its_text_says_what_it_is(app, admin_api):
    """A csv cell is text: 0.5 under 税率 is refused as in a workbook (Excel saves a percent cell to csv as 13%, which
    reads as 13 %); under 税率(%) 0.5 is 0.5 %."""
    from tests.conftest import unique
    from tests.test_imports import run

    def order(header: str, cells: list[str]) -> bytes:
        number = unique("CSV")
        lines = [f"单据编号,客户,发货仓库,商品,数量,单价,{header}"]
        lines += [f"{number},K001,WH01,SP0001,1,100,{cell}" for cell in cells]
        return "\r\n".join(lines).encode()

    refused = run(app, "sales_order", order("税率", ["13%", "0.5"]))
    assert [i.line() for i in refused.issues] == [
        "第 3 行，「税率」列：0.5 是 0.5% 还是 50%？请写成 0.5% 或 50%，或使用模板的「税率(%)」列"
    ]
    assert _imported_discounts(app, order("税率", ["13%", "0.5%", "9"]), TAX) == ["13", "0.5", "9"]
    assert _imported_discounts(app, order("税率(%)", ["0.5", "13"]), TAX) == ["0.5", "13"]


@pytest.mark.parametrize(
    ("number_format", "percent"),
    [
        ("0%", True),
        ("0.00%", True),
        ("#,##0.0%;[Red]-0.0%", True),
        ('0"%"', False),
        ("0\\%", False),
        ("General", False),
    ],
)
def test_a_cell_format_is_a_percent_when_excel_multiplies_by_100(number_format, percent):
    from importers.reader import is_percent_format

    assert is_percent_format(number_format) is percent


def test_master_data_reads_percent_cells_alike_and_the_import_page_shows_them_as_excel_does(app, admin_api):
    """Items (the master-data path) read 税率 as orders do. The import page shows a percent cell as Excel shows it
    (13%, not 0.13) and sends its rows back as csv text: what it sends reads as the clerk saw it. The errors workbook
    keeps the percent cell a percent cell: fixed and imported, it reads as the file did."""
    import io

    from openpyxl import Workbook, load_workbook

    from importers.report import errors_workbook
    from tests.conftest import unique
    from tests.test_imports import run, stored

    tag, header = unique("PCT"), ["商品编码", "商品名称", "基本单位", "税率"]
    book = Workbook()
    sheet = book.active
    for row in (header, [f"{tag}-1", "甲", "PCS", 0.13], [f"{tag}-2", "乙", "PCS", 0.5]):
        sheet.append(row)
    sheet["D2"].number_format = "0%"
    data = io.BytesIO()
    book.save(data)
    checked = admin_api.post(
        "/api/v1/imports/preview",
        data={"model": "item", "file": (io.BytesIO(data.getvalue()), "items.xlsx")},
        content_type="multipart/form-data",
    ).get_json()
    assert [row["cells"][3] for row in checked["rows"]] == ["13%", "0.5"]
    assert [(i["row"], i["column"], i["message"]) for i in checked["issues"]] == [
        (3, "税率", "0.5 是 0.5% 还是 50%？请写成 0.5% 或 50%，或使用模板的「税率(%)」列")
    ]
    sent = [header] + [row["cells"][:3] + [row["cells"][3].replace("0.5", "0.5%")] for row in checked["rows"]]
    sent_back = run(app, "item", "\r\n".join(",".join(row) for row in sent).encode(), dry_run=True)
    assert sent_back.total == 2 and sent_back.issues == [] and sent_back.problems == []
    refused = run(app, "item", data.getvalue())
    report = load_workbook(io.BytesIO(errors_workbook(refused.table, refused.header_index, refused)))
    fixed = report.active
    assert (fixed["D2"].value, fixed["D2"].number_format, fixed["D3"].number_format) == (0.13, "0.00%", "General")
    fixed["D3"] = "0.5%"
    data = io.BytesIO()
    report.save(data)
    outcome = run(app, "item", data.getvalue())
    assert outcome.applied, [i.line() for i in outcome.issues]
    assert [stored(app, "item", "sku", f"{tag}-{n}")["tax_rate"] for n in (1, 2)] == ["13", "0.5"]


def _xls_order(header: str, cells: list[object], percent_cells: tuple[int, ...] = ()) -> bytes:
    """`_order_with_discounts` as an Excel 97-2003 workbook (BIFF8, written by xlwt as old systems export it):
    `percent_cells` carry the built-in 0.00% format in their XF record."""
    import io

    import xlwt

    from tests.conftest import unique

    number = unique("XLS")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("销售订单")
    percent = xlwt.easyxf(num_format_str="0.00%")
    for col, text in enumerate(["单据编号", "客户", "发货仓库", "商品", "数量", "单价", header]):
        sheet.write(0, col, text)
    for index, cell in enumerate(cells, start=1):
        for col, value in enumerate([number, "K001", "WH01", "SP0001", 1, 100]):
            sheet.write(index, col, value)
        if index - 1 in percent_cells:
            sheet.write(index, 6, cell, percent)
        else:
            sheet.write(index, 6, cell)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xls_percent_cell_is_read_from_its_format_as_an_xlsx_one_is(app, admin_api):
    """13% in an old Excel (.xls) file's 税率 cell (kept 0.13, its XF record's format 0.00%) is 13 %, as in an xlsx:
    the cell's format says so (it was refused as a bare 0.13 could be 0.13 % or 13 %); a bare 0.5 is still refused,
    and a percent cell under 折扣率 is the share it keeps."""
    from importers.reader import read_table
    from tests.test_imports import run

    data = _xls_order("税率", [0.13, 9, 0.06], percent_cells=(0, 2))
    table = read_table(data, "orders.xls")
    assert table.kind == "xls" and table.percent_rows([6]) == {6: {2, 4}}  # sheet rows 2 and 4
    assert _imported_discounts(app, data, TAX) == ["13", "9", "6"]
    unclear = run(app, "sales_order", _xls_order("税率", [0.13, 0.5], percent_cells=(0,)))
    assert [i.line() for i in unclear.issues] == [
        "第 3 行，「税率」列：0.5 是 0.5% 还是 50%？请写成 0.5% 或 50%，或使用模板的「税率(%)」列"
    ]
    assert _imported_discounts(app, _xls_order("折扣率", [0.075, 7.5], percent_cells=(0,))) == ["0.075", "0.075"]
