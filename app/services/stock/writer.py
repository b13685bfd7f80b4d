"""Writing one posting's stock effects: balance rows, stock moves, FIFO layers and serial numbers.

Locking: balance rows are locked in one fixed order (item, warehouse, batch), in one statement, so multi-line
documents do not deadlock each other; a stock with no row yet gets it from the posting's write, inserted with its
final values (`ON CONFLICT DO NOTHING` on PostgreSQL: when another first posting of the same stock inserted it
first, the posting runs again from the start, InsertRace; two first postings of the same new stocks may also meet
in the opposite order, which PostgreSQL breaks as a deadlock, and the posting runs again). Each line posts once
(unique stock_move.move_key) and is reversed at most once (unique stock_move.reverses).

Costing: moving average, or FIFO for items whose `costing` is fifo (app/ledger/fifo.py). A stock's
cost layers are read and written under its balance row lock, in the same transaction as the moves.
stock_balance.costing records the method a stock is valued by; when the item's method differs, the
stock switches at its next posting (FIFO starts with what is on hand as one layer; moving average
merges the layers into the average it already has).

Batches and serial numbers: an item that tracks batches holds its stock per batch and its sales
orders reserve in the warehouse (the batch-less row), so its posting locks every batch row of the item
in that warehouse (same fixed order) and an issue from a batch never takes what orders hold. Serials of
items that track them are checked and moved with their lines' moves (app/services/stock/serials.py) and
stored after every balance row is locked, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.ledger import fifo
from app.ledger.effects import IN, RELEASE, RESERVE, Effect
from app.ledger.reservation import release, reserve
from app.ledger.serials import Place, listing
from app.ledger.valuation import Balance, Move, Shortage, issue, receive, receive_value, reverse
from app.meta.spec import ModelSpec
from app.meta.types import plain_decimal
from app.services.records.bulk import (
    among,
    among_param,
    keys_among,
    keys_among_param,
    keys_among_values,
)
from app.services.records.computed import compute_columns
from app.services.records.settings import policy
from app.services.records.tables import audit_log
from app.services.stock.bulk import CHUNK, bulk_insert, bulk_update, chunked, insert_and_update
from app.services.stock.cost_layers import (
    FIFO,
    MOVING_AVERAGE,
    StockKey,
    read_layers,
    read_takes,
    save_all_layers,
)
from app.services.stock.serials import SerialRace, SerialStore, Tracking, steps_of


@dataclass(slots=True)
class _Slot:
    """A locked balance row (its columns as read under the lock) and its running value while one
    document posts."""

    row: Any
    balance: Balance
    allow_negative: bool
    reserved: Decimal = Decimal(0)
    revalued: bool = False  # a move may have changed the average cost (anything in, a FIFO issue, a reversal)
    fifo: bool = False  # valued first in, first out (by `stock`'s layers)
    stock: fifo.Stock | None = None  # the layers, when FIFO values the stock or has just stopped
    takes: list[tuple[str | None, fifo.Take]] = field(default_factory=list)  # (move key, take) to store


@dataclass(slots=True)
class _NewRow:
    """A stock with no balance row yet, as `_lock_rows` reads rows: its row is created by the posting's write, with
    its final values (`_save_balances`), not inserted empty to be locked and then updated."""

    item_id: int
    warehouse_id: int
    batch: str
    warehouse_allows_negative: bool
    id: int | None = None
    costing: str | None = None
    qty: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    reserved_qty: Decimal = Decimal(0)
    late: bool = False  # a check's (StockCarry): a move its earlier postings wrote is dated after the posting's


@dataclass(slots=True)
class StockCarry:
    """What a check's postings did to each stock, kept here instead of written (an import's check, docs/imports.md):
    its postings read the balance rows without locking them and leave them, their FIFO layers and the items' cost as
    they are, so nobody's posting waits for a check; each posting of the check starts from what the ones before it
    left (`slot`), as the import's postings start from what the ones before them wrote. The moves, lines, serials and
    audit rows are written as posting writes them (inserts that lock nothing others post by), so a later document
    of the file dated before one of them is refused as the import refuses it.

    The check's caller says what stands: `keep` once a document's savepoint is released, `drop` when it is rolled
    back (and at each attempt of a posting: what a retried attempt did is gone with it)."""

    kept: dict[StockKey, _Slot] = field(default_factory=dict)
    costs: dict[int, Decimal] = field(default_factory=dict)  # the items' cost price as the postings left it
    pending: dict[StockKey, _Slot] = field(default_factory=dict)  # the posting under way's
    pending_costs: dict[int, Decimal] = field(default_factory=dict)

    def keep(self) -> None:
        self.kept.update(self.pending)
        self.costs.update(self.pending_costs)
        self.drop()

    def drop(self) -> None:
        self.pending.clear()
        self.pending_costs.clear()

    def slot(self, key: StockKey) -> _Slot | None:
        """The stock as the check's postings so far left it (None: as the database holds it)."""
        found = self.pending.get(key)
        return found if found is not None else self.kept.get(key)

    def cost(self, item_id: int) -> Decimal | None:
        found = self.pending_costs.get(item_id)
        return found if found is not None else self.costs.get(item_id)

    def stocks_of(self, pairs: Collection[tuple[int, int]]) -> dict[StockKey, Decimal]:
        """{stock: quantity on hand as the check's postings left it} of these (item, warehouse) pairs, every batch."""
        wanted = set(pairs)
        return {
            key: slot.balance.qty
            for key in {*self.kept, *self.pending}
            if (key[0], key[1]) in wanted and (slot := self.slot(key)) is not None
        }


