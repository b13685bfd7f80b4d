"""The metadata engine's own tables, and the MetaData every platform table shares.

Each subsystem declares the tables it owns in its own `tables.py` on `core_metadata` (records, access,
stock, grid, jobs ...); Alembic (app/migrations) creates and upgrades them all.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text

core_metadata = MetaData()

# rows of jxc_meta_state: the metadata version (a field added live moves it), a stamp of the policy
# settings (app/services/records/settings.py moves it with every change) and a stamp of the roles' permissions
# (app/services/users/access.py moves it with every change of a role, its permissions or FAB's permission
# rows): what a process caches per version or stamp stays while the row does
METADATA_ROW = 1
SETTINGS_ROW = 2
SECURITY_ROW = 3

meta_state = Table(
    "jxc_meta_state",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

meta_field = Table(
    "jxc_meta_field",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("model", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("spec", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(128)),
    Index("uq_jxc_meta_field_model_name", "model", "name", unique=True),
)
