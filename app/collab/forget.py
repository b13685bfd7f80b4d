"""What was said about a record goes with it: the comments, attachments (their files too) and watchers of each
record deleted in a transaction are deleted as it commits, and the notifications about it are marked 记录已删除
(app.services.records.deletions notes the records; app.schedules.notify.mark_deleted). SQLite gives a deleted last
row's id to the next row, which must not inherit them (a mention's notification opened the record that took the id);
the notifications stay, so their reader keeps the trace of what was said (「采购订单 … 待您审批」), but lead nowhere.
A rolled-back delete keeps them all. Files written in a transaction that ends without its commit (an attachment
whose request failed after the write) are removed: no file is kept that no row names."""

from __future__ import annotations

from typing import Any

from flask import has_app_context
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from app.collab.attachments import WRITTEN, attachments_root
from app.collab.tables import attachment, comment, watcher
from app.schedules.notify import mark_deleted
from app.services.records.bulk import among
from app.services.records.deletions import take_deleted

TABLES = (comment, attachment, watcher)
FILES = "jxc_forgotten_files"  # the session's info key: stored names of files to remove once committed


def _forget(session: Session) -> None:
    for model_key, ids in take_deleted(session).items():
        about = {
            table: (table.c.model == model_key) & among(session, table.c.record_id, sorted(ids)) for table in TABLES
        }
        files = session.execute(select(attachment.c.stored).where(about[attachment])).scalars().all()
        session.info.setdefault(FILES, []).extend(files)
        for table, where in about.items():
            session.execute(delete(table).where(where))
        mark_deleted(session, model_key, ids)  # mentions, comments, assignments, alerts about them


def _remove_files(session: Session) -> None:
    """Committed: the files written are their rows' now; the deleted records' files go."""
    session.info.pop(WRITTEN, None)
    _unlink(session.info.pop(FILES, []))


def _unlink(stored: list[str]) -> None:
    if stored and has_app_context():  # the instance folder is the app's
        root = attachments_root()
        for name in stored:
            (root / name).unlink(missing_ok=True)


def _drop_notes(session: Session, transaction: Any) -> None:
    """A transaction that ends without its commit forgets nothing (its notes go, the deleted records' files stay)
    and keeps none of the files it wrote (no row names them)."""
    if transaction.parent is None:
        take_deleted(session)
        session.info.pop(FILES, None)
        _unlink(session.info.pop(WRITTEN, []))


def install_forget() -> None:
    """Listen on every session (requests, jobs, commands) of this process; once however many apps it builds."""
    if not event.contains(Session, "before_commit", _forget):
        event.listen(Session, "before_commit", _forget)
        event.listen(Session, "after_commit", _remove_files)
        event.listen(Session, "after_transaction_end", _drop_notes)
