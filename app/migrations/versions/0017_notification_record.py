"""Notifications keep the record they are about (model, record id, from their link /m/<model>/<id>) and when it
was deleted: a deleted record's notifications are marked 记录已删除 instead of deleted with it.

Revision ID: 0017_notification_record
Revises: 0016_no_address
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0017_notification_record"
down_revision = "0016_no_address"
branch_labels = None
depends_on = None

RECORD_PAGE = re.compile(r"/m/([a-z][a-z0-9_]*)/([0-9]+)")  # app.schedules.notify.RECORD_PAGE when this was written


def upgrade() -> None:
    with op.batch_alter_table("jxc_notification") as table:
        table.add_column(sa.Column("model", sa.String(64)))
        table.add_column(sa.Column("record_id", sa.Integer))
        table.add_column(sa.Column("record_deleted_at", sa.DateTime))
    op.create_index("ix_jxc_notification_record", "jxc_notification", ["model", "record_id"])
    fill_records(op.get_bind())


def fill_records(conn: sa.engine.Connection) -> None:
    """The record each notification without one is about, from its link (a record's page); others keep none."""
    notes = sa.table(
        "jxc_notification",
        sa.column("id", sa.Integer),
        sa.column("link", sa.String),
        sa.column("model", sa.String),
        sa.column("record_id", sa.Integer),
    )
    unfilled = sa.select(notes.c.id, notes.c.link).where(notes.c.link.like("/m/%"), notes.c.model.is_(None))
    for pk, link in conn.execute(unfilled).all():
        found = RECORD_PAGE.fullmatch(link)
        if found:
            values = {"model": found.group(1), "record_id": int(found.group(2))}
            conn.execute(notes.update().where(notes.c.id == pk).values(**values))


def downgrade() -> None:
    op.drop_index("ix_jxc_notification_record", "jxc_notification")
    with op.batch_alter_table("jxc_notification") as table:
        table.drop_column("record_deleted_at")
        table.drop_column("record_id")
        table.drop_column("model")
