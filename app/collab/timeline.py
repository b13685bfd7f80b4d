"""A record's activity timeline: its comments, attachments, approval steps and audit history, newest first.

The audit part is `record_history` itself (the same masks and scope as the history endpoint), so nothing
here decides what a reader may see of a change. `cursor` is a cheap fingerprint the page polls: when it
moves, someone commented, attached or changed the record, and the page fetches the timeline again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.collab.attachments import attachment_json
from app.collab.comments import comment_json
from app.collab.records import readable
from app.collab.tables import attachment, comment
from app.services.access.rights import Access
from app.services.records.audit_read import record_history
from app.services.records.tables import audit_log

APPROVAL_ACTIONS = ("submit", "approve", "reject", "cancel", "close", "start", "resolve")


def timeline(session: Session, access: Access, model_key: str, pk: int) -> list[dict[str, Any]]:
    """Every entry of a record the reader may read, newest first; each has `kind` (comment, attachment,
    approval or change), `at` (UTC, ISO) and `user`."""
    model, _row = readable(session, access, model_key, pk)
    entries: list[dict[str, Any]] = []
    for row in session.execute(
        select(comment).where(comment.c.model == model.key, comment.c.record_id == pk).order_by(comment.c.id)
    ):
        entries.append(dict(comment_json(row), kind="comment"))
    for row in session.execute(select(attachment).where(attachment.c.model == model.key, attachment.c.record_id == pk)):
        entries.append(dict(attachment_json(row), kind="attachment"))
    for entry in record_history(session, access, model, pk):
        kind = "approval" if entry["action"] in APPROVAL_ACTIONS else "change"
        entries.append(dict(entry, kind=kind))
    entries.sort(key=lambda e: (e["at"], e["kind"] != "change", e["id"]), reverse=True)
    return entries


def cursor(session: Session, access: Access, model_key: str, pk: int) -> str:
    """A fingerprint of the record's activity: the newest comment, attachment and audit row ids."""
    model, _row = readable(session, access, model_key, pk)
    parts = []
    for table in (comment, attachment):
        stmt = select(func.max(table.c.id)).where(table.c.model == model.key, table.c.record_id == pk)
        parts.append(session.execute(stmt).scalar() or 0)
    stmt = select(func.max(audit_log.c.id)).where(audit_log.c.model == model.key, audit_log.c.record_id == pk)
    parts.append(session.execute(stmt).scalar() or 0)
    return ".".join(str(p) for p in parts)
