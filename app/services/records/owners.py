"""负责人: a model's own `owner` user field (partners, complaints) and the notes of new owners.

A write through RecordService that gives a record a new owner (the grid, a form, the REST API, the 指派 button)
notes it on the session; app.collab rings each new owner's bell as the transaction commits
(`app.collab.owner_bell`), and a rolled-back write rings nobody. Bulk creates (imports) note nothing: loading
a thousand customers with their salesperson is not a thousand assignments. The new owner is not told of what
they did themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.meta.spec import FieldSpec, ModelSpec
from app.services.records.query import record_title

OWNER = "owner"
NOTES = "jxc_new_owners"  # the session's info key


@dataclass(frozen=True)
class NewOwner:
    """A record that got a new owner in this transaction, and who gave it."""

    user_id: int
    model_key: str
    record_id: int
    title: str  # 「客诉 KS20261202-0001」
    by: str  # the username of who made the change


def owner_field(model: ModelSpec) -> FieldSpec | None:
    """The model's own `owner` user field, which the owner is kept in; None when the owner is kept beside the
    record (documents: app.collab's watchers)."""
    spec = model.field(OWNER)
    return spec if spec is not None and spec.type == "user" else None


def owner_of(model: ModelSpec, row: Any) -> int | None:
    """The row's owner's user id (None: nobody, or a model without an owner field)."""
    spec = owner_field(model)
    return getattr(row, spec.column, None) if spec is not None and row is not None else None


def note_new_owner(session: Session, model: ModelSpec, row: Any, before: int | None, by: Any) -> None:
    """Note the row's owner if it is not `before` (and not the one who wrote it), for the bell at commit."""
    owner = owner_of(model, row)
    if owner is None or owner == before or owner == by.user_id:
        return
    note = NewOwner(owner, model.key, row.id, record_title(model, row), by.username)
    session.info.setdefault(NOTES, []).append(note)


def take_new_owners(session: Session) -> list[NewOwner]:
    """The notes of this transaction, taken off the session (a rollback drops them the same way)."""
    return session.info.pop(NOTES, [])