CARRY = "jxc_stock_carry"  # Session.info: the check's StockCarry while its documents are written and posted


@contextmanager
def carrying(session: Session, on: bool) -> Iterator[StockCarry | None]:
    """A check's StockCarry (None unless `on`), known to the session's other readers of stock while the check runs
    (`carried`: the batch a new delivery line is given, app/services/stock/lots.py), then forgotten."""
    if not on:
        yield None
        return
    carry = session.info[CARRY] = StockCarry()
    try:
        yield carry
    finally:
        session.info.pop(CARRY, None)


def carried(session: Session) -> StockCarry | None:
    """The StockCarry of the check running in this session (None: there is none, stock is as its rows say)."""
    return session.info.get(CARRY)


class StockWriter:
    """The stock side of one posting (a fresh one per transaction attempt): locks the balance rows,
    applies the effects, writes the moves, FIFO layers and balances, and moves the serials.

    Lock order: each `post` and `reverse` locks the balance rows it needs (for an item that tracks
    batches, every batch row of the item in the warehouse) in one statement ordered by (item, warehouse,
    batch), posts to the missing ones as empty stocks (their rows inserted with their final values by the write),
    and reads FIFO layers and serials only under those locks; item rows are updated last, in id order, and only
    for stock that came in. A cancel calls `reverse`, then `post` for its cancel effects (a delivery re-reserving
    on its order), in the same transaction.

    Invariants: all or nothing (a refusal rolls back and raises ValidationFailed naming every bad
    cell); a balance row and its layers are written only under its lock; `save_serials` stores the
    serials moved once every balance row is locked, refusing the posting (SerialRace) if another
    posting moved one meanwhile."""

    def __init__(
        self,
        session: Session,
        registry: Any,
        user_id: int | None,
        tracking: Callable[[Collection[int]], dict[int, Tracking]],
        rollback: bool = True,
        dry: bool = False,
        carry: StockCarry | None = None,
    ) -> None:
        self.session = session
        self.rollback = rollback  # roll back on a refusal (False: the caller's savepoint does, an import)
        # values what it posts and keeps nothing to write (what posting would value a document at, to the cent, by
        # the same costing under the same locks): `post` only, never `write`, `reverse` or `save_serials`
        self.dry = dry
        # a check's posting (StockCarry): reads balance rows unlocked, keeps balances, layers and costs in `carry`
        self.carry = carry
        self.registry = registry
        self.user_id = user_id
        self.tracking = tracking  # the posting service's cached look-up of batch / serial flags
        self._serials = SerialStore(session)
        self._moves: list[dict[str, Any]] = []  # stock_move rows to insert (one statement per chunk, as they come)
        self._costs: dict[int, Decimal] = {}  # items' own cost (cost_price, else purchase_price), read in bulk
        self._unsaved: dict[StockKey, _Slot] = {}  # posted, not yet written (post's write=False)
        self._audit_rows: list[dict[str, Any]] = []  # written by the next write of the moves and balances
        self._now = utcnow()  # when the moves of the `post` or `reverse` under way are posted

    # -- posting and reversing ------------------------------------------------------------------

    def post(
        self, model: ModelSpec, doc: Any, effects: list[Effect], write: bool = True, dated: bool = False
    ) -> dict[tuple[int, str], Move]:
        """Apply every effect to the locked balances; all or nothing, every shortage reported.

        Returns the move each leg posted, by (line id, leg): its unit cost and its exact value. With `write`
        False the moves and balances are kept for `write`, which the caller calls next (with what posting
        learned on the lines: one statement under the locks). `dated`: refuse the document when a stock it moves
        has a move dated after it (no silent re-costing), before any shortage; read with the balance locks."""
        self._now = utcnow()  # the moves' posted_at: one call for a stocktake's 100,000 moves, not one each
        day = doc.date if dated else None
        slots = self._lock([(e.item_id, e.warehouse_id, e.batch) for e in effects], after=day)
        if day is not None:
            self._refuse_backdated(day, slots, effects)
        # the items' own cost, read in bulk for the moves that may take it (nothing on hand to take a cost from, and
        # not in at a value of their own: an opening balance's 20,000 new stocks ask none)
        moved = [e for e in effects if e.direction not in (RESERVE, RELEASE)]
        self._read_costs(
            {e.item_id for e in moved if self._needs_fallback(slots[(e.item_id, e.warehouse_id, e.batch)], e)}
        )
        moves: dict[tuple[int, str], Move] = {}
        pieces: dict[tuple[int, str], tuple[fifo.Piece, ...]] = {}
        errors = []
        serial_items = {i for i, info in self.tracking({e.item_id for e in effects}).items() if info.serial}
        moving = [e for e in effects if e.item_id in serial_items and e.direction not in (RESERVE, RELEASE)]
        self._serials.load((e.item_id, serial) for e in moving for serial in e.serials)
        groups = self._batch_groups(slots)
        refused: set[int] = set()
        for effect in effects:
            slot = slots[(effect.item_id, effect.warehouse_id, effect.batch)]
            if effect.qty <= 0:
                errors.append(CellError(f"lines.{effect.line_index}.qty", t("qty_positive")))
                continue
            if effect.item_id in serial_items and effect.line_index in refused:
                continue  # the line's serials were refused on an earlier leg (a transfer's out-leg)
            serial_problem = self._serial_problem(effect) if effect.item_id in serial_items else None
            if serial_problem is not None:
                errors.append(serial_problem)
                refused.add(effect.line_index)
                continue
            if effect.direction in (RESERVE, RELEASE):
                shortage = self._apply_reservation(groups, slot, effect)
            else:
                shortage = self._apply_move(model, doc, groups, slot, effect, moves, pieces)
            if shortage is not None:
                params = {"available": plain_decimal(shortage.available), "wanted": plain_decimal(shortage.wanted)}
                message = (
                    t("short_stock_batch", batch=effect.batch, **params) if effect.batch else t("short_stock", **params)
                )
                errors.append(CellError(f"lines.{effect.line_index}.qty", self._of_item(effect.item_id, message)))
            elif effect.item_id in serial_items and effect.direction not in (RESERVE, RELEASE):
                self._move_serials(model, effect)
        if errors:
            if self.rollback:
                self.session.rollback()
            raise ValidationFailed(errors)
        if write:
            self._save_balances(slots)
        else:
            self._unsaved = slots
        return moves

    def write(self, lines: tuple[Any, list[dict[str, Any]]] | None = None, last: bool = False) -> None:
        """Write what `post(write=False)` kept: the moves and balances and, in the same statement where they
        fit one, `lines` (table, rows: the changed columns of the posted lines, versioned as bulk_update's).

        `last`: the caller commits next and writes nothing this statement's rows must be in the database for
        (a whole document posting): where it is the posting's last statement (no FIFO layers, item costs or
        serials after it), PostgreSQL gets it with the COMMIT, in one round trip (`send_with_commit`)."""
        slots, self._unsaved = self._unsaved, {}
        self._save_balances(slots, lines, last and not self._serials.book.steps)

    def audit(self, row: dict[str, Any]) -> None:
        """Write this audit row (`change_row`: the posting's) with the next moves and balances, in their statement
        where they have one (PostgreSQL): one statement a posting fewer, with the COMMIT where that one is."""
        self._audit_rows.append(row)

    def reverse(self, model: ModelSpec, doc: Any, also: Collection[StockKey] = ()) -> int:
        """Post a move reversing each move the document posted, at its own value (FIFO: giving each
        layer back what it took), and move its serials back; all or nothing. Returns how many.

        `also` are stocks the same transaction posts to next: they are locked in the same pass."""
        move_cls = self.registry.cls("stock_move")
        read = ("id", "move_key", "item_id", "warehouse_id", "batch", "qty", "unit_cost", "value", "qty_after")
        originals = list(
            self.session.execute(  # their columns, not ORM objects: a 100,000-line stocktake's moves are held at once
                select(*[getattr(move_cls, name) for name in (*read, "value_after", "document_line_id")])
                .where(
                    move_cls.document_model == model.key,
                    move_cls.document_number == doc.number,
                    move_cls.reverses.is_(None),
                )
                .order_by(move_cls.id)
            )
        )
        self._now = utcnow()
        takes = read_takes(self.session, [m.move_key for m in originals])
        slots = self._lock(
            [(m.item_id, m.warehouse_id, m.batch or "") for m in originals] + list(also),
            layer_ids={take.layer for found in takes.values() for take in found},
        )
        errors = self._reverse_serials(originals, lambda: [line.id for line in doc.lines] if model.lines_model else [])
        for move in originals:
            slot = slots[(move.item_id, move.warehouse_id, move.batch or "")]
            original = Move(move.qty, move.unit_cost, move.value, move.qty_after, move.value_after)
            result: Move | fifo.Posted | Shortage | fifo.Consumed
            if slot.fifo and slot.stock is not None:
                result = fifo.reverse(slot.stock, original, takes.get(move.move_key, []), slot.allow_negative)
            else:
                result = reverse(slot.balance, original, slot.allow_negative)
            if isinstance(result, (Shortage, fifo.Consumed)):
                # not enough left to take back, or (FIFO) the received layer was issued from since
                message = "short_stock_cancel" if isinstance(result, Shortage) else "fifo_layer_used"
                amounts = {"available": plain_decimal(result.available), "wanted": plain_decimal(result.wanted)}
                errors.append(CellError("lines", self._of_item(move.item_id, t(message, **amounts))))
                continue
            key = f"{move.move_key}:rev"
            slot.revalued = True
            self._write_move(
                slot, model, doc, move.document_line_id, key, self._keep(slot, key, result), reverses=move.id
            )
        if errors:
            if self.rollback:
                self.session.rollback()
            raise ValidationFailed(errors)
        self._save_balances(slots)
        return len(originals)

    def save_serials(self) -> None:
        """Store where the serials moved by this posting are now (after every balance row is locked)."""
        lost = self._serials.save()
        if lost:
            raise SerialRace(lost)

    # -- applying effects -----------------------------------------------------------------------

    def _apply_reservation(
        self, groups: dict[tuple[int, int], list[_Slot]], slot: _Slot, effect: Effect
    ) -> Shortage | None:
        if effect.direction == RELEASE:
            slot.reserved = release(slot.reserved, effect.qty)
            return None
        # an item that tracks batches is reserved in the warehouse: against the stock of all its batches
        group = groups.get((effect.item_id, effect.warehouse_id), [slot])
        on_hand = sum((s.balance.qty for s in group), Decimal(0))
        held = sum((s.reserved for s in group), Decimal(0))
        result = reserve(on_hand, held, effect.qty, slot.allow_negative)
        if isinstance(result, Shortage):
            return result
        slot.reserved += effect.qty
        return None

    def _batch_groups(self, slots: dict[StockKey, _Slot]) -> dict[tuple[int, int], list[_Slot]]:
        """The locked rows of each item that tracks batches in each warehouse, every batch."""
        tracked = self.tracking({key[0] for key in slots})
        groups: dict[tuple[int, int], list[_Slot]] = {}
        for key, slot in slots.items():
            if tracked.get(key[0]) is not None and tracked[key[0]].batch:
                groups.setdefault((key[0], key[1]), []).append(slot)
        return groups

    @staticmethod
    def _held_elsewhere(groups: dict[tuple[int, int], list[_Slot]], slot: _Slot, effect: Effect) -> Decimal:
        """What orders hold that this stock must keep for them: its own reservations or, for an item that
        tracks batches, the warehouse's reservations beyond what its other batches have on hand."""
        group = groups.get((effect.item_id, effect.warehouse_id))
        if group is None:
            return slot.reserved
        held = sum((s.reserved for s in group), Decimal(0))
        others = sum((s.balance.qty for s in group if s is not slot), Decimal(0))
        return max(held - others, Decimal(0))

    def _apply_move(
        self,
        model: ModelSpec,
        doc: Any,
        groups: dict[tuple[int, int], list[_Slot]],
        slot: _Slot,
        effect: Effect,
        moves: dict[tuple[int, str], Move],
        pieces: dict[tuple[int, str], tuple[fifo.Piece, ...]],
    ) -> Shortage | None:
        # the item's own cost is only needed when nothing is on hand to take a cost from
        fallback = self._item_cost(effect.item_id) if self._needs_fallback(slot, effect) else Decimal(0)
        result: Move | fifo.Posted | Shortage
        if effect.direction == IN:
            result = self._receive(slot, effect, fallback, moves, pieces)
        else:
            # a counted loss is a fact: it posts even past zero or into reserved stock
            forced = effect.leg == "loss"
            allow = slot.allow_negative or forced
            reserved = Decimal(0) if forced else self._held_elsewhere(groups, slot, effect)
            if slot.fifo and slot.stock is not None:
                result = fifo.issue(slot.stock, effect.qty, allow, fallback, reserved)
            else:
                result = issue(slot.balance, effect.qty, allow, fallback, reserved)
        if isinstance(result, Shortage):
            return result
        if isinstance(result, fifo.Posted):
            pieces[(effect.line_id, effect.leg)] = result.pieces
        slot.revalued = slot.revalued or effect.direction == IN or slot.fifo
        key = f"{model.key}:{effect.line_id}:{effect.leg}"
        move = self._keep(slot, key, result)
        moves[(effect.line_id, effect.leg)] = move
        self._write_move(slot, model, doc, effect.line_id, key, move)
        return None

    @staticmethod
    def _receive(
        slot: _Slot,
        effect: Effect,
        fallback: Decimal,
        moves: dict[tuple[int, str], Move],
        pieces: dict[tuple[int, str], tuple[fifo.Piece, ...]],
    ) -> Move | fifo.Posted:
        """An inbound leg: at the value its document states, at the value its out-leg took (a transfer:
        FIFO brings in the very layers it took), else at its unit cost or the stock's average."""
        value = effect.value
        source: tuple[fifo.Piece, ...] = ()
        if effect.cost_from is not None:
            taken = moves.get((effect.line_id, effect.cost_from))
            value = -taken.value if taken is not None else None
            source = pieces.get((effect.line_id, effect.cost_from), ())
        if value is not None and not source:
            source = (fifo.Piece(effect.qty, value),)
        if slot.fifo and slot.stock is not None and source:
            return fifo.receive_pieces(slot.stock, source)
        if value is not None:
            return receive_value(slot.balance, effect.qty, value)
        cost = effect.unit_cost if effect.unit_cost is not None else slot.balance.avg_cost or fallback
        if slot.fifo and slot.stock is not None:
            return fifo.receive(slot.stock, effect.qty, cost)
        return receive(slot.balance, effect.qty, cost)

    @staticmethod
    def _needs_fallback(slot: _Slot, effect: Effect) -> bool:
        """Whether the move may need the item's own cost: nothing on hand (or, FIFO, not enough in layers), and not
        an inbound leg at a value or unit cost of its own (`_receive` asks the item's cost of no such leg)."""
        if effect.direction == IN and effect.cost_from is None and (effect.value, effect.unit_cost) != (None, None):
            return False
        if slot.fifo and slot.stock is not None and effect.direction != IN:
            return fifo.on_hand(slot.stock) < effect.qty
        return slot.balance.qty <= 0

    @staticmethod
    def _keep(slot: _Slot, move_key: str, result: Move | fifo.Posted) -> Move:
        """The move to write; a FIFO move's layers and takes are kept on the slot until the balances are saved."""
        if isinstance(result, fifo.Posted):
            slot.stock = result.stock
            slot.takes.extend((move_key, take) for take in result.takes)
            return result.move
        return result

    def _of_item(self, item_id: int, message: str) -> str:
        """A stock message that names its item (code and name): a document has many lines."""
        item = self.session.get(self.registry.cls("item"), item_id)
        if item is None:
            return message
        return t("short_stock.of_item", item=f"{item.sku} {item.name}".strip(), message=message)

    def _item_cost(self, item_id: int) -> Decimal:
        if item_id not in self._costs:
            self._read_costs([item_id])
        return self._costs.get(item_id, Decimal(0))

    def _read_costs(self, item_ids: Collection[int]) -> None:
        """The own cost of these items (cost_price, else purchase_price), one query per chunk."""
        item = self.registry.cls("item")
        wanted = sorted(set(item_ids) - set(self._costs))
        for part in chunked(wanted):
            rows = self.session.execute(
                select(item.id, item.cost_price, item.purchase_price).where(among(self.session, item.id, list(part)))
            )
            for item_id, cost_price, purchase_price in rows:
                carried = self.carry.cost(item_id) if self.carry is not None else None
                self._costs[item_id] = Decimal((cost_price if carried is None else carried) or purchase_price or 0)

    # -- locking balance rows -------------------------------------------------------------------

    def _lock(self, keys: list[StockKey], layer_ids: Collection[int] = (), after: Any = None) -> dict[StockKey, _Slot]:
        """Lock the balance rows in one fixed order (one statement per chunk of keys, the chunks in that order
        too); the missing ones are empty stocks (`_new_rows`) whose rows the write inserts with their final values;
        read FIFO layers (the open ones, and `layer_ids` a cancel gives back to) under those locks. `after`: a date;
        each row read says whether its stock has a move dated after it (`late`).

        A stock's first posting is the only one that creates its row: another first posting of it that inserts the
        row first makes this one's insert find it taken (InsertRace), and two such postings of several new stocks can
        meet in the opposite order (a deadlock PostgreSQL ends); either way `retrying` runs the posting again from the
        start, where the rows exist and are locked as any other."""
        wanted = self._with_other_batches(sorted(set(keys)))
        if not wanted:
            return {}
        negative_ok = self._negative_allowed({key[0] for key in wanted})
        locked = self._lock_rows(wanted, after)
        present = {(row.item_id, row.warehouse_id, row.batch or "") for row in locked}
        locked.extend(self._new_rows([key for key in wanted if key not in present]))
        slots = {
            (row.item_id, row.warehouse_id, row.batch or ""): _Slot(
                row,
                Balance(row.qty or Decimal(0), row.value or Decimal(0)),
                negative_ok(row.item_id) or bool(row.warehouse_allows_negative),
                row.reserved_qty or Decimal(0),
            )
            for row in locked
        }
        self._load_costing(slots, layer_ids)
        if self.carry is not None:
            self._carried(self.carry, slots, after)
        return slots

    def _carried(self, carry: StockCarry, slots: dict[StockKey, _Slot], after: Any) -> None:
        """A check's posting: each stock as the check's postings before it left it; a stock they began (no row yet)
        is `late` when a move they wrote is dated after `after`, as its row would say."""
        begun = []
        for key, slot in slots.items():
            before = carry.slot(key)
            if before is None:
                continue
            slot.balance, slot.reserved = before.balance, before.reserved
            slot.fifo, slot.stock = before.fifo, before.stock
            slot.takes = []
            if isinstance(slot.row, _NewRow):
                begun.append(key)
        if after is None or not begun:
            return
        move = self.registry.cls("stock_move").__table__
        keys = (move.c.item_id, move.c.warehouse_id, move.c.batch)
        later = self.session.execute(
            select(*keys).where(move.c.date > after, keys_among(self.session, keys, begun)).distinct()
        )
        for key in {(row.item_id, row.warehouse_id, row.batch or "") for row in later}:
            slots[key].row.late = True

    def _lock_rows(self, keys: list[StockKey], after: Any = None) -> list[Any]:
        """The balance rows of these (sorted) keys that exist, locked FOR UPDATE in key order, each with its
        warehouse's negative-stock switch (`warehouse_allows_negative`): the columns posting reads only (a
        stocktake's 100,000 rows are held while it posts). With `after` (a date), each says too whether its stock
        has a move dated after it (`late`)."""
        dialect = self.session.get_bind().dialect.name
        stmt = _lock_statement(self.registry, dialect, after is not None, locked=self.carry is None)
        locked: list[Any] = []
        for part in chunked(keys):
            values = keys_among_values(dialect, "k", 3, part)
            if after is not None:
                values |= {"day": after, "late_items": sorted({key[0] for key in part})}
            locked.extend(self.session.execute(stmt, values).all())
        return locked

    def _refuse_backdated(self, day: Any, slots: dict[StockKey, _Slot], effects: list[Effect]) -> None:
        """Refuse (rolling back) a posting dated `day` when a stock one of its moves posts to has a move dated after
        it (the lock read's `late`), naming the latest such date (read only then)."""
        keys = {(e.item_id, e.warehouse_id, e.batch) for e in effects if e.direction not in (RESERVE, RELEASE)}
        late = [key for key in keys if getattr(slots[key].row, "late", False)]
        if not late:
            return
        move = self.registry.cls("stock_move").__table__
        found = self.session.execute(
            select(func.max(move.c.date)).where(
                move.c.date > day, keys_among(self.session, (move.c.item_id, move.c.warehouse_id, move.c.batch), late)
            )
        ).scalar()
        if self.rollback:
            self.session.rollback()
        raise ValidationFailed([CellError("date", t("backdated", date=found.isoformat()))])

    def _new_rows(self, keys: list[StockKey]) -> list[_NewRow]:
        """The stocks of these keys, which have no balance row yet, as `_lock_rows` reads rows (with their
        warehouse's negative-stock switch): their rows are created by the write, with their final values.

        Nothing is locked for them meanwhile: another posting may create the same row first. The write inserts them
        `ON CONFLICT DO NOTHING` (PostgreSQL), which waits for that posting's insert and, when it commits, inserts
        nothing: counted, InsertRace, and `retrying` posts again from the start, where the row is read and locked as
        any other (what this attempt computed from "nothing on hand" is dropped with its transaction). On SQLite
        the writer holds the database's write lock, so no other posting creates a row meanwhile. Inserting the rows
        empty to lock them, then updating them, was a sixth of a 20,000-line opening balance's posting."""
        if not keys:
            return []
        warehouse = self.registry.cls("warehouse").__table__
        negative = dict(
            self.session.execute(
                select(warehouse.c.id, warehouse.c.allow_negative).where(
                    warehouse.c.id.in_(sorted({key[1] for key in keys}))
                )
            ).all()
        )
        return [
            _NewRow(item_id, warehouse_id, batch, bool(negative.get(warehouse_id)))
            for item_id, warehouse_id, batch in keys
        ]

    def _with_other_batches(self, keys: list[StockKey]) -> list[StockKey]:
        """The keys and, for items that track batches, every other batch row of the item in the warehouse
        (an issue from one batch must see what orders hold in the warehouse); same fixed order."""
        tracked = {item_id for item_id, info in self.tracking({key[0] for key in keys}).items() if info.batch}
        pairs = sorted({(key[0], key[1]) for key in keys if key[0] in tracked})
        if not pairs:
            return keys
        balance_cls = self.registry.cls("stock_balance")
        found = self.session.execute(
            select(balance_cls.item_id, balance_cls.warehouse_id, balance_cls.batch).where(
                keys_among(self.session, (balance_cls.item_id, balance_cls.warehouse_id), pairs)
            )
        )
        others = {(row.item_id, row.warehouse_id, row.batch or "") for row in found}
        if self.carry is not None:  # a batch a check's earlier posting brought in has no row: its slot says so
            others |= set(self.carry.stocks_of(pairs))
        return sorted(set(keys) | others)

    def _load_costing(self, slots: dict[StockKey, _Slot], layer_ids: Collection[int]) -> None:
        """Which locked stocks FIFO values, with their layers; a stock whose item changed its costing
        method switches now (FIFO starts from what is on hand as one layer, or its layers close)."""
        fifo_now = {item_id for item_id, info in self.tracking({key[0] for key in slots}).items() if info.fifo}
        wanted = [key for key, slot in slots.items() if key[0] in fifo_now or slot.row.costing == FIFO]
        if not wanted:
            return
        # a stock with no row yet has no layers either (they are written with its row): only the others are read
        layers = read_layers(self.session, [key for key in wanted if slots[key].row.id is not None], layer_ids)
        for key in wanted:
            slot = slots[key]
            stock = fifo.Stock(slot.balance, tuple(layers.get(key, ())))
            slot.fifo = key[0] in fifo_now
            if slot.fifo != (slot.row.costing == FIFO):
                switched = fifo.start(stock) if slot.fifo else fifo.stop(stock)
                slot.takes.extend((None, take) for take in switched.takes)
                stock = switched.stock
            slot.stock = stock

    def _negative_allowed(self, item_ids: set[int]) -> Callable[[int], bool]:
        """Whether an item's stock may go below zero by the switch or the item (read with its tracking); the
        warehouse's own switch is read with its balance rows (`_lock_rows`)."""
        if policy(self.session, self.registry, "allow_negative_stock"):
            return lambda _item: True
        items = {item_id for item_id, info in self.tracking(item_ids).items() if info.allow_negative}
        return items.__contains__

    # -- serial numbers -------------------------------------------------------------------------

    def _serial_problem(self, effect: Effect) -> CellError | None:
        """Why the effect's serials may not move (None: they may), as the line's serials cell error."""
        cell = f"lines.{effect.line_index}.serials"
        if effect.direction in (RESERVE, RELEASE):
            return None
        if len(set(effect.serials)) != len(effect.serials) or len(effect.serials) != effect.qty:
            return CellError(cell, t("serial_count", qty=plain_decimal(effect.qty), count=len(set(effect.serials))))
        book = self._serials.book
        if effect.direction == IN:
            found = book.in_stock_elsewhere(effect.item_id, effect.serials)
            if found:
                named = listing(f"{serial} ({self._place_text(place)})" for serial, place in found)
                return CellError(cell, t("serial_in_stock", serials=named))
            return None
        place = Place(effect.warehouse_id, effect.batch)
        missing = book.missing(effect.item_id, effect.serials, place)
        if missing:
            return CellError(cell, t("serial_not_here", place=self._place_text(place), serials=listing(missing)))
        return None

    def _move_serials(self, model: ModelSpec, effect: Effect) -> None:
        """Register the effect's serials as moved by its stock move (checked by _serial_problem)."""
        key = f"{model.key}:{effect.line_id}:{effect.leg}"
        place = Place(effect.warehouse_id, effect.batch)
        if effect.direction == IN:
            self._serials.book.bring_in(effect.item_id, effect.serials, place, key)
        else:
            self._serials.book.take_out(effect.item_id, effect.serials, place, key)

    def _reverse_serials(self, originals: list[Any], line_ids: Callable[[], list[int]]) -> list[CellError]:
        """Move every serial the original moves moved back, latest first (a transfer's in-leg before its
        out-leg); what can no longer go back is refused, naming the serials by their line (`line_ids`, the
        document's in line order, asked only when serials moved)."""
        by_key = {move.move_key: move for move in originals}
        steps = steps_of(self.session, list(by_key))
        if not steps:
            return []
        self._serials.load((step.item_id, step.serial) for step in steps)
        book = self._serials.book
        index = {line_id: i for i, line_id in enumerate(line_ids())}
        errors = []
        refused: set[str] = set()
        for move_key, group in groupby(reversed(steps), key=lambda step: step.move_key):
            moved = list(group)
            item_id, place, came_in = moved[0].item_id, moved[0].place, moved[0].qty > 0
            serials = [step.serial for step in moved]
            line = index.get(by_key[move_key].document_line_id)
            cell = f"lines.{line}.serials" if line is not None else "lines"
            if cell in refused:
                continue  # one message per line: its other leg was refused already
            if came_in:
                missing = book.missing(item_id, serials, place)
                if missing:
                    errors.append(CellError(cell, t("serial_cancel_gone", serials=listing(missing))))
                    refused.add(cell)
                    continue
                book.take_out(item_id, serials, place, f"{move_key}:rev")
            else:
                found = book.in_stock_elsewhere(item_id, serials)
                if found:
                    named = listing(f"{serial} ({self._place_text(where)})" for serial, where in found)
                    errors.append(CellError(cell, t("serial_cancel_back", serials=named)))
                    refused.add(cell)
                    continue
                book.bring_in(item_id, serials, place, f"{move_key}:rev")
        return errors

    def _place_text(self, place: Place) -> str:
        warehouse = self.session.get(self.registry.cls("warehouse"), place.warehouse_id)
        code = warehouse.code if warehouse is not None else str(place.warehouse_id)
        return t("serial_place_batch", warehouse=code, batch=place.batch) if place.batch else code

    # -- writing moves and balances -------------------------------------------------------------

    def _write_move(
        self,
        slot: _Slot,
        model: ModelSpec,
        doc: Any,
        line_id: int,
        move_key: str,
        move: Move,
        reverses: int | None = None,
    ) -> None:
        """Keep the move's row for the one INSERT per chunk that `_save_moves` sends (a dry writer: only the balance
        it leaves, for the next move of the stock)."""
        if self.dry:
            slot.balance = move.balance_after
            return
        now = self._now
        row = {
            "item_id": slot.row.item_id,
            "warehouse_id": slot.row.warehouse_id,
            "batch": slot.row.batch or "",
            "qty": move.qty,
            "unit_cost": move.unit_cost,
            "value": move.value,
            "qty_after": move.qty_after,
            "value_after": move.value_after,
            "document_model": model.key,
            "document_number": doc.number,
            "document_line_id": line_id,
            "posted_at": now,
            "reverses": reverses,
            "move_key": move_key,
            "date": doc.date,
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "created_by_id": self.user_id,
            "updated_by_id": self.user_id,
        }
        self._moves.append(row)
        slot.balance = move.balance_after
        if len(self._moves) >= CHUNK:  # written as they come, a chunk at a time: 100,000 rows are not held at once
            self._save_moves()

    def _save_moves(self) -> None:
        """Insert the kept stock_move rows, in posting order."""
        bulk_insert(self.session, self.registry.cls("stock_move").__table__, self._pending_moves())

    def _pending_moves(self) -> list[dict[str, Any]]:
        """The kept stock_move rows with their computed fields (its direction), its columns only; no longer kept."""
        if not self._moves:
            return []
        move_model = self.registry.model("stock_move")
        computed = [spec for spec in move_model.data_fields if spec.compute]
        rows = self._moves
        self._moves = []
        if computed:  # column by column, each handler given what it reads (a move's direction: its qty)
            columns = {name: [row[name] for row in rows] for name in rows[0]}
            compute_columns(self.registry, move_model, columns)
            for spec in computed:
                for row, value in zip(rows, columns[spec.name], strict=True):
                    row[spec.name] = value
        table = self.registry.cls("stock_move").__table__
        names = [name for name in rows[0] if name in table.c]
        return rows if len(names) == len(rows[0]) else [{name: row[name] for name in names} for row in rows]

    def _save_balances(
        self, slots: dict[StockKey, _Slot], lines: tuple[Any, list[dict[str, Any]]] | None = None, last: bool = False
    ) -> None:
        """Write the moves, the new balances (with `lines`, see `write`), and the latest average cost of items
        whose average a move may have changed (in id order): the item's cost price follows the stock that
        moved last.

        Moving-average issues leave the average unchanged, so such deliveries never lock item rows; a
        FIFO issue takes the oldest layers and leaves another average, and a reversal takes a move out
        at its own value: both update the item's cost price too."""
        now = utcnow()
        item_cls = self.registry.cls("item")
        balance_table = self.registry.cls("stock_balance").__table__
        costs = {}
        for key in sorted(slots):
            balance = slots[key].balance
            if slots[key].revalued and balance.qty > 0:
                costs[key[0]] = balance.avg_cost  # the stock that moved last (in key order) sets it
        layered = any(slot.stock for slot in slots.values())
        updates, creates = [], []
        if self.carry is not None:  # a check's: the moves and lines written, the stocks kept in memory
            self.carry.pending.update(slots)
            self.carry.pending_costs.update(costs)
            slots, costs, layered = {}, {}, False
        for key in sorted(slots):
            slot = slots[key]
            values = {
                "qty": slot.balance.qty,
                "value": slot.balance.value,
                "avg_cost": slot.balance.avg_cost,
                "reserved_qty": slot.reserved,
                "costing": FIFO if slot.fifo else MOVING_AVERAGE,
                "updated_at": now,
            }
            if slot.row.id is not None:
                updates.append({"id": slot.row.id} | values)
            else:  # a stock's first posting: its row with its final values (`_new_rows`)
                creates.append({"item_id": key[0], "warehouse_id": key[1], "batch": key[2]} | values)
                creates[-1] |= {"version": 1, "created_at": now}
        # the last moves and the balances in one statement where they fit one (PostgreSQL); with the COMMIT when
        # nothing is written after it (a moving-average issue: the balance locks end with that one round trip)
        insert_and_update(
            self.session,
            self.registry.cls("stock_move").__table__,
            self._pending_moves(),
            balance_table,
            updates,
            increments=("version",),
            versioned=lines,
            with_commit=last and not layered and not costs,
            also=(audit_log, self._audit_rows),
            creates=creates,
        )
        self._audit_rows = []
        self._forget_balances()
        save_all_layers(
            self.session, [(key, slots[key].stock, slots[key].takes) for key in sorted(slots) if slots[key].stock]
        )
        for key in sorted(slots):
            slots[key].takes = []
        if costs:
            # item rows are locked in id order first (as an UPDATE would lock them: FOR NO KEY UPDATE), then
            # written in one statement per chunk, those whose cost changes only (a stocktake's gains at the
            # average cost leave it as it was: rewriting 100,000 items meant every one's search indexes again)
            ids = sorted(costs)
            stored: dict[int, Any] = {}
            for part in chunked(ids):
                locked = self.session.execute(
                    select(item_cls.id, item_cls.cost_price)
                    .where(among(self.session, item_cls.id, list(part)))
                    .order_by(item_cls.id)
                    .with_for_update(key_share=True)
                )
                stored.update((item_id, cost) for item_id, cost in locked)
            changed = [{"id": i, "cost_price": costs[i]} for i in ids if stored.get(i) != costs[i]]
            bulk_update(self.session, item_cls.__table__, changed)

    def _forget_balances(self) -> None:
        """Balance rows this session holds as objects (a page read them) are stale now: read them anew."""
        balance_cls = self.registry.cls("stock_balance")
        for obj in list(self.session.identity_map.values()):
            if isinstance(obj, balance_cls):
                self.session.expire(obj)


