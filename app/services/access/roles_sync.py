"""Sync roles.yaml into FAB roles: role x model x action becomes `can_<action>` on `<Model>`."""

from __future__ import annotations

import fnmatch
from typing import Any

from app.meta.registry import Registry
from app.services.access.rights import ADMIN_ROLE, permission_resource

# FAB's own pages every signed-in user needs (their profile and password).
SELF_SERVICE = [
    ("can_userinfo", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"),
    ("can_read", "Meta"),
]
# Pages that are not a model's list, shown in a model menu to roles that may read the model they serve:
# (link name, href, label, menu key, model)
FEATURE_LINKS = (
    ("reorder", "/reorder/", {"zh": "补货建议", "en": "Reorder suggestions"}, "purchase", "purchase_order"),
    ("overdue", "/accounts/overdue", {"zh": "逾期催款", "en": "Overdue (dunning)"}, "money", "partner"),
    ("cash", "/cash/", {"zh": "资金余额", "en": "Account balances"}, "money", "account"),
)
MANAGER_EXTRA = [("can_read", "Audit"), ("menu_access", "audit_log"), ("menu_access", "system")]


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
        for key in shown:
            wanted.add(("menu_access", key))
        if shown:
            wanted.add(("menu_access", menu.key))
    for name, _href, _label, _menu, model_key in FEATURE_LINKS:
        if model_key in readable:
            wanted.add(("menu_access", name))
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
