"""Who works where: users' warehouses, departments and language."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table

from app.meta.tables import core_metadata

user_warehouse = Table(
    "jxc_user_warehouse",
    core_metadata,
    Column("user_id", Integer, primary_key=True),
    Column("warehouse_id", Integer, primary_key=True),
)

user_department = Table(
    "jxc_user_department",
    core_metadata,
    Column("user_id", Integer, primary_key=True),  # a user belongs to one department at most
    Column("department_id", Integer, nullable=False, index=True),
)

user_pref = Table(
    "jxc_user_pref",
    core_metadata,
    Column("user_id", Integer, primary_key=True),
    Column("locale", String(8), nullable=False),
)

# a copy of a role (FAB's 「Copy Role」): the roles.yaml role it was made of, by the copy's id (kept through renames)
role_origin = Table(
    "jxc_role_origin",
    core_metadata,
    Column("role_id", Integer, primary_key=True),
    Column("origin", String(64), nullable=False),
)
