"""Phone counting: each batch of stocktake counts sent, by the device's key (sent once).

Revision ID: 0015_count_batch
Revises: 0014_alert_pref
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_count_batch"
down_revision = "0014_alert_pref"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_count_batch",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("client_key", sa.String(64), nullable=False),
        sa.Column("stocktake_id", sa.Integer, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("uq_jxc_count_batch_key", "jxc_count_batch", ["user_id", "client_key"], unique=True)


def downgrade() -> None:
    op.drop_table("jxc_count_batch")
