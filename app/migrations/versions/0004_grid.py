"""Grid batches and their cell changes (server-side undo / redo) and per-user column layouts.

Revision ID: 0004_grid
Revises: 0003_setting
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_grid"
down_revision = "0003_setting"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_grid_batch",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client_batch_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("undoes", sa.Integer),
        sa.Column("undone_by", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("uq_jxc_grid_batch_client", "jxc_grid_batch", ["user_id", "client_batch_id"], unique=True)
    op.create_index("ix_jxc_grid_batch_user_model", "jxc_grid_batch", ["user_id", "model", "id"])
    op.create_table(
        "jxc_grid_change",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.Integer, nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("tmp_id", sa.String(64)),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
    )
    op.create_index("ix_jxc_grid_change_batch", "jxc_grid_change", ["batch_id", "id"])
    op.create_table(
        "jxc_grid_layout",
        sa.Column("user_id", sa.Integer, primary_key=True),
        sa.Column("model", sa.String(64), primary_key=True),
        sa.Column("layout", sa.Text, nullable=False),
    )
