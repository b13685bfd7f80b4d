"""The write path's own tables: the audit trail, number sequences and policy settings."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table, Text

from app.meta.tables import core_metadata

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

sequence = Table(
    "jxc_sequence",
    core_metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

setting = Table(
    "jxc_setting",
    core_metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String(128)),
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
