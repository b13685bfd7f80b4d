"""Indexes declared in metadata: sort / filter paths (`indexes:`) and search indexes of trigrams and characters
(`search_index: true`, PostgreSQL), created by init and re-created by the add-only schema sync; none written twice
(migration 0022 brings an older database to the same set)."""

from __future__ import annotations

from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import select, text

from app.extensions import db, registry
from app.meta.schema import index_names, sync_schema
from tests.conftest import migration as load_migration

SEARCHED = ("sku", "name", "spec", "barcode", "pinyin")


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
        searched = {f"ix_item_{field}_search" for field in SEARCHED}
        assert searched <= names if postgres else not (searched & names)

        with db.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_item_category_name_id"))
            if postgres:
                conn.execute(text("DROP INDEX ix_item_name_search"))
        assert "ix_item_category_name_id" not in item_indexes()
        with db.engine.begin() as conn:
            changes = sync_schema(conn, registry())
        assert "create index ix_item_category_name_id" in changes
        assert ("create index ix_item_name_search" in changes) == postgres
        assert {"ix_item_category_name_id"} <= item_indexes()
        with db.engine.begin() as conn:
            assert sync_schema(conn, registry()) == []  # nothing left to do


def test_contains_filter_uses_the_search_index_on_postgresql(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                r[0] for r in conn.execute(text("EXPLAIN SELECT id FROM item WHERE spec ILIKE '%瓶，24瓶%'"))
            )
        assert "ix_item_spec_search" in plan  # spec has no other index: only its search index can serve


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


def _index_columns(conn: Any, table: str) -> list[tuple[str, bool, str, tuple[str, ...]]]:
    """(name, unique, method, the columns or expressions it indexes) of each index of a table."""
    if conn.dialect.name == "sqlite":
        found = []
        for name, unique in conn.execute(text(f"SELECT name, \"unique\" FROM pragma_index_list('{table}')")):
            info = conn.execute(text(f"SELECT name FROM pragma_index_info('{name}')"))
            columns = tuple(f"expression of {name}" if c is None else str(c) for (c,) in info)  # lower(sku)
            found.append((name, bool(unique), "btree", columns))
        return found
    rows = conn.execute(
        text(
            "SELECT i.relname, x.indisunique, am.amname, "
            " ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) k)"
            " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam"
            " WHERE x.indrelid = CAST(:t AS regclass)"
        ),
        {"t": table},
    )
    return [(name, unique, method, tuple(columns)) for name, unique, method, columns in rows]


def test_no_index_of_the_item_table_is_written_twice(app):
    """Posting rewrites item rows (their cost price), and every update that cannot stay on its page writes an entry
    in each of the table's indexes: no index whose lookups another one serves as well, on either database. No
    non-unique btree index is a leading part of another one (item's category index beside (category, name, id)),
    and no column is in two GIN indexes (trigrams and characters are two columns of one search index)."""
    with app.app_context(), db.engine.connect() as conn:
        indexes = _index_columns(conn, "item")
        postgres = db.engine.dialect.name == "postgresql"
    btrees = [(name, unique, columns) for name, unique, method, columns in indexes if method == "btree"]
    for name, unique, columns in btrees:
        covered = [other for other, _, more in btrees if other != name and more[: len(columns)] == columns]
        assert unique or not covered, f"{name} {columns} is the start of {covered}"
    gin = [(name, columns) for name, _, method, columns in indexes if method == "gin"]
    assert len(gin) == (len(SEARCHED) if postgres else 0)
    by_field = {field: [name for name, columns in gin if field in " ".join(columns)] for field in SEARCHED}
    assert all(len(names) <= 1 for names in by_field.values()), by_field


def test_a_short_search_reads_the_characters_column_of_the_search_index(app):
    """A one- or two-character "contains" (薯片) finds its candidates by the characters column of the field's search
    index; its check of the candidates (lower(spec) LIKE) is not an index condition: an ILIKE of two characters on
    the trigram column would have the same index scan read every entry (pg_trgm needs three characters)."""
    from app.services.records.query import contains
    from app.services.users.access import access_for

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        access = access_for(app.appbuilder.sm.find_user(username="admin"))
        item = registry().cls("item")
        query = select(item.id).where(contains(db.session, access, registry().meta.models["item"], item.spec, "薯片"))
        compiled = query.compile(db.engine)
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = [r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)]
        db.session.rollback()
    assert any("Index Scan on ix_item_spec_search" in line for line in plan), plan
    conditions = [line for line in plan if "Index Cond" in line]
    assert conditions and all("@>" in line and "~~" not in line for line in conditions), plan


def test_the_migration_brings_an_older_database_to_the_same_indexes(app):
    """A database made before (the category's own index, two GIN indexes per search field: downgrade() puts them
    back) gets from the migration the very index set a new one gets from metadata, and the sync has nothing to do."""
    migration = load_migration("0022_search_indexes.py")
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        new = item_indexes()
        with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            migration.downgrade()
        old = item_indexes()
        assert "ix_item_category_id" in old
        trigrams = {f"ix_item_{field}_trgm" for field in SEARCHED} | {f"ix_item_{field}_chars" for field in SEARCHED}
        assert trigrams <= old if postgres else not (trigrams & old)
        assert old - new == {"ix_item_category_id"} | (trigrams if postgres else set())
        with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            migration.upgrade()
        assert item_indexes() == new
        with db.engine.begin() as conn:
            assert sync_schema(conn, registry()) == []
            if postgres:
                definitions = {
                    name: definition
                    for name, definition in conn.execute(
                        text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'item'")
                    )
                }
                assert "gin_trgm_ops, string_to_array(lower" in definitions["ix_item_name_search"]
