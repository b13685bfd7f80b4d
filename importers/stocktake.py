"""Bulk stocktake: a file of counts (SKU or barcode, quantity, batch, location, reason) into a draft stocktake.

The file is read by the importers' reader and its columns matched by the importers' matcher; every bad cell
is reported at once (row, column, message) and nothing is applied when any row is bad. The good file is
applied through the phone's count batches (`Counting.send_entries`): one write path for counts, queued on
the stocktake's row and recorded once per key. The key is the file's content hash (with the stocktake), so
the same file uploaded twice is counted once; different files add up, and rows for the same item and batch
(several locations) add up too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ServiceError
from app.i18n import label, t
from app.meta.spec import FieldSpec
from app.meta.types import plain_decimal
from app.services.access.rights import Access
from app.services.phone.counting import MAX_QTY, CountEntry, Counting
from app.services.records.codes import code_key, normalise_code
from importers.matcher import match_columns, normalise_header
from importers.pipeline import Issue
from importers.reader import FileRefused, read_table
from importers.runs import content_hash

COLUMNS = (
    FieldSpec("code", "text", {"zh": "商品编码", "en": "SKU"}),
    FieldSpec("code", "text", {"zh": "条码", "en": "Barcode"}),
    FieldSpec("code", "text", {"zh": "编码", "en": "Code"}),
    FieldSpec("qty", "quantity", {"zh": "实盘数量", "en": "Counted quantity"}),
    FieldSpec("qty", "quantity", {"zh": "数量", "en": "Quantity"}),
    FieldSpec("batch", "text", {"zh": "批号", "en": "Batch"}),
    FieldSpec("location", "text", {"zh": "库位", "en": "Location"}),
    FieldSpec("reason", "select", {"zh": "差异原因", "en": "Reason"}),
    FieldSpec("reason", "select", {"zh": "原因", "en": "Reason"}),
)
REQUIRED = {"code": COLUMNS[0], "qty": COLUMNS[3]}


class UploadRefused(ServiceError):
    """422: the file or some of its cells are wrong; `issues` names each cell. Nothing was applied."""

    status = 422

    def __init__(self, message: str, issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.issues = issues or []

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "errors": [issue.as_dict() for issue in self.issues]}


@dataclass
class _Row:
    row: int
    values: dict[str, Any]
    columns: dict[str, str]


def upload_counts(session: Session, access: Access, stocktake_id: int, data: bytes, filename: str) -> dict[str, Any]:
    """Check the whole file, then apply its counts once (the same content again answers `replayed: true`)."""
    counting = Counting(session, access)
    doc = counting.draft(stocktake_id)
    key = f"file:{stocktake_id}:{content_hash(data)[:48]}"
    done = counting.recorded(stocktake_id, key)
    if done is not None:
        return done
    rows = _rows(data, filename)
    entries, locations = _entries(session, access, counting, doc, rows)
    result = counting.send_entries(stocktake_id, key, entries)
    result["rows"] = len(rows)
    result["locations"] = {name: sorted(places) for name, places in locations.items()}
    return result


def _rows(data: bytes, filename: str) -> list[_Row]:
    try:
        table = read_table(data, filename)
    except FileRefused as exc:
        raise UploadRefused(str(exc)) from exc
    match = match_columns(table.rows, list(COLUMNS))
    filled = list(match.mapping.values())
    problems = [t("imports.column_twice", field=name) for name in sorted({n for n in filled if filled.count(n) > 1})]
    problems += [
        t("imports.missing_column", column=label(spec.label, name))
        for name, spec in REQUIRED.items()
        if name not in filled
    ]
    if problems:
        raise UploadRefused("；".join(problems))
    rows = []
    for index in range(match.header_index + 1, len(table.rows)):
        raw = table.rows[index]
        values = {name: raw[col] if col < len(raw) else None for col, name in match.mapping.items()}
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue
        columns = {name: match.headers[col] for col, name in match.mapping.items()}
        rows.append(_Row(table.row_numbers[index], values, columns))
    if not rows:
        raise UploadRefused(t("imports.no_rows"))
    return rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _entries(
    session: Session, access: Access, counting: Counting, doc: Any, rows: list[_Row]
) -> tuple[list[CountEntry], dict[str, set[str]]]:
    """The rows as count entries, or UploadRefused naming every bad cell."""
    registry = access.registry
    targets = counting.resolve({_text(r.values.get("code")) for r in rows if _text(r.values.get("code"))})
    item_cls: Any = registry.cls("item")
    items = {
        row.id: row
        for row in session.execute(
            select(item_cls.id, item_cls.sku, item_cls.unit_id, item_cls.track_batch, item_cls.track_serial).where(
                item_cls.id.in_(set(targets.values()))
            )
        )
    }
    other_unit = {
        (line.item_id, (line.batch or "").strip())
        for line in doc.lines
        if line.unit_id is not None and line.item_id in items and line.unit_id != items[line.item_id].unit_id
    }
    reasons = _reasons(registry)
    issues: list[Issue] = []
    entries: list[CountEntry] = []
    locations: dict[str, set[str]] = {}
    for row in rows:

        def issue(name: str, message: str, row: _Row = row) -> None:
            issues.append(Issue(row.row, row.columns.get(name, name), name, message))

        code, batch = _text(row.values.get("code")), _text(row.values.get("batch"))
        item_id = targets.get(code_key(normalise_code(code))) if code else None
        if not code:
            issue("code", t("stocktake_upload.required"))
        elif item_id is None:
            issue("code", t("imports.not_found", value=code))
        qty = _quantity(row.values.get("qty"), issue)
        reason = _text(row.values.get("reason"))
        if reason and normalise_header(reason) not in reasons:
            issue("reason", t("stocktake_upload.bad_reason", value=reason, options="、".join(sorted(set(reasons)))))
        if item_id is not None:
            item = items[item_id]
            if item.track_serial:
                issue("code", t("stocktake_upload.serial"))
            elif item.track_batch and not batch:
                issue("batch", t("stocktake_upload.batch_needed"))
            elif batch and not item.track_batch:
                issue("batch", t("stocktake_upload.no_batch"))
            elif (item_id, batch) in other_unit:
                issue("code", t("phone.count_other_unit"))
            elif qty is not None:
                entries.append(CountEntry(item_id, qty, batch, reasons.get(normalise_header(reason), "")))
                place = _text(row.values.get("location"))
                if place:
                    locations.setdefault(item.sku, set()).add(place)
    if issues:
        raise UploadRefused(t("stocktake_upload.refused", count=len(issues)), issues)
    return entries, locations


def _quantity(value: Any, issue: Any) -> Decimal | None:
    text = _text(value)
    if not text:
        issue("qty", t("stocktake_upload.required"))
        return None
    try:
        qty = Decimal(text.replace(",", ""))
    except InvalidOperation:
        qty = None
    if qty is None or not qty.is_finite():
        issue("qty", t("stocktake_upload.not_number", value=text))
        return None
    if qty < 0:
        issue("qty", t("stocktake_upload.negative", value=plain_decimal(qty)))
        return None
    if qty > MAX_QTY:
        issue("qty", t("stocktake_upload.too_big", value=plain_decimal(qty)))
        return None
    return qty


def _reasons(registry: Any) -> dict[str, str]:
    """A reason as a file may write it (its value or its zh / en label, normalised) -> its value."""
    spec = registry.model("stocktake_line").field("reason")
    found: dict[str, str] = {}
    for option in spec.options if spec is not None else ():
        found[normalise_header(option.value)] = option.value
        for text in option.label.values():
            found[normalise_header(text)] = option.value
    return found
