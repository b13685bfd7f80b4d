"""Export exactly the grid's current view (filters, sort, visible columns in their order) to xlsx or csv.

Rows are read in chunks through the same view query as the grid and written by xlsxwriter in
constant-memory mode to a temporary file that the response streams. Each field type makes its own
cells' values (`FieldType.excel_cell`); user text is always a string cell, so `=cmd|...`, `+1`, `-2`, `@x`
never become formulas, nor does text that xlsxwriter would copy into the sheet as rich-text XML (`plain_text`).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any
from xml.sax.saxutils import escape

import xlsxwriter
from sqlalchemy.orm import Session
from xlsxwriter.worksheet import Worksheet

from app.i18n import label, t
from app.meta.headers import headed_labels, importable_fields
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES
from app.services.access.rights import Access
from app.services.grid.rows import View
from app.services.records.query import BadQuery, field_label
from app.services.records.serialize import links_labels, rows_to_json

CHUNK = 2000
MAX_EXPORT_ROWS = 1_048_575  # one xlsx sheet, below the header
CSV_ENCODINGS = {"utf-8": "utf-8-sig", "gbk": "gb18030"}  # Excel on Chinese Windows opens both as they are
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ROW_WORDS = {"count", "index", "t", "tuple"}  # what a SQLAlchemy Row answers itself instead of its column


def export_columns(access: Access, model: ModelSpec, requested: str) -> list[FieldSpec]:
    """The requested visible columns in the requested order (all visible columns if none named)."""
    visible = {s.name: s for s in access.visible_fields(model) if s.type != "lines"}
    if not requested.strip():
        return [s for s in visible.values() if s.in_grid]
    names = [n.strip() for n in requested.split(",") if n.strip()]
    unknown = [n for n in names if n not in visible]
    if unknown:
        raise BadQuery(t("bad_export_column", field=field_label(model, unknown[0])))
    return [visible[n] for n in names]


def new_workbook(path: str) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook in constant-memory mode where a str is always a string cell: never a formula
    (`=cmd|...`, `+1`, `-2`, `@x` as a user typed them), a number or a link."""
    return xlsxwriter.Workbook(
        path,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )


def export_headers(access: Access, model: ModelSpec, columns: list[FieldSpec]) -> dict[str, str]:
    """{field: its column's header}: its label, with its key where a field an import of the file reads (the
    matcher's: those the reader may fill and those masked from them) has that label too (fields stored before a
    repeated label was refused), so that the file edited is imported back as it is."""
    peers = [
        *importable_fields(model, access.visible_fields(model)),
        *importable_fields(model, access.masked_fields(model)),
    ]
    return headed_labels(columns, percent=False, among=peers)


def write_xlsx(session: Session, access: Access, model: ModelSpec, view: View, columns: list[FieldSpec]) -> str:
    """Write the view to a temporary xlsx file and return its path (the caller streams and removes it).

    Each column's type makes its cells from the stored values (`FieldType.excel_cell`, once per column), a
    link's as the text of each {id, key, name} the reader may see (`links_labels`, one query per chunk and
    linked model; each label made into its text once per chunk, not once per cell); a column's format is the
    column's, which xlsxwriter gives every cell of the column written without one. A chunk's cells are
    written column type by column type (`cell_writer`), a column with no cell in the chunk not at all."""
    access.require(model.key, "export")
    fd, path = tempfile.mkstemp(prefix="jxc-export-", suffix=".xlsx")
    os.close(fd)
    workbook = new_workbook(path)
    sheet = workbook.add_worksheet(label(model.label, model.key)[:31])
    bold = workbook.add_format({"bold": True, "bg_color": "#F2F2F2"})
    converted = []  # (column, its cell function) where the value read is not the cell as it is
    links = []  # (column, field name, its cell function) of links: their labels come per chunk
    table = access.registry.cls(model.key).__table__
    dialect = session.get_bind().dialect.name
    reads = []  # what is read of each column (`FieldType.excel_read`)
    headers = export_headers(access, model, columns)
    for col, spec in enumerate(columns):
        ftype = FIELD_TYPES[spec.type]
        properties = ftype.excel_format(spec)
        width = max(8, min((spec.grid_width or 100) / 7, 60))
        sheet.set_column(col, col, width, workbook.add_format(properties) if properties else None)
        sheet.write_string(0, col, plain_text(headers[spec.name]), bold)
        read, cell = ftype.excel_read(spec, table.c[spec.column], dialect)
        reads.append(read)
        if spec.is_link:
            links.append((col, spec.name, cell or (lambda value: value)))
        elif cell is not None:
            converted.append((col, cell))
    sheet.freeze_panes(1, 0)
    row_no = 0
    for rows in view_chunks(session, access, model, view, reads or [table.c.id]):
        rows = rows[: MAX_EXPORT_ROWS - row_no]
        if not rows:
            break
        labels = links_labels(session, access, [(columns, rows)])[0]  # links are read by name: `<field>_id`
        # the chunk column by column: each column's cells made by one map, then written row by row
        cells = [list(values) for values in zip(*rows, strict=True)] if columns else []
        for col, name, cell in links:
            texts = {key: cell(found) for key, found in labels[name].items()}
            cells[col] = list(map(texts.get, cells[col]))  # an empty link, or one the reader may not see: empty
        for col, cell in converted:
            cells[col] = list(map(cell, cells[col]))
        write_chunk(sheet, row_no + 1, cells)
        row_no += len(rows)
    sheet.autofilter(0, 0, max(row_no, 1), max(len(columns) - 1, 0))
    workbook.close()
    return path


