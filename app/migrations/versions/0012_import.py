"""Imports: each applied import and the rows it changed (undo, the same file twice), remembered mappings.

Revision ID: 0012_import
Revises: 0011_schedules
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_import"
down_revision = "0011_schedules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_import",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.Integer),
        sa.Column("user_id", sa.Integer),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255)),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("undone_at", sa.DateTime),
        sa.Column("undone_by", sa.Integer),
    )
    op.create_index("ix_jxc_import_content", "jxc_import", ["model", "content_hash"])
    op.create_table(
        "jxc_import_change",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("import_id", sa.Integer, nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("before", sa.Text),
    )
    op.create_index("ix_jxc_import_change_import", "jxc_import_change", ["import_id", "id"])
    op.create_table(
        "jxc_import_layout",
        sa.Column("model", sa.String(64), primary_key=True),
        sa.Column("signature", sa.String(64), primary_key=True),
        sa.Column("mapping", sa.Text, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("jxc_import_layout")
    op.drop_table("jxc_import_change")
    op.drop_table("jxc_import")
