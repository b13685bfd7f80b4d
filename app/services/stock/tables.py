"""The stock side's own tables beside the ledger models: FIFO cost layers and serial numbers."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, Integer, String, Table

from app.meta.sqltypes import ExactDecimal
from app.meta.tables import core_metadata

# FIFO cost layers of each stock (item x warehouse x batch), oldest first by id, and what each move did
# to them (cancel gives it back). Written only by posting, under the stock's stock_balance row lock.
cost_layer = Table(
    "jxc_cost_layer",
    core_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("item_id", Integer, nullable=False),
    Column("warehouse_id", Integer, nullable=False),
    Column("batch", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("move_key", String(120)),
    Column("qty", ExactDecimal(18, 4), nullable=False),
    Column("value", ExactDecimal(18, 4), nullable=False),
    Column("remaining_qty", ExactDecimal(18, 4), nullable=False),
    Column("remaining_value", ExactDecimal(18, 4), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("merged", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_jxc_cost_layer_stock", "item_id", "warehouse_id", "batch", "is_open", "id"),
)

cost_take = Table(
    "jxc_cost_take",
    core_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("layer_id", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("move_key", String(120)),
    Column("qty", ExactDecimal(18, 4), nullable=False),
    Column("value", ExactDecimal(18, 4), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_jxc_cost_take_move", "move_key"),
    Index("ix_jxc_cost_take_layer", "layer_id"),
)

# Serial numbers (序列号) of items that track them: where each one is now (one row per item x serial) and
# every move of it (history, +1 in / -1 out, named by the stock move's key). Written only by posting, in
# its transaction, after the stock_balance rows are locked; rows are changed by compare-and-set on version.
serial = Table(
    "jxc_serial",
    core_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("item_id", Integer, nullable=False),
    Column("serial", String(100), nullable=False),
    Column("in_stock", Boolean, nullable=False),
    Column("warehouse_id", Integer, nullable=False),
    Column("batch", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("uq_jxc_serial_item_serial", "item_id", "serial", unique=True),
    Index("ix_jxc_serial_stock", "item_id", "warehouse_id", "batch", "in_stock"),
    Index("ix_jxc_serial_serial", "serial"),
)

serial_move = Table(
    "jxc_serial_move",
    core_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("item_id", Integer, nullable=False),
    Column("serial", String(100), nullable=False),
    Column("warehouse_id", Integer, nullable=False),
    Column("batch", String(64), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("move_key", String(120), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_jxc_serial_move_key", "move_key"),
    Index("ix_jxc_serial_move_serial", "item_id", "serial", "id"),
    Index("ix_jxc_serial_move_stock", "item_id", "warehouse_id", "batch", "created_at"),
)
