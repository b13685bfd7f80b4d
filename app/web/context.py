"""The current app's registry, session and user, for requests, CLI commands and jobs."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context
from flask_login import current_user

from app.extensions import db
from app.meta.registry import Registry, RegistryHolder
from app.services.access.rights import ALL, DEPARTMENT, Access
from app.services.records.settings import policy_values


def registry_holder() -> RegistryHolder:
    """The app's registry holder."""
    return current_app.extensions["jxc_registry"]


def registry() -> Registry:
    """The registry in force for this app."""
    return registry_holder().current


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


def request_user() -> Any:
    """The user of this request, from the session cookie or the JWT bearer token."""
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    from flask_jwt_extended import current_user as jwt_user
    from flask_jwt_extended import verify_jwt_in_request

    try:
        verify_jwt_in_request(optional=True)
    except Exception:  # noqa: BLE001 - a bad token is simply no user
        return None
    return jwt_user if jwt_user else None


def current_access() -> Access:
    """Access of the request's user, computed once per request."""
    if has_request_context() and "jxc_access" in g:
        return g.jxc_access
    access = access_for(request_user())
    if has_request_context():
        g.jxc_access = access
    return access


def session() -> Any:
    """The SQLAlchemy session of this app context."""
    return db.session
