"""Records deleted in this transaction, noted on the session for what is kept beside them by (model, id).

SQLite gives the id of a deleted last row to the next one, so what other subsystems keep about a record
(app.collab's comments, attachments and watchers) goes with it as the transaction that deleted it commits
(`app.collab.forget`); a rolled-back delete takes nothing with it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from app.meta.spec import ModelSpec

NOTES = "jxc_deleted_records"  # the session's info key: {model key: {ids}}


def note_deleted(session: Session, model: ModelSpec, ids: Iterable[int]) -> None:
    """Note rows of `model` deleted in this transaction (a document's lines belong to their document)."""
    if not model.is_line:
        session.info.setdefault(NOTES, {}).setdefault(model.key, set()).update(ids)


def take_deleted(session: Session) -> dict[str, set[int]]:
    """The notes of this transaction, taken off the session."""
    return session.info.pop(NOTES, {})
