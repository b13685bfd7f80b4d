"""Roles locked out of what they write: the one check of the roles as they are in force.

A role that may write a model (FAB's pair `can_write` on the model's resource, what `Access.can` reads: set from
roles.yaml by `jxc init`, editable on FAB's role pages) must be able to fill each of its required fields without a
default. A field hidden from it (its roles.yaml masks; every kind of figure under 价格屏蔽; every field for a role
roles.yaml does not know, whose users see nothing) or read-only for it would keep it from saving any row of the
model, and name to it a field it may not see. roles.yaml's own actions get this check at load (app/meta/figures.py
`required_fillable`, app/meta/row_scopes.py `scope_fillable`); a copy of a role takes its original's masks and row
scope (app/services/access/origins.py) and is checked as it is. Here the roles are checked with the permissions the
database holds (or a role page is about to save): for 价格屏蔽 switched on live and as stored when the app starts
(app/services/records/settings.py), for FAB's role pages and role API (app/views/user_pages.py), and for the roles
as stored (`role_locks`: permissions given before the role pages were checked), whose writes that could never save
are left out of force (app/services/users/access.py `stored_roles`) and logged when the app starts."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace

from flask_appbuilder.security.sqla.models import Permission, PermissionView, Role, ViewMenu, assoc_permissionview_role
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from app.i18n import label, t
from app.meta.figures import unfillable
from app.meta.registry import Registry
from app.meta.row_scopes import out_of_scope
from app.meta.spec import FIGURES, FieldSpec, ModelSpec, RoleSpec
from app.services.access.origins import Origins, origin_of, read_origins, spec_of
from app.services.access.rights import ADMIN_ROLE, permission_resource

Lock = tuple[ModelSpec, FieldSpec, RoleSpec]  # (model, required field, role that writes it and could not fill it)
UNFILLABLE, OUT_OF_SCOPE = "unfillable", "out_of_scope"  # why: hidden or read-only for it; its row scope admits none
Why = tuple[str, Lock]
# what the role pages and the role API say of a lock they refuse, and the settings page of one stored, by why
REFUSED = {UNFILLABLE: "role_edit_unfillable", OUT_OF_SCOPE: "role_edit_out_of_scope"}
NOT_IN_FORCE = {UNFILLABLE: "role_write_not_in_force", OUT_OF_SCOPE: "role_write_out_of_scope"}
LOGGED = {  # the start-up warning's (reason, remedy), by why
    UNFILLABLE: ("required, and hidden or read-only for it", "make the field optional or give it a default"),
    OUT_OF_SCOPE: ("its row scope admits no value of it", "let it read what its row scope links to"),
}
Pairs = Iterable[tuple[str, str]]  # (permission, view menu): can_write on PurchaseReceipt
ACTION = "can_"
WRITE = "can_write"
EMPTY: Origins = {}  # no copies among the roles checked

log = logging.getLogger(__name__)

# (permission, view menu) pairs granted to roles: what a role holds (app/services/users/access.py reads every role's)
PAIRS = (
    select(Permission.name, ViewMenu.name)
    .select_from(assoc_permissionview_role)
    .join(PermissionView, PermissionView.id == assoc_permissionview_role.c.permission_view_id)
    .join(Permission, Permission.id == PermissionView.permission_id)
    .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
)
ROLE_PAIRS = PAIRS.add_columns(Role.name).join(Role, Role.id == assoc_permissionview_role.c.role_id)


def stored_pairs(conn: object, names: Iterable[str]) -> dict[str, set[tuple[str, str]]]:
    """{role: its (permission, view menu) pairs} as the database holds them, for the named roles (`conn`: a
    Session or a Connection); a role holding nothing has an empty set."""
    wanted = sorted(set(names))
    held: dict[str, set[tuple[str, str]]] = {name: set() for name in wanted}
    for permission, view, role in conn.execute(ROLE_PAIRS.where(Role.name.in_(wanted))):  # type: ignore[attr-defined]
        held[role].add((permission, view))
    return held


def role_in_force(registry: Registry, name: str, pairs: Pairs, blind: bool, origins: Origins = EMPTY) -> RoleSpec:
    """The role as a user holding only it meets it: the actions of its pairs, the masks roles.yaml gives it (its own
    entry or, for a copy, its origin's: `spec_of`; none known: every field hidden, as `Access.can_see` hides them from
    a role roles.yaml does not know), every kind of figure hidden under 价格屏蔽 (`blind`)."""
    meta = registry.meta
    resources = {permission_resource(model): model.key for model in meta.models.values() if not model.is_line}
    actions: dict[str, set[str]] = {}
    for permission, view in pairs:
        if view in resources and permission.startswith(ACTION):
            actions.setdefault(resources[view], set()).add(permission.removeprefix(ACTION))
    role = spec_of(meta.roles, name, origins) or RoleSpec(
        key=name,
        label={"zh": name, "en": name},
        permissions={},
        hidden_fields={model.key: tuple(spec.name for spec in model.fields) for model in meta.models.values()},
        readonly_fields={},
        row_scope={},
    )
    return replace(
        role,
        permissions={key: tuple(sorted(granted)) for key, granted in actions.items()},
        hidden_figures=frozenset(FIGURES) if blind else role.hidden_figures,
    )


def locks(registry: Registry, held: Mapping[str, Pairs], blind: Iterable[str], origins: Origins = EMPTY) -> list[Lock]:
    """Each required field a role of `held` ({role: its pairs}) writes and could not fill, those listed in `blind`
    (roles.yaml keys: a copy of a listed role too) under 价格屏蔽; an admin sees and sets everything."""
    listed = set(blind)
    roles = {
        name: role_in_force(registry, name, pairs, origin_of(name, origins) in listed, origins)
        for name, pairs in held.items()
        if name != ADMIN_ROLE
    }
    return list(unfillable(registry.meta.models, roles))


def scope_locks(registry: Registry, held: Mapping[str, Pairs], origins: Origins = EMPTY) -> list[Lock]:
    """Each field of a model a role of `held` writes that its row scope leaves it nothing to fill with
    (app/meta/row_scopes.py `out_of_scope`, the check roles.yaml gets at load). A role roles.yaml does not know (nor
    copies) has no row scope."""
    roles = {
        name: role_in_force(registry, name, pairs, False, origins)
        for name, pairs in held.items()
        if name != ADMIN_ROLE and spec_of(registry.meta.roles, name, origins) is not None
    }
    return list(out_of_scope(registry.meta.models, roles))


def mask_locks(
    registry: Registry, held: Mapping[str, Pairs], blind: Iterable[str], origins: Origins = EMPTY
) -> list[Lock]:
    """The locks 价格屏蔽 on `blind` makes: those of the listed roles (and their copies, in `held`) masked that they
    have not unmasked (a role that writes what its roles.yaml masks hide is locked either way: its permissions are the
    fault, not the mask)."""
    listed = set(blind) - {ADMIN_ROLE}
    mine = {name: list(held.get(name, ())) for name in listed}
    mine |= {name: list(pairs) for name, pairs in held.items() if origin_of(name, origins) in listed}
    mine.pop(ADMIN_ROLE, None)
    before = {lock_key(lock) for lock in locks(registry, mine, (), origins)}
    return [lock for lock in locks(registry, mine, listed, origins) if lock_key(lock) not in before]


def lock_key(lock: Lock) -> tuple[str, str, str]:
    """(model, field, role) by their keys."""
    model, spec, role = lock
    return model.key, spec.name, role.key


def lock_text(key: str, lock: Lock) -> str:
    """The catalogue's message `key` naming the lock's role, model and field by their labels."""
    model, spec, role = lock
    return t(
        key, role=label(role.label, role.key), model=label(model.label, model.key), field=label(spec.label, spec.name)
    )


def lock_said(key: str, lock: Lock) -> dict[str, str]:
    """A lock as an answer says it: role, model and field by their keys, and the catalogue's message `key`."""
    model, spec, role = lock
    return {"role": role.key, "model": model.key, "field": spec.name, "message": lock_text(key, lock)}


