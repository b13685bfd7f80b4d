"""Storage of serial numbers (jxc_serial: where each is now; jxc_serial_move: every move of it), and
the batch / serial flags of items.

Only the posting service writes serials, inside its transaction and after it has locked every
stock_balance row it posts to. A serial leaving a stock is read and written under that stock's lock;
a serial coming in must be in stock nowhere, which another stock's posting could change meanwhile, so
every row is written by compare-and-set (its version, or an insert that must not conflict) and a lost
race refuses the posting rather than waiting on a lock: no new lock order appears.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.ledger.serials import Book, Place, Step, in_stock_from
from app.services.records.bulk import among_param
from app.services.stock.bulk import chunked
from app.services.stock.cost_layers import FIFO
from app.services.stock.tables import serial, serial_move

CHUNK = 500  # (item, serial) pairs per query


class SerialRace(Exception):
    """Another posting moved these serials after this one read them; the posting starts again."""

    def __init__(self, serials: list[str]) -> None:
        super().__init__(", ".join(serials))
        self.serials = serials


class Tracking(NamedTuple):
    """What an item asks of the documents that move it (a tuple: a stocktake's posting makes 100,000)."""

    sku: str
    batch: bool = False
    serial: bool = False
    shelf_life_days: int | None = None
    unit_id: int | None = None  # the base unit (what lines without a unit ratio must count in)
    unit_name: str = ""
    fifo: bool = False  # valued first in, first out (its costing field), else at moving average
    allow_negative: bool = False  # its stock may go below zero


def item_tracking(session: Session, registry: Any, item_ids: Iterable[int]) -> dict[int, Tracking]:
    """The batch / serial flags, base unit, costing method and negative-stock switch of these items (one query).

    The item rows are read FOR KEY SHARE, in id order: a change of the flags (app/rules/item.py
    locks the item FOR UPDATE before it looks for stock) waits until the posting that read them has
    committed, while ordinary updates of the item (a receipt's cost price, a new sale price) do not."""
    ids = sorted({i for i in item_ids if i is not None})
    if not ids:
        return {}
    dialect = session.get_bind().dialect.name
    stmt = _tracking_statement(registry, dialect)
    rows: list[Any] = []
    for part in chunked(ids):  # in id order, chunk after chunk
        rows.extend(session.execute(stmt, {"ids": list(part)}).all())
    return {  # the row unpacked in its statement's column order (not a look-up by name per column)
        pk: Tracking(
            sku, bool(batch), bool(serial), shelf_life, unit_id, unit_name or "", costing == FIFO, bool(negative)
        )
        for pk, sku, batch, serial, shelf_life, unit_id, unit_name, costing, negative in rows
    }


def _tracking_statement(registry: Any, dialect: str) -> Any:
    """`item_tracking`'s statement, the ids a parameter, built once per metadata version (Core columns only)."""

    def build() -> Any:
        item, unit = registry.cls("item").__table__, registry.cls("unit").__table__
        return (
            select(
                item.c.id,
                item.c.sku,
                item.c.track_batch,
                item.c.track_serial,
                item.c.shelf_life_days,
                item.c.unit_id,
                unit.c.name,
                item.c.costing,
                item.c.allow_negative,
            )
            .outerjoin(unit, unit.c.id == item.c.unit_id)
            .where(among_param(dialect, item.c.id, "ids"))
            .order_by(item.c.id)
            .with_for_update(read=True, key_share=True, of=item)
        )

    return registry.kept(("item_tracking", dialect), build)


@dataclass
class Stored:
    """A serial's stored row, as read: id and version for the compare-and-set."""

    id: int
    version: int


class SerialStore:
    """The serials one posting reads and writes (kept by one posting's StockWriter for one transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.book = Book()
        self.rows: dict[tuple[int, str], Stored] = {}

    def load(self, pairs: Iterable[tuple[int, str]]) -> None:
        """Read where these (item, serial) are now, those not read yet."""
        wanted = self.book.unknown(pairs)
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            for pair in chunk:
                self.book.known[pair] = None
            rows = self.session.execute(
                select(serial).where(tuple_(serial.c.item_id, serial.c.serial).in_(chunk)).order_by(serial.c.id)
            )
            for row in rows:
                key = (row.item_id, row.serial)
                self.rows[key] = Stored(row.id, row.version)
                self.book.known[key] = Place(row.warehouse_id, row.batch) if row.in_stock else None

    def save(self) -> list[str]:
        """Store the end state of every serial moved, then the steps; the serials whose row changed
        since it was read (another posting won the race), in which case nothing should be kept."""
        if not self.book.steps:
            return []
        now = utcnow()
        lost = []
        dialect = self.session.get_bind().dialect.name
        upsert = pg_insert if dialect == "postgresql" else sqlite_insert
        for key, place in self.book.changed().items():
            where = place if place is not None else self.book.last_place(key)
            values = {
                "in_stock": place is not None,
                "warehouse_id": where.warehouse_id,
                "batch": where.batch,
                "updated_at": now,
            }
            stored = self.rows.get(key)
            if stored is None:
                inserted = self.session.execute(
                    upsert(serial)
                    .values(item_id=key[0], serial=key[1], version=1, **values)
                    .on_conflict_do_nothing(index_elements=["item_id", "serial"])
                    .returning(serial.c.id)
                ).first()
                written = inserted is not None
            else:
                changed: Any = self.session.execute(
                    update(serial)
                    .where(serial.c.id == stored.id, serial.c.version == stored.version)
                    .values(version=stored.version + 1, **values)
                )
                written = changed.rowcount == 1
            if not written:
                lost.append(key[1])
        if lost:
            return lost
        self.session.execute(
            insert(serial_move),
            [
                {
                    "item_id": step.item_id,
                    "serial": step.serial,
                    "warehouse_id": step.place.warehouse_id,
                    "batch": step.place.batch,
                    "qty": step.qty,
                    "move_key": step.move_key,
                    "created_at": now,
                }
                for step in self.book.steps
            ],
        )
        return []


def steps_of(session: Session, move_keys: Collection[str]) -> list[Step]:
    """The serial steps of these stock moves, oldest first."""
    if not move_keys:
        return []
    rows = session.execute(
        select(serial_move).where(serial_move.c.move_key.in_(sorted(move_keys))).order_by(serial_move.c.id)
    )
    return [Step(r.item_id, r.serial, Place(r.warehouse_id, r.batch), r.qty, r.move_key) for r in rows]


def in_stock_at(session: Session, item_id: int, place: Place, at: dt.datetime | None) -> set[str]:
    """The item's serials in stock at `place` as of `at` (now when None), from their history."""
    query = select(serial_move.c.serial, serial_move.c.warehouse_id, serial_move.c.batch, serial_move.c.qty).where(
        serial_move.c.item_id == item_id,
        serial_move.c.serial.in_(
            select(serial_move.c.serial).where(
                serial_move.c.item_id == item_id,
                serial_move.c.warehouse_id == place.warehouse_id,
                serial_move.c.batch == place.batch,
            )
        ),
    )
    if at is not None:
        query = query.where(serial_move.c.created_at <= at)
    history = (
        (r.serial, Place(r.warehouse_id, r.batch), r.qty) for r in session.execute(query.order_by(serial_move.c.id))
    )
    return {s for s, where in in_stock_from(history).items() if where == place}


def serial_history(session: Session, access: Any, number: str) -> list[dict[str, Any]]:
    """Every item's serial `number`: where it is now and each move of it (the stock moves the user may
    read; where it is now only when the move that put it there is one of them)."""
    registry = access.registry
    access.require("stock_move", "read")
    item, warehouse, move = registry.cls("item"), registry.cls("warehouse"), registry.cls("stock_move")
    rows = list(session.execute(select(serial).where(serial.c.serial == number.strip()).order_by(serial.c.item_id)))
    if not rows:
        return []
    query = (
        select(serial_move, move.document_model, move.document_number, move.date, move.reverses)
        .join(move, move.move_key == serial_move.c.move_key)
        .where(serial_move.c.serial == number.strip(), serial_move.c.item_id.in_([r.item_id for r in rows]))
        .order_by(serial_move.c.id)
    )
    scope = access.scope(registry.model("stock_move"))
    if scope is not None:
        query = query.where(scope)
    steps = list(session.execute(query))
    items = {i.id: i for i in session.execute(select(item).where(item.id.in_([r.item_id for r in rows]))).scalars()}
    codes = {row.id: row.code for row in session.execute(select(warehouse.id, warehouse.code))}
    last_seen = {
        r.item_id: session.execute(
            select(func.max(serial_move.c.id)).where(
                serial_move.c.item_id == r.item_id, serial_move.c.serial == r.serial
            )
        ).scalar()
        for r in rows
    }
    found = []
    for row in rows:
        history = [s for s in steps if s.item_id == row.item_id]
        if not history:
            continue
        known = last_seen[row.item_id] in {s.id for s in history}
        found.append(
            {
                "item": {"id": row.item_id, "sku": items[row.item_id].sku, "name": items[row.item_id].name},
                "in_stock": bool(row.in_stock) if known else None,
                "warehouse": codes.get(row.warehouse_id) if known and row.in_stock else None,
                "batch": row.batch if known and row.in_stock else None,
                "history": [
                    {
                        "qty": s.qty,
                        "warehouse": codes.get(s.warehouse_id),
                        "batch": s.batch,
                        "document_model": s.document_model,
                        "document_number": s.document_number,
                        "date": s.date.isoformat() if s.date is not None else None,
                        "posted_at": s.created_at.isoformat(),
                        "cancel": s.reverses is not None,
                    }
                    for s in history
                ],
            }
        )
    return found
