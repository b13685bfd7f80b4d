"""Bulk stocktake: a file of counts (SKU or barcode, quantity, batch, location, reason) into a draft stocktake.

The file is read by the importers' reader and its columns matched by the importers' matcher; every bad cell
is reported at once (row, column, message) and nothing is applied when any row is bad. `preview_counts`
(the API's `dry_run`, the stocktake page's preview) shows before anything is written: every bad cell, the
rows that add up (the same item and batch counted in several locations), and the variance each line will
have against the book snapshot taken when the stocktake started (with what moved since, which posting
keeps). The good file is applied through the phone's count batches (`Counting.send_entries`): one write
path for counts, queued on the stocktake's row and recorded once per key, each line keeping the locations
counted. The key is the file's content hash (with the stocktake), so the same file uploaded twice is
counted once; different files add up, and rows for the same item and batch add up too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.documents.stocktake import books_at_snapshot
from app.errors import NotFound, ServiceError
from app.i18n import label, t
from app.meta.spec import FieldSpec
from app.meta.status import Status
from app.meta.types import plain_decimal
from app.services.access.rights import Access
from app.services.phone.counting import MAX_QTY, CountEntry, Counting, parse_locations
from app.services.records.bulk import among, collector_paused
from app.services.records.codes import code_key, normalise_code
from app.services.records.query import base_select
from app.services.records.serialize import link_labels
from app.services.records.tables import audit_log
from app.services.stock.bulk import chunked
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
CENT = Decimal("0.01")
UNCOUNTED_SHOWN = 10  # sheet rows without a count a preview names (it says how many there are in all, then …)


class UploadRefused(ServiceError):
    """422: the file or some of its cells are wrong; `issues` names each cell. Nothing was applied."""

    status = 422

    def __init__(self, message: str, issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.issues = issues or []

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "errors": [issue.as_dict() for issue in self.issues]}


@dataclass(slots=True)
class _Row:
    row: int
    values: dict[str, Any]
    columns: dict[str, str]


@dataclass
class _Checked:
    """A file's rows checked: the good ones as count entries (with their sheet rows), every bad cell."""

    rows: int  # how many rows were read (the rows themselves are let go once checked)
    entries: list[CountEntry] = field(default_factory=list)
    sheet_rows: list[int] = field(default_factory=list)  # the sheet row of each entry
    uncounted: list[int] = field(default_factory=list)  # sheet rows naming an item with 实盘数量 left empty
    skus: dict[int, str] = field(default_factory=dict)  # item id -> SKU
    issues: list[Issue] = field(default_factory=list)


def _key(stocktake_id: int, data: bytes) -> str:
    return f"file:{stocktake_id}:{content_hash(data)[:48]}"


def upload_counts(session: Session, access: Access, stocktake_id: int, data: bytes, filename: str) -> dict[str, Any]:
    """Check the whole file, then apply its counts once (the same content again answers `replayed: true`)."""
    counting = Counting(session, access)
    doc = counting.draft(stocktake_id)
    done = counting.recorded(stocktake_id, key := _key(stocktake_id, data))
    if done is not None:
        return done
    with collector_paused():  # 100,000 rows, entries and lines: freed by refcounting, not walked by the collector
        checked = _check(session, access, counting, doc, _rows(data, filename))
        if checked.issues:
            raise UploadRefused(t("stocktake_upload.refused", count=len(checked.issues)), checked.issues)
        if not checked.entries:
            raise UploadRefused(t("stocktake_upload.nothing_counted"))
        result = counting.send_entries(stocktake_id, key, checked.entries)
    result["rows"] = checked.rows - len(checked.uncounted)
    result["uncounted"] = len(checked.uncounted)
    result["locations"] = _locations(checked)
    return result


