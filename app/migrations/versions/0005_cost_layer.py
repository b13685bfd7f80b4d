"""FIFO cost layers per stock and what each stock move took from them.

Revision ID: 0005_cost_layer
Revises: 0004_grid
"""

import sqlalchemy as sa
from alembic import op

from app.meta.sqltypes import ExactDecimal

revision = "0005_cost_layer"
down_revision = "0004_grid"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "jxc_cost_layer",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("warehouse_id", sa.Integer, nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("move_key", sa.String(120)),
        sa.Column("qty", ExactDecimal(18, 4), nullable=False),
        sa.Column("value", ExactDecimal(18, 4), nullable=False),
        sa.Column("remaining_qty", ExactDecimal(18, 4), nullable=False),
        sa.Column("remaining_value", ExactDecimal(18, 4), nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("merged", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_jxc_cost_layer_stock", "jxc_cost_layer", ["item_id", "warehouse_id", "batch", "is_open", "id"])
    op.create_table(
        "jxc_cost_take",
        sa.Column("id", _id(), primary_key=True),
        sa.Column("layer_id", _id(), nullable=False),
        sa.Column("move_key", sa.String(120)),
        sa.Column("qty", ExactDecimal(18, 4), nullable=False),
        sa.Column("value", ExactDecimal(18, 4), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_jxc_cost_take_move", "jxc_cost_take", ["move_key"])
    op.create_index("ix_jxc_cost_take_layer", "jxc_cost_take", ["layer_id"])
