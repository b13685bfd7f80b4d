"""Add-only schema changes from metadata: create missing tables, columns and indexes."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Index, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateColumn

from app.meta.build import index_for, make_column
from app.meta.registry import Registry
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES

log = logging.getLogger(__name__)


def sync_schema(conn: Connection, registry: Registry) -> list[str]:
    """Bring the database up to the registry without dropping anything; return what changed."""
    from alembic.migration import MigrationContext  # alembic (with mako and pygments) only when a schema changes
    from alembic.operations import Operations

    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    changes: list[str] = []
    tables = [t for t in registry.tables.sorted_tables if t.name != "ab_user"]
    trigram = conn.dialect.name == "postgresql" and _trigram_available(conn)
    for table in tables:
        if table.name not in existing:
            table.create(conn)
            changes.append(f"create table {table.name}")
    ops = Operations(MigrationContext.configure(conn))
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
    for model in registry.meta.models.values():
        if model.key not in existing:
            continue
        columns = {c["name"] for c in inspector.get_columns(model.key)}
        indexes = index_names(conn, model.key)
        for spec in model.fields:
            if spec.type == "lines" or spec.column in columns:
                continue
            _add_column(ops, conn, model.key, make_column(spec))
            changes.append(f"add column {model.key}.{spec.column}")
            if spec.backfill is not None:
                _backfill(conn, registry, model, spec)
                changes.append(f"backfill {model.key}.{spec.column}")
            elif spec.compute and model.kind in ("master", "ledger"):
                _compute_for_rows(conn, registry, model, spec)
                changes.append(f"compute {model.key}.{spec.column}")
            index = index_for(model, spec)
            if index is not None and index.name not in indexes:
                ops.create_index(index.name, model.key, [spec.column], unique=bool(index.unique))
                indexes.add(str(index.name))
                changes.append(f"create index {index.name}")
        table = registry.tables.tables[model.key]
        for index in table.indexes:  # indexes declared after the table was made
            if index.name in indexes or (_is_trigram(index) and not trigram):
                continue
            if _is_trigram(index) or len(index.columns) > 1 or str(index.name).startswith("ix_"):
                index.create(conn)
                changes.append(f"create index {index.name}")
    return changes


def _add_column(ops: Any, conn: Connection, table: str, column: Any) -> None:
    """Add a column. Alembic adds a link's foreign key as a constraint of its own, which SQLite cannot ALTER in;
    SQLite's ADD COLUMN takes it as a REFERENCES clause instead."""
    if conn.dialect.name != "sqlite" or not column.foreign_keys:
        ops.add_column(table, column)
        return
    (key,) = column.foreign_keys
    target_table, target_column = key.target_fullname.split(".")
    quote = conn.dialect.identifier_preparer.quote
    spec = CreateColumn(column).compile(dialect=conn.dialect)
    conn.exec_driver_sql(
        f"ALTER TABLE {quote(table)} ADD COLUMN {spec} REFERENCES {quote(target_table)} ({quote(target_column)})"
    )


def index_names(conn: Connection, table: str) -> set[str]:
    """The names of a table's indexes, expression indexes (a code's `lower(sku)`) included, which SQLAlchemy's
    inspector does not reflect on SQLite."""
    if conn.dialect.name == "sqlite":
        found = conn.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"), {"t": table}
        )
        return {name for (name,) in found}
    return {str(i["name"]) for i in inspect(conn).get_indexes(table)}


def _backfill(conn: Connection, registry: Registry, model: ModelSpec, spec: FieldSpec) -> None:
    """Fill a column just added to a table with rows: from another field, or with one value."""
    table = registry.tables.tables[model.key]
    source = model.field(spec.backfill) if isinstance(spec.backfill, str) else None
    value = table.c[source.column] if source is not None else FIELD_TYPES[spec.type].parse(spec, spec.backfill)
    conn.execute(update(table).values({spec.column: value}))


def _compute_for_rows(conn: Connection, registry: Registry, model: ModelSpec, spec: FieldSpec) -> None:
    """Fill a computed column just added to a table with rows by its handler, from each row's own values
    (a master or ledger row: a document's or a line's handler also reads its lines or its header)."""
    table = registry.tables.tables[model.key]
    handler = registry.compute(model.key, spec.name)
    fields = [f for f in model.data_fields if f.column in table.c]
    last = 0
    while True:
        rows = conn.execute(
            select(table.c.id, *(table.c[f.column] for f in fields))
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(COMPUTE_CHUNK)
        ).all()
        if not rows:
            return
        ids_by_value: dict[Any, list[int]] = {}
        for row in rows:
            values = {f.name: row._mapping[table.c[f.column]] for f in fields}
            ids_by_value.setdefault(handler(values), []).append(row.id)
        for value, ids in ids_by_value.items():
            conn.execute(update(table).where(table.c.id.in_(ids)).values({spec.column: value}))
        last = rows[-1].id


COMPUTE_CHUNK = 1000


def _is_trigram(index: Index) -> bool:
    return index.dialect_options["postgresql"].get("using") == "gin"


def _trigram_available(conn: Connection) -> bool:
    """pg_trgm for search indexes (trusted since PostgreSQL 13: the database owner may create it)."""
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError:
        log.warning("pg_trgm is not available; text search indexes are skipped")
        return False
    return True
