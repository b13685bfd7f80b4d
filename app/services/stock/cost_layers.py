"""Storage of FIFO cost layers (jxc_cost_layer) and of what each move did to them (jxc_cost_take).

Only posting calls these (app/services/stock/writer.py), inside its transaction and after it has
locked the stock_balance rows of the stocks concerned: a layer belongs to one stock (item x warehouse
x batch), so its rows are read and written under that stock's lock and no new lock order appears.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.ledger.fifo import START, Layer, Stock, Take
from app.services.records.bulk import keys_among, new_ids
from app.services.stock.bulk import bulk_insert, bulk_update, chunked
from app.services.stock.tables import cost_layer, cost_take

FIFO, MOVING_AVERAGE = "fifo", "moving_average"

StockKey = tuple[int, int, str]


def read_layers(
    session: Session, keys: Collection[StockKey], layer_ids: Collection[int] = ()
) -> dict[StockKey, list[Layer]]:
    """The open layers of these stocks, and the layers named by id (closed ones too), oldest first."""
    found: dict[StockKey, list[Layer]] = defaultdict(list)
    rows: list[Any] = []
    stock = (cost_layer.c.item_id, cost_layer.c.warehouse_id, cost_layer.c.batch)
    for part in chunked(sorted(keys)):
        chosen = select(cost_layer).where(keys_among(session, stock, part), cost_layer.c.is_open.is_(True))
        rows.extend(session.execute(chosen).all())
    seen = {row.id for row in rows}
    for ids in chunked(sorted(set(layer_ids) - seen)):
        rows.extend(session.execute(select(cost_layer).where(cost_layer.c.id.in_(ids))).all())
    for row in sorted(rows, key=lambda row: row.id):
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
    """Store what the takes did to one stock (see save_all_layers)."""
    save_all_layers(session, [(key, stock, takes)])


def save_all_layers(session: Session, stocks: list[tuple[StockKey, Stock, list[tuple[str | None, Take]]]]) -> None:
    """Store what the takes did, for every stock at once: new layers inserted in the order they opened
    (their ids keep each stock's FIFO order), changed ones updated, then the takes themselves (move key
    None: a costing switch); one statement per chunk of each."""
    now = utcnow()
    new_layers: list[dict[str, Any]] = []
    new_keys: list[tuple[StockKey, int]] = []
    changed: list[dict[str, Any]] = []
    take_rows: list[tuple[StockKey, dict[str, Any]]] = []
    for key, stock, takes in stocks:
        if not takes:
            continue
        final = {layer.id: layer for layer in stock.layers}
        first: dict[int, tuple[str | None, Take]] = {}
        for move_key, take in takes:
            first.setdefault(take.layer, (move_key, take))
        for temp_id in sorted((i for i in first if i < 0), reverse=True):  # -1 first: ids keep FIFO order
            layer = final[temp_id]
            move_key, opening = first[temp_id]
            new_keys.append((key, temp_id))
            new_layers.append(
                {
                    "item_id": key[0],
                    "warehouse_id": key[1],
                    "batch": key[2],
                    "kind": layer.kind,
                    "move_key": None if layer.kind == START else move_key,
                    "qty": opening.qty,
                    "value": opening.value,
                    "remaining_qty": layer.qty,
                    "remaining_value": layer.value,
                    "is_open": layer.is_open,
                    "merged": layer.merged,
                    "created_at": now,
                }
            )
        for layer_id in sorted(i for i in first if i > 0):
            layer = final[layer_id]
            changed.append(
                {
                    "id": layer_id,
                    "remaining_qty": layer.qty,
                    "remaining_value": layer.value,
                    "is_open": layer.is_open,
                    "merged": layer.merged,
                }
            )
        take_rows.extend(
            (
                key,
                {"layer_id": take.layer, "move_key": move_key, "qty": take.qty, "value": take.value, "created_at": now},
            )
            for move_key, take in takes
        )
    if not take_rows:
        return
    # ids from the sequence in ascending order, then one bulk insert (COPY): they keep each stock's FIFO order
    ids = new_ids(session, cost_layer, len(new_layers))
    for layer, pk in zip(new_layers, ids, strict=True):
        layer["id"] = pk
    bulk_insert(session, cost_layer, new_layers)
    stored = dict(zip(new_keys, ids, strict=True))
    bulk_update(session, cost_layer, changed)
    rows = []
    for key, row in take_rows:
        layer = row["layer_id"]
        rows.append(row | {"layer_id": stored[(key, layer)] if layer < 0 else layer})
    bulk_insert(session, cost_take, rows)
