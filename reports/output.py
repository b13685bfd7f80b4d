"""A report's answer as a file: xlsx (title, period, 制表人, the grid, totals and a native Excel chart) or csv.

Text goes in as text cells (a value starting with "=" stays text, never a formula, nor does text xlsxwriter would
copy in as rich-text XML: `plain_text`); in csv, text a spreadsheet would run as a formula gets a leading quote;
numbers as numbers with the column's decimals; large answers are written in xlsxwriter's constant-memory mode.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import IO, Any

import xlsxwriter

from app.clock import business_today
from app.i18n import label, t
from app.services.grid.export import never_formula, plain_text
from reports.params import BLANK, param_text
from reports.runner import NUMERIC, Result

CONSTANT_MEMORY_ROWS = 5000
CHART_TYPES = {
    "line": ("line", None),
    "bar": ("column", None),
    "stacked_bar": ("column", "stacked"),
    "pie": ("pie", None),
}
MAX_CHART_POINTS = 50


def title(result: Result) -> str:
    """The report's name in the reader's language."""
    return label(result.report.label, result.report.key)


def heading_lines(result: Result, author: str) -> list[str]:
    """Title, period (or date), the grouping chosen (汇总方式：按客户) and who made the table, when."""
    period = result.period
    lines = [title(result)]
    if period is not None:
        lines.append(t("report.period_line", start=period.start.isoformat(), end=period.end.isoformat()))
    grouping = result.grouping()
    if grouping is not None:
        lines.append(t("report.grouping_line", param=grouping[0], option=grouping[1]))
    lines.extend(t("report.grouping_line", param=name, option=value) for name, value in filter_texts(result))
    lines.append(t("report.made_by", user=author, date=business_today().isoformat()))
    return lines


def filter_texts(result: Result) -> list[tuple[str, str]]:
    """(label, value as read) of each filter the answer is for beyond its period and grouping: a 对账单 printed
    for the customer names them (往来单位：K001 惠民便利店, 方向：应收); a link the reader may not see is left out."""
    query = result.report.query
    group = query.group_param if query is not None else None
    texts = []
    for param in result.report.params:
        value = result.params.get(param.name)
        if value is None or param.type == "date_range" or param.name == group:
            continue
        if value is BLANK:
            text = t("report.blank")
        elif param.type in ("link", "user"):
            shown = result.links.get(f"@{param.name}", {}).get(value)
            if not shown:
                continue
            text = shown["key"] if shown.get("name") in (None, "", shown["key"]) else f"{shown['key']} {shown['name']}"
        elif param.type == "select":
            text = label(dict(param.options).get(value), str(value))
        else:
            text = param_text(value)
        texts.append((label(param.label, param.name), text))
    return texts


def to_csv(result: Result) -> bytes:
    """UTF-8 with a BOM (Excel in China opens it right), one header row, the rows and the totals row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([never_formula(result.column_label(c)) for c in result.columns])
    for row in result.rows:
        writer.writerow([_csv_cell(result, row, c) for c in result.columns])
    if result.totals:
        writer.writerow(
            [t("report.total") if i == 0 else _csv_cell(result, result.totals, c) for i, c in enumerate(result.columns)]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(result: Result, row: dict[str, Any], column: Any) -> str:
    """A number exact, as the API and the grid's csv give it (what is read from it is the value, not how a page
    rounds it); any other value as a person reads it, never a formula."""
    if column.type in NUMERIC:
        value = result.cell(row, column)
        return "" if value is None else str(value)
    return never_formula(result.text(row, column))


def _number(value: Any) -> float | None:
    text = value if isinstance(value, str) else None
    if text is None:
        return None
    try:
        return float(Decimal(text))
    except ArithmeticError:
        return None


def write_xlsx(result: Result, target: str | IO[bytes], author: str) -> None:
    """The answer as a workbook with the report's chart drawn by Excel from the cells."""
    big = len(result.rows) > CONSTANT_MEMORY_ROWS
    book = xlsxwriter.Workbook(target, {"constant_memory": big, "in_memory": not big})
    sheet = book.add_worksheet(title(result)[:31])
    bold = book.add_format({"bold": True})
    big_title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1})
    formats = {
        "quantity": book.add_format({"num_format": "#,##0.####"}),
        "money": book.add_format({"num_format": "#,##0.00"}),  # a unit price's 4 places: `_cell_format`
        "decimal": book.add_format({"num_format": "#,##0.####"}),
        "percent": book.add_format({"num_format": "0.00"}),
        "integer": book.add_format({"num_format": "0"}),
    }
    company = result.letterhead
    lines = ([company["name"], *company["lines"]] if company else []) + heading_lines(result, author)
    for index, text in enumerate(lines):
        sheet.write_string(index, 0, plain_text(text), big_title if index == 0 else bold)
    header_row = len(lines) + 1
    for col, column in enumerate(result.columns):
        sheet.write_string(header_row, col, plain_text(result.column_label(column)), head)
        sheet.set_column(col, col, 14 if column.type in NUMERIC else 22)
    row_index = header_row
    for row in result.rows:
        row_index += 1
        for col, column in enumerate(result.columns):
            value = result.cell(row, column)
            number = _number(value) if column.type in NUMERIC else None
            if number is not None:
                sheet.write_number(row_index, col, number, _cell_format(book, formats, column))
            else:
                sheet.write_string(row_index, col, plain_text(result.text(row, column)))
    last_data = row_index
    if result.totals:
        row_index += 1
        sheet.write_string(row_index, 0, t("report.total"), bold)
        for col, column in enumerate(result.columns):
            number = _number(result.cell(result.totals, column)) if column.name in result.totals else None
            if number is not None and col:
                sheet.write_number(row_index, col, number, _cell_format(book, formats, column))
    sheet.freeze_panes(header_row + 1, sum(1 for c in result.columns if c.key))
    _chart(book, sheet, result, header_row, last_data)
    book.close()


def _cell_format(book: Any, formats: dict[str, Any], column: Any) -> Any:
    """The number format of a column's cells: money to its places (a unit price's 4), the rest by type."""
    if column.type != "money" or column.scale == 2:
        return formats[column.type]
    key = f"money{column.scale}"
    if key not in formats:
        formats[key] = book.add_format({"num_format": "#,##0." + "0" * column.scale if column.scale else "#,##0"})
    return formats[key]


def _chart(book: Any, sheet: Any, result: Result, header_row: int, last_data: int) -> None:
    """The report's default chart as a native Excel chart over the cells (the first rows when there are many)."""
    spec = result.chart
    if spec is None or last_data <= header_row:
        return
    names = [c.name for c in result.columns]
    kind, subtype = CHART_TYPES[spec.type]
    chart = book.add_chart({"type": kind, "subtype": subtype} if subtype else {"type": kind})
    sheet_name = sheet.get_name()
    first, last = header_row + 1, min(last_data, header_row + MAX_CHART_POINTS)
    x = names.index(spec.x)
    for name in spec.series:
        col = names.index(name)
        chart.add_series(
            {
                "name": [sheet_name, header_row, col],
                "categories": [sheet_name, first, x, last, x],
                "values": [sheet_name, first, col, last, col],
            }
        )
    chart.set_title({"name": title(result)})
    sheet.insert_chart(1, len(names) + 1, chart, {"x_scale": 1.5, "y_scale": 1.2})