def role_locks(conn: object, registry: Registry) -> list[Why]:
    """The locks of every role as the database holds it (`conn`: a Session or a Connection), each with why
    (`UNFILLABLE`: its roles.yaml masks; `OUT_OF_SCOPE`: its row scope): what a role page or the role API saved
    before they were checked (仓管员 given 「收付款单：修改」), not what 价格屏蔽 adds (the switch's own locks,
    `mask_locks`)."""
    names = conn.execute(select(Role.name)).scalars()  # type: ignore[attr-defined]
    return role_pair_locks(registry, stored_pairs(conn, names), (), read_origins(conn))


def role_pair_locks(
    registry: Registry, held: Mapping[str, Pairs], blind: Iterable[str], origins: Origins = EMPTY
) -> list[Why]:
    """The locks of the roles of `held` ({role: its pairs}; `origins`: the copies among them) with why: a required
    field hidden or read-only for it (those listed in `blind` under 价格屏蔽), a field its row scope leaves nothing
    to fill with."""
    unfillable = [(UNFILLABLE, lock) for lock in locks(registry, held, blind, origins)]
    return unfillable + [(OUT_OF_SCOPE, lock) for lock in scope_locks(registry, held, origins)]


def writes_left_out(found: Iterable[Why]) -> dict[str, frozenset[tuple[str, str]]]:
    """{role: the write pairs its locks keep out of force}: a role that could save no row of a model does not write
    it (no form, grid row or import offered that can never save); its other actions stay."""
    out: dict[str, set[tuple[str, str]]] = {}
    for _why, (model, _spec, role) in found:
        out.setdefault(role.key, set()).add((WRITE, permission_resource(model)))
    return {name: frozenset(pairs) for name, pairs in out.items()}


def warn_stored_role_locks(conn: Connection, registry: Registry) -> list[Lock]:
    """At start-up: each lock of the roles as stored, logged as a warning naming role, model and field. Not refused
    (a role's permissions must not keep a business out of its app): the write is left out of force. Nothing before
    `jxc init` made FAB's tables."""
    if not inspect(conn).has_table(Role.__tablename__):
        return []
    found = role_locks(conn, registry)
    for why, (model, spec, role) in found:
        reason, remedy = LOGGED[why]
        log.warning(
            "role '%s' may write %s (its permissions as stored) but not fill its field '%s' (%s): the write is not in"
            " force; take it from the role, or %s",
            role.key,
            model.key,
            spec.name,
            reason,
            remedy,
        )
    return found
