"""盘点: the book is snapshot when the stocktake starts (`snapshot_at`: it is saved, or its first line added);
counting then takes as long as it takes. A line added later (a counts file uploaded an hour in) takes the
book as it was at the snapshot: today's stock less what moved since.

Posting adjusts today's book by (counted - snapshot), so goods moved while people were counting are
accounted for, not mistaken for gains or losses. Gains and losses are valued at the current average
cost; a loss posts even when it takes stock below zero (the count is the fact).

Items that track batches are counted per batch (the book quantity is the batch's). Items that track
serial numbers are counted by serial: the serials counted but not in stock at the snapshot are gains,
those in stock at the snapshot but not counted are losses, and together they must make the difference.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, inspect, select

from app.clock import utcnow
from app.documents.base import DocumentBehaviour, line_effect
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.ledger import serials as rules
from app.ledger.effects import IN, OUT, Effect
from app.ledger.valuation import Move
from app.meta.types import plain_decimal
from app.services.money.prices import line_defaults_many
from app.services.records.bulk import among
from app.services.stock.bulk import CHUNK, chunked

CENT = Decimal("0.01")
ONE = Decimal(1)
# the reason of stock a whole-warehouse count did not find (丢失, not found): what that scope says of it
NOT_FOUND = "theft"


class Stocktake(DocumentBehaviour):
    """Stock count; only the difference posts."""

    moves_stock = True
    qty_field = "counted_qty"
    valued_at_posting = ("lines.price", "lines.amount")  # the cost the gains and losses post at (`after_post`)
    line_chunk = CHUNK  # its checks span one item's lines at most, and a chunk never splits an item's lines

    def new_line_values(self, session: Any, registry: Any, model: Any, doc: Any, values: dict[str, Any]) -> None:
        super().new_line_values(session, registry, model, doc, values)
        if values.get("item") is not None and doc.warehouse_id is not None and doc.snapshot_at is None:
            doc.snapshot_at = utcnow()

    def new_lines_values(self, session: Any, registry: Any, model: Any, doc: Any, values: list[dict[str, Any]]) -> None:
        """A chunk of new lines' defaults set-based (`line_defaults_many`: the unit of each item, one query), and the
        snapshot taken as `new_line_values` takes it."""
        line_defaults_many(session, registry, model, doc, values)
        if doc.warehouse_id is not None and doc.snapshot_at is None and any(v.get("item") is not None for v in values):
            doc.snapshot_at = utcnow()

    def prepare_lines(
        self, session: Any, registry: Any, doc: Any, line_model: Any, lines: list[Any], row_ref: Any, new: list[bool]
    ) -> list[Any]:
        """Each new line takes its book at the snapshot, and so does a saved line whose item or batch changes
        (it counts something else then): one query of balances and one of the moves since for all of them."""
        errors = super().prepare_lines(session, registry, doc, line_model, lines, row_ref, new)
        if doc.warehouse_id is None:
            return errors
        if doc.snapshot_at is None:  # saved without lines: counting starts now
            doc.snapshot_at = utcnow()
        booking = []
        for line, adding in zip(lines, new, strict=True):
            if line.item_id is None:
                continue
            if adding:
                booking.append(line)
                continue
            state = inspect(line)
            if state.attrs.item_id.history.has_changes() or state.attrs.batch.history.has_changes():
                booking.append(line)
        if booking:
            slots = {(line.item_id, (line.batch or "").strip()) for line in booking}
            books = books_at_snapshot(session, registry, doc.warehouse_id, slots, doc.snapshot_at)
            for line in booking:
                line.book_qty = books[(line.item_id, (line.batch or "").strip())]
        return errors

    def check(self, doc: Any, lines: list[Any]) -> None:
        """The batch and serial rules, and every line that differs from the book (a gain or a loss) says why
        (差异原因): a difference without a reason is not posted. A draft saves without one."""
        super().check(doc, lines)
        errors = unexplained(lines)
        if errors:
            raise ValidationFailed(errors)

    def prepare_post(self, doc: Any) -> None:
        """A whole-warehouse count first adds the stock no line counts, counted 0 (a loss of all of it)."""
        if getattr(doc, "scope", None) == "whole":
            self._uncounted(doc)

    def _uncounted(self, doc: Any) -> None:
        """Lines counted 0 for each stock of the warehouse (and category) with no counted line (`unposted`), written."""
        listed, added = self.unposted(doc)
        for line_id, values in listed.items():
            line = self.ctx.row("stocktake_line", line_id)
            line.counted_qty, line.book_qty = values["counted_qty"], values["book_qty"]
            line.reason = line.reason or values["reason"]  # the reason a clerk gave it stays
        self.ctx.add_lines(doc, "stocktake", added)

    def unposted(self, doc: Any) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
        """A whole-warehouse count: lines counted 0 for each stock of the warehouse (and category) with no counted
        line, as (listed line id -> its columns, new lines' columns), nothing written. The book is what is on hand
        now, so the stock ends at 0 whatever moved since the snapshot. The lines are read as (id, item, batch,
        counted) only; a line listed but not counted is counted 0 where it is."""
        if getattr(doc, "scope", None) != "whole":
            return {}, []
        slots = self.ctx.line_slots(doc, "stocktake")
        counted = {(item_id, batch) for _, item_id, batch, qty in slots if qty is not None}
        listed: dict[tuple[int, str], int] = {}
        for line_id, item_id, batch, qty in slots:
            if qty is None:
                listed.setdefault((item_id, batch), line_id)
        del slots
        category = getattr(doc, "category_id", None)
        changed: dict[int, dict[str, Any]] = {}
        added = []
        for item_id, batch, qty in self.ctx.stock_on_hand(doc.warehouse_id, category):
            key = (item_id, batch.strip())
            if key in counted:
                continue
            if key in listed:
                changed[listed[key]] = {"counted_qty": Decimal(0), "book_qty": qty, "reason": NOT_FOUND}
            else:
                added.append(
                    {
                        "item_id": item_id,
                        "batch": batch or None,
                        "book_qty": qty,
                        "counted_qty": Decimal(0),
                        "reason": NOT_FOUND,
                    }
                )
        return changed, added

    def stock_effects(self, doc: Any, lines: list[Any]) -> list[Effect]:
        effects: list[Effect] = []
        errors: list[CellError] = []
        tracked = self.ctx.tracking({line.item_id for line in lines})
        for i, line in enumerate(lines):
            if line.counted_qty is None:
                continue
            diff = Decimal(line.counted_qty) - Decimal(line.book_qty or 0)
            info = tracked.get(line.item_id)
            if info is not None and info.serial:
                effects.extend(self._serial_effects(doc, i, line, diff, errors))
            elif diff > 0:
                effects.append(line_effect(i, line, doc.warehouse_id, IN, "gain", qty=diff))
            elif diff < 0:
                effects.append(line_effect(i, line, doc.warehouse_id, OUT, "loss", qty=-diff))
        if errors:
            raise ValidationFailed(errors)
        return effects

    def _serial_effects(self, doc: Any, i: int, line: Any, diff: Decimal, errors: list[CellError]) -> list[Effect]:
        """Gains and losses of a line counted by serial, against the serials in stock at the snapshot (when
        its book quantity was taken)."""
        counted = rules.parse(line.serials)
        batch = (line.batch or "").strip()
        booked = self.ctx.serials_in_stock(line.item_id, doc.warehouse_id, batch, doc.snapshot_at or line.created_at)
        gained = tuple(s for s in counted if s not in booked)
        lost = tuple(sorted(booked - set(counted)))
        if len(gained) - len(lost) != diff:
            errors.append(
                CellError(
                    f"lines.{i}.serials",
                    t("serial_book", booked=len(booked), book=plain_decimal(Decimal(line.book_qty or 0))),
                )
            )
            return []
        effects = []
        if gained:
            effects.append(line_effect(i, line, doc.warehouse_id, IN, "gain", qty=Decimal(len(gained)), serials=gained))
        if lost:
            effects.append(line_effect(i, line, doc.warehouse_id, OUT, "loss", qty=Decimal(len(lost)), serials=lost))
        return effects

    def after_post(self, doc: Any, lines: list[Any], moves: dict[tuple[int, str], Move]) -> None:
        """Each line's unit cost and its amount: what its gain and loss moves posted, to the cent (the
        ledger's exact value, not the rounded unit cost times the difference)."""
        for line in lines:
            legs = [moves[key] for key in ((line.id, "gain"), (line.id, "loss")) if key in moves]
            if legs:
                line.price = legs[0].unit_cost
                line.amount = sum((move.value for move in legs), Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


def unexplained(lines: list[Any]) -> list[CellError]:
    """A cell error on the reason of each counted line whose count differs from its book and says not why: its line
    number, whether it is a gain or a loss and by how much."""
    errors = []
    for i, line in enumerate(lines):
        if line.counted_qty is None or line.reason:
            continue
        diff = Decimal(line.counted_qty) - Decimal(line.book_qty or 0)
        if diff:
            kind = t("stocktake_gain" if diff > 0 else "stocktake_loss")
            text = t("stocktake_reason_missing", line=line.line_no, kind=kind, qty=plain_decimal(abs(diff)))
            errors.append(CellError(f"lines.{i}.reason", text))
    return errors


def stock_on_hand(
    session: Any, registry: Any, warehouse_id: int, category_id: int | None
) -> list[tuple[int, str, Decimal]]:
    """(item, batch, qty) of every stock not at zero in the warehouse (items of the category, when given): what a
    whole-warehouse count counts, and the rows of a count sheet."""
    balance, item = registry.cls("stock_balance"), registry.cls("item")
    stmt = select(balance.item_id, balance.batch, balance.qty).where(
        balance.warehouse_id == warehouse_id, balance.qty != 0
    )
    if category_id is not None:
        stmt = stmt.where(balance.item_id.in_(select(item.id).where(item.category_id == category_id)))
    rows = session.execute(stmt.order_by(balance.item_id, balance.batch)).all()
    return [(row.item_id, row.batch or "", Decimal(row.qty)) for row in rows]


def books_at_snapshot(
    session: Any, registry: Any, warehouse_id: int, slots: set[tuple[int, str]], at: Any
) -> dict[tuple[int, str], Decimal]:
    """(item, batch) -> what the book held of it in the warehouse at `at` (the batch's, for an item that
    tracks batches; the item's whole stock otherwise): the balance now less the moves posted after `at` (the
    balance now when `at` is None). A few grouped queries per 5,000 items, whatever the number of slots."""
    balance, item, move = registry.cls("stock_balance"), registry.cls("item"), registry.cls("stock_move")
    ids = sorted({item_id for item_id, _ in slots})
    tracked: set[int] = set()
    held: dict[tuple[int, str], Decimal] = {}
    for part in chunked(ids):
        chunk = list(part)
        tracked.update(
            session.scalars(select(item.id).where(among(session, item.id, chunk), item.track_batch.is_(True)))
        )
        queries = [
            (
                ONE,
                select(balance.item_id, balance.batch, func.sum(balance.qty))
                .where(balance.warehouse_id == warehouse_id, among(session, balance.item_id, chunk))
                .group_by(balance.item_id, balance.batch),
            )
        ]
        if at is not None:
            queries.append(
                (
                    -ONE,
                    select(move.item_id, move.batch, func.sum(move.qty))
                    .where(move.warehouse_id == warehouse_id, among(session, move.item_id, chunk), move.posted_at > at)
                    .group_by(move.item_id, move.batch),
                )
            )
        for sign, query in queries:
            for item_id, batch, qty in session.execute(query):
                key = (item_id, (batch or "").strip())
                held[key] = held.get(key, Decimal(0)) + sign * Decimal(qty or 0)
    whole: dict[int, Decimal] = {}
    for (item_id, _), qty in held.items():
        whole[item_id] = whole.get(item_id, Decimal(0)) + qty
    return {
        (item_id, batch): held.get((item_id, batch), Decimal(0))
        if item_id in tracked
        else whole.get(item_id, Decimal(0))
        for item_id, batch in slots
    }