def _locations(checked: _Checked) -> dict[str, list[str]]:
    """Each counted SKU's locations in the file."""
    places: dict[str, set[str]] = {}
    for entry in checked.entries:
        if entry.location:
            places.setdefault(checked.skus[entry.item_id], set()).add(entry.location)
    return {sku: sorted(names) for sku, names in places.items()}


def preview_counts(session: Session, access: Access, stocktake_id: int, data: bytes, filename: str) -> dict[str, Any]:
    """What applying the file would do, writing nothing: every bad cell, the rows that add up per item and
    batch (with their locations), and each line's variance against the book snapshot once applied.
    UploadRefused only when the file itself cannot be read (no header, no rows)."""
    counting = Counting(session, access)
    doc = counting.draft(stocktake_id)
    replayed = counting.recorded(stocktake_id, _key(stocktake_id, data)) is not None
    rows = _rows(data, filename)
    checked = _check(session, access, counting, doc, rows)
    groups: dict[tuple[int, str], dict[str, Any]] = {}
    for entry, sheet_row in zip(checked.entries, checked.sheet_rows, strict=True):
        group = groups.setdefault((entry.item_id, entry.batch.strip()), {"rows": [], "qty": Decimal(0), "places": {}})
        group["rows"].append(sheet_row)
        group["qty"] += entry.qty
        if entry.location:
            group["places"][entry.location] = group["places"].get(entry.location, Decimal(0)) + entry.qty
    lines = {(line.item_id, (line.batch or "").strip()): line for line in doc.lines}
    registry = access.registry
    stocks = _stocks(session, registry, doc.warehouse_id, {slot[0] for slot in groups})
    books = books_at_snapshot(session, registry, doc.warehouse_id, set(groups), doc.snapshot_at)
    shows_value = access.sees_figures(frozenset({"cost"}))
    item_spec: Any = registry.model("stocktake_line").field("item")
    labels = link_labels(session, access, item_spec, set(checked.skus))
    out: list[dict[str, Any]] = []
    total = Decimal(0)
    for slot, group in groups.items():
        line = lines.get(slot)
        stock = stocks.get(slot)
        now = Decimal(stock.qty) if stock is not None else Decimal(0)
        book = Decimal(line.book_qty or 0) if line is not None else books[slot]
        before = None if line is None or line.counted_qty is None else Decimal(line.counted_qty)
        after = before if replayed else (before or Decimal(0)) + group["qty"]
        diff = None if after is None else after - book
        value = None
        if diff is not None:
            value = (diff * Decimal(stock.avg_cost or 0) if stock is not None else Decimal(0)).quantize(CENT)
            total += value
        places = dict(parse_locations(getattr(line, "locations", None)) if line is not None else {})
        if not replayed:
            for name, qty in group["places"].items():
                places[name] = places.get(name, Decimal(0)) + qty
        out.append(
            {
                "item": labels.get(slot[0]),
                "batch": slot[1],
                "rows": group["rows"],
                "added": plain_decimal(group["qty"]),
                "file_locations": [
                    {"location": name, "qty": plain_decimal(qty)} for name, qty in group["places"].items()
                ],
                "locations": [{"location": name, "qty": plain_decimal(qty)} for name, qty in places.items()],
                "counted_before": None if before is None else plain_decimal(before),
                "counted": None if after is None else plain_decimal(after),
                "book": plain_decimal(book),
                "moved_since": plain_decimal(now - book),
                "stock_now": plain_decimal(now),
                "diff": None if diff is None else plain_decimal(diff),
                "stock_after": None if diff is None else plain_decimal(now + diff),
                "value": None if not shows_value or value is None else f"{value:.2f}",
            }
        )
    issues = checked.issues
    nothing = not issues and not checked.entries
    message = t("stocktake_upload.nothing_counted") if nothing else ""
    return {
        "dry_run": True,
        "stocktake": doc.id,
        "number": doc.number,
        "snapshot_at": doc.snapshot_at.isoformat(sep=" ", timespec="seconds") if doc.snapshot_at else None,
        "rows": len(rows),
        "replayed": replayed,
        "applicable": not issues and not replayed and not nothing,
        "message": t("stocktake_upload.refused", count=len(issues)) if issues else message,
        "uncounted": len(checked.uncounted),
        "uncounted_rows": checked.uncounted[:UNCOUNTED_SHOWN],
        "errors": [issue.as_dict() for issue in issues],
        "lines": out,
        "total_value": f"{total:.2f}" if shows_value else None,
    }


