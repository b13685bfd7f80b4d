"""A copied role's origin: the roles.yaml role a copy made on the role pages takes its masks, hidden figures, sides,
reports and row scope from (app/services/access/origins.py). A database from before has no copies linked: a copy made
then stays a role roles.yaml does not know (its users see no field) until it is copied again from the original.

Revision ID: 0020_role_origin
Revises: 0019_fill_status
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_role_origin"
down_revision = "0019_fill_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_role_origin",
        sa.Column("role_id", sa.Integer, primary_key=True),
        sa.Column("origin", sa.String(64), nullable=False),
    )
