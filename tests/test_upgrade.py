"""Upgrading a database in place: columns added by the add-only sync are backfilled as declared, so
documents written before tax and units existed keep owing, costing and counting what they did."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from app.extensions import db, registry
from app.meta.schema import sync_schema
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
