"""FAB's security pages in the reader's language: roles by their labels, permissions as 「采购入库单：查看」
instead of "can read on PurchaseReceipt", yes / no instead of True / False, users by their names.

FAB renders roles, permissions and users through their models' `__repr__` (lists, detail pages and the
options of its forms alike), so those are replaced once, when the security views are registered."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.security.sqla.models import PermissionView, Role, User
from markupsafe import Markup

from app.extensions import registry
from app.i18n import MESSAGES, label, t
from app.meta.types import is_no_address
from app.services.access.rights import permission_resource
from app.services.records.serialize import user_name
from app.views.labels import role_label, role_origin_note


def _catalogue(prefix: str, name: str) -> str | None:
    key = f"{prefix}.{name}"
    return t(key) if key in MESSAGES else None


def resource_label(name: str) -> str:
    """A FAB view-menu name (a model's resource, a menu entry, a platform page) in the reader's language."""
    found = registry().kept(("resource_labels",), _resource_labels).get(name)
    if found is not None:
        return label(*found)
    return _catalogue("perm.view", name) or name


def _resource_labels() -> dict[str, tuple[Any, str]]:
    """View-menu name -> (its label, its key), once per metadata version: the first that names it of the models
    (by key or resource), then each menu and its links. A role's form lists ~430 permissions, and searching the
    metadata for each was most of its page (~25 ms)."""
    meta = registry().meta
    found: dict[str, tuple[Any, str]] = {}
    for model in meta.models.values():
        for name in (model.key, permission_resource(model)):
            found.setdefault(name, (model.label, model.key))
    for menu in meta.menus:
        found.setdefault(menu.key, (menu.label, menu.key))
        for link in menu.links:
            found.setdefault(link.key, (link.label, link.key))
    return found


def permission_text(pv: Any) -> str:
    """「采购入库单：查看」 for can_read on PurchaseReceipt."""
    action = str(pv.permission.name)
    return f"{resource_label(str(pv.view_menu.name))}：{_catalogue('perm', action) or action}"


def yes_no(value: Any) -> str:
    """A flag as 是 / 否."""
    return t("bool.yes") if value else t("bool.no")


def blank(value: Any) -> str:
    """Nothing rather than 'None'."""
    return "" if value is None else str(value)


def email_text(value: Any) -> str:
    """A user's e-mail address, or 无邮箱 for a user without one (their marked non-address is not shown)."""
    return t("user_no_address") if is_no_address(value) else str(value)


def roles_text(roles: Any) -> str:
    """A user's roles by their labels."""
    return "、".join(role_label(r.name) for r in roles or [])


def names_text(items: Any) -> str:
    """Groups or users by what they are called, without Python's list brackets."""
    return "、".join(str(getattr(i, "label", None) or i) for i in items or [])


def permissions_text(permissions: Any) -> str:
    """A role's permissions, sorted by what they are on."""
    return "；".join(sorted(permission_text(pv) for pv in permissions or []))


USER_FORMATTERS = {
    "active": yes_no,
    "email": email_text,
    "roles": roles_text,
    "groups": names_text,
    "login_count": blank,
    "fail_login_count": blank,
    "last_login": blank,
    "created_by": blank,
    "changed_by": blank,
}


def role_name_html(name: str) -> Markup:
    """A role on its list and its page: its label, and for a copy what it was copied from (「复制自 销售员」)."""
    note = role_origin_note(name)
    if note is None:
        return Markup("{}").format(role_label(name))
    return Markup('{} <small class="text-muted jxc-role-origin">{}</small>').format(role_label(name), note)


ROLE_FORMATTERS = {"name": role_name_html, "permissions": permissions_text}


def _safely(render: Any, fallback: Any) -> Any:
    """`render`, or FAB's own text outside an app (a log line, the command line)."""

    def text(self: Any) -> str:
        try:
            return str(render(self))
        except RuntimeError:  # no app context: no registry, no catalogue choice
            return str(fallback(self))

    return text


def install_fab_labels() -> None:
    """Make FAB's own rendering of roles, permissions and users speak the catalogue's language."""
    Role.__repr__ = _safely(lambda r: role_label(r.name), lambda r: r.name)  # type: ignore[method-assign]
    PermissionView.__repr__ = _safely(permission_text, lambda pv: f"{pv.permission} on {pv.view_menu}")  # type: ignore[method-assign]
    User.__repr__ = _safely(  # type: ignore[method-assign]
        user_name, lambda u: u.username
    )
