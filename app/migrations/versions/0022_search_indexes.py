"""Fewer indexes for every write of an item (docs/ledger.md, "Fewer item indexes"): a search field's two GIN indexes,
its trigrams (`ix_<table>_<field>_trgm`) and its characters (`ix_<table>_<field>_chars`), become one index of two
columns (`ix_<table>_<field>_search`), which PostgreSQL searches by either column alike; and the item's own index of
its category goes, the sort paths (category, name, id) and (category, sku, id) start with the category and serve its
lookups and the foreign key's checks.

Found by their definitions, not their names, on every table (a field added on the field pages has them too). The new
index is built before the two old ones are dropped, in the upgrade's transaction: on a table of a million rows that
is a minute or two per search field, with writes to the table waiting (reads go on). SQLite has no GIN index: only
the category index is dropped there. A new database has no metadata tables yet: nothing to do, the metadata sync
creates them with the new set.

Revision ID: 0022_search_indexes
Revises: 0021_fillfactor
"""

import hashlib
import re

import sqlalchemy as sa
from alembic import op

revision = "0022_search_indexes"
down_revision = "0021_fillfactor"
branch_labels = None
depends_on = None

MAX_NAME = 63
TRIGRAMS = re.compile(r'USING gin \("?(\w+)"? gin_trgm_ops\)$')
SEARCH = re.compile(r'USING gin \("?(\w+)"? gin_trgm_ops, string_to_array')
CHARACTERS = re.compile(r'USING gin \(string_to_array\(lower\(\("?(\w+)"?\)::text\), NULL::text\)\)$')
# the single-column indexes a sort path of metadata/models (`indexes:`) starts with, at this revision
LED = {"item": ("ix_item_category_id", "category_id", ("ix_item_category_name_id", "ix_item_category_sku_id"))}


def index_name(name: str) -> str:
    """As app/meta/build.py names an index (PostgreSQL's 63 characters: a longer name cut and ending in a hash)."""
    if len(name) <= MAX_NAME:
        return name
    return f"{name[: MAX_NAME - 9]}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def upgrade() -> None:
    conn = op.get_bind()
    tables = set(sa.inspect(conn).get_table_names())
    if conn.dialect.name == "postgresql":
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table, column, old in _search_pairs(conn):
            op.execute(
                f'CREATE INDEX IF NOT EXISTS "{index_name(f"ix_{table}_{column}_search")}" ON "{table}" USING gin '
                f'("{column}" gin_trgm_ops, string_to_array(lower(("{column}")::text), NULL::text))'
            )
            for name in old:
                op.execute(f'DROP INDEX "{name}"')
    for table, (name, _column, leading) in LED.items():
        if table in tables and _names(conn, table) & set(leading):
            op.execute(f'DROP INDEX IF EXISTS "{name}"')


def downgrade() -> None:
    conn = op.get_bind()
    tables = set(sa.inspect(conn).get_table_names())
    for table, (name, column, _leading) in LED.items():
        if table in tables:
            op.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')
    if conn.dialect.name != "postgresql":
        return
    found = conn.execute(
        sa.text(
            "SELECT c.relname, i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i"
            " ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid"
            " WHERE c.relnamespace = current_schema()::regnamespace AND pg_get_indexdef(i.oid) LIKE :definition"
        ),
        {"definition": "%USING gin (% gin_trgm_ops, string_to_array(lower((%)::text), NULL::text))"},
    ).all()
    for table, name, definition in found:
        column = SEARCH.search(definition).group(1)  # type: ignore[union-attr]
        op.execute(
            f'CREATE INDEX "{index_name(f"ix_{table}_{column}_trgm")}" ON "{table}" USING gin ("{column}" gin_trgm_ops)'
        )
        op.execute(
            f'CREATE INDEX "{index_name(f"ix_{table}_{column}_chars")}" ON "{table}" USING gin '
            f'(string_to_array(lower(("{column}")::text), NULL::text))'
        )
        op.execute(f'DROP INDEX "{name}"')


def _search_pairs(conn: sa.engine.Connection) -> list[tuple[str, str, list[str]]]:
    """(table, column, the names of its trigram and characters indexes) of each column that has a trigram index."""
    rows = conn.execute(
        sa.text(
            "SELECT c.relname, i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid"
            " WHERE c.relnamespace = current_schema()::regnamespace AND NOT x.indisunique"
            " AND pg_get_indexdef(i.oid) LIKE '%USING gin (%'"
        )
    ).all()
    found: dict[tuple[str, str], dict[str, str]] = {}
    for table, name, definition in rows:
        for kind, pattern in (("trigrams", TRIGRAMS), ("characters", CHARACTERS)):
            match = pattern.search(definition)
            if match:
                found.setdefault((table, match.group(1)), {})[kind] = name
    return [(table, column, list(kinds.values())) for (table, column), kinds in found.items() if "trigrams" in kinds]


def _names(conn: sa.engine.Connection, table: str) -> set[str]:
    if conn.dialect.name == "sqlite":
        query = sa.text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t")
        rows = conn.execute(query, {"t": table})
        return {name for (name,) in rows}
    return {str(i["name"]) for i in sa.inspect(conn).get_indexes(table)}
