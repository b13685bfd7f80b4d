"""The annotated workbook of an import's errors: the file's rows as read, every bad cell red with the
reason in its comment, and a last column listing each row's problems (the fallback to fixing cells on
the import page). When the import was applied (valid rows only), just the rows left out are in it."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from app.i18n import t

if TYPE_CHECKING:
    from importers.pipeline import Outcome
    from importers.reader import Table

BAD = PatternFill("solid", fgColor="FFC7CE")
BAD_FONT = Font(color="9C0006")
PERCENT = "0.00%"  # a cell the file formats as a percent stays one (0.13 shown 13.00%): the fixed file reads the same


def errors_workbook(table: Table, header_index: int, outcome: Outcome) -> bytes:
    """xlsx bytes: header, then the rows (all, or only bad ones when applied), bad cells marked. When every
    row is in it, each stays on its row of the file (a title above the header included), so the red cell of
    "第 19 行" is on row 19; the file's own problems then follow the rows."""
    by_row: dict[int, list[Any]] = {}
    for issue in outcome.issues:
        by_row.setdefault(issue.row, []).append(issue)
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = t("imports.errors_sheet")[:31]
    in_place = not outcome.applied and bool(table.rows)
    header = ["" if v is None else v for v in table.rows[header_index]] if table.rows else []
    width = max(len(header), table.width)
    percents = table.percent_rows(range(width))

    def put(at: int, values: list[Any]) -> None:
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=at, column=col, value=value)
            if cell.data_type == "f":  # text as the file had it, never a live formula
                cell.data_type = "s"

    if in_place:
        for number, row in zip(table.row_numbers[:header_index], table.rows[:header_index], strict=True):
            put(number, list(row))  # the title rows above the header, as they were
    header_at = table.row_numbers[header_index] if in_place else 1
    put(header_at, [*header, *[""] * (width - len(header)), t("imports.errors_column")])
    for cell in sheet[header_at]:
        cell.font = Font(bold=True)
    if not in_place:
        for problem in outcome.problems:
            sheet.append([*[""] * width, problem])
    for number, row in zip(table.row_numbers[header_index + 1 :], table.rows[header_index + 1 :], strict=True):
        issues = by_row.get(number, [])
        if outcome.applied and not issues:
            continue
        at = number if in_place else sheet.max_row + 1
        values = list(row) + [""] * (width - len(row))
        put(at, [*values, "; ".join(f"{i.column}: {i.message}" for i in issues)])
        for col in (col for col, rows in percents.items() if number in rows):
            sheet.cell(row=at, column=col + 1).number_format = PERCENT
        for issue in issues:
            if issue.col_index is None:
                continue
            cell = sheet.cell(row=at, column=issue.col_index + 1)
            cell.fill = BAD
            cell.font = BAD_FONT
            note = f"{cell.comment.text}\n{issue.message}" if cell.comment else issue.message
            cell.comment = Comment(note, "JXC")
    if in_place:
        for problem in outcome.problems:
            sheet.append([*[""] * width, problem])
    sheet.freeze_panes = f"A{header_at + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
