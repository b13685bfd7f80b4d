"""Room for posting's updates in place (PostgreSQL): the fillfactor of the tables posting updates row by row, as
metadata declares it for new databases (`fillfactor` and `lines_fillfactor` in metadata/models, app/meta/build.py
`table_options`): the items (cost price), the stock balances (quantity and value) and the lines whose cost or done
quantities posting writes. With room on a page, an update of columns no index holds writes the new row version on
that page (a heap-only tuple, HOT) and no entry in any of the table's indexes (the item table has 25).

Only the setting changes (ALTER TABLE ... SET, a brief lock, no rewrite): pages already full stay so until their rows
move (updates, VACUUM of what was deleted); pages written from now on keep the room (docs/ledger.md, Speed). A new
database has no metadata tables yet: nothing to do, the metadata sync creates them with the setting. SQLite has no
fillfactor: nothing to do.

Revision ID: 0021_fillfactor
Revises: 0020_role_origin
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_fillfactor"
down_revision = "0020_role_origin"
branch_labels = None
depends_on = None

# table -> fillfactor, as metadata/models declared them at this revision
FILLFACTORS = {
    "item": 85,
    "stock_balance": 90,
    "purchase_request_line": 80,
    "purchase_order_line": 80,
    "purchase_receipt_line": 80,
    "sales_order_line": 80,
    "sales_delivery_line": 80,
    "stocktake_line": 80,
}


def upgrade() -> None:
    _set(FILLFACTORS)


def downgrade() -> None:
    _set(dict.fromkeys(FILLFACTORS, 100))


def _set(fillfactors: dict[str, int]) -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    tables = set(sa.inspect(conn).get_table_names())
    for table, fillfactor in fillfactors.items():
        if table in tables:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {int(fillfactor)})")
