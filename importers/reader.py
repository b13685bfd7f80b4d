"""Read an uploaded spreadsheet into a plain table, refusing hostile files before the full parse.

`read_table(data, filename)` returns a `Table` (header row found, data rows with their sheet row numbers)
or raises `FileRefused` with a message ready to show. The real type is taken from the bytes, never from
the extension: a zip holding a workbook is xlsx, an OLE2 compound file is xls (or an encrypted workbook),
text is csv (UTF-8, UTF-8 with BOM, then GB18030, which covers GBK as Excel and WPS save it on Chinese
Windows). Before any parser sees an xlsx its zip directory is checked (size, compression ratio, no DTD or
entity declarations in any XML part, the sheet's declared dimension against the row and column limits).

Values come out as Python values (str, int, float, bool, date, datetime); a formula cell gives its cached
value. Reusable by every importer (master data, opening balances, stocktake counts).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import xlrd
from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

from app.i18n import LOCALES, t

if TYPE_CHECKING:
    from collections.abc import Collection

MAX_FILE_BYTES = 50 * 1024 * 1024  # what an upload may weigh
MAX_UNPACKED_BYTES = 600 * 1024 * 1024  # what an xlsx may expand to
MAX_RATIO = 150  # uncompressed / compressed, per zip member (a real sheet packs 5-20 times)
MAX_ROWS = 1_000_000
MAX_COLUMNS = 200
HEADER_SCAN = 10  # rows looked at to find the header row
XML_PROLOG = 4096  # bytes of each XML part searched for a DTD

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXECUTABLES = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")

# the notes sheet an import template carries beside its rows (importers/template.py), in either language
_NOTES_SHEETS = frozenset(t("imports.notes_sheet", locale)[:31] for locale in LOCALES)


class FileRefused(Exception):
    """A file that cannot be imported; the message says why, in the reader's language."""


@dataclass
class Table:
    """A sheet as rows of values: `rows[i]` came from sheet row `row_numbers[i]` (1-based)."""

    kind: str  # xlsx, xls, csv
    sheet: str
    rows: list[list[Any]]
    row_numbers: list[int]
    notes: list[str] = field(default_factory=list)  # what the reader did that the user should know
    source: bytes = b""  # an xlsx's or xls's bytes, for its cells' formats (percent_rows); a csv keeps none
    _percent_rows: dict[int, set[int]] = field(default_factory=dict, repr=False)  # percent_rows' answers so far

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def percent_rows(self, columns: Collection[int]) -> dict[int, set[int]]:
        """{column: the sheet rows whose cell in it Excel formats as a percent}, for `columns` (0-based): such a cell
        holds the share, 13% is the cell 0.13. Read only when asked, and from the sheet only when the workbook has a
        percent style at all; an xls's from its XF records as an xlsx's from its styles; a csv has no formats
        (docs/imports.md "Percents")."""
        known = self._percent_rows
        found: dict[int, set[int]] = {col: set() for col in columns if col not in known}
        if found and self.source:
            (_xls_percent_cells if self.kind == "xls" else _percent_cells)(self.source, self.sheet, found)
        known.update(found)
        return {col: set(known[col]) for col in columns}


_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^]]*\]')  # a format's literal text, escaped signs and [colour] / [>=100]
_BUILTIN_PERCENTS = {"9": "0%", "10": "0.00%"}  # Excel's built-in number formats that are percents
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')  # a cell's place: G12
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATION = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def is_percent_format(number_format: str | None) -> bool:
    """Whether an Excel number format shows its number times 100 with a % (0%, 0.00%, #,##0.0%;[Red]-0.0%); a % in
    quotes or escaped is only text."""
    return bool(number_format) and "%" in _QUOTED.sub("", number_format or "")


