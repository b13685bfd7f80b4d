"""The Access of a user: their roles' permissions, masks and row scope with the access switches in force."""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.extensions import db, registry
from app.services.access.rights import ALL, DEPARTMENT, Access
from app.services.records.settings import policy_values

# the settings every request's Access reads: 价格屏蔽 and 数据范围
ACCESS_SWITCHES = ("hide_prices_from_roles", "department_scope_roles", "all_scope_roles")


def access_for(user: Any) -> Access:
    """Access of a given FAB user (CLI, jobs, tests)."""
    sm = current_app.appbuilder.sm
    roles = tuple(role.name for role in user.roles) if user is not None else ()
    permissions = set(sm.get_user_permissions(user)) if user is not None else set()
    switches = policy_values(db.session, registry(), ACCESS_SWITCHES)
    blind_roles = set(switches["hide_prices_from_roles"] or [])
    levels = {role: DEPARTMENT for role in switches["department_scope_roles"] or []}
    levels |= {role: ALL for role in switches["all_scope_roles"] or []}
    return Access(
        registry=registry(),
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", ""),
        role_names=roles,
        permissions=permissions,
        price_blind=bool(roles) and set(roles) <= blind_roles,
        scope_levels=levels,
    )
