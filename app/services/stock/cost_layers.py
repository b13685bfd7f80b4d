"""Storage of FIFO cost layers (jxc_cost_layer) and of what each move did to them (jxc_cost_take).

Only posting calls these (app/services/stock/writer.py), inside its transaction and after it has
locked the stock_balance rows of the stocks concerned: a layer belongs to one stock (item x warehouse
x batch), so its rows are read and written under that stock's lock and no new lock order appears.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import and_, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.ledger.fifo import START, Layer, Stock, Take
from app.services.stock.tables import cost_layer, cost_take

FIFO, MOVING_AVERAGE = "fifo", "moving_average"

StockKey = tuple[int, int, str]


def fifo_items(session: Session, registry: Any, item_ids: Iterable[int]) -> set[int]:
    """The items (of these) valued first in, first out, as their costing field says now."""
    item = registry.cls("item")
    ids = set(item_ids)
    if not ids:
        return set()
    return set(session.execute(select(item.id).where(item.id.in_(ids), item.costing == FIFO)).scalars())


def read_layers(
    session: Session, keys: Collection[StockKey], layer_ids: Collection[int] = ()
) -> dict[StockKey, list[Layer]]:
    """The open layers of these stocks, and the layers named by id (closed ones too), oldest first."""
    conditions = []
    if keys:
        stock = tuple_(cost_layer.c.item_id, cost_layer.c.warehouse_id, cost_layer.c.batch)
        conditions.append(and_(stock.in_(sorted(keys)), cost_layer.c.is_open.is_(True)))
    if layer_ids:
        conditions.append(cost_layer.c.id.in_(sorted(layer_ids)))
    found: dict[StockKey, list[Layer]] = defaultdict(list)
    if not conditions:
        return found
    for row in session.execute(select(cost_layer).where(or_(*conditions)).order_by(cost_layer.c.id)):
        found[(row.item_id, row.warehouse_id, row.batch)].append(
            Layer(row.id, row.remaining_qty, row.remaining_value, row.kind, row.merged)
        )
    return found


def read_takes(session: Session, move_keys: Collection[str]) -> dict[str, list[Take]]:
    """What each of these moves did to the layers, in the order it did it."""
    found: dict[str, list[Take]] = defaultdict(list)
    if not move_keys:
        return found
    rows = session.execute(
        select(cost_take).where(cost_take.c.move_key.in_(sorted(move_keys))).order_by(cost_take.c.id)
    )
    for row in rows:
        found[row.move_key].append(Take(row.layer_id, row.qty, row.value))
    return found


def save_layers(session: Session, key: StockKey, stock: Stock, takes: list[tuple[str | None, Take]]) -> None:
    """Store what the takes did: new layers inserted in the order they opened, changed ones updated,
    then the takes themselves (move key None: a costing switch)."""
    if not takes:
        return
    now = utcnow()
    final = {layer.id: layer for layer in stock.layers}
    first: dict[int, tuple[str | None, Take]] = {}
    for move_key, take in takes:
        first.setdefault(take.layer, (move_key, take))
    stored: dict[int, int] = {}
    for temp_id in sorted((i for i in first if i < 0), reverse=True):  # -1 first: ids keep FIFO order
        layer = final[temp_id]
        move_key, opening = first[temp_id]
        result = session.execute(
            insert(cost_layer).values(
                item_id=key[0],
                warehouse_id=key[1],
                batch=key[2],
                kind=layer.kind,
                move_key=None if layer.kind == START else move_key,
                qty=opening.qty,
                value=opening.value,
                remaining_qty=layer.qty,
                remaining_value=layer.value,
                is_open=layer.is_open,
                merged=layer.merged,
                created_at=now,
            )
        )
        stored[temp_id] = result.inserted_primary_key[0]
    for layer_id in sorted(i for i in first if i > 0):
        layer = final[layer_id]
        session.execute(
            update(cost_layer)
            .where(cost_layer.c.id == layer_id)
            .values(remaining_qty=layer.qty, remaining_value=layer.value, is_open=layer.is_open, merged=layer.merged)
        )
    session.execute(
        insert(cost_take),
        [
            {
                "layer_id": stored.get(take.layer, take.layer),
                "move_key": move_key,
                "qty": take.qty,
                "value": take.value,
                "created_at": now,
            }
            for move_key, take in takes
        ],
    )
