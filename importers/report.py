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


def errors_workbook(table: Table, header_index: int, outcome: Outcome) -> bytes:
    """xlsx bytes: header, then the rows (all, or only bad ones when applied), bad cells marked."""
    by_row: dict[int, list[Any]] = {}
    for issue in outcome.issues:
        by_row.setdefault(issue.row, []).append(issue)
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = t("imports.errors_sheet")[:31]
    header = ["" if v is None else v for v in table.rows[header_index]] if table.rows else []
    width = max(len(header), table.width)
    sheet.append([*header, *[""] * (width - len(header)), t("imports.errors_column")])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for problem in outcome.problems:
        sheet.append([*[""] * width, problem])
    for number, row in zip(table.row_numbers[header_index + 1 :], table.rows[header_index + 1 :], strict=True):
        issues = by_row.get(number, [])
        if outcome.applied and not issues:
            continue
        values = list(row) + [""] * (width - len(row))
        sheet.append([*values, "; ".join(f"{i.column}: {i.message}" for i in issues)])
        at = sheet.max_row
        for cell in sheet[at]:
            if cell.data_type == "f":  # text as the file had it, never a live formula
                cell.data_type = "s"
        for issue in issues:
            if issue.col_index is None:
                continue
            cell = sheet.cell(row=at, column=issue.col_index + 1)
            cell.fill = BAD
            cell.font = BAD_FONT
            note = f"{cell.comment.text}\n{issue.message}" if cell.comment else issue.message
            cell.comment = Comment(note, "JXC")
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
