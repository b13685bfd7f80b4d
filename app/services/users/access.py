"""The Access of a user: their roles' permissions, masks and row scope with the access switches in force.

A role's permissions are cached per security stamp (row SECURITY_ROW of jxc_meta_state), the way settings are
cached per settings stamp: every request reads the stamp in the one query it makes anyway
(`RegistryHolder.refresh_if_stale`) and hands it to `security_read_at`; a flush that adds, changes or deletes a
role, a permission, a view menu or a (permission, view menu) pair moves the stamp in the same transaction
(mapper events: FAB's role pages, `jxc init`'s role sync, whatever goes through the ORM), so every process
reads the roles' permissions again on its next request. Who holds which roles (a user's roles and groups, a
group's roles) is not cached: it comes with the live sign-in every request reads (app/services/users/sessions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_appbuilder.security.sqla.models import (
    Permission,
    PermissionView,
    Role,
    ViewMenu,
)
from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction, object_session

from app.extensions import db, registry
from app.meta.registry import move_stamp, read_stamp
from app.meta.tables import SECURITY_ROW, SETTINGS_ROW, meta_state
from app.services.access.locks import (
    NOT_IN_FORCE,
    REFUSED,
    ROLE_PAIRS,
    Lock,
    Why,
    lock_key,
    lock_said,
    lock_text,
    role_pair_locks,
    stored_pairs,
    writes_left_out,
)
from app.services.access.origins import origin_of, read_origins
from app.services.access.rights import ALL, DEPARTMENT, Access
from app.services.records.settings import PRICE_MASK, StoredMask, policy, policy_values
from app.services.records.settings import STAMP as SETTINGS_STAMP
from app.services.users.sessions import SignedInUser

# the settings every request's Access reads: 价格屏蔽 and 数据范围
ACCESS_SWITCHES = (PRICE_MASK, "department_scope_roles", "all_scope_roles")
STORED_MASK = "jxc_stored_price_mask"  # app.extensions: 价格屏蔽 as start-up found it (StoredMask)


STAMP = "jxc_security_stamp"  # session.info: the security stamp read in the session's transaction
CACHED = "role_permissions"  # Registry.cache: (stamp, {role ids: frozenset of pairs})
WRITES_LEFT_OUT = "role_writes"  # `not_in_force`: the roles' writes left out
LOCKED = "stored_roles"  # Registry.cache: (stamp, StoredRoles)


def security_read_at(session: Session, stamp: int | None) -> None:
    """The security stamp this transaction read (None: there is none): role permissions may come from the
    cache kept under it until the transaction ends."""
    if stamp is None:
        session.info.pop(STAMP, None)
    else:
        session.info[STAMP] = stamp


def move_security_stamp(conn: Connection, missing_only: bool = False) -> None:
    """A new security stamp in the caller's transaction (`missing_only`: at init, only when there is none;
    nothing before `jxc init` made the table: FAB writes its own roles first)."""
    if inspect(conn).has_table(meta_state.name):
        move_stamp(conn, SECURITY_ROW, missing_only)


@event.listens_for(Session, "after_transaction_end")
def _stamp_ends(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(STAMP, None)


def _row_changed(_mapper: Any, conn: Connection, target: Any) -> None:
    """A role (its permissions are its collection: changing them flushes the role), a permission, a view menu or
    a pair was written: a new stamp in the same transaction, and this transaction reads permissions afresh.
    Mapper events: a flush of anything else does not look."""
    move_security_stamp(conn)
    session = object_session(target)
    if session is not None:
        session.info.pop(STAMP, None)


for _model in (Role, Permission, ViewMenu, PermissionView):
    for _event in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _event, _row_changed)


def role_permissions(role_ids: list[int]) -> frozenset[tuple[str, str]]:
    """(permission, view menu) pairs of the roles, from the pairs of every role read in one query of plain rows per
    security stamp (`stored_roles`; FAB's own loads every pair as three ORM objects per role: most of a grid page's
    time went there): a request of a transaction that read the stamp asks the database only after a role's
    permissions changed. A role's write that it could save no row with is left out."""
    if not role_ids:
        return frozenset()
    key = tuple(sorted(set(role_ids)))
    stamp, cache = db.session.info.get(STAMP), registry().cache
    cached = cache.get(CACHED)
    if stamp is not None and cached is not None and cached[0] == stamp and key in cached[1]:
        return cached[1][key]  # shared by every reader: never changed
    by_role = stored_roles().pairs
    pairs = frozenset().union(*(by_role.get(role_id, frozenset()) for role_id in key))
    if stamp is not None:  # read after the stamp: at least as new as what it stands for
        by_roles = dict(cached[1]) if cached is not None and cached[0] == stamp else {}
        by_roles[key] = pairs
        cache[CACHED] = (stamp, by_roles)
    return pairs


