"""Per-user preferences (language).

Revision ID: 0002_user_pref
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_user_pref"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_user_pref",
        sa.Column("user_id", sa.Integer, primary_key=True),
        sa.Column("locale", sa.String(8), nullable=False),
    )