# xlsxwriter's writer of one type of cell (the undecorated method its `write` dispatches each cell to)
TYPED_WRITERS = {
    str: "_write_string",
    float: "_write_number",
    int: "_write_number",
    dt.datetime: "_write_datetime",
    dt.date: "_write_datetime",
}


def cell_writer(sheet: Worksheet, cells: list[Any]) -> Callable[..., Any] | None:
    """How to write a column of cells: not at all when every cell is empty; when the cells other than the
    empty ones are all of one type, by xlsxwriter's writer of that type (what `write` would choose for each;
    not for text with an empty string, which `write` leaves out as it does an empty cell); else by `write`."""
    kinds = set(map(type, cells))
    kinds.discard(type(None))
    if not kinds:
        return None
    kind = kinds.pop()
    if kinds or kind not in TYPED_WRITERS or (kind is str and "" in cells):
        return sheet.write
    return getattr(sheet, TYPED_WRITERS[kind])


def write_chunk(sheet: Worksheet, first_row: int, table: list[list[Any]]) -> None:
    """Write a chunk of rows given column by column, its first row at `first_row`; empty cells are left out."""
    written = []
    for col, cells in enumerate(table):
        write = cell_writer(sheet, cells)
        if write == sheet.write or write == getattr(sheet, TYPED_WRITERS[str]):
            cells = text_kept_as_text(cells, mixed=write == sheet.write)
        if write is not None:
            written.append((col, write, cells))
    positions = [col for col, _, _ in written]
    methods = [write for _, write, _ in written]
    for row_no, values in enumerate(zip(*(cells for _, _, cells in written), strict=True), first_row):
        for col, write, value in zip(positions, methods, values, strict=True):
            if value is not None:
                write(row_no, col, value)


def plain_text(text: str) -> str:
    """Text as xlsxwriter must be given it to write it as text: it copies a string that starts with <r> and
    ends with </r> into the sheet as it is, as rich-text XML (so a user's `<r>x</r></is></c><c><f>…` would
    close its cell and add a formula): such text becomes one run of rich text with the text escaped in it,
    which reads back as the very text."""
    if text.startswith("<r>") and text.endswith("</r>"):
        return f'<r><t xml:space="preserve">{escape(text)}</t></r>'
    return text


def text_kept_as_text(cells: list[Any], mixed: bool) -> list[Any]:
    """A column's cells with each text `plain_text` (looked at one by one only when "<r>" is in one of them);
    `mixed`: text among cells of other types (else text and empty cells only)."""
    texts = (value for value in cells if value.__class__ is str) if mixed else filter(None, cells)
    if "<r>" not in "\n".join(texts):
        return cells
    return [plain_text(value) if value.__class__ is str else value for value in cells]


def view_chunks(
    session: Session, access: Access, model: ModelSpec, view: View, columns: list[Any] | None = None
) -> Iterator[list[Any]]:
    """The view's rows in chunks of CHUNK as plain rows, not ORM objects (nothing of an export is written
    back, and an object costs more to load than its row to write): of exactly these columns of the model's
    table (or expressions of them, each labelled with its column's name) in this order, or of every column
    of the table, read by name (then through the ORM object when a column is named like a method of a row)."""
    stmt = view.ordered(session, access, model).execution_options(yield_per=CHUNK)
    table = access.registry.cls(model.key).__table__
    plain = columns is not None or not ROW_WORDS & set(table.c.keys())
    if plain:
        stmt = stmt.with_only_columns(*(table.c if columns is None else columns), maintain_column_froms=True)
    result = session.execute(stmt)
    for partition in (result if plain else result.scalars()).partitions(CHUNK):
        yield list(partition)


def view_rows(session: Session, access: Access, model: ModelSpec, view: View, names: list[str]) -> Iterator[Any]:
    """The view's rows as masked JSON, read in chunks."""
    for rows in view_chunks(session, access, model, view):
        yield from rows_to_json(session, access, model, rows, columns=names)


def csv_text(spec: FieldSpec, value: Any) -> str:
    """A JSON value as a csv cell; text that a spreadsheet would run as a formula gets a leading quote."""
    text = FIELD_TYPES[spec.type].cell_text(spec, value)
    return text if FIELD_TYPES[spec.type].numeric else never_formula(text)


def never_formula(text: str) -> str:
    """Text for a csv cell: with a leading quote when a spreadsheet would run it as a formula (=, +, -, @...),
    so it is shown as typed (a number's minus sign is not text: numeric cells do not come here)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(
    session: Session, access: Access, model: ModelSpec, view: View, columns: list[FieldSpec], encoding: str = "utf-8"
) -> str:
    """Write the view to a temporary csv file (UTF-8 with a BOM, or GBK / GB18030) and return its path."""
    access.require(model.key, "export")
    if encoding not in CSV_ENCODINGS:
        raise BadQuery(t("bad_encoding_choice"))
    fd, path = tempfile.mkstemp(prefix="jxc-export-", suffix=".csv")
    names = [s.name for s in columns]
    with os.fdopen(fd, "w", encoding=CSV_ENCODINGS[encoding], errors="replace", newline="") as out:
        writer = csv.writer(out)
        headers = export_headers(access, model, columns)
        writer.writerow([headers[spec.name] for spec in columns])
        for data in view_rows(session, access, model, view, names):
            writer.writerow([csv_text(spec, data.get(spec.name)) for spec in columns])
    return path


def count_rows(session: Session, access: Access, model: ModelSpec, view: View) -> int:
    """How many rows the view has."""
    from sqlalchemy import func, select

    return int(
        session.execute(select(func.count()).select_from(view.select(session, access, model).subquery())).scalar_one()
    )
