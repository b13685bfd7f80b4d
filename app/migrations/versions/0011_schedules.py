"""Schedules and their runs (the claim per period), deliveries, notifications, dunning steps.

Revision ID: 0011_schedules
Revises: 0010_line_links
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_schedules"
down_revision = "0010_line_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_schedule",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("cron", sa.String(128), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("addresses", sa.Text, nullable=False),
        sa.Column("robots", sa.Text, nullable=False),
        sa.Column("external", sa.Boolean, nullable=False),
        sa.Column("run_as", sa.String(128)),
        sa.Column("skip_empty", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "jxc_schedule_run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("schedule_id", sa.Integer, nullable=False),
        sa.Column("period", sa.DateTime, nullable=False),
        sa.Column("manual", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("job_id", sa.Integer),
        sa.Column("message", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.UniqueConstraint("schedule_id", "period", name="uq_jxc_schedule_run_period"),
    )
    op.create_table(
        "jxc_delivery",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("message_id", sa.String(255)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("partner_id", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime),
    )
    op.create_index("ix_jxc_delivery_run", "jxc_delivery", ["run_id"])
    op.create_index("ix_jxc_delivery_partner", "jxc_delivery", ["partner_id"])
    op.create_table(
        "jxc_notification",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("link", sa.String(512)),
        sa.Column("dedupe", sa.String(255)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("read_at", sa.DateTime),
    )
    op.create_index("ix_jxc_notification_user", "jxc_notification", ["user_id", "read_at"])
    op.create_table(
        "jxc_dunning_step",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("partner_id", sa.Integer, nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("delivery_id", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("model", "record_id", "step", name="uq_jxc_dunning_step"),
    )


def downgrade() -> None:
    for name in ("jxc_dunning_step", "jxc_notification", "jxc_delivery", "jxc_schedule_run", "jxc_schedule"):
        op.drop_table(name)
