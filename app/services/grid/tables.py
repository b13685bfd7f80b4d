"""The grid's own tables: saves (for server-side undo / redo) and each user's column layout."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text

from app.meta.tables import core_metadata

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
