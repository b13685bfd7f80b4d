"""Alembic environment for JXC's core tables; run by `jxc init` on the app's connection."""

from alembic import context

from app.collab import tables as _collab_tables  # noqa: F401  every subsystem's tables join core_metadata
from app.jobs import tables as _job_tables  # noqa: F401
from app.meta.tables import core_metadata
from app.schedules import tables as _schedule_tables  # noqa: F401
from app.services.access import tables as _access_tables  # noqa: F401
from app.services.grid import tables as _grid_tables  # noqa: F401
from app.services.phone import tables as _phone_tables  # noqa: F401
from app.services.records import tables as _records_tables  # noqa: F401
from app.services.stock import tables as _stock_tables  # noqa: F401
from app.services.users import tables as _users_tables  # noqa: F401
from importers import tables as _import_tables  # noqa: F401

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=core_metadata, version_table="jxc_alembic_version")
with context.begin_transaction():
    context.run_migrations()