def _lock_statement(registry: Any, dialect: str, dated: bool, locked: bool = True) -> Any:
    """`_lock_rows`'s statement, its keys as parameters, built once per metadata version (Core columns only).

    `dated`: each row says too whether its stock has a move dated after `day` (`late`): the stock moves of the
    keys' items dated after it (by stock_move's date or item index, whichever the planner likes: both bounded), an
    uncorrelated subquery that PostgreSQL runs once and hashes, matched to each locked row's key. Not a join of
    the keys to the ledger: without statistics (fresh from a bulk posting) PostgreSQL took each of a 100,000-line
    stocktake's keys through the batch and warehouse indexes, for minutes."""

    def build() -> Any:
        table = registry.cls("stock_balance").__table__
        warehouse = registry.cls("warehouse").__table__
        key_columns = (table.c.item_id, table.c.warehouse_id, table.c.batch)
        read = [table.c[name] for name in ("id", "item_id", "warehouse_id", "batch", "qty", "value", "reserved_qty")]
        if dated:
            move = registry.cls("stock_move").__table__
            later = select(move.c.item_id, move.c.warehouse_id, move.c.batch).where(
                move.c.date > bindparam("day", type_=move.c.date.type),
                among_param(dialect, move.c.item_id, "late_items"),
            )
            read.append(tuple_(*key_columns).in_(later).label("late"))
        stmt = (
            select(*read, table.c.costing, warehouse.c.allow_negative.label("warehouse_allows_negative"))
            .join(warehouse, warehouse.c.id == table.c.warehouse_id)
            .where(keys_among_param(dialect, key_columns, "k"))
            .order_by(table.c.item_id, table.c.warehouse_id, table.c.batch)
        )
        return stmt.with_for_update(of=table) if locked else stmt  # unlocked: a check's (StockCarry)

    return registry.kept(("stock_lock_rows", dialect, dated, locked), build)
