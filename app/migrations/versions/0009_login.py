"""Sign-in sessions (ended by logout, password change, deactivation) and login rate-limit counters.

Revision ID: 0009_login
Revises: 0008_job
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_login"
down_revision = "0008_job"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_login_session",
        sa.Column("sid", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_jxc_login_session_user_id", "jxc_login_session", ["user_id"])
    op.create_table(
        "jxc_rate_limit",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("jxc_rate_limit")
    op.drop_table("jxc_login_session")
