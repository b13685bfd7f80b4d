"""Alembic environment for JXC's core tables; run by `jxc init` on the app's connection."""

from alembic import context

from app.core_tables import core_metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=core_metadata, version_table="jxc_alembic_version")
with context.begin_transaction():
    context.run_migrations()
