"""Line links: follow-on document lines name their source document and line (source_model, source_id,
source_line_id). On a database written before links, the columns are added here (the metadata sync
would add them empty afterwards) and filled where the document's source_number resolves: a submitted
source of the right kind, for the same partner, with exactly one line of the line's item. Lines that
do not resolve keep working through source_number. A new database has no document tables yet: nothing
to do, the metadata sync creates them with the columns.

Revision ID: 0010_line_links
Revises: 0009_login
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_line_links"
down_revision = "0009_login"
branch_labels = None
depends_on = None

# follow-on -> source whose quantities it drew down by source_number before links (a purchase order
# naming a request drew nothing down, so its lines are not linked after the fact)
FLOWS = {
    "purchase_receipt": "purchase_order",
    "purchase_return": "purchase_receipt",
    "sales_delivery": "sales_order",
    "sales_return": "sales_delivery",
}
COLUMNS = (("source_model", sa.String(64)), ("source_id", sa.Integer()), ("source_line_id", sa.Integer()))


def upgrade() -> None:
    conn = op.get_bind()
    tables = set(sa.inspect(conn).get_table_names())
    for target, source in FLOWS.items():
        line_table = f"{target}_line"
        if not {target, line_table, source, f"{source}_line"} <= tables:
            continue
        present = {c["name"] for c in sa.inspect(conn).get_columns(line_table)}
        for name, kind in COLUMNS:
            if name not in present:
                op.add_column(line_table, sa.Column(name, kind, nullable=True))
        _link(conn, target, source)


def _link(conn: sa.Connection, target: str, source: str) -> None:
    rows = conn.execute(
        sa.text(
            f"SELECT l.id, l.item_id, s.id FROM {target}_line l "
            f"JOIN {target} d ON d.id = l.parent_id "
            f"JOIN {source} s ON s.number = d.source_number AND s.status = 'submitted' AND s.partner_id = d.partner_id "
            "WHERE l.source_line_id IS NULL"
        )
    ).all()
    updates = []
    for line_id, item_id, source_id in rows:
        candidates = conn.execute(
            sa.text(f"SELECT id FROM {source}_line WHERE parent_id = :doc AND item_id = :item"),
            {"doc": source_id, "item": item_id},
        ).all()
        if len(candidates) == 1:
            updates.append({"id": line_id, "model": source, "doc": source_id, "line": candidates[0][0]})
    if updates:
        conn.execute(
            sa.text(
                f"UPDATE {target}_line SET source_model = :model, source_id = :doc, source_line_id = :line "
                "WHERE id = :id"
            ),
            updates,
        )


def downgrade() -> None:
    for target in FLOWS:
        for name, _ in COLUMNS:
            op.drop_column(f"{target}_line", name)
