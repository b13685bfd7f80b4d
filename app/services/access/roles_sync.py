"""Sync roles.yaml into FAB roles: role x model x action becomes `can_<action>` on `<Model>`."""

from __future__ import annotations

import fnmatch
from typing import Any

from app.meta.registry import Registry
from app.meta.spec import MenuLink, RoleSpec
from app.services.access.origins import unlink
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


def _link_shown(link: MenuLink, readable: set[str], role: RoleSpec) -> bool:
    """A page serving a model is shown to the roles that may read it (and, when it lists roles, are listed:
    the overdue list needs the sales side, not just partners; when it runs a report, may run it: 补货建议 is not a
    warehouse keeper's, who reads the orders of their warehouses); any other page to the roles it lists."""
    if link.model is None:
        return role.key in link.roles
    if link.report is not None and not role.runs(link.report):
        return False
    return link.model in readable and (not link.roles or role.key in link.roles)


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
        shown += [link.key for link in menu.links if _link_shown(link, readable, role)]
        for key in shown:
            wanted.add(("menu_access", key))
        if shown:
            wanted.add(("menu_access", menu.key))
    if role_key == "manager":
        wanted.update(MANAGER_EXTRA)
    return wanted


class PermissionViews:
    """Every permission x view pair in the database, read at once; a missing one added through FAB's security
    manager. FAB's own add_permission_view_menu looks each pair up with three queries, even when it is there:
    about 5,000 queries at every `jxc init` of a database that has them all."""

    def __init__(self, sm: Any) -> None:
        self.sm = sm
        self.pairs = {(pv.permission.name, pv.view_menu.name): pv for pv in sm.session.query(sm.permissionview_model)}

    def ensure(self, permission: str, view: str) -> Any:
        """The pair, added when missing."""
        found = self.pairs.get((permission, view))
        if found is None:
            found = self.pairs[(permission, view)] = self.sm.add_permission_view_menu(permission, view)
        return found

    def all(self) -> list[Any]:
        return [pv for pv in self.pairs.values() if pv is not None]


def sync_roles(sm: Any, registry: Registry, pairs: PermissionViews | None = None) -> dict[str, int]:
    """Create roles and set their permissions to exactly what roles.yaml says; admin gets everything. A role roles.yaml
    names is roles.yaml's: a copy that had been given its name is a copy no more (`unlink`)."""
    pairs = pairs or PermissionViews(sm)
    counts = {}
    for role_key in registry.meta.roles:
        role = sm.find_role(role_key) or sm.add_role(role_key)
        unlink(sm.session, role.id)
        if role_key == ADMIN_ROLE:
            continue
        wanted = wanted_permissions(registry, role_key)
        pvms = [pairs.ensure(perm, view) for perm, view in sorted(wanted)]
        role.permissions = [p for p in pvms if p is not None]
        sm.session.merge(role)
        counts[role_key] = len(role.permissions)
    admin = sm.find_role(ADMIN_ROLE) if ADMIN_ROLE in registry.meta.roles else None
    if admin is not None:  # last: every pair there is, those the other roles added too
        admin.permissions = pairs.all()
        sm.session.merge(admin)
        counts[ADMIN_ROLE] = len(admin.permissions)
    sm.session.commit()
    return counts
