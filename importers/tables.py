"""The importer's tables: each applied import with what it changed (for undo and for recognising the same
file twice), and the column mappings users corrected, per model and layout."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text

from app.meta.tables import core_metadata

# One applied import: status moves applied -> undone (then the same content may be imported again).
import_run = Table(
    "jxc_import",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer),
    Column("user_id", Integer),
    Column("model", String(64), nullable=False),
    Column("action", String(8), nullable=False),
    Column("mode", String(8), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("filename", String(255)),
    Column("status", String(8), nullable=False),
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("undone_at", DateTime),
    Column("undone_by", Integer),
    Index("ix_jxc_import_content", "model", "content_hash"),
)

# Each row an import created or updated: its version right after, and the values an update replaced.
import_change = Table(
    "jxc_import_change",
    core_metadata,
    Column("id", Integer, primary_key=True),
    Column("import_id", Integer, nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("op", String(8), nullable=False),
    Column("version", Integer, nullable=False),
    Column("before", Text),  # JSON {field: value} (updates)
    Index("ix_jxc_import_change_import", "import_id", "id"),
)

# A corrected column mapping, remembered for the next file of the same layout (any user's).
import_layout = Table(
    "jxc_import_layout",
    core_metadata,
    Column("model", String(64), primary_key=True),
    Column("signature", String(64), primary_key=True),
    Column("mapping", Text, nullable=False),  # JSON {normalised header: field name, "" to skip}
    Column("user_id", Integer),
    Column("updated_at", DateTime, nullable=False),
)
