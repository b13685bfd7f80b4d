"""The phone's own table: each batch of stocktake counts a device sent, by the key the device gave it."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text

from app.meta.tables import core_metadata

# One batch of counts sent from a phone: the device's key (unique per user), the stocktake it counted and the
# answer it got, so a second send of the same batch changes nothing and is answered the same.
count_batch = Table(
    "jxc_count_batch",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("client_key", String(64), nullable=False),
    Column("stocktake_id", Integer, nullable=False),
    Column("result", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("uq_jxc_count_batch_key", "user_id", "client_key", unique=True),
)
