"""Background jobs: kind, user, status, progress, counts, log, result files, idempotency key.

Revision ID: 0008_job
Revises: 0007_user_department
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_job"
down_revision = "0007_user_department"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_job",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("username", sa.String(128)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("args", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.String(128)),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer),
        sa.Column("counts", sa.Text),
        sa.Column("log", sa.Text),
        sa.Column("message", sa.Text),
        sa.Column("result", sa.Text),
        sa.Column("result_file", sa.String(255)),
        sa.Column("error_file", sa.String(255)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("runner", sa.String(128)),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("started_at", sa.DateTime),
        sa.Column("heartbeat_at", sa.DateTime),
        sa.Column("finished_at", sa.DateTime),
    )
    op.create_index("ix_jxc_job_user", "jxc_job", ["user_id", "id"])
    op.create_index("ix_jxc_job_status", "jxc_job", ["status"])
    op.create_index("uq_jxc_job_idempotency", "jxc_job", ["kind", "user_id", "idempotency_key"], unique=True)


def downgrade() -> None:
    op.drop_table("jxc_job")
