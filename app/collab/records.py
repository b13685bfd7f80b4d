"""Which record a comment, attachment or watcher belongs to, and who may reach it: exactly those who may read
the record (the model's read action, then its row scope and sides through `get_row`)."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound, ServiceError
from app.i18n import t
from app.meta.spec import ModelSpec
from app.services.access.rights import Access
from app.services.records.query import get_row
from app.services.users.access import access_for


def model_of(access: Access, model_key: str) -> ModelSpec:
    """A model records can be discussed on (not a document's lines: they belong to their document)."""
    model = access.registry.meta.models.get(model_key)
    if model is None or model.is_line:
        raise NotFound(t("not_found"))
    return model


def readable(session: Session, access: Access, model_key: str, pk: int) -> tuple[ModelSpec, Any]:
    """The record if the user may read it: Forbidden without read on the model, NotFound out of scope."""
    model = model_of(access, model_key)
    access.require(model.key, "read")
    return model, get_row(session, access, model, pk)


def may_read(session: Session, access: Access, model_key: str, pk: int) -> bool:
    """Whether `access` may read the record (for notifying others only about what they may open)."""
    try:
        readable(session, access, model_key, pk)
    except ServiceError:  # NotFound / Forbidden alike: not theirs to read
        return False
    return True


def record_link(model_key: str, pk: int) -> str:
    """The record's page."""
    return f"/m/{model_key}/{pk}"


def user_named(session: Session, username: str) -> Any:
    """The active login user called `username` (None if there is none)."""
    return session.execute(select(User).where(User.username == username, User.active.is_(True))).scalar_one_or_none()


def user_by_id(session: Session, user_id: int) -> Any:
    """The login user with this id (None if there is none)."""
    return session.get(User, user_id)


def access_of(user: Any) -> Access:
    """What another user may do (to notify them only about records they may read)."""
    return access_for(user)