@dataclass(frozen=True)
class StoredRoles:
    """Every role's permissions as the database holds them, read at one security stamp: the pairs in force per role
    id, and the locks of the roles (app/services/access/locks.py `role_pair_locks`: a write given on a role page
    before the check, with a required field the role may not see or set, or a row scope that leaves it nothing to
    write), whose writes are left out of those pairs."""

    pairs: dict[int, frozenset[tuple[str, str]]]
    locks: tuple[Why, ...]
    origins: dict[str, str]  # {copy's name: the roles.yaml role it takes its entry from} (origins.py)


def stored_roles() -> StoredRoles:
    """The roles' permissions in force, kept per security stamp (one query of every role's pairs when it moved): a
    locked role's write is not in force (`role_permissions`), start-up logs it and the settings and role pages say
    so, until the role's permissions change (a role edit moves the stamp, and is checked)."""
    stamp = db.session.info.get(STAMP)
    if stamp is None:  # a job or the command line: no request read it
        stamp = read_stamp(db.session, SECURITY_ROW)
    reg = registry()
    cached = reg.cache.get(LOCKED)
    if stamp is not None and cached is not None and cached[0] == stamp:
        return cached[1]  # type: ignore[no-any-return]
    held: dict[str, set[tuple[str, str]]] = {}
    ids: dict[int, str] = {}
    for permission, view, name, role_id in db.session.execute(ROLE_PAIRS.add_columns(Role.id)):
        held.setdefault(name, set()).add((permission, view))
        ids[role_id] = name
    origins = read_origins(db.session)
    found = tuple(role_pair_locks(reg, held, (), origins))
    left_out = writes_left_out(found)
    pairs = {role_id: frozenset(held[name] - left_out.get(name, frozenset())) for role_id, name in ids.items()}
    stored = StoredRoles(pairs, found, origins)
    if stamp is not None:  # read after the stamp: at least as new as what it stands for
        reg.cache[LOCKED] = (stamp, stored)
    return stored


def stored_role_locks() -> tuple[Why, ...]:
    """The locks of the roles as stored (`stored_roles`), each with why."""
    return stored_roles().locks


def _permissions_of(user: Any) -> Any:
    """What reads the user's permissions when they are first needed (once per request: the pages' menus ask too).
    A request's signed-in user carries its roles as plain values. An ORM user (a job, the cron, the command
    line) is kept by id, not as the row: the session that read it may have ended when the permissions are
    asked for (the row is detached then, and its roles and groups could not be loaded)."""
    sm, user_class, user_id = current_app.appbuilder.sm, type(user), user.id
    if isinstance(user, SignedInUser):  # a request's user: its roles are plain values, readable at any time
        return lambda: sm.request_permissions(user)
    return lambda: sm.request_permissions(db.session.get(user_class, user_id))


