"""Add-only schema changes from metadata: create missing tables, columns and indexes."""

from __future__ import annotations

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from app.meta.build import index_for, make_column
from app.meta.registry import Registry


def sync_schema(conn: Connection, registry: Registry) -> list[str]:
    """Bring the database up to the registry without dropping anything; return what changed."""
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    changes: list[str] = []
    tables = [t for t in registry.tables.sorted_tables if t.name != "ab_user"]
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
        indexes = {i["name"] for i in inspector.get_indexes(model.key)}
        for spec in model.fields:
            if spec.type == "lines" or spec.column in columns:
                continue
            ops.add_column(model.key, make_column(spec))
            changes.append(f"add column {model.key}.{spec.column}")
            index = index_for(model.key, spec)
            if index is not None and index.name not in indexes:
                ops.create_index(index.name, model.key, [spec.column], unique=bool(index.unique))
                changes.append(f"create index {index.name}")
        table = registry.tables.tables[model.key]
        for index in table.indexes:
            if index.name not in indexes and len(index.columns) > 1:
                index.create(conn)
                changes.append(f"create index {index.name}")
    return changes
