"""Collaboration: comments, attachments, owners and followers of any record.

Revision ID: 0013_collab
Revises: 0012_import
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_collab"
down_revision = "0012_import"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jxc_comment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("mentions", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_jxc_comment_record", "jxc_comment", ["model", "record_id", "id"])
    op.create_table(
        "jxc_attachment",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("username", sa.String(128), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("stored", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_jxc_attachment_record", "jxc_attachment", ["model", "record_id"])
    op.create_table(
        "jxc_watcher",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(128)),
        sa.UniqueConstraint("model", "record_id", "user_id", "role", name="uq_jxc_watcher"),
    )
    op.create_index("ix_jxc_watcher_user", "jxc_watcher", ["user_id", "role"])


def downgrade() -> None:
    op.drop_table("jxc_watcher")
    op.drop_table("jxc_attachment")
    op.drop_table("jxc_comment")
