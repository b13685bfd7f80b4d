"""Indexes declared in metadata: sort / filter paths (`indexes:`) and trigram search indexes
(`search_index: true`, PostgreSQL), created by init and re-created by the add-only schema sync."""

from __future__ import annotations

from sqlalchemy import text

from app.extensions import db, registry
from app.meta.schema import index_names, sync_schema


def indexes_of(table: str) -> set[str]:
    with db.engine.connect() as conn:
        return index_names(conn, table)


def item_indexes() -> set[str]:
    return indexes_of("item")


def test_declared_indexes_exist_and_sync_recreates_them(app):
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        names = item_indexes()
        assert {"ix_item_name_id", "ix_item_sku_id", "ix_item_category_name_id", "ix_item_category_sku_id"} <= names
        trigram = {"ix_item_name_trgm", "ix_item_sku_trgm", "ix_item_pinyin_trgm", "ix_item_barcode_trgm"}
        assert trigram <= names if postgres else not (trigram & names)

        with db.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_item_category_name_id"))
            if postgres:
                conn.execute(text("DROP INDEX ix_item_name_trgm"))
        assert "ix_item_category_name_id" not in item_indexes()
        with db.engine.begin() as conn:
            changes = sync_schema(conn, registry())
        assert "create index ix_item_category_name_id" in changes
        assert ("create index ix_item_name_trgm" in changes) == postgres
        assert {"ix_item_category_name_id"} <= item_indexes()
        with db.engine.begin() as conn:
            assert sync_schema(conn, registry()) == []  # nothing left to do


def test_contains_filter_uses_the_trigram_index_on_postgresql(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                r[0] for r in conn.execute(text("EXPLAIN SELECT id FROM item WHERE spec ILIKE '%瓶，24瓶%'"))
            )
        assert "ix_item_spec_trgm" in plan  # spec has no other index: only the trigram one can serve


def test_a_code_is_found_whatever_its_case_through_its_own_index(app):
    """Codes are compared lower-cased (A001 and a001 are one code): every unique text field has an index of
    its lower-cased value, used by the save's duplicate check and an import's lookups on both databases."""
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        assert {"ix_item_sku_key", "ix_item_barcode_key"} <= item_indexes()
        assert "ix_partner_code_key" in indexes_of("partner")
        query = "SELECT id FROM item WHERE lower(sku) IN ('a001', 'b002')"
        with db.engine.begin() as conn:
            if postgres:
                conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                str(r[-1]) for r in conn.execute(text(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + query))
            )
        assert "ix_item_sku_key" in plan