def _percent_cells(data: bytes, sheet: str, found: dict[int, set[int]]) -> None:
    """Fill `found` {column: rows} with the cells of `sheet` whose style is a percent format: the styles' cell formats
    (cellXfs) read first, the sheet's cell tags scanned only when one is a percent (a scan of the bytes, not a parse:
    0.4 s for 20,000 rows of 10 columns, 30,000 cells of them percents, where openpyxl's cells took 14 s); a cell
    without a style is never one. The zip was checked before (no DTD, sizes)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        if "xl/styles.xml" not in names:
            return
        styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
        formats = dict(_BUILTIN_PERCENTS)
        formats.update({f.get("numFmtId", ""): f.get("formatCode", "") for f in styles.iter(f"{_MAIN}numFmt")})
        cell_formats = styles.find(f"{_MAIN}cellXfs")
        xfs = [] if cell_formats is None else cell_formats.findall(f"{_MAIN}xf")
        percent = {
            str(i).encode() for i, xf in enumerate(xfs) if is_percent_format(formats.get(xf.get("numFmtId", "")))
        }
        path = _sheet_path(archive, sheet) if percent else None
        if path is None or path not in names:
            return
        xml = archive.read(path)
    styled = re.compile(rb'<(?:\w+:)?c\s[^>]*?\bs="(?:' + b"|".join(percent) + rb')"[^>]*>')  # a percent cell's tag
    for tag in styled.finditer(xml):
        where = _CELL_REF.search(tag.group())
        col = _column_number(where.group(1)) - 1 if where else -1
        if col in found and where:
            found[col].add(int(where.group(2)))


def _xls_percent_cells(data: bytes, sheet: str, found: dict[int, set[int]]) -> None:
    """`_percent_cells` for an Excel 97-2003 workbook (BIFF8): a cell's XF record names its number format (Excel's
    built-in 9 and 10 are 0% and 0.00%), read by xlrd with `formatting_info`; the sheet's cells are looked at only
    when an XF is a percent. A workbook xlrd cannot read (BIFF5, encrypted) says nothing of its formats."""
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except Exception:  # noqa: BLE001 - calamine read the values; without formats every cell is unformatted
        return
    try:
        formats = book.format_map
        percent = {
            i
            for i, xf in enumerate(book.xf_list)
            if is_percent_format(getattr(formats.get(xf.format_key), "format_str", ""))
        }
        if not percent or sheet not in book.sheet_names():
            return
        cells = book.sheet_by_name(sheet)
        for col in found:
            if col < cells.ncols:
                found[col].update(row + 1 for row in range(cells.nrows) if cells.cell_xf_index(row, col) in percent)
    finally:
        book.release_resources()


def _sheet_path(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member of the sheet named `sheet` (xl/worksheets/sheet1.xml), from the workbook and its relations."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    wanted = next((s.get(_RELATION) for s in book.iter(f"{_MAIN}sheet") if s.get("name") == sheet), None)
    relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target", "") for r in relations if r.get("Id") == wanted), None)
    if not target:
        return None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def sniff(data: bytes) -> str:
    """The file's real kind from its first bytes: xlsx, ole (xls or encrypted), csv; FileRefused otherwise."""
    if not data or not data.strip():
        raise FileRefused(t("imports.empty_file"))
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(_OLE_MAGIC):
        return "ole"
    if data.startswith(_EXECUTABLES) or data.startswith(b"%PDF") or b"\x00" in data[:4096]:
        raise FileRefused(t("imports.not_spreadsheet"))
    return "csv"


