"""Comments, attachments, owners and followers of any record, keyed by (model, record id)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text, UniqueConstraint

from app.meta.tables import core_metadata

# One comment on one record. `mentions` is the JSON list of user names it notified.
comment = Table(
    "jxc_comment",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("model", String(64), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("user_id", Integer),
    Column("username", String(128), nullable=False),
    Column("body", Text, nullable=False),
    Column("mentions", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_jxc_comment_record", "model", "record_id", "id"),
)

# One file on one record; the bytes live in <instance>/files/attachments/<stored>, never under static/.
attachment = Table(
    "jxc_attachment",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("model", String(64), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("user_id", Integer),
    Column("username", String(128), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("stored", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Index("ix_jxc_attachment_record", "model", "record_id"),
)

# 负责人 (one per record) and followers (many): role `owner` or `follower`.
watcher = Table(
    "jxc_watcher",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("model", String(64), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(128)),
    UniqueConstraint("model", "record_id", "user_id", "role", name="uq_jxc_watcher"),
    Index("ix_jxc_watcher_user", "user_id", "role"),
)
