"""User accounts: create with a role and assigned warehouses (the row scope 'my_warehouses'); each user's
department (how far the row scope 'me' reaches for roles set to see their department's data)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, select

from app.extensions import db, registry
from app.services.access.tables import user_department, user_warehouse
from app.services.records.audit import audit_change, write_audit


class UserError(Exception):
    """A user could not be created; the message says why."""


def warehouse_codes(user_id: int) -> list[str]:
    """Codes of the warehouses a user works in."""
    cls = registry().cls("warehouse")
    return list(
        db.session.execute(
            select(cls.code)
            .join(user_warehouse, user_warehouse.c.warehouse_id == cls.id)
            .where(user_warehouse.c.user_id == user_id)
            .order_by(cls.code)
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
    cls = registry().cls("department")
    found = db.session.execute(
        select(cls.code)
        .join(user_department, user_department.c.department_id == cls.id)
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
        cls = registry().cls("department")
        department_id = db.session.execute(select(cls.id).where(cls.code == code)).scalar_one_or_none()
        if department_id is None:
            raise UserError(f"unknown department '{code}'")
    db.session.execute(delete(user_department).where(user_department.c.user_id == user_id))
    if department_id is not None:
        db.session.execute(insert(user_department).values(user_id=user_id, department_id=department_id))
    audit_change(db.session, by, "ab_user", user_id, "update", {"department": before}, {"department": code})


def set_warehouses(user_id: int, codes: list[str]) -> None:
    """Replace the warehouses a user works in (by warehouse code)."""
    cls = registry().cls("warehouse")
    ids = []
    for code in codes:
        found = db.session.execute(select(cls.id).where(cls.code == code)).scalar_one_or_none()
        if found is None:
            raise UserError(f"unknown warehouse '{code}'")
        ids.append(found)
    db.session.execute(delete(user_warehouse).where(user_warehouse.c.user_id == user_id))
    for warehouse_id in ids:
        db.session.execute(insert(user_warehouse).values(user_id=user_id, warehouse_id=warehouse_id))


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
    sm = current_app.appbuilder.sm
    if role not in registry().meta.roles:
        raise UserError(f"unknown role '{role}'; roles: {', '.join(registry().meta.roles)}")
    fab_role = sm.find_role(role)
    if fab_role is None:
        raise UserError(f"role '{role}' is not in the database yet; run `jxc init` first")
    if sm.find_user(username=username) is not None:
        raise UserError(f"user '{username}' already exists")
    if len(password) < 8:
        raise UserError("password must have at least 8 characters")
    user = sm.add_user(username, name or username, "-", email or f"{username}@jxc.local", fab_role, password=password)
    if not user:
        raise UserError(f"could not create user '{username}' (is the email already used?)")
    if warehouses:
        set_warehouses(user.id, warehouses)
    write_audit(
        db.session,
        user_id=None,
        username="jxc",
        model="ab_user",
        record_id=user.id,
        action="create",
        before=None,
        after={"username": username, "role": role, "warehouses": warehouses or []},
    )
    db.session.commit()
    return user
