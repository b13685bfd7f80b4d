"""Each user's department (the row scope of roles set to see their department's data).

Revision ID: 0007_user_department
Revises: 0006_serial
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_user_department"
down_revision = "0006_serial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_user_department",
        sa.Column("user_id", sa.Integer, primary_key=True),
        sa.Column("department_id", sa.Integer, nullable=False),
    )
    op.create_index("ix_jxc_user_department_department_id", "jxc_user_department", ["department_id"])


def downgrade() -> None:
    op.drop_table("jxc_user_department")
