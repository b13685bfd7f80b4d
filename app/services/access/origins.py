"""Which roles.yaml entry a role takes: the one place a FAB role's masks, hidden figures, sides, reports and row scope
are read by its name.

roles.yaml names roles; FAB's role pages make more. A role roles.yaml names takes its entry. A copy (「Copy Role」 on
the role list, `RoleModelView.copy_role`) is linked to the roles.yaml role it was made of (`jxc_role_origin`, by the
copy's id, so a rename keeps it; a copy of a copy links to the same one) and takes that entry under its own name:
its users see and write what the original's do, and the one check (locks.py) applies to it as to the original. The
link wins over the name: a copy renamed to a name roles.yaml knows stays what it was copied from, and a copy whose
origin roles.yaml no longer has takes nothing (its users see no field), never the entry of its name. A role roles.yaml
does not know and that is not a copy takes nothing. The link is written only by the copy, from the original's
own origin, and by `jxc role origin` for a copy made before copies were linked (never more than the origin's
permissions: app/services/users/accounts.py `set_role_origin`): no page or API sets it, and it goes with the role
(deleted with it, and a new role never inherits a stale one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from itertools import count
from typing import Any

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, scoped_session

from app.i18n import LOCALES, t
from app.meta.registry import move_stamp
from app.meta.spec import RoleSpec
from app.meta.tables import SECURITY_ROW
from app.services.access.tables import role_origin

Origins = Mapping[str, str]  # {role name: the roles.yaml key a copy was made of}, copies only


def origin_of(name: str, origins: Origins) -> str:
    """The roles.yaml key whose entry the role `name` takes: a copy's origin, else its own name."""
    return origins.get(name, name)


def spec_of(roles: Mapping[str, RoleSpec], name: str, origins: Origins) -> RoleSpec | None:
    """roles.yaml's entry the FAB role `name` takes (None: it takes none, its users see no field): its own, or, for a
    copy, its origin's under the copy's name, labelled by that name (「销售员（副本）」 as the copy is made, what the
    admin renames it to after: `copy_name`), `based_on` the origin: what read_roles, approvals.yaml, 价格屏蔽 and the
    data-scope settings name."""
    origin = origin_of(name, origins)
    spec = roles.get(origin)
    if spec is None or origin == name:
        return spec
    return replace(spec, key=name, label=dict.fromkeys(LOCALES, name), based_on=origin)


def copy_name(base: str, taken: Callable[[str], bool]) -> str:
    """The name of a new copy of the role labelled `base` (the original's label; `RoleModelView.copy_role` makes both
    in Chinese whatever the admin reads, as data is named): 「销售员（副本）」, then 「销售员（副本2）」 … the first no
    role has (`taken`)."""
    for n in count(1):
        name = t("role_copy_name", origin=base) if n == 1 else t("role_copy_name_n", origin=base, n=n)
        if not taken(name):
            return name
    raise AssertionError  # count() never ends


def read_origins(conn: Any) -> dict[str, str]:
    """{role name: origin} of every copy (`conn`: a Session, read without flushing what it holds: a role edit being
    checked, or a Connection); none before `jxc init` made the table."""
    if isinstance(conn, (Session, scoped_session)):
        with conn.no_autoflush:
            return read_origins(conn.connection())
    if not inspect(conn).has_table(role_origin.name):
        return {}
    rows = conn.execute(select(Role.name, role_origin.c.origin).join(Role, Role.id == role_origin.c.role_id))
    return {name: origin for name, origin in rows}


def link_copy(conn: Any, role_id: int, origin: str) -> None:
    """Link the copy `role_id` to the roles.yaml role `origin`, in the caller's transaction, with a new security
    stamp: every process reads the origins again at its next request."""
    unlink(conn, role_id)
    conn.execute(insert(role_origin).values(role_id=role_id, origin=origin))
    move_stamp(conn, SECURITY_ROW)


def unlink(conn: Any, role_id: int) -> None:
    """The role `role_id` is a copy of nothing (`conn`: a Session or a Connection; nothing before the table exists),
    with a new security stamp when it was one."""
    bind = conn.connection() if isinstance(conn, (Session, scoped_session)) else conn
    gone = (
        inspect(bind).has_table(role_origin.name)
        and bind.execute(delete(role_origin).where(role_origin.c.role_id == role_id)).rowcount
    )
    if gone:
        move_stamp(bind, SECURITY_ROW)


def _unlink(_mapper: Any, conn: Connection, target: Any) -> None:
    """A role deleted takes its link with it; a new role starts with none (an id used again inherits nothing)."""
    unlink(conn, target.id)


event.listen(Role, "after_insert", _unlink)
event.listen(Role, "after_delete", _unlink)
