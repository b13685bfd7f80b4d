"""入库状态 / 出库状态: a purchase order's `receipt_status` and a sales order's `delivery_status` (none / partly /
full), stored on the order and kept by the posting that moves its lines' received / delivered quantities. On a database
written before them, the columns are added here (the metadata sync would add them empty) and filled from each order's
lines as posting keeps them (`fill_status` in app/documents/base.py): `none` when no line was filled or closed,
`full` when nothing is open on any line (a closed rest counts as done), `partly` otherwise. A new database has no
order tables yet: nothing to do, the metadata sync creates them with the columns. The sync adds the index.

Revision ID: 0019_fill_status
Revises: 0018_schedule_owner
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_fill_status"
down_revision = "0018_schedule_owner"
branch_labels = None
depends_on = None

# order table -> (its status column, the line quantity its follow-ons fill)
ORDERS = {"purchase_order": ("receipt_status", "received_qty"), "sales_order": ("delivery_status", "delivered_qty")}


def upgrade() -> None:
    conn = op.get_bind()
    tables = set(sa.inspect(conn).get_table_names())
    for table, (column, done) in ORDERS.items():
        if not {table, f"{table}_line"} <= tables:
            continue
        if column not in {c["name"] for c in sa.inspect(conn).get_columns(table)}:
            op.add_column(table, sa.Column(column, sa.String(32), nullable=True))
        _fill(conn, table, column, done)


def _fill(conn: sa.Connection, table: str, column: str, done: str) -> None:
    present = {c["name"] for c in sa.inspect(conn).get_columns(f"{table}_line")}
    # columns an older database may not have yet (the metadata sync adds them after this): as posting reads them
    base = "COALESCE(l.base_qty, l.qty, 0)" if "base_qty" in present else "COALESCE(l.qty, 0)"
    filled = f"COALESCE(l.{done}, 0)" if done in present else "0"
    closed = "COALESCE(l.closed_qty, 0)" if "closed_qty" in present else "0"
    lines = f"FROM {table}_line l WHERE l.parent_id = {table}.id"
    conn.execute(
        sa.text(
            f"UPDATE {table} SET {column} = CASE "
            f"WHEN NOT EXISTS (SELECT 1 {lines} AND ({filled} <> 0 OR {closed} <> 0)) THEN 'none' "
            f"WHEN EXISTS (SELECT 1 {lines} AND {base} - {filled} - {closed} > 0) THEN 'partly' "
            "ELSE 'full' END"
        )
    )


def downgrade() -> None:
    for table, (column, _) in ORDERS.items():
        op.drop_column(table, column)
