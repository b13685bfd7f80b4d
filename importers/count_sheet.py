"""The count sheet of a draft stocktake (下载盘点表): a workbook of what the keeper is to count, with the columns
导入盘点数量 reads (importers/stocktake.py), so the sheet filled in goes back as it is.

Its rows are every stock of the stocktake's warehouse (of its category, when one is set) and every line the
stocktake already lists, one per item and batch, by SKU: 商品编码, 商品名称, 规格, 单位 (the line's, else the
item's), 批号, 账面数量 (the book at the snapshot, as the stocktake's page has it; a blind sheet, 盲盘表, leaves
it out), then 实盘数量, 库位 and 差异原因 for the keeper to fill. 实盘数量 is left empty: an upload adds its counts
to what is counted, and a row left empty is not counted (a whole-warehouse count still counts it 0 when it
posts, as the page says). Item names and specs are written only where the reader may see those fields.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.documents.stocktake import books_at_snapshot, stock_on_hand
from app.i18n import label, t
from app.services.access.rights import Access
from app.services.grid.export import new_workbook, plain_text
from app.services.phone.counting import Counting
from app.services.records.bulk import among
from app.services.records.query import field_label
from app.services.stock.bulk import chunked
from importers.stocktake import COLUMNS, reason_labels
from importers.template import HEADER_COLOR, REQUIRED_COLOR

FILLED_ROWS = 5000  # rows below the sheet's last that the 实盘数量 and 差异原因 checks also cover (items found)


def count_sheet(session: Session, access: Access, stocktake_id: int, blind: bool = False) -> tuple[str, bytes]:
    """(file name, xlsx bytes) of the draft stocktake's count sheet (NotFound / Conflict as an upload's)."""
    doc = Counting(session, access).draft(stocktake_id)
    registry = access.registry
    lines = {(line.item_id, (line.batch or "").strip()): line for line in doc.lines}
    stocks = stock_on_hand(session, registry, doc.warehouse_id, doc.category_id)
    slots = {(item_id, batch.strip()) for item_id, batch, _ in stocks} | set(lines)
    books = books_at_snapshot(session, registry, doc.warehouse_id, slots, doc.snapshot_at)
    items = _items(session, access, {item_id for item_id, _ in slots})
    units = _unit_names(session, registry, {line.unit_id for line in lines.values() if line.unit_id is not None})
    rows = []
    for item_id, batch in sorted(slots, key=lambda slot: (items[slot[0]]["sku"], slot[1])):
        item, line = items[item_id], lines.get((item_id, batch))
        unit = units.get(line.unit_id) if line is not None and line.unit_id is not None else item["unit"]
        book = Decimal(line.book_qty) if line is not None and line.book_qty is not None else books[(item_id, batch)]
        rows.append([item["sku"], item["name"], item["spec"], unit or "", batch, book])
    name = t("stocktake_upload.blind_sheet" if blind else "stocktake_upload.sheet")
    return f"{name}-{doc.number}.xlsx", _workbook(access, doc.number, rows, blind)


def _items(session: Session, access: Access, ids: set[int]) -> dict[int, dict[str, Any]]:
    """Each item's SKU, name, spec and unit name; a field the reader may not see is left empty."""
    registry = access.registry
    item: Any = registry.cls("item")
    unit: Any = registry.cls("unit")
    shown = {spec.name for spec in access.visible_fields(registry.model("item"))}
    query = select(item.id, item.sku, item.name, item.spec, unit.name.label("unit")).outerjoin(
        unit, unit.id == item.unit_id
    )
    found: dict[int, dict[str, Any]] = {}
    for part in chunked(sorted(ids)):
        for row in session.execute(query.where(among(session, item.id, list(part)))):
            found[row.id] = {
                "sku": row.sku,
                "name": row.name if "name" in shown else "",
                "spec": (row.spec or "") if "spec" in shown else "",
                "unit": row.unit if "unit" in shown else "",
            }
    return found


def _unit_names(session: Session, registry: Any, ids: set[int]) -> dict[int, str]:
    unit: Any = registry.cls("unit")
    return dict(session.execute(select(unit.id, unit.name).where(unit.id.in_(sorted(ids)))).all()) if ids else {}


def _workbook(access: Access, number: str, rows: list[list[Any]], blind: bool) -> bytes:
    """The sheet: one header row the upload's matcher reads (the columns it fills coloured), the rows, the
    quantity and reason cells checked as Excel checks them (a number not below zero, one of the reasons)."""
    registry = access.registry
    item_model, line_model = registry.model("item"), registry.model("stocktake_line")
    by_name: dict[str, Any] = {}
    for spec in COLUMNS:  # the first label of each column the upload reads (商品编码, not 条码 or 编码)
        by_name.setdefault(spec.name, spec)
    headers = [
        (label(by_name["code"].label, "code"), False),
        (field_label(item_model, "name"), False),
        (field_label(item_model, "spec"), False),
        (field_label(line_model, "unit"), False),
        (label(by_name["batch"].label, "batch"), False),
        *([] if blind else [(field_label(line_model, "book_qty"), False)]),
        (label(by_name["qty"].label, "qty"), True),
        (label(by_name["location"].label, "location"), True),
        (label(by_name["reason"].label, "reason"), True),
    ]
    buffer = io.BytesIO()
    book = new_workbook(buffer)  # type: ignore[arg-type]  # xlsxwriter writes to a file object as to a path
    sheet = book.add_worksheet(number[:31])
    fill = {True: REQUIRED_COLOR, False: HEADER_COLOR}
    for col, (text, filled) in enumerate(headers):
        sheet.write_string(0, col, text, book.add_format({"bold": True, "bg_color": f"#{fill[filled]}"}))
    text = book.add_format({"num_format": "@"})
    widths = [16, 28, 16, 8, 14, *([] if blind else [12]), 12, 14, 12]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width, text if col in (0, 4) else None)  # codes and batches stay text
    sheet.freeze_panes(1, 0)
    qty_col = len(headers) - 3
    last = len(rows) + FILLED_ROWS
    sheet.data_validation(
        1, qty_col, last, qty_col,
        {"validate": "decimal", "criteria": ">=", "value": 0, "error_message": t("stocktake_upload.sheet_qty_rule")},
    )  # fmt: skip
    reasons = reason_labels(registry)
    if reasons:
        sheet.data_validation(1, qty_col + 2, last, qty_col + 2, {"validate": "list", "source": reasons})
    for index, row in enumerate(rows, start=1):
        sku, name, spec, unit, batch, qty = row
        sheet.write_string(index, 0, plain_text(sku))
        sheet.write_string(index, 1, plain_text(name or ""))
        sheet.write_string(index, 2, plain_text(spec or ""))
        sheet.write_string(index, 3, plain_text(unit or ""))
        sheet.write_string(index, 4, plain_text(batch))
        if not blind:
            sheet.write_number(index, 5, qty)
    book.close()
    return buffer.getvalue()
