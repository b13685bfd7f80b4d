"""负责人 (owner, one per record) and followers of documents and customers; assigning notifies the new owner.
"Assigned to me" and "following" list the records of a user that they may still read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.collab.records import access_of, may_read, readable, record_link, user_by_id, user_named
from app.collab.tables import watcher
from app.errors import CellError, NotFound, ServiceError, ValidationFailed
from app.i18n import label, t
from app.meta.spec import ModelSpec
from app.schedules.notify import notify
from app.services.access.rights import Access
from app.services.records.audit import audit_change
from app.services.records.owners import OWNER, owner_field
from app.services.records.query import base_select, record_title
from app.services.records.write import RecordService

FOLLOWER = "follower"


def watchable(model: ModelSpec) -> bool:
    """Documents, partners (customers) and complaints have owners and followers."""
    return model.kind == "document" or owner_field(model) is not None


def _watchable(session: Session, access: Access, model_key: str, pk: int) -> tuple[ModelSpec, Any]:
    model, row = readable(session, access, model_key, pk)
    if not watchable(model):
        raise NotFound(t("not_found"))
    return model, row


def watcher_ids(session: Session, model_key: str, pk: int) -> set[int]:
    """Users who own or follow the record."""
    stmt = select(watcher.c.user_id).where(watcher.c.model == model_key, watcher.c.record_id == pk)
    return {int(r[0]) for r in session.execute(stmt)}


def _owner_id(session: Session, model: ModelSpec, row: Any) -> int | None:
    spec = owner_field(model)
    if spec is not None:
        return getattr(row, spec.column)
    stmt = select(watcher.c.user_id).where(
        watcher.c.model == model.key, watcher.c.record_id == row.id, watcher.c.role == OWNER
    )
    found = session.execute(stmt).first()
    return int(found[0]) if found else None


def _username(session: Session, user_id: int | None) -> str | None:
    user = user_by_id(session, user_id) if user_id is not None else None
    return user.username if user is not None else None


def watchers_of(session: Session, access: Access, model_key: str, pk: int) -> dict[str, Any]:
    """{owner, followers, following (the reader)} of a record the reader may read."""
    model, row = _watchable(session, access, model_key, pk)
    rows = session.execute(
        select(watcher.c.user_id).where(
            watcher.c.model == model.key, watcher.c.record_id == pk, watcher.c.role == FOLLOWER
        )
    ).all()
    followers = sorted(filter(None, (_username(session, r.user_id) for r in rows)))
    return {
        "owner": _username(session, _owner_id(session, model, row)),
        "followers": followers,
        "following": any(r.user_id == access.user_id for r in rows),
        "can_assign": access.can(model.key, "write"),
    }


def assign(session: Session, access: Access, model_key: str, pk: int, username: str | None) -> dict[str, Any]:
    """Make `username` the record's owner (None: nobody); needs write on the model; the new owner must be
    able to read the record and is notified. A model with an `owner` field is written through RecordService
    (its checks, scope and audit; the bell rings at commit, as for any write of that field); a document's owner
    is kept beside it, the change audited on it and the new owner notified here."""
    model, row = _watchable(session, access, model_key, pk)
    access.require(model.key, "write")
    user = None
    if username:
        user = user_named(session, username)
        if user is None or not may_read(session, access_of(user), model.key, pk):
            raise ValidationFailed([CellError(OWNER, t("collab.owner_cannot_read", user=username))])
    before = _owner_id(session, model, row)
    if before == (user.id if user is not None else None):
        return watchers_of(session, access, model.key, pk)
    if owner_field(model) is not None:  # RecordService notes the new owner: app.collab.owner_bell rings them
        RecordService(session, access).update(model.key, pk, {OWNER: username or None})
        return watchers_of(session, access, model.key, pk)
    session.execute(
        delete(watcher).where(watcher.c.model == model.key, watcher.c.record_id == pk, watcher.c.role == OWNER)
    )
    if user is not None:
        _add(session, access, model.key, pk, user.id, OWNER)
    audit_change(
        session, access, model.key, pk, "assign", {OWNER: _username(session, before)}, {OWNER: username or None}
    )
    if user is not None and user.id != access.user_id:
        text = t("collab.assigned", user=access.username, record=record_title(model, row))
        notify(session, user.id, "assigned", text, record_link(model.key, pk))
    return watchers_of(session, access, model.key, pk)


def follow(session: Session, access: Access, model_key: str, pk: int, on: bool) -> dict[str, Any]:
    """Follow (or stop following) a record the user may read."""
    model, _row = _watchable(session, access, model_key, pk)
    if access.user_id is None:
        raise NotFound(t("not_found"))
    same = and_(
        watcher.c.model == model.key,
        watcher.c.record_id == pk,
        watcher.c.user_id == access.user_id,
        watcher.c.role == FOLLOWER,
    )
    session.execute(delete(watcher).where(same))
    if on:
        _add(session, access, model.key, pk, access.user_id, FOLLOWER)
    return watchers_of(session, access, model.key, pk)


def _add(session: Session, access: Access, model_key: str, pk: int, user_id: int, role: str) -> None:
    session.execute(
        insert(watcher).values(
            model=model_key, record_id=pk, user_id=user_id, role=role, created_at=utcnow(), created_by=access.username
        )
    )


def my_records(session: Session, access: Access, role: str) -> list[dict[str, Any]]:
    """Records the user owns (role `owner`: kept beside documents, or the `owner` field of partners and
    complaints) or follows, newest first, that they may still read."""
    found: list[tuple[ModelSpec, Any]] = []
    if role == OWNER:
        for model in access.registry.meta.models.values():
            spec = owner_field(model)
            if spec is None or not watchable(model) or not access.can(model.key, "read"):
                continue
            cls = access.registry.cls(model.key)
            stmt = base_select(access, model).where(getattr(cls, spec.column) == access.user_id)
            found += [(model, row) for row in session.execute(stmt.order_by(cls.id.desc()).limit(200)).scalars()]
    stmt = (
        select(watcher.c.model, watcher.c.record_id)
        .where(watcher.c.user_id == access.user_id, watcher.c.role == role)
        .order_by(watcher.c.id.desc())
        .limit(500)
    )
    for model_key, pk in session.execute(stmt).all():
        try:
            found.append(readable(session, access, model_key, pk))
        except ServiceError:  # a record they may no longer read (or deleted) is left out
            continue
    return [
        {
            "model": model.key,
            "model_label": label(model.label, model.key),
            "id": row.id,
            "title": record_title(model, row),
            "link": record_link(model.key, row.id),
        }
        for model, row in found
    ]
