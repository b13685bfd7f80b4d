"""Tables the platform itself needs (not declared in metadata): managed by Alembic."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from app.meta.sqltypes import ExactDecimal

core_metadata = MetaData()

meta_state = Table(
    "jxc_meta_state",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

meta_field = Table(
    "jxc_meta_field",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("model", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("spec", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(128)),
    Index("uq_jxc_meta_field_model_name", "model", "name", unique=True),
)

audit_log = Table(
    "jxc_audit",
    core_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("user_id", Integer),
    Column("username", String(128)),
    Column("model", String(64), nullable=False),
    Column("record_id", Integer),
    Column("action", String(16), nullable=False),
    Column("before", Text),
    Column("after", Text),
    Column("request_id", String(64)),
    Index("ix_jxc_audit_model_record", "model", "record_id"),
)

user_warehouse = Table(
    "jxc_user_warehouse",
    core_metadata,
    Column("user_id", Integer, primary_key=True),
    Column("warehouse_id", Integer, primary_key=True),
)

user_department = Table(
    "jxc_user_department",
    core_metadata,
    Column("user_id", Integer, primary_key=True),  # a user belongs to one department at most
    Column("department_id", Integer, nullable=False, index=True),
)

sequence = Table(
    "jxc_sequence",
    core_metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

user_pref = Table(
    "jxc_user_pref",
    core_metadata,
    Column("user_id", Integer, primary_key=True),
    Column("locale", String(8), nullable=False),
)

setting = Table(
    "jxc_setting",
    core_metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String(128)),
)

# One grid save (or undo of one): who, which model, and the cells it changed, for server-side undo / redo.
grid_batch = Table(
    "jxc_grid_batch",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("client_batch_id", String(64), nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("model", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("undoes", Integer),
    Column("undone_by", Integer),
    Column("created_at", DateTime, nullable=False),
    Index("uq_jxc_grid_batch_client", "user_id", "client_batch_id", unique=True),
    Index("ix_jxc_grid_batch_user_model", "user_id", "model", "id"),
)

grid_change = Table(
    "jxc_grid_change",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("op", String(8), nullable=False),
    Column("tmp_id", String(64)),
    Column("before", Text),
    Column("after", Text),
    Index("ix_jxc_grid_change_batch", "batch_id", "id"),
)

grid_layout = Table(
    "jxc_grid_layout",
    core_metadata,
    Column("user_id", Integer, primary_key=True),
    Column("model", String(64), primary_key=True),
    Column("layout", Text, nullable=False),
)

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

# Audit rows are evidence: the database itself refuses to change or delete them.
AUDIT_GUARD_SQL = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS jxc_audit_no_update BEFORE UPDATE ON jxc_audit "
        "BEGIN SELECT RAISE(ABORT, 'audit rows are immutable'); END",
        "CREATE TRIGGER IF NOT EXISTS jxc_audit_no_delete BEFORE DELETE ON jxc_audit "
        "BEGIN SELECT RAISE(ABORT, 'audit rows are immutable'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION jxc_audit_immutable() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'audit rows are immutable'; END $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS jxc_audit_no_change ON jxc_audit",
        "CREATE TRIGGER jxc_audit_no_change BEFORE UPDATE OR DELETE ON jxc_audit "
        "FOR EACH ROW EXECUTE FUNCTION jxc_audit_immutable()",
    ],
}