def read_table(data: bytes, filename: str = "", sheet: str | None = None) -> Table:
    """Check `data` and read its first visible sheet (or `sheet`) as a Table."""
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(t("imports.too_big", mb=MAX_FILE_BYTES // (1024 * 1024)))
    kind = sniff(data)
    if kind == "csv":
        return _read_csv(data)
    if kind == "xlsx":
        _check_zip(data)
    elif _is_encrypted_ole(data):
        raise FileRefused(t("imports.encrypted"))
    return _read_workbook(data, "xlsx" if kind == "xlsx" else "xls", sheet)


# -- xlsx: the zip checked before parsing ------------------------------------------------------------


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRefused(t("imports.not_spreadsheet")) from exc
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook.") for n in names):
        raise FileRefused(t("imports.not_spreadsheet"))
    total = 0
    for member in members:
        total += member.file_size
        if member.flag_bits & 0x1:
            raise FileRefused(t("imports.encrypted"))
        if member.file_size > 1_000_000 and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise FileRefused(t("imports.bomb"))
    if total > MAX_UNPACKED_BYTES:
        raise FileRefused(t("imports.bomb"))
    for member in members:
        if member.filename.endswith((".xml", ".rels", ".vml")):
            with archive.open(member) as handle:
                head = handle.read(XML_PROLOG)
            if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                raise FileRefused(t("imports.xml_entities"))
            if member.filename.startswith("xl/worksheets/"):
                _check_dimension(head)


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


def _check_dimension(head: bytes) -> None:
    match = _DIMENSION.search(head)
    if not match:
        return
    last_col, last_row = (match.group(3), match.group(4)) if match.group(3) else (match.group(1), match.group(2))
    _check_size(int(last_row), _column_number(last_col))


def _check_size(rows: int, columns: int) -> None:
    if rows > MAX_ROWS + 1:
        raise FileRefused(t("imports.too_many_rows", max=MAX_ROWS))
    if columns > MAX_COLUMNS:
        raise FileRefused(t("imports.too_many_columns", max=MAX_COLUMNS))


def _is_encrypted_ole(data: bytes) -> bool:
    """An OOXML workbook saved with a password is an OLE2 file holding EncryptionInfo (names in UTF-16)."""
    return "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data


def _read_workbook(data: bytes, kind: str, wanted: str | None) -> Table:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        visible = [
            m.name
            for m in workbook.sheets_metadata
            if m.visible == SheetVisibleEnum.Visible and m.name  # hidden sheets hold lookups, not rows
        ]
        if wanted is not None and wanted not in workbook.sheet_names:
            raise FileRefused(t("imports.no_such_sheet", sheet=wanted))
        name = wanted or (visible[0] if visible else None)
        if name is None:
            raise FileRefused(t("imports.empty_file"))
        sheet = workbook.get_sheet_by_name(name)
        _check_size(sheet.total_height, sheet.total_width)
        rows = sheet.to_python(skip_empty_area=False)
    except CalamineError as exc:
        message = str(exc).lower()
        if "password" in message or "encrypt" in message:
            raise FileRefused(t("imports.encrypted")) from exc
        raise FileRefused(t("imports.unreadable", reason=str(exc)[:200])) from exc
    except FileRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is the file's fault, said plainly
        raise FileRefused(t("imports.unreadable", reason=str(exc)[:200])) from exc
    notes = []
    others = [sheet for sheet in visible if sheet != name and sheet not in _NOTES_SHEETS]
    if others and wanted is None:  # an import template's notes (填写说明) are not another sheet of rows
        notes.append(t("imports.first_sheet", sheet=name, count=len(others) + 1))
    table = _table(kind, name, rows, notes)
    table.source = data  # its cells' formats, read when a column asks (percent_rows)
    return table


# -- csv ---------------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (GBK's superset); FileRefused if neither fits."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(t("imports.bad_encoding"))


def _read_csv(data: bytes) -> Table:
    text = decode_text(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    rows: list[list[Any]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) > MAX_ROWS + 1:
                raise FileRefused(t("imports.too_many_rows", max=MAX_ROWS))
            if len(row) > MAX_COLUMNS:
                raise FileRefused(t("imports.too_many_columns", max=MAX_COLUMNS))
    except csv.Error as exc:
        raise FileRefused(t("imports.unreadable", reason=str(exc)[:200])) from exc
    return _table("csv", "csv", rows, [])


def _table(kind: str, sheet: str, rows: list[list[Any]], notes: list[str]) -> Table:
    """The rows that hold a value, and their numbers in the sheet. Most rows hold one in their first cell: that is
    looked at first, without a call per cell (0.15 s of CPU at 100,000 rows); the readers' rows are lists already,
    kept as they are."""
    kept, numbers = [], []
    for number, row in enumerate(rows, start=1):
        first = row[0] if row else None
        if (first is not None and (first.__class__ is not str or first.strip())) or _any_value(row):
            kept.append(row if row.__class__ is list else list(row))
            numbers.append(number)
    if not kept:
        raise FileRefused(t("imports.empty_file"))
    return Table(kind, sheet, kept, numbers, notes)


def _any_value(row: list[Any]) -> bool:
    """Whether a cell of the row holds a value (not empty, not blank text)."""
    return any(not (v is None or (isinstance(v, str) and not v.strip())) for v in row)
