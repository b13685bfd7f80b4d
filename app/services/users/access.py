"""The Access of a user: their roles' permissions, masks and row scope with the access switches in force."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    ViewMenu,
    assoc_permissionview_role,
)
from sqlalchemy import select

from app.extensions import db, registry
from app.services.access.rights import ALL, DEPARTMENT, Access
from app.services.records.settings import policy_values

# the settings every request's Access reads: 价格屏蔽 and 数据范围
ACCESS_SWITCHES = ("hide_prices_from_roles", "department_scope_roles", "all_scope_roles")


def role_permissions(role_ids: list[int]) -> set[tuple[str, str]]:
    """(permission, view menu) pairs of the roles, in one query of plain rows (FAB's own loads every pair
    as three ORM objects per role: most of a grid page's time went there)."""
    if not role_ids:
        return set()
    pvr = assoc_permissionview_role
    stmt = (
        select(Permission.name, ViewMenu.name)
        .select_from(pvr)
        .join(PermissionView, PermissionView.id == pvr.c.permission_view_id)
        .join(Permission, Permission.id == PermissionView.permission_id)
        .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
        .where(pvr.c.role_id.in_(role_ids))
    )
    return {(p, v) for p, v in db.session.execute(stmt)}


def _permissions_of(user: Any) -> Any:
    """What reads the user's permissions when they are first needed (once per request: the pages' menus ask too).
    It keeps the user's id, not the row: a job or the cron may ask after the session that read the user ended
    (the row is detached then, and its roles and groups could not be loaded); in a request the row is found in
    the session's identity map without a query."""
    sm, user_class, user_id = current_app.appbuilder.sm, type(user), user.id
    return lambda: set(sm.request_permissions(db.session.get(user_class, user_id)))


def access_for(user: Any) -> Access:
    """Access of a given FAB user (CLI, jobs, tests)."""
    roles = tuple(role.name for role in user.roles) if user is not None else ()
    switches = policy_values(db.session, registry(), ACCESS_SWITCHES)
    blind_roles = set(switches["hide_prices_from_roles"] or [])
    levels = {role: DEPARTMENT for role in switches["department_scope_roles"] or []}
    levels |= {role: ALL for role in switches["all_scope_roles"] or []}
    return Access(
        registry=registry(),
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", ""),
        role_names=roles,
        load_permissions=_permissions_of(user) if user is not None else None,
        price_blind=bool(roles) and set(roles) <= blind_roles,
        scope_levels=levels,
    )
