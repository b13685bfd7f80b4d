"""Export exactly the grid's current view (filters, sort, visible columns in their order) to xlsx.

Rows are read in chunks through the same view query as the grid and written by xlsxwriter in
constant-memory mode to a temporary file that the response streams. User text is always written as
a string cell, so `=cmd|...`, `+1`, `-2`, `@x` never become formulas.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter
from sqlalchemy.orm import Session

from app.clock import BUSINESS_TIMEZONE
from app.i18n import label, t
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES
from app.services.access.rights import Access
from app.services.grid.rows import View
from app.services.records.query import BadQuery
from app.services.records.serialize import rows_to_json

CHUNK = 2000
MAX_EXPORT_ROWS = 1_048_575  # one xlsx sheet, below the header
EXACT_DIGITS = 15  # a double keeps 15 significant digits; longer numbers are written as text


def export_columns(access: Access, model: ModelSpec, requested: str) -> list[FieldSpec]:
    """The requested visible columns in the requested order (all visible columns if none named)."""
    visible = {s.name: s for s in access.visible_fields(model) if s.type != "lines"}
    if not requested.strip():
        return [s for s in visible.values() if not s.system or s.name in ("created_at", "updated_at")]
    names = [n.strip() for n in requested.split(",") if n.strip()]
    unknown = [n for n in names if n not in visible]
    if unknown:
        raise BadQuery(t("bad_filter_field", field=unknown[0]))
    return [visible[n] for n in names]


def cell_text(spec: FieldSpec, value: Any) -> str:
    """How a value reads in the grid (links as "key name", select labels, 是/否)."""
    if value is None:
        return ""
    if spec.is_link:
        key, name = value.get("key"), value.get("name")
        return f"{key} {name}".strip() if name and name != key else str(key)
    if spec.type in ("select", "boolean"):
        return FIELD_TYPES[spec.type].to_text(spec, value)
    return str(value)


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
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    time_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    number_formats = {}
    for col, spec in enumerate(columns):
        sheet.write_string(0, col, label(spec.label, spec.name), bold)
        sheet.set_column(col, col, max(8, min((spec.grid_width or 100) / 7, 60)))
        if spec.type in ("decimal", "money", "quantity"):
            scale = FIELD_TYPES[spec.type].scale(spec)  # type: ignore[attr-defined]
            number_formats[spec.name] = workbook.add_format(
                {"num_format": "#,##0." + "0" * scale if scale else "#,##0"}
            )
    sheet.freeze_panes(1, 0)
    names = [s.name for s in columns]
    row_no = 0
    stmt = view.ordered(session, access, model).execution_options(yield_per=CHUNK)
    for partition in session.execute(stmt).scalars().partitions(CHUNK):
        for data in rows_to_json(session, access, model, list(partition), columns=names):
            row_no += 1
            if row_no > MAX_EXPORT_ROWS:
                break
            for col, spec in enumerate(columns):
                _write(sheet, row_no, col, spec, data.get(spec.name), number_formats, date_format, time_format)
        session.expunge_all()
    sheet.autofilter(0, 0, max(row_no, 1), max(len(columns) - 1, 0))
    workbook.close()
    return path


def _write(
    sheet: Any,
    row: int,
    col: int,
    spec: FieldSpec,
    value: Any,
    number_formats: dict[str, Any],
    date_format: Any,
    time_format: Any,
) -> None:
    if value is None:
        return
    if spec.type == "integer":
        sheet.write_number(row, col, int(value))
    elif spec.name in number_formats:
        number = Decimal(value)
        if len(number.as_tuple().digits) <= EXACT_DIGITS:
            sheet.write_number(row, col, float(number), number_formats[spec.name])
        else:  # beyond a double's precision: keep every digit as text
            sheet.write_string(row, col, str(value))
    elif spec.type == "date":
        sheet.write_datetime(row, col, dt.date.fromisoformat(value), date_format)
    elif spec.type == "datetime":
        stored = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)  # UTC, shown in the business's time
        sheet.write_datetime(row, col, stored.astimezone(ZoneInfo(BUSINESS_TIMEZONE)).replace(tzinfo=None), time_format)
    else:
        sheet.write_string(row, col, cell_text(spec, value))
