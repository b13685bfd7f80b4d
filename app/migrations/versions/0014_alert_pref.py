"""Alert preferences: which alerts reach each user and how their digest goes besides the bell.

Revision ID: 0014_alert_pref
Revises: 0013_collab
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_alert_pref"
down_revision = "0013_collab"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_alert_pref",
        sa.Column("user_id", sa.Integer, primary_key=True),
        sa.Column("kinds", sa.Text),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("robot_url", sa.String(512)),
        sa.Column("robot_secret", sa.String(255)),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("jxc_alert_pref")
