"""Company policy switches changed from the admin page (defaults stay in metadata/settings.yaml).

Revision ID: 0003_setting
Revises: 0002_user_pref
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_setting"
down_revision = "0002_user_pref"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_setting",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(128)),
    )
