"""The users a user field offers as its writer types (销售员 on an order, 采购员 on a receipt): only those the
writer may name there, found by user name or name and shown by name, in the form, the grid and the API alike."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Forbidden
from app.i18n import t
from app.meta.spec import FieldSpec, ModelSpec
from app.services.access.rights import Access
from app.services.records.query import user_matches
from app.services.records.serialize import person_name

USER_LOOKUP_LIMIT = 20


def namable_users(
    session: Session, access: Access, model: ModelSpec, spec: FieldSpec, text: str
) -> list[dict[str, Any]]:
    """Active users the reader may put in the user field `spec` of `model` matching the typed text, as
    {id, key: user name, name}. Forbidden unless they may write the field: who may not name anyone there
    learns nobody's name from it; where their row scope names them (a salesperson's orders) only themselves
    (and their department's users at the department level), as a save would allow (`Access.assignable_users`)."""
    if spec.type != "user" or not access.can(model.key, "write") or not access.can_write(model, spec):
        raise Forbidden(t("forbidden"))
    return users_matching(session, access.assignable_users(session, model, spec), text)


def users_matching(session: Session, allowed: set[int | None] | None, text: str) -> list[dict[str, Any]]:
    """Active users among `allowed` (None: any) matching the typed text by user name or name, as {id, key: user
    name, name}, the first USER_LOOKUP_LIMIT by user name: what a user field and a report's user filter offer."""
    stmt = select(User.id, User.username, User.first_name, User.last_name).where(User.active.is_(True))
    if allowed is not None:
        stmt = stmt.where(User.id.in_([user_id for user_id in allowed if user_id is not None]))
    if text.strip():
        stmt = stmt.where(user_matches(text))
    rows = session.execute(stmt.order_by(User.username).limit(USER_LOOKUP_LIMIT))
    return [
        {"id": pk, "key": username, "name": person_name(first, last) or username} for pk, username, first, last in rows
    ]
