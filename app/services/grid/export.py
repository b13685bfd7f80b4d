"""Export exactly the grid's current view (filters, sort, visible columns in their order) to xlsx.

Rows are read in chunks through the same view query as the grid and written by xlsxwriter in
constant-memory mode to a temporary file that the response streams. Each field type writes its own
cells (`FieldType.write_excel`); user text is always a string cell, so `=cmd|...`, `+1`, `-2`, `@x`
never become formulas.
"""

from __future__ import annotations

import os
import tempfile

import xlsxwriter
from sqlalchemy.orm import Session

from app.i18n import label, t
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES
from app.services.access.rights import Access
from app.services.grid.rows import View
from app.services.records.query import BadQuery, field_label
from app.services.records.serialize import rows_to_json

CHUNK = 2000
MAX_EXPORT_ROWS = 1_048_575  # one xlsx sheet, below the header


def export_columns(access: Access, model: ModelSpec, requested: str) -> list[FieldSpec]:
    """The requested visible columns in the requested order (all visible columns if none named)."""
    visible = {s.name: s for s in access.visible_fields(model) if s.type != "lines"}
    if not requested.strip():
        return [s for s in visible.values() if not s.system or s.name in ("created_at", "updated_at")]
    names = [n.strip() for n in requested.split(",") if n.strip()]
    unknown = [n for n in names if n not in visible]
    if unknown:
        raise BadQuery(t("bad_filter_field", field=field_label(model, unknown[0])))
    return [visible[n] for n in names]


def write_xlsx(session: Session, access: Access, model: ModelSpec, view: View, columns: list[FieldSpec]) -> str:
    """Write the view to a temporary xlsx file and return its path (the caller streams and removes it)."""
    access.require(model.key, "export")
    fd, path = tempfile.mkstemp(prefix="jxc-export-", suffix=".xlsx")
    os.close(fd)
    workbook = xlsxwriter.Workbook(
        path,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    sheet = workbook.add_worksheet(label(model.label, model.key)[:31])
    bold = workbook.add_format({"bold": True, "bg_color": "#F2F2F2"})
    types = [FIELD_TYPES[spec.type] for spec in columns]
    formats = []
    for col, (spec, ftype) in enumerate(zip(columns, types, strict=True)):
        sheet.write_string(0, col, label(spec.label, spec.name), bold)
        sheet.set_column(col, col, max(8, min((spec.grid_width or 100) / 7, 60)))
        properties = ftype.excel_format(spec)
        formats.append(workbook.add_format(properties) if properties else None)
    sheet.freeze_panes(1, 0)
    names = [s.name for s in columns]
    row_no = 0
    stmt = view.ordered(session, access, model).execution_options(yield_per=CHUNK)
    for partition in session.execute(stmt).scalars().partitions(CHUNK):
        for data in rows_to_json(session, access, model, list(partition), columns=names):
            row_no += 1
            if row_no > MAX_EXPORT_ROWS:
                break
            for col, (spec, ftype) in enumerate(zip(columns, types, strict=True)):
                ftype.write_excel(sheet, row_no, col, spec, data.get(spec.name), formats[col])
        session.expunge_all()
    sheet.autofilter(0, 0, max(row_no, 1), max(len(columns) - 1, 0))
    workbook.close()
    return path