def _stocks(session: Session, registry: Any, warehouse_id: int, item_ids: set[int]) -> dict[tuple[int, str], Any]:
    """(item, batch) -> the stock balance row now (qty, value, avg_cost) for these items in the warehouse."""
    balance: Any = registry.cls("stock_balance")
    found: dict[tuple[int, str], Any] = {}
    ids = sorted(item_ids)
    for part in chunked(ids):
        query = select(balance.item_id, balance.batch, balance.qty, balance.value, balance.avg_cost).where(
            balance.warehouse_id == warehouse_id, among(session, balance.item_id, list(part))
        )
        for row in session.execute(query):
            found[(row.item_id, (row.batch or "").strip())] = row
    return found


def _rows(data: bytes, filename: str) -> list[_Row]:
    try:
        table = read_table(data, filename)
    except FileRefused as exc:
        raise UploadRefused(str(exc)) from exc
    match = match_columns(table.rows, list(COLUMNS))
    filled = list(match.mapping.values())
    problems = match.header_problems()
    problems += [
        t("imports.missing_column", column=label(spec.label, name))
        for name, spec in REQUIRED.items()
        if name not in filled
    ]
    if problems:
        raise UploadRefused("；".join(problems))
    rows = []
    columns = {name: match.headers[col] for col, name in match.mapping.items()}  # one for every row
    for index in range(match.header_index + 1, len(table.rows)):
        raw = table.rows[index]
        values = {name: raw[col] if col < len(raw) else None for col, name in match.mapping.items()}
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue
        rows.append(_Row(table.row_numbers[index], values, columns))
    if not rows:
        raise UploadRefused(t("imports.no_rows"))
    return rows


def _text(value: Any) -> str:
    if value.__class__ is str:  # most cells
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _check(session: Session, access: Access, counting: Counting, doc: Any, rows: list[_Row]) -> _Checked:
    """The rows as count entries, and every bad cell."""
    registry = access.registry
    targets = counting.resolve({_text(r.values.get("code")) for r in rows if _text(r.values.get("code"))})
    item_cls: Any = registry.cls("item")
    items: dict[int, Any] = {}
    ids = sorted(set(targets.values()))
    query = select(item_cls.id, item_cls.sku, item_cls.unit_id, item_cls.track_batch, item_cls.track_serial)
    for part in chunked(ids):
        for found in session.execute(query.where(among(session, item_cls.id, list(part)))):
            items[found.id] = found
    other_unit = {
        (line.item_id, (line.batch or "").strip())
        for line in doc.lines
        if line.unit_id is not None and line.item_id in items and line.unit_id != items[line.item_id].unit_id
    }
    reasons = _reasons(registry)
    reason_keys: dict[str, str] = {}  # a reason as written -> normalised: a file repeats a few reasons
    checked = _Checked(len(rows))
    for row in rows:

        def issue(name: str, message: str, row: _Row = row) -> None:
            checked.issues.append(Issue(row.row, row.columns.get(name, name), name, message))

        values = row.values
        code, batch, counted = _text(values.get("code")), _text(values.get("batch")), _text(values.get("qty"))
        if code and not counted:  # a count sheet's row not counted (下载盘点表 lists them all)
            checked.uncounted.append(row.row)
            continue
        item_id = targets.get(code_key(normalise_code(code))) if code else None
        if not code:
            issue("code", t("stocktake_upload.required"))
        elif item_id is None:
            issue("code", t("imports.not_found", value=code))
        qty = _quantity(counted, issue)
        reason = _text(values.get("reason"))
        if reason:
            reason_key = reason_keys.get(reason)
            if reason_key is None:
                reason_key = reason_keys[reason] = normalise_header(reason)
            if reason_key not in reasons:
                issue("reason", t("stocktake_upload.bad_reason", value=reason, options=_reason_choices(registry)))
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
                place = _text(values.get("location"))
                checked.entries.append(
                    CountEntry(item_id, qty, batch, reasons.get(reason_keys[reason], "") if reason else "", place)
                )
                checked.sheet_rows.append(row.row)
                checked.skus[item_id] = item.sku
    return checked


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


