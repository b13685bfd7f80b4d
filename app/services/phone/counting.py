"""Counting a stocktake from a phone: batches of scanned counts, each applied once.

The phone keeps its scans on the device and sends them as a batch with a key it made (`{key, counts: [{code,
qty}]}`). The batch adds each code's quantity to the stocktake's line for that item (a new line when the item
has none yet), through RecordService like any other edit, and the key is recorded with the answer in the same
transaction. A second send of the same key (a lost answer, a double tap, two tabs at once) changes nothing and
gets the recorded answer again: sends of one stocktake queue on its row (FOR UPDATE; SQLite write requests
start with BEGIN IMMEDIATE), and the unique key catches any that get past.

A code is an item's SKU or barcode, or a unit's barcode (a case barcode counts its ratio of base units);
An uploaded file's rows (importers/stocktake.py) come in as count entries through the same path, with the
location each was counted at: a line keeps its locations with what was counted at each (`locations`, one
`location: qty` a line), so counts of one item in several places add up and still say where they were.

Codes the reader cannot resolve are answered as `unknown`, and items tracked by batch or serial number (which
a scan cannot count) or counted in another unit on their line as `refused`: the rest of the batch is applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, insert, null, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.i18n import t
from app.meta.status import Status
from app.meta.types import plain_decimal
from app.services.access.rights import Access
from app.services.phone.tables import count_batch
from app.services.records.bulk import among
from app.services.records.codes import code_key, normalise_code
from app.services.records.query import base_select
from app.services.records.serialize import link_labels
from app.services.records.write import RecordService
from app.services.stock.bulk import CHUNK
from app.services.stock.units import unit_ratios

MODEL = "stocktake"
MAX_COUNTS = 2000
MAX_QTY = Decimal("1000000000")


class BadCounts(ServiceError):
    """400: the batch itself is malformed or too big."""

    status = 400


@dataclass(frozen=True)
class CountEntry:
    """A count resolved to its item: base units, the batch (blank for none), the reason of a difference, the
    location it was counted at (blank for none)."""

    item_id: int
    qty: Decimal
    batch: str = ""
    reason: str = ""
    location: str = ""
    replace: bool = False  # a correction: the count becomes this quantity (what came before is dropped)


def parse_locations(text: str | None) -> dict[str, Decimal]:
    """A line's `locations` text (`location: qty` a line) as {location: qty}; a line without a number is a
    location counted nothing yet."""
    places: dict[str, Decimal] = {}
    for raw in (text or "").splitlines():
        name, sep, qty = raw.rpartition(":")
        if not sep:
            name, qty = raw, ""
        name = name.strip()
        if not name:
            continue
        try:
            amount = Decimal(qty.strip()) if qty.strip() else Decimal(0)
        except InvalidOperation:
            name, amount = raw.strip(), Decimal(0)
        places[name] = places.get(name, Decimal(0)) + amount
    return places


def format_locations(places: dict[str, Decimal]) -> str:
    """{location: qty} as a line's `locations` text, in the order counted."""
    return "\n".join(f"{name}: {plain_decimal(qty)}" for name, qty in places.items())


@dataclass(frozen=True)
class Count:
    """One count of a phone's batch: a code, a quantity (1 a scan, or typed) in the item's base unit or the unit
    named (a unit code or name: 箱), added to the count or (`replace`, a correction) replacing it."""

    code: str
    qty: Decimal
    unit: str = ""
    replace: bool = False


QTY_PLACES = 4  # a quantity's decimals (the quantity type's scale)


