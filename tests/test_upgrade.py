"""Upgrading a database in place: columns added by the add-only sync are backfilled as declared, so
documents written before tax and units existed keep owing, costing and counting what they did; the tables posting
updates in place get their fillfactor (PostgreSQL), on a new database and by the migration on an old one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text

from app.extensions import db, registry
from app.meta.schema import sync_schema
from tests.conftest import migration as load_migration
from tests.conftest import unique
from tests.ledger_helpers import new_item, post, receive

ADDED = {
    "sales_delivery": ("prices_include_tax", "total_tax", "total_with_tax"),
    "sales_delivery_line": ("tax_rate", "tax_amount", "amount_with_tax", "base_qty"),
}


def test_columns_added_to_existing_documents_are_backfilled(app, admin_api):
    customer = unique("UP")
    made = admin_api.post("/api/v1/partner/", json={"code": customer, "name": "升级客户", "kind": "customer"})
    pk = made.get_json()["id"]
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "1")
    doc = post(
        admin_api, "sales_delivery", [{"item": sku, "qty": "3", "price": "19.99"}], warehouse="WH01", partner=customer
    )
    with app.app_context():
        with db.engine.begin() as conn:  # the database as an older version of JXC left it
            for table, columns in ADDED.items():
                for column in columns:
                    conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        with db.engine.begin() as conn:
            changes = sync_schema(conn, registry())
        assert {f"backfill {t}.{c}" for t, cols in ADDED.items() for c in cols} <= set(changes)
        db.session.remove()
    upgraded = admin_api.get(f"/api/v1/sales_delivery/{doc['id']}").get_json()["result"]
    assert (upgraded["total_amount"], upgraded["total_tax"], upgraded["total_with_tax"]) == ("59.97", "0.00", "59.97")
    assert upgraded["prices_include_tax"] is False
    line = upgraded["lines"][0]
    assert (line["tax_rate"], line["amount_with_tax"], line["base_qty"]) == ("0", "59.97", "3")
    assert admin_api.get(f"/api/v1/accounts/{pk}").get_json()["receivable"] == "59.97"
    assert Decimal(line["base_qty"]) == Decimal(3)


# what posting updates in place, by table: no index may hold these, or the update cannot stay on its page (HOT)
UPDATED_IN_PLACE = {
    "item": {"cost_price"},
    "stock_balance": {"qty", "value", "avg_cost", "reserved_qty", "costing", "version", "updated_at"},
    "purchase_request_line": {"ordered_qty"},
    "purchase_order_line": {"received_qty"},
    "purchase_receipt_line": {"returned_qty"},
    "sales_order_line": {"delivered_qty"},
    "sales_delivery_line": {"cost_price", "returned_qty"},
    "stocktake_line": {"price", "amount"},
}


def _fillfactors(conn: Any) -> dict[str, int]:
    """The tables of this PostgreSQL database that have a fillfactor, and it."""
    rows = conn.execute(
        text(
            "SELECT c.relname, o.option_value FROM pg_class c CROSS JOIN pg_options_to_table(c.reloptions) o "
            "WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND o.option_name = 'fillfactor'"
        )
    )
    return {name: int(value) for name, value in rows}


def test_tables_posting_updates_in_place_have_room_on_their_pages(app):
    """The schema made from metadata gives these tables their fillfactor on PostgreSQL; the migration sets the same
    on a database made before it (reset here) and does nothing on SQLite; no index holds a column posting updates."""
    migration = load_migration("0021_fillfactor.py")
    with app.app_context():
        tables = registry().tables.tables
        declared = {name: m.fillfactor for name, m in registry().meta.models.items() if m.fillfactor is not None}
        assert declared == migration.FILLFACTORS
        assert set(declared) == set(UPDATED_IN_PLACE)
        for name, columns in UPDATED_IN_PLACE.items():
            assert columns <= set(tables[name].c.keys()), name
            indexed = {c.name for index in tables[name].indexes for c in index.columns}
            assert not (indexed & columns), (name, indexed & columns)
        postgresql = db.engine.dialect.name == "postgresql"
        expected = declared if postgresql else {}
        with db.engine.begin() as conn:
            assert (_fillfactors(conn) if postgresql else {}) == expected
            for name in expected:  # as a database made before the migration has them
                conn.execute(text(f"ALTER TABLE {name} RESET (fillfactor)"))
        with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            migration.upgrade()  # SQLite: nothing to do
        with db.engine.begin() as conn:
            assert (_fillfactors(conn) if postgresql else {}) == expected
