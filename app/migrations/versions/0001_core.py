"""Core tables: metadata state and runtime fields, audit trail, user warehouses, number sequences.

Revision ID: 0001_core
Revises:
"""

import sqlalchemy as sa
from alembic import op

from app.services.records.tables import AUDIT_GUARD_SQL

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_meta_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "jxc_meta_field",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(128)),
    )
    op.create_index("uq_jxc_meta_field_model_name", "jxc_meta_field", ["model", "name"], unique=True)
    op.create_table(
        "jxc_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("username", sa.String(128)),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("request_id", sa.String(64)),
    )
    op.create_index("ix_jxc_audit_model_record", "jxc_audit", ["model", "record_id"])
    op.create_table(
        "jxc_user_warehouse",
        sa.Column("user_id", sa.Integer, primary_key=True),
        sa.Column("warehouse_id", sa.Integer, primary_key=True),
    )
    op.create_table(
        "jxc_sequence",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    for statement in AUDIT_GUARD_SQL[op.get_bind().dialect.name]:
        op.execute(statement)