def mask_left_out() -> tuple[Lock, ...]:
    """The locks start-up found the stored 价格屏蔽 would make (app/services/records/settings.py
    `check_stored_price_mask`) while the setting is still what start-up read: the roles they name are left out of
    the mask in force. A change of the switch moves the settings stamp, and is checked as it is made."""
    found: StoredMask | None = current_app.extensions.get(STORED_MASK)
    if found is None or not found.locks:
        return ()
    stamp = db.session.info.get(SETTINGS_STAMP)
    if stamp is None:  # a job or the command line: no request read it
        stamp = read_stamp(db.session, SETTINGS_ROW)
    return found.locks if stamp == found.stamp else ()


def not_in_force() -> dict[str, list[dict[str, str]]]:
    """What is stored and not in force because it would lock a role out, as the settings page and the settings API
    say it: 价格屏蔽 for the roles start-up left out of it (under its key), each role's write left out
    (`WRITES_LEFT_OUT`); each {role, model, field, message}."""
    return {
        PRICE_MASK: [lock_said("price_mask_not_in_force", lock) for lock in mask_left_out()],
        WRITES_LEFT_OUT: [lock_said(NOT_IN_FORCE[why], lock) for why, lock in stored_role_locks()],
    }


def price_mask_in_force(stored: list[str] | None) -> set[str]:
    """The roles 价格屏蔽 hides prices from: those stored, less those it would lock as start-up found them."""
    return set(stored or []) - {role.key for _, _, role in mask_left_out()}


def price_blind(roles: tuple[str, ...], stored: list[str] | None, origins: dict[str, str]) -> bool:
    """Does 价格屏蔽 hide every price from a user of `roles`: each is listed (a copy by its origin: `origins`), and
    start-up left none of them out by its own name (a copy left out is named as the copy, not its origin)."""
    listed, left_out = set(stored or []), {role.key for _, _, role in mask_left_out()}
    return bool(roles) and all(origin_of(name, origins) in listed and name not in left_out for name in roles)


def role_refusals(name: str, permission_views: Any, was: str | None, origin: str | None = None) -> list[str]:
    """Why a role page or the role API may not save a role as `name` holding `permission_views` (`was`: its name as
    stored, None for a new role; `origin`: the roles.yaml role it is a copy of, when it is one, kept through a rename):
    each required field the edit makes it write and be unable to fill (app/services/access/locks.py, 价格屏蔽 in
    force), in the catalogue's words; none when it may. An edit that leaves a lock the role had is not refused for it
    (taking permissions away from a role roles.yaml does not know). Read without flushing the edit it checks."""
    reg = registry()
    with db.session.no_autoflush:
        held = {(pv.permission.name, pv.view_menu.name) for pv in permission_views or []}
        blind = price_mask_in_force(policy(db.session, reg, PRICE_MASK))
        stored_origins = read_origins(db.session)
        stored = role_pair_locks(reg, stored_pairs(db.session, [was]), blind, stored_origins) if was else []
        had = {(why, *lock_key(lock)[:2]) for why, lock in stored}
    origins = {name: origin} if origin is not None else {}
    return [
        lock_text(REFUSED[why], lock)
        for why, lock in role_pair_locks(reg, {name: held}, blind, origins)
        if (why, *lock_key(lock)[:2]) not in had
    ]


def access_for(user: Any) -> Access:
    """Access of a given FAB user (CLI, jobs, tests)."""
    roles = tuple(role.name for role in user.roles) if user is not None else ()
    switches = policy_values(db.session, registry(), ACCESS_SWITCHES)
    stored = stored_roles().origins if roles else {}
    origins = tuple(sorted((name, stored[name]) for name in set(roles) if name in stored))
    levels = {role: DEPARTMENT for role in switches["department_scope_roles"] or []}
    levels |= {role: ALL for role in switches["all_scope_roles"] or []}
    return Access(
        registry=registry(),
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", ""),
        role_names=roles,
        origins=origins,
        load_permissions=_permissions_of(user) if user is not None else None,
        price_blind=price_blind(roles, switches[PRICE_MASK], dict(origins)),
        scope_levels=levels,
    )
