"""Schedules a user makes for themselves: `owner`, the user name of the non-admin who made it (NULL for an admin's
or metadata/schedules.yaml's). Its owner sees, changes and deletes it; admins see every schedule. A run's own
`params` over its schedule's (a 催款 sent by hand to one customer: a retry sends to that customer only).

Revision ID: 0018_schedule_owner
Revises: 0017_notification_record
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_schedule_owner"
down_revision = "0017_notification_record"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jxc_schedule") as batch:
        batch.add_column(sa.Column("owner", sa.String(128)))
    op.create_index("ix_jxc_schedule_owner", "jxc_schedule", ["owner"])
    with op.batch_alter_table("jxc_schedule_run") as batch:
        batch.add_column(sa.Column("params", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("jxc_schedule_run") as batch:
        batch.drop_column("params")
    op.drop_index("ix_jxc_schedule_owner", "jxc_schedule")
    with op.batch_alter_table("jxc_schedule") as batch:
        batch.drop_column("owner")
