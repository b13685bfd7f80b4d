"""The xlsx export writes a chunk column type by column type (`write_chunk`): the same cells, of the same
types, as xlsxwriter's `write_row` of each row, user text that looks like a formula still text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select

from app.meta.spec import FieldSpec
from app.meta.types import FIELD_TYPES
from app.services.grid.export import cell_writer, new_workbook, write_chunk

COLUMNS = [
    ["=1+2", "+1", None, "-2", "@x", "http://x.example", "12.5"],  # text: never a formula, a number or a link
    ["a", "", None, "b", "c", "d", "e"],  # text with an empty string, which `write` leaves out
    [1.5, -0.0012, None, 2.0, 0.0, 12345678901.2345, "123456789012345.6789"],  # a decimal past a double: text
    [1, 2, 3, None, 5, 6, 0],
    [dt.date(2026, 11, 25), None, dt.date(2026, 1, 1), dt.date(1900, 1, 1), None, None, dt.date(2026, 2, 28)],
    [dt.datetime(2026, 11, 25, 8, 30), None, None, None, None, None, dt.datetime(2026, 12, 1, 23, 59, 59)],
    [None] * 7,  # a column with no cell in the chunk
    ["是", "否", "是", "否", "是", "否", "是"],
]


def sheet_cells(path):
    sheet = load_workbook(path).active
    return [[(c.value, c.data_type, c.number_format) for c in row] for row in sheet.iter_rows(max_col=len(COLUMNS))]


def test_a_chunk_written_column_type_by_column_type_is_what_write_row_writes(tmp_path):
    typed, plain = tmp_path / "typed.xlsx", tmp_path / "plain.xlsx"
    for path in (typed, plain):
        workbook = new_workbook(str(path))
        sheet = workbook.add_worksheet()
        sheet.set_column(4, 4, 10, workbook.add_format({"num_format": "yyyy-mm-dd"}))
        sheet.set_column(5, 5, 10, workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}))
        if path == typed:
            write_chunk(sheet, 3, COLUMNS)
        else:
            for n, values in enumerate(zip(*COLUMNS, strict=True)):
                sheet.write_row(3 + n, 0, values)
        workbook.close()
    cells = sheet_cells(typed)
    assert cells == sheet_cells(plain)
    first = cells[3]
    assert first[0] == ("=1+2", "s", "General") and first[3] == (1, "n", "General")
    assert first[4][0] == dt.datetime(2026, 11, 25) and first[4][2] == "yyyy-mm-dd"
    assert [row[1][0] for row in cells[3:]] == ["a", None, None, "b", "c", "d", "e"]
    assert [row[2][0] for row in cells[3:]][-2:] == [12345678901.2345, "123456789012345.6789"]
    assert all(row[6][0] is None for row in cells)


def test_only_a_column_of_one_type_skips_the_per_cell_dispatch(tmp_path):
    workbook = new_workbook(str(tmp_path / "w.xlsx"))
    sheet = workbook.add_worksheet()
    assert cell_writer(sheet, COLUMNS[0]) == sheet._write_string
    assert cell_writer(sheet, COLUMNS[1]) == sheet.write  # an empty string among the text
    assert cell_writer(sheet, COLUMNS[2]) == sheet.write  # numbers and text
    assert cell_writer(sheet, COLUMNS[3]) == sheet._write_number
    assert cell_writer(sheet, COLUMNS[4]) == cell_writer(sheet, COLUMNS[5]) == sheet._write_datetime
    assert cell_writer(sheet, COLUMNS[6]) is None
    assert cell_writer(sheet, [True, False]) == sheet.write  # a bool is no number here
    workbook.close()


@pytest.mark.parametrize("type_name", ["decimal", "money", "quantity"])
def test_a_decimal_read_as_sqlite_holds_it_gives_the_cell_of_the_decimal(type_name):
    ftype = FIELD_TYPES[type_name]
    spec = FieldSpec(name="v", type=type_name, label={"zh": "数", "en": "Number"})
    table = Table("numbers", MetaData(), Column("id", Integer, primary_key=True), Column("v", ftype.column_type(spec)))
    stored = ["0", "-0.0012", "19.99", "12345678901.2345", "-99999999999.9999", "10000000000000", "1234567.8"]
    stored += ["12345678901234.5678", "-12345678901234.5678", "0.1", None]  # past a double's 15 digits: text
    places = Decimal(1).scaleb(-ftype.scale(spec))
    values = [None if text is None else Decimal(text).quantize(places) for text in stored]
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(insert(table), [{"id": n, "v": value} for n, value in enumerate(values)])
        read, cell = ftype.excel_read(spec, table.c.v, "sqlite")
        assert read is not table.c.v and cell is not None  # the scaled integers, no Decimal made of them
        cells = [cell(value) for value in conn.scalars(select(read).order_by(table.c.id))]
        exact = ftype.excel_cell(spec)
        expected = [exact(value) for value in conn.scalars(select(table.c.v).order_by(table.c.id))]
    assert [(value, type(value)) for value in cells] == [(value, type(value)) for value in expected]
    assert cells[5] == 10000000000000.0 and cells[-1] is None
    assert isinstance(cells[7], str) and cells[7].startswith("12345678901234.5") and cells[8].startswith("-1")
    assert ftype.excel_read(spec, table.c.v, "postgresql")[0] is table.c.v  # PostgreSQL holds the decimal


def test_text_that_xlsxwriter_would_copy_into_the_sheet_as_rich_text_xml_stays_text(tmp_path):
    injected = '<r>x</r></is></c><c r="B4"><f>HYPERLINK("http://evil","y")</f></c><c r="C4" t="inlineStr"><is><r>z</r>'
    odd = "<r> a & b <i>\x01 </r>"
    columns = [[injected, "<r>", None, odd], [1.5, injected, "<r></r>", None]]  # text alone; text among numbers
    path = tmp_path / "rich.xlsx"
    workbook = new_workbook(str(path))
    sheet = workbook.add_worksheet()
    write_chunk(sheet, 3, columns)
    workbook.close()
    rows = list(load_workbook(path).active.iter_rows(min_row=4))
    assert [[cell.value for cell in row] for row in rows] == [
        [injected, 1.5],
        ["<r>", injected],
        [None, "<r></r>"],
        [odd.replace("\x01", "_x0001_"), None],  # openpyxl leaves a control character escaped, as it does in any text
    ]
    assert {cell.data_type for row in rows for cell in row if cell.value is not None} == {"s", "n"}