def count_qty(raw: Any, replace: bool = False) -> Decimal | None:
    """A count's quantity as an exact Decimal: a number, at least 0 for a correction and above 0 otherwise, at
    most QTY_PLACES decimals and below MAX_QTY; None for anything else (a float is refused: it is not exact)."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        return None
    try:
        qty = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    if not qty.is_finite() or qty < 0 or (qty == 0 and not replace) or qty > MAX_QTY:
        return None
    return qty if -int(qty.as_tuple().exponent) <= QTY_PLACES else None


@dataclass(frozen=True)
class _Target:
    """What a scanned code counts: an item and how many base units one scan is."""

    item_id: int
    ratio: Decimal


def parse_batch(body: Any) -> tuple[str, list[Count]]:
    """The key and the counts of a batch body (`{key, counts: [{code, qty, unit?, set?}]}`); BadCounts when it
    is malformed."""
    if not isinstance(body, dict):
        raise BadCounts(t("phone.counts_malformed", reason="body"))
    key, counts = body.get("key"), body.get("counts")
    if not isinstance(key, str) or not 0 < len(key) <= 64:
        raise BadCounts(t("phone.counts_malformed", reason="key"))
    if not isinstance(counts, list) or not counts or len(counts) > MAX_COUNTS:
        raise BadCounts(t("phone.counts_malformed", reason="counts"))
    out: list[Count] = []
    for count in counts:
        if not isinstance(count, dict):
            raise BadCounts(t("phone.counts_malformed", reason="count"))
        code, raw, unit, replace = count.get("code"), count.get("qty", 1), count.get("unit") or "", count.get("set")
        if not isinstance(code, str) or not 0 < len(code.strip()) <= 128:
            raise BadCounts(t("phone.counts_malformed", reason="code"))
        if not isinstance(unit, str) or len(unit) > 32 or not isinstance(replace, bool | None):
            raise BadCounts(t("phone.counts_malformed", reason="unit"))
        qty = count_qty(raw, bool(replace))
        if qty is None:
            raise BadCounts(t("phone.count_bad_qty", qty=raw, places=QTY_PLACES))
        out.append(Count(code.strip(), qty, unit.strip(), bool(replace)))
    return key, out


class Counting:
    """Applies batches of counts to stocktakes for one user."""

    def __init__(self, session: Session, access: Access) -> None:
        self.session = session
        self.access = access
        self.registry = access.registry
        self._records = RecordService(session, access)

    def send(self, stocktake_id: int, body: Any) -> dict[str, Any]:
        """Apply a batch once; the recorded answer (with `replayed: true`) for a batch already applied."""
        key, counts = parse_batch(body)
        return self._once(stocktake_id, key, lambda doc: self._apply(doc, counts))

    def send_entries(self, stocktake_id: int, key: str, entries: list[CountEntry]) -> dict[str, Any]:
        """Apply counts already resolved to items (an uploaded file's rows) once per key: the same path
        as a phone's batch (queued on the stocktake's row, recorded with its answer, RecordService)."""
        return self._once(stocktake_id, key, lambda doc: self._apply_entries(doc, entries, []))

    def draft(self, stocktake_id: int) -> Any:
        """The draft stocktake the user may write, read without a lock (NotFound / Conflict otherwise)."""
        self.access.require(MODEL, "write")
        cls = self.registry.cls(MODEL)
        doc = self.session.execute(
            base_select(self.access, self.registry.model(MODEL)).where(cls.id == stocktake_id)
        ).scalar_one_or_none()
        if doc is None:
            raise NotFound(t("not_found"))
        if doc.status != Status.DRAFT:
            raise Conflict(t("not_draft", status=Status(doc.status).text()))
        return doc

    def recorded(self, stocktake_id: int, key: str) -> dict[str, Any] | None:
        """The recorded answer of a key already applied to this stocktake (None when it was not)."""
        done = self._recorded(key)
        return None if done is None else self._replay(done, stocktake_id)

    def resolve(self, codes: set[str]) -> dict[str, int]:
        """Each code's case-blind key -> the item it names (SKU or barcode; a unit barcode only at ratio 1)."""
        return {key: target.item_id for key, target in self._resolve(codes).items() if target.ratio == 1}

    def units(self, stocktake_id: int, code: str) -> dict[str, Any]:
        """The units a count of `code` may be typed in on this stocktake: the item's base unit (sent as "") and
        its other units (item_unit: 箱 = 24), and the one offered first: the unit of the code itself when it is a
        case's barcode, else the unit the stocktake's line of that item uses, else the base unit. `item` is
        None for a code the reader cannot resolve (the page then offers the base unit only)."""
        doc = self.draft(stocktake_id)
        key = code_key(normalise_code(code.strip()))
        target = self._resolve({code.strip()}).get(key) if key else None
        if target is None:
            return {"item": None, "units": [], "default": ""}
        item_cls, unit_cls = self.registry.cls("item"), self.registry.cls("unit")
        base = self.session.execute(select(item_cls.unit_id).where(item_cls.id == target.item_id)).scalar()
        extra = []
        if self.access.can("item_unit", "read"):
            extra_cls = self.registry.cls("item_unit")
            stmt = base_select(self.access, self.registry.model("item_unit")).where(extra_cls.item_id == target.item_id)
            extra = list(self.session.execute(stmt.order_by(extra_cls.ratio, extra_cls.id)).scalars())
        names = {
            row.id: (str(row.code), str(row.name))
            for row in self.session.execute(
                select(unit_cls.id, unit_cls.code, unit_cls.name).where(
                    unit_cls.id.in_({base, *(row.unit_id for row in extra)} - {None})
                )
            )
        }
        base_name = names.get(base, ("", t("phone.count_base_unit")))[1]
        units = [{"code": "", "name": base_name, "ratio": "1", "base": True}]
        units += [
            {
                "code": names[row.unit_id][0],
                "name": names[row.unit_id][1],
                "ratio": plain_decimal(row.ratio),
                "base": False,
            }
            for row in extra
            if row.unit_id in names and row.unit_id != base
        ]
        line = self.registry.cls(MODEL + "_line")
        used = self.session.execute(
            select(line.unit_id).where(line.parent_id == doc.id, line.item_id == target.item_id).order_by(line.line_no)
        ).first()
        cased = [row.unit_id for row in extra if row.barcode and code_key(normalise_code(row.barcode)) == key]
        chosen = cased[0] if cased else used[0] if used is not None else None
        default = names[chosen][0] if chosen in names and chosen != base else ""
        labels = link_labels(
            self.session, self.access, self.registry.model(MODEL + "_line").field("item"), {target.item_id}
        )
        self.session.rollback()
        return {"item": labels.get(target.item_id), "units": units, "default": default}

    def explain(self, stocktake_id: int, version: Any, reasons: Any) -> dict[str, Any]:
        """Set the 差异原因 of some lines of a draft stocktake (`reasons`: [{line, reason}]), the lines named only,
        through RecordService like any edit of its lines; Conflict when the stocktake was saved since `version`
        (someone counted meanwhile). Answers the stocktake's new version, to submit with."""
        if not isinstance(reasons, list) or not reasons or len(reasons) > MAX_COUNTS:
            raise BadCounts(t("phone.reasons_malformed"))
        lines = []
        for entry in reasons:
            line_id = entry.get("line") if isinstance(entry, dict) else None
            if not isinstance(line_id, int) or isinstance(line_id, bool) or not 0 < line_id < 2**63:
                raise BadCounts(t("phone.reasons_malformed"))
            lines.append({"id": line_id, "reason": entry.get("reason")})
        self.access.require(MODEL, "write")
        cls = self.registry.cls(MODEL)
        self.session.connection()  # the transaction starts here (BEGIN IMMEDIATE on SQLite for a write request)
        doc = self.session.execute(
            base_select(self.access, self.registry.model(MODEL)).where(cls.id == stocktake_id).with_for_update(of=cls)
        ).scalar_one_or_none()
        if doc is None:
            raise NotFound(t("not_found"))
        if doc.status != Status.DRAFT:
            raise Conflict(t("not_draft", status=Status(doc.status).text()))
        self._records.check_version(self.registry.model(MODEL), doc, version)
        line = self.registry.cls(MODEL + "_line")
        own = set(
            self.session.scalars(select(line.id).where(line.parent_id == doc.id, line.id.in_([x["id"] for x in lines])))
        )
        if len(own) != len({x["id"] for x in lines}):
            raise NotFound(t("not_found"))  # a line of another stocktake is not this one's to explain
        self._records.update_lines(MODEL, doc.id, lines, row=doc)
        self._records.commit()
        return {"stocktake": doc.id, "version": doc.version}

    def _once(self, stocktake_id: int, key: str, apply: Any) -> dict[str, Any]:
        self.access.require(MODEL, "write")
        model = self.registry.model(MODEL)
        cls = self.registry.cls(MODEL)
        self.session.connection()  # the transaction starts here (BEGIN IMMEDIATE on SQLite for a write request)
        doc = self.session.execute(
            base_select(self.access, model).where(cls.id == stocktake_id).with_for_update(of=cls)
        ).scalar_one_or_none()
        done = self._recorded(key)
        if done is not None:
            return self._replay(done, stocktake_id)
        if doc is None:
            raise NotFound(t("not_found"))
        if doc.status != Status.DRAFT:
            raise Conflict(t("not_draft", status=Status(doc.status).text()))
        result = apply(doc)
        result["key"] = key
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(count_batch).values(
                        user_id=self.access.user_id,
                        client_key=key,
                        stocktake_id=doc.id,
                        result=json.dumps(result, ensure_ascii=False),
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:  # the same key sent at the same moment and committed first: its answer stands
            self.session.rollback()
            done = self._recorded(key)
            if done is None:
                raise
            return self._replay(done, stocktake_id)
        self._records.commit()
        return result | {"replayed": False}

    # -- applying -------------------------------------------------------------------------------

    def _apply(self, doc: Any, counts: list[Count]) -> dict[str, Any]:
        targets = self._resolve({count.code for count in counts})
        item_cls = self.registry.cls("item")
        items = self.session.execute(
            select(item_cls.id, item_cls.unit_id, item_cls.track_batch, item_cls.track_serial).where(
                item_cls.id.in_({target.item_id for target in targets.values()})
            )
        ).all()
        tracked = {row.id for row in items if row.track_batch or row.track_serial}
        ratios, unit_names = self._unit_ratios(
            {count.unit for count in counts if count.unit}, {row.id: row.unit_id for row in items}
        )
        entries: list[CountEntry] = []
        unknown: list[str] = []
        refused: list[dict[str, str]] = []
        for count in counts:
            target = targets.get(code_key(normalise_code(count.code)))
            if target is None:
                unknown.append(count.code)
            elif target.item_id in tracked:
                refused.append({"code": count.code, "reason": t("phone.count_tracked")})
            elif count.unit and (target.item_id, code_key(count.unit)) not in ratios:
                unit = unit_names.get(code_key(count.unit), count.unit)  # the page sends a code (KG): say 千克
                refused.append({"code": count.code, "reason": t("phone.count_no_such_unit", unit=unit)})
            else:
                ratio = ratios[(target.item_id, code_key(count.unit))] if count.unit else target.ratio
                entries.append(CountEntry(target.item_id, count.qty * ratio, replace=count.replace))
        result = self._apply_entries(doc, entries, refused)
        result["unknown"] = unknown
        return result

    def _unit_ratios(
        self, units: set[str], base_units: dict[int, Any]
    ) -> tuple[dict[tuple[int, str], Decimal], dict[str, str]]:
        """(item id, a unit's case-blind code or name) -> base units in one of it, for the units named: the item's
        base unit (1) and its other units (箱 = 24); and each named unit's name by its case-blind code or name."""
        if not units:
            return {}, {}
        unit_cls = self.registry.cls("unit")
        keys = {code_key(unit) for unit in units}
        named = self.session.execute(
            select(unit_cls.id, unit_cls.code, unit_cls.name).where(
                or_(func.lower(unit_cls.code).in_(keys), func.lower(unit_cls.name).in_(keys))
            )
        ).all()
        by_unit: dict[Any, set[str]] = {}
        for row in named:
            by_unit.setdefault(row.id, set()).update(k for k in (code_key(row.code), code_key(row.name)) if k in keys)
        names = {key: str(row.name) for row in named for key in by_unit[row.id]}
        by_id = unit_ratios(self.session, self.registry, {(item, unit) for item in base_units for unit in by_unit})
        ratios = {(item, key): ratio for (item, unit), ratio in by_id.items() for key in by_unit[unit]}
        return ratios, names

    def _apply_entries(self, doc: Any, entries: list[CountEntry], refused: list[dict[str, str]]) -> dict[str, Any]:
        """Add each entry's quantity to the line of its item and batch (a new line when there is none);
        counts for the same item and batch add up. The one write path of counts into a stocktake."""
        item_cls = self.registry.cls("item")
        ids = sorted({entry.item_id for entry in entries})
        base_units: dict[int, Any] = {}
        for part in _chunks(ids):
            stmt = select(item_cls.id, item_cls.unit_id).where(among(self.session, item_cls.id, part))
            base_units.update((pk, unit) for pk, unit in self.session.execute(stmt))
        saved = self._saved_lines(doc)
        self._records.resolver.preload("item", set(ids) | {line.item_id for line in saved})
        added: dict[tuple[int, str], Decimal] = {}
        replaced: dict[tuple[int, str], Decimal] = {}  # a correction: the count from there on, before what follows
        reasons: dict[tuple[int, str], str] = {}
        places: dict[tuple[int, str], dict[str, Decimal]] = {}
        for entry in entries:
            slot = (entry.item_id, entry.batch.strip())
            if entry.replace:
                replaced[slot], added[slot] = entry.qty, Decimal(0)
            else:
                added[slot] = added.get(slot, Decimal(0)) + entry.qty
            if entry.reason:
                reasons[slot] = entry.reason
            if entry.location.strip():
                at = places.setdefault(slot, {})
                at[entry.location.strip()] = at.get(entry.location.strip(), Decimal(0)) + entry.qty
        lines: list[dict[str, Any]] = []  # only the lines that change or are new: the others stay as they are
        other_unit: list[tuple[int, Any]] = []  # (item, unit) of a line counted in another unit: refused
        counted: dict[tuple[int, str], Decimal] = {}
        seen: set[tuple[int, str]] = set()
        for line in saved:
            slot = (line.item_id, (line.batch or "").strip())
            if slot not in added or slot in seen:
                continue
            seen.add(slot)
            if line.unit_id is not None and line.unit_id != base_units.get(line.item_id):
                other_unit.append((line.item_id, line.unit_id))
                added.pop(slot)
                continue
            total = replaced.get(slot, Decimal(line.counted_qty or 0)) + added[slot]
            values: dict[str, Any] = {"id": line.id, "counted_qty": str(total)}
            if slot in reasons:
                values["reason"] = reasons[slot]
            if slot in places:
                merged = parse_locations(line.locations)
                for name, qty in places[slot].items():
                    merged[name] = merged.get(name, Decimal(0)) + qty
                values["locations"] = format_locations(merged)
            counted[slot] = total
            lines.append(values)
        for slot, more in added.items():
            if slot not in seen:
                qty = replaced.get(slot, Decimal(0)) + more
                new = {"item": slot[0], "counted_qty": str(qty), "batch": slot[1] or None}
                if slot in reasons:
                    new["reason"] = reasons[slot]
                if slot in places:
                    new["locations"] = format_locations(places[slot])
                lines.append(new)
                counted[slot] = qty
        if counted:
            try:
                self._records.update_lines(MODEL, doc.id, lines, row=doc)
            except ValidationFailed as exc:
                raise ValidationFailed(exc.errors, t("phone.counts_refused")) from exc
        item_spec = self.registry.model(MODEL + "_line").field("item")
        labels = link_labels(self.session, self.access, item_spec, {i for i, _ in counted} | {i for i, _ in other_unit})
        unit_cls = self.registry.cls("unit")
        unit_names = dict(
            self.session.execute(
                select(unit_cls.id, unit_cls.name).where(unit_cls.id.in_({unit for _, unit in other_unit}))
            ).all()
            if other_unit
            else []
        )
        for item_id, unit_id in other_unit:  # named by its SKU and the unit its line is in (was the item's id: 3)
            code = (labels.get(item_id) or {}).get("key") or str(item_id)
            refused.append({"code": code, "reason": t("phone.count_other_unit", unit=unit_names.get(unit_id, ""))})
        return {
            "stocktake": doc.id,
            "number": doc.number,
            "counted": [
                {"item": labels.get(slot[0]), "added": plain_decimal(added[slot]), "counted": plain_decimal(total)}
                | ({"batch": slot[1]} if slot[1] else {})
                for slot, total in counted.items()
            ],
            "unknown": [],
            "refused": refused,
        }

    def _saved_lines(self, doc: Any) -> list[Any]:
        """The stocktake's saved lines as plain rows (id, item, batch, unit, counted, locations), in line order:
        what a count adds to, without loading each line as an object."""
        line = self.registry.cls(MODEL + "_line")
        places = getattr(line, "locations", None)
        columns = [line.id, line.item_id, line.batch, line.unit_id, line.counted_qty]
        columns.append(places.label("locations") if places is not None else null().label("locations"))
        stmt = select(*columns).where(line.parent_id == doc.id).order_by(line.line_no, line.id)
        return list(self.session.execute(stmt))

    def _resolve(self, codes: set[str]) -> dict[str, _Target]:
        """Each code (by its case-blind key) the reader may see as an item's SKU or barcode, or a unit's barcode."""
        keys = {code_key(normalise_code(code)) for code in codes}
        found: dict[str, _Target] = {}
        item_model = self.registry.model("item")
        item_cls = self.registry.cls("item")
        for column in (item_cls.barcode, item_cls.sku):  # the id and the code only, not whole rows (a file's 100,000)
            for chunk in _chunks(sorted(keys)):
                stmt = base_select(self.access, item_model).with_only_columns(item_cls.id, column)
                for row_id, value in self.session.execute(stmt.where(self._any_code(column, chunk))):
                    found.setdefault(code_key(value), _Target(row_id, Decimal(1)))
        missing = sorted(keys - set(found))
        if missing and self.access.can("item_unit", "read"):
            unit_model = self.registry.model("item_unit")
            unit_cls = self.registry.cls("item_unit")
            visible_items = base_select(self.access, item_model).with_only_columns(item_cls.id)
            for chunk in _chunks(missing):
                stmt = base_select(self.access, unit_model).where(
                    self._any_code(unit_cls.barcode, chunk), unit_cls.item_id.in_(visible_items)
                )
                for row in self.session.execute(stmt).scalars():
                    found.setdefault(code_key(row.barcode), _Target(row.item_id, Decimal(row.ratio)))
        return found

    def _any_code(self, column: Any, keys: list[str]) -> Any:
        """SQL: the column holds one of these codes, whatever its case (one array parameter on PostgreSQL)."""
        return among(self.session, func.lower(column), keys)

    # -- retries --------------------------------------------------------------------------------

    def _recorded(self, key: str) -> Any:
        return self.session.execute(
            select(count_batch).where(count_batch.c.user_id == self.access.user_id, count_batch.c.client_key == key)
        ).first()

    def _replay(self, done: Any, stocktake_id: int) -> dict[str, Any]:
        """The answer recorded for a batch already applied (refused when the key was used for another stocktake)."""
        self.session.rollback()
        if done.stocktake_id != stocktake_id:
            raise Conflict(t("phone.counts_key_reused"))
        return dict(json.loads(done.result)) | {"replayed": True}


def _chunks(values: list[Any], size: int = CHUNK) -> list[list[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