def reason_labels(registry: Any) -> list[str]:
    """The reasons as the reader's language names them, in the metadata's order (what a message and the count
    sheet's list offer; a file may also write a value or the other language's label)."""
    spec = registry.model("stocktake_line").field("reason")
    return [label(option.label, option.value) for option in (spec.options if spec is not None else ())]


def _reason_choices(registry: Any) -> str:
    return "、".join(reason_labels(registry))


def upload_message(result: dict[str, Any]) -> str:
    """What an applied (or replayed) upload says: the rows counted, and the rows left without a count."""
    if result.get("replayed"):
        return t("stocktake_upload.replayed")
    done = t("stocktake_upload.done", rows=result.get("rows", 0))
    uncounted = result.get("uncounted") or 0
    return f"{done}；{t('stocktake_upload.uncounted', rows=uncounted)}" if uncounted else done


def posted_at(session: Session, registry: Any, doc: Any) -> Any:
    """When a posted stocktake posted: the time of its moves (one for all of them), or, for one that moved nothing
    (every count was the book), the time of the submit or approval that posted it."""
    move: Any = registry.cls("stock_move")
    at = session.scalar(
        select(func.min(move.posted_at)).where(
            move.document_model == "stocktake", move.document_number == doc.number, move.reverses.is_(None)
        )
    )
    if at is not None:
        return at
    return session.scalar(
        select(func.max(audit_log.c.at)).where(
            audit_log.c.model == "stocktake",
            audit_log.c.record_id == doc.id,
            audit_log.c.action.in_(("submit", "approve")),
        )
    )


