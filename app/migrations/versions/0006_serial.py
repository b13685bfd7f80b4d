"""Serial numbers: where each one is now (jxc_serial) and every move of it (jxc_serial_move).

Revision ID: 0006_serial
Revises: 0005_cost_layer
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_serial"
down_revision = "0005_cost_layer"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "jxc_serial",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("serial", sa.String(100), nullable=False),
        sa.Column("in_stock", sa.Boolean, nullable=False),
        sa.Column("warehouse_id", sa.Integer, nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("uq_jxc_serial_item_serial", "jxc_serial", ["item_id", "serial"], unique=True)
    op.create_index("ix_jxc_serial_stock", "jxc_serial", ["item_id", "warehouse_id", "batch", "in_stock"])
    op.create_index("ix_jxc_serial_serial", "jxc_serial", ["serial"])
    op.create_table(
        "jxc_serial_move",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("serial", sa.String(100), nullable=False),
        sa.Column("warehouse_id", sa.Integer, nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("move_key", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_jxc_serial_move_key", "jxc_serial_move", ["move_key"])
    op.create_index("ix_jxc_serial_move_serial", "jxc_serial_move", ["item_id", "serial", "id"])
    op.create_index("ix_jxc_serial_move_stock", "jxc_serial_move", ["item_id", "warehouse_id", "batch", "created_at"])


def downgrade() -> None:
    op.drop_table("jxc_serial_move")
    op.drop_table("jxc_serial")
