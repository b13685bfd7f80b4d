"""User accounts: create with a role and assigned warehouses (the row scope 'my_warehouses'), change a
password, each user's department (how far the row scope 'me' reaches for roles set to see their
department's data). Every change is audited; a new password or a deactivation signs the user out everywhere.

These work on FAB's user tables directly, without the web app's views, so `jxc user add` starts in about a
second; FAB's own pages and security API reach the same rules through app.views.security_manager.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from flask import current_app
from flask_appbuilder.security.sqla.models import Role, User
from sqlalchemy import column, delete, func, insert, select, table
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from app.clock import utcnow
from app.extensions import db
from app.i18n import MESSAGES, join_list, label, t
from app.meta.types import has_address, is_no_address, no_address
from app.services.access.tables import user_department, user_warehouse
from app.services.records.audit import audit_change, write_audit
from app.services.users.passwords import password_problems
from app.services.users.sessions import end_all_sessions

PUBLIC_ROLE = "Public"
# the two master tables a user's places name (read by code, without the metadata registry)
WAREHOUSE = table("warehouse", column("id"), column("code"))
DEPARTMENT = table("department", column("id"), column("code"))
CLI = (None, "jxc")  # who the command line acts as in the audit trail


class UserError(Exception):
    """A user could not be created or changed; the message says why."""


def hash_password(password: str) -> str:
    """A password hash the way FAB stores and checks them."""
    config = current_app.config
    return generate_password_hash(
        password,
        method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
        salt_length=config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
    )


def check_password_policy(password: str, username: str) -> None:
    """UserError listing every reason a password is refused."""
    problems = password_problems(password, username)
    if problems:
        raise UserError("；".join(problems))


def audit_user(
    session: Session, actor: tuple[int | None, str], user_id: int | None, action: str, before: Any, after: Any
) -> None:
    """An audit row for a change to a user account, in the caller's transaction; a password is never written."""

    def clean(values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        return {k: ("(changed)" if "password" in k else v) for k, v in values.items()}

    write_audit(
        session,
        user_id=actor[0],
        username=actor[1],
        model="ab_user",
        record_id=user_id,
        action=action,
        before=clean(before),
        after=clean(after),
    )


def warehouse_codes(user_id: int) -> list[str]:
    """Codes of the warehouses a user works in."""
    return list(
        db.session.execute(
            select(WAREHOUSE.c.code)
            .join(user_warehouse, user_warehouse.c.warehouse_id == WAREHOUSE.c.id)
            .where(user_warehouse.c.user_id == user_id)
            .order_by(WAREHOUSE.c.code)
        ).scalars()
    )


def assign_places(user_id: int, warehouses: list[str], department: str, by: Any) -> None:
    """Set a user's warehouses and department from the admin page, audited, in one transaction."""
    before = warehouse_codes(user_id)
    set_warehouses(user_id, warehouses)
    if sorted(warehouses) != before:
        after = {"warehouses": sorted(warehouses)}
        audit_change(db.session, by, "ab_user", user_id, "update", {"warehouses": before}, after)
    set_department(user_id, department, by)
    db.session.commit()


def department_code(user_id: int) -> str:
    """Code of the user's department ('' when none)."""
    found = db.session.execute(
        select(DEPARTMENT.c.code)
        .join(user_department, user_department.c.department_id == DEPARTMENT.c.id)
        .where(user_department.c.user_id == user_id)
    ).scalar_one_or_none()
    return found or ""


def set_department(user_id: int, code: str, by: Any) -> None:
    """Set (or with '' clear) a user's department, audited; the caller commits."""
    before = department_code(user_id)
    member = db.session.execute(select(user_department).where(user_department.c.user_id == user_id)).first()
    if before == code and (code or member is None):
        return  # unchanged: nothing to write or audit
    department_id = None
    if code:
        department_id = db.session.execute(
            select(DEPARTMENT.c.id).where(DEPARTMENT.c.code == code)
        ).scalar_one_or_none()
        if department_id is None:
            raise UserError(t("user.unknown_department", code=code))
    db.session.execute(delete(user_department).where(user_department.c.user_id == user_id))
    if department_id is not None:
        db.session.execute(insert(user_department).values(user_id=user_id, department_id=department_id))
    audit_change(db.session, by, "ab_user", user_id, "update", {"department": before}, {"department": code})


def set_warehouses(user_id: int, codes: list[str]) -> None:
    """Replace the warehouses a user works in (by warehouse code)."""
    ids = []
    for code in codes:
        found = db.session.execute(select(WAREHOUSE.c.id).where(WAREHOUSE.c.code == code)).scalar_one_or_none()
        if found is None:
            raise UserError(t("user.unknown_warehouse", code=code))
        ids.append(found)
    db.session.execute(delete(user_warehouse).where(user_warehouse.c.user_id == user_id))
    for warehouse_id in ids:
        db.session.execute(insert(user_warehouse).values(user_id=user_id, warehouse_id=warehouse_id))


def stored_email(typed: Any, username: str) -> str:
    """What ab_user.email holds for the e-mail typed for a user (the CLI, the user pages, the security API): the
    address, or for none typed (empty, blank, null) the marked non-address `<user>@no-email.invalid`, of the
    user's name as it is now (a renamed user's old one would clash with a new user of that name)."""
    text = typed.strip() if isinstance(typed, str) else ""
    return no_address(username) if is_no_address(text) else text


def email_problems(session: Session, typed: Any, user_id: int | None = None) -> list[str]:
    """Why an e-mail typed for a user is refused, in the reader's words: not one address mail can go to, or
    another user's (ab_user.email is unique). Nothing typed is no problem: a user without an address."""
    if typed is None or (isinstance(typed, str) and not typed.strip()):
        return []
    text = typed.strip() if isinstance(typed, str) else str(typed)
    if not isinstance(typed, str) or not has_address(text):
        return [t("user_email_bad", address=text)]
    taken = select(User.id).where(func.lower(User.email) == text.lower(), User.id != user_id)
    return [t("user_email_taken", address=text)] if session.execute(taken).first() is not None else []


def role_labels() -> dict[str, dict[str, str]]:
    """roles.yaml's {zh, en} labels by key, read from the metadata folder: the account commands start without the
    metadata registry (roles.yaml is checked where the registry loads it)."""
    path = Path(current_app.config["JXC_METADATA_DIR"]) / "roles.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(key): dict((raw or {}).get("label") or {}) for key, raw in (data.get("roles") or {}).items()}


def role_title(name: str, labels: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """The stored role `name` as the role pages show it (app/views/labels.py `role_label`), in the current language:
    roles.yaml's label (仓管员), a copy by its own name (whatever roles.yaml calls a role of that name), FAB's own
    roles from the catalogue."""
    from app.services.access.origins import read_origins

    if name in read_origins(db.session):
        return name
    labels = role_labels() if labels is None else labels
    if name in labels:
        return label(dict(labels[name]), name)
    return t(f"role.{name}") if f"role.{name}" in MESSAGES else name


def role_choices(names: list[str]) -> str:
    """Roles to type on the command line, each with its title: 「clerk（文员）、salesperson（销售员）」."""
    labels = role_labels()
    titles = {n: role_title(n, labels) for n in names}
    return join_list(n if titles[n] == n else t("user.role_choice", role=n, label=titles[n]) for n in sorted(names))


def create_user(
    username: str,
    role: str,
    password: str,
    *,
    email: str | None = None,
    name: str | None = None,
    warehouses: list[str] | None = None,
) -> Any:
    """Create a user with one role; UserError on an unknown role, a taken name or a weak password."""
    session = db.session
    roles = [r for r in session.execute(select(Role.name)).scalars() if r != PUBLIC_ROLE]
    if not roles:
        raise UserError(t("user.no_roles_yet"))
    if role not in roles:
        raise UserError(t("user.unknown_role", role=role, roles=role_choices(roles)))
    if session.execute(select(User.id).where(User.username == username)).first() is not None:
        raise UserError(t("user.taken", user=username))
    if email and not has_address(email):
        raise UserError(t("user_email_bad", address=email))
    email = stored_email(email, username)
    if session.execute(select(User.id).where(User.email == email)).first() is not None:
        raise UserError(t("user_email_taken", address=email))
    check_password_policy(password, username)
    now = utcnow()
    user = User(
        first_name=name or username,
        last_name="",  # one name field on our pages; FAB's "first last" then shows no stray "-"
        username=username,
        email=email,
        active=True,
        password=hash_password(password),
        created_on=now,
        changed_on=now,
    )
    user.roles = [session.execute(select(Role).where(Role.name == role)).scalar_one()]
    session.add(user)
    session.flush()
    if warehouses:
        set_warehouses(user.id, warehouses)
    audit_user(
        session, CLI, user.id, "create", None, {"username": username, "role": role, "warehouses": warehouses or []}
    )
    session.commit()
    return user


def set_password(username: str, password: str) -> None:
    """Give a user a new password (command line): checked, audited, every session of theirs ended."""
    session = db.session
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise UserError(t("user.not_found", user=username))
    check_password_policy(password, username)
    user.password = hash_password(password)
    user.changed_on = utcnow()
    ended = end_all_sessions(session, user.id)
    audit_user(session, CLI, user.id, "update", None, {"password": True, "sessions_ended": ended})
    session.commit()


def user_changed(
    session: Session, actor: tuple[int | None, str], user_id: int, action: str, changes: dict[str, tuple[Any, Any]]
) -> int:
    """Audit a change to an account made through FAB (its pages, its security API, its password forms); a
    new password, a deactivation or a deletion signs the user out everywhere. Returns the sessions ended."""
    before = {name: old for name, (old, _) in changes.items()}
    after = {name: new for name, (_, new) in changes.items()}
    ended = 0
    deactivated = "active" in changes and not changes["active"][1]
    if action == "delete" or "password" in changes or deactivated:
        ended = end_all_sessions(session, user_id)
        after["sessions_ended"] = ended
    audit_user(session, actor, user_id, action, before or None, after or None)
    return ended


def _titled(known: Mapping[str, Any], key: str) -> str:
    """roles.yaml's role `key` by its label (the key when roles.yaml no longer has it)."""
    return label(known[key].label, key) if key in known else key


def set_role_origin(name: str, origin: str, known: Mapping[str, Any]) -> bool:
    """Link the role `name`, a copy made before copies were linked (「Copy Role」 now links them:
    app/services/access/origins.py), to the roles.yaml role `origin` (`known`: roles.yaml's roles), audited; False
    when it already was. Refused (UserError, every reason at once) unless `name` is a role roles.yaml does not name,
    not linked to another, holding no permission the role `origin` does not hold (never more than the original),
    and able to fill what it may write once it takes `origin`'s masks (the check a copy gets)."""
    from app.services.access.origins import link_copy, read_origins
    from app.services.users.access import role_refusals

    session = db.session
    role = session.execute(select(Role).where(Role.name == name)).scalar_one_or_none()
    if role is None:
        raise UserError(t("role_origin.no_role", role=name))
    if name in known:
        raise UserError(t("role_origin.named", role=name))
    if origin not in known:
        choices = join_list(t("user.role_choice", role=k, label=_titled(known, k)) for k in sorted(known))
        raise UserError(t("role_origin.no_origin", origin=origin, roles=choices))
    linked = read_origins(session).get(name)
    if linked == origin:
        return False
    if linked is not None:
        raise UserError(t("role_origin.linked", role=name, origin=_titled(known, linked)))
    original = session.execute(select(Role).where(Role.name == origin)).scalar_one_or_none()
    held = {(pv.permission.name, pv.view_menu.name) for pv in (original.permissions if original else [])}
    extra = sorted({(pv.permission.name, pv.view_menu.name) for pv in role.permissions} - held)
    problems = [
        t("role_origin.more", role=name, origin=_titled(known, origin), rights=join_list(f"{p} {v}" for p, v in extra))
    ]
    problems = (problems if extra else []) + role_refusals(name, role.permissions, name, origin)
    if problems:
        session.rollback()
        raise UserError("；".join(problems))
    link_copy(session, role.id, origin)
    write_audit(
        session,
        user_id=CLI[0],
        username=CLI[1],
        model="ab_role",
        record_id=role.id,
        action="update",
        before={"origin": None},
        after={"origin": origin},
    )
    session.commit()
    return True