def variance(session: Session, access: Access, stocktake_id: int) -> dict[str, Any]:
    """The variance sheet: per line book (the snapshot when the stocktake started), counted, difference and its
    value, the locations counted; what moved since the snapshot (posting keeps it) and the stock once posted (for
    a draft or a pending one as of now, for a posted one as of its posting), and for a draft of whole-warehouse
    scope the stock no line counts (counted 0 when it posts). A draft's values are at the current average cost
    (an uncounted stock's: its whole value on the books); a posted stocktake's are what its moves posted. Values
    are None for a reader who may not see costs."""
    registry = access.registry
    access.require("stocktake", "read")
    cls: Any = registry.cls("stocktake")
    doc = session.execute(
        base_select(access, registry.model("stocktake")).where(cls.id == stocktake_id)
    ).scalar_one_or_none()
    if doc is None:
        raise NotFound(t("not_found"))
    shows_value = access.sees_figures(frozenset({"cost"}))
    draft = doc.status in (Status.DRAFT, Status.PENDING)  # not posted yet: today's stock and cost
    balance: Any = registry.cls("stock_balance")
    stocks = {
        (row.item_id, row.batch or ""): row
        for row in session.execute(
            select(balance.item_id, balance.batch, balance.qty, balance.value, balance.avg_cost).where(
                balance.warehouse_id == doc.warehouse_id
            )
        )
    }
    rows: list[dict[str, Any]] = []
    counted_slots = set()
    # a posted stocktake's stock as of its posting (its own moves in): what moved since then is not its business
    at_posting = (
        {}
        if draft
        else books_at_snapshot(
            session,
            registry,
            doc.warehouse_id,
            {(line.item_id, (line.batch or "").strip()) for line in doc.lines},
            posted_at(session, registry, doc),
        )
    )
    for line in doc.lines:
        slot = (line.item_id, (line.batch or "").strip())
        book = Decimal(line.book_qty or 0)
        count = None if line.counted_qty is None else Decimal(line.counted_qty)
        if count is not None:
            counted_slots.add(slot)
        diff = None if count is None else count - book
        if not draft:
            value = line.amount
        elif diff is None:
            value = None
        else:
            stock = stocks.get(slot)
            value = (diff * Decimal(stock.avg_cost or 0) if stock is not None else Decimal(0)).quantize(CENT)
        stock = stocks.get(slot)
        now = Decimal(stock.qty) if stock is not None else Decimal(0)
        # posted: the stock once it posted less what it posted is what the book came to meanwhile
        if draft:
            after, moved = (now + diff if diff is not None else None), now - book
        else:
            after = at_posting[slot]
            moved = after - (diff or Decimal(0)) - book
        rows.append(
            {
                "line_id": line.id,
                "reason": getattr(line, "reason", None),
                "item_id": line.item_id,
                "batch": slot[1],
                "book": book,
                "counted": count,
                "diff": diff,
                "value": value,
                "moved": moved,
                "after": after,
                "locations": getattr(line, "locations", None) or "",
            }
        )
    if draft and getattr(doc, "scope", None) == "whole":
        item: Any = registry.cls("item")
        in_category = (
            set(session.scalars(select(item.id).where(item.category_id == doc.category_id)))
            if doc.category_id is not None
            else None
        )
        listed = {(line.item_id, (line.batch or "").strip()) for line in doc.lines}
        for slot, stock in sorted(stocks.items()):
            if stock.qty == 0 or slot in counted_slots or (in_category is not None and slot[0] not in in_category):
                continue
            qty = Decimal(stock.qty)
            line_id = None  # a line listed and not counted is counted 0 where it is; other stock gets a line
            if slot in listed:
                line_id = next(r["line_id"] for r in rows if (r["item_id"], r["batch"]) == slot)
                rows = [r for r in rows if (r["item_id"], r["batch"]) != slot]
            rows.append(
                {
                    "line_id": line_id,
                    "item_id": slot[0],
                    "batch": slot[1],
                    "book": qty,
                    "counted": Decimal(0),
                    "diff": -qty,
                    "value": -Decimal(stock.value).quantize(CENT),
                    "moved": Decimal(0),
                    "after": Decimal(0),
                    "locations": "",
                    "uncounted": True,
                }
            )
    item_spec: Any = registry.model("stocktake_line").field("item")
    labels = link_labels(session, access, item_spec, {row["item_id"] for row in rows})
    total = sum((row["value"] for row in rows if row["value"] is not None), Decimal(0))
    out = []
    for row in rows:
        out.append(
            {
                "item": labels.get(row["item_id"]),
                "batch": row["batch"],
                "book": plain_decimal(row["book"]),
                "counted": None if row["counted"] is None else plain_decimal(row["counted"]),
                "diff": None if row["diff"] is None else plain_decimal(row["diff"]),
                "value": None if not shows_value or row["value"] is None else f"{Decimal(row['value']):.2f}",
                "moved_since": None if row["moved"] is None else plain_decimal(row["moved"]),
                "stock_after": None if row["after"] is None else plain_decimal(row["after"]),
                "locations": row["locations"],
                "uncounted": bool(row.get("uncounted")),
                "line": row.get("line_id"),
                "reason": row.get("reason"),
            }
        )
    return {
        "stocktake": doc.id,
        "number": doc.number,
        "scope": getattr(doc, "scope", None),
        "lines": out,
        "total_value": f"{total:.2f}" if shows_value else None,
    }
