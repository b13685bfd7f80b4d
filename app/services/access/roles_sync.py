"""Sync roles.yaml into FAB roles: role x model x action becomes `can_<action>` on `<Model>`."""

from __future__ import annotations

import fnmatch
from typing import Any

from app.meta.registry import Registry
from app.meta.spec import MenuLink
from app.services.access.rights import ADMIN_ROLE, permission_resource

# FAB's own pages every signed-in user needs (their profile and password).
SELF_SERVICE = [
    ("can_userinfo", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
    ("can_read", "Meta"),
    ("can_read", "Job"),  # their own background jobs (/jobs/, /api/v1/jobs/)
    ("can_read", "Notification"),  # their own notifications (/api/v1/notifications/)
    ("can_read", "Collab"),  # comments, attachments, watchers of records they may read (/api/v1/collab/)
]
# The audit trail's API, beside the audit page a manager's menu shows (menus.yaml: roles: [manager]).
MANAGER_EXTRA = [("can_read", "Audit")]


def _link_shown(link: MenuLink, readable: set[str], role_key: str) -> bool:
    """A page serving a model is shown to the roles that may read it (and, when it lists roles, are listed:
    the overdue list needs the sales side, not just partners); any other page to the roles it lists."""
    if link.model is None:
        return role_key in link.roles
    return link.model in readable and (not link.roles or role_key in link.roles)


def wanted_permissions(registry: Registry, role_key: str) -> set[tuple[str, str]]:
    """Every (permission, view) pair a role from roles.yaml should hold."""
    role = registry.meta.roles[role_key]
    wanted: set[tuple[str, str]] = set(SELF_SERVICE)
    readable: set[str] = set()
    for model in registry.meta.models.values():
        if model.is_line:
            continue
        actions: set[str] = set()
        for pattern, granted in role.permissions.items():
            if fnmatch.fnmatchcase(model.key, pattern):
                actions.update(granted)
        if model.kind == "ledger":
            actions &= {"read", "export"}
        for action in actions:
            wanted.add((f"can_{action}", permission_resource(model)))
        if "read" in actions:
            readable.add(model.key)
    for menu in registry.meta.menus:
        shown = [key for key in menu.models if key in readable]
        shown += [link.key for link in menu.links if _link_shown(link, readable, role_key)]
        for key in shown:
            wanted.add(("menu_access", key))
        if shown:
            wanted.add(("menu_access", menu.key))
    if role_key == "manager":
        wanted.update(MANAGER_EXTRA)
    return wanted


def sync_roles(sm: Any, registry: Registry) -> dict[str, int]:
    """Create roles and set their permissions to exactly what roles.yaml says; admin gets everything."""
    counts = {}
    all_pairs = set()
    for role_key in registry.meta.roles:
        if role_key != ADMIN_ROLE:
            all_pairs |= wanted_permissions(registry, role_key)
    for perm, view in sorted(all_pairs):
        sm.add_permission_view_menu(perm, view)
    for role_key in registry.meta.roles:
        role = sm.find_role(role_key) or sm.add_role(role_key)
        if role_key == ADMIN_ROLE:
            pvms = sm.session.query(sm.permissionview_model).all()
            role.permissions = list(pvms)
            sm.session.merge(role)
            counts[role_key] = len(pvms)
            continue
        wanted = wanted_permissions(registry, role_key)
        pvms = [sm.find_permission_view_menu(perm, view) for perm, view in sorted(wanted)]
        role.permissions = [p for p in pvms if p is not None]
        sm.session.merge(role)
        counts[role_key] = len(role.permissions)
    sm.session.commit()
    return counts
