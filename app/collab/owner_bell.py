"""Ring the bell of each record's new owner as the transaction that made them owner commits, whichever way
the change was written (app.services.records.owners notes it; a rolled-back change rings nobody)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.collab.records import record_link
from app.i18n import t
from app.schedules.notify import notify
from app.services.records.owners import take_new_owners


def _ring(session: Session) -> None:
    for note in take_new_owners(session):
        text = t("collab.assigned", user=note.by, record=note.title)
        notify(session, note.user_id, "assigned", text, record_link(note.model_key, note.record_id))


def _forget(session: Session, transaction: Any) -> None:
    """A transaction that ends without its commit (rolled back, or the session closed) rings nobody."""
    if transaction.parent is None:
        take_new_owners(session)


def install_owner_bell() -> None:
    """Listen on every session (requests, jobs, commands) of this process; once however many apps it builds."""
    if not event.contains(Session, "before_commit", _ring):
        event.listen(Session, "before_commit", _ring)
        event.listen(Session, "after_transaction_end", _forget)
