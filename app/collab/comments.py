"""Comments on any record, with @mentions: a mentioned user who may read the record gets a notification
(app.schedules.notify) linking to it; so do the record's owner and followers (app.collab.watchers)."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.collab.records import access_of, may_read, readable, record_link, user_by_id, user_named
from app.collab.tables import comment
from app.collab.watchers import watcher_ids
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.schedules.notify import notify
from app.services.access.rights import Access
from app.services.records.query import record_title

MAX_BODY = 4000
MENTION = re.compile(r"(?<![\w@])@([\w.\-]+)")


def mentioned_names(body: str) -> list[str]:
    """User names mentioned as @name, in order, once each (a trailing full stop is not part of a name)."""
    names: list[str] = []
    for match in MENTION.finditer(body):
        name = match.group(1).rstrip(".-")
        if name and name not in names:
            names.append(name)
    return names


def add_comment(session: Session, access: Access, model_key: str, pk: int, body: Any) -> dict[str, Any]:
    """Post a comment on a record the user may read; notify the mentioned users who may read it too.
    Returns the comment, with `mentions` (notified) and `not_notified` (unknown, or may not read it)."""
    model, row = readable(session, access, model_key, pk)
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise ValidationFailed([CellError("body", t("collab.comment_empty"))])
    if len(text) > MAX_BODY:
        raise ValidationFailed([CellError("body", t("collab.comment_too_long", max=MAX_BODY))])
    title, link = record_title(model, row), record_link(model.key, pk)
    notified: list[str] = []
    refused: list[str] = []
    for name in mentioned_names(text):
        user = user_named(session, name)
        if user is None or not may_read(session, access_of(user), model.key, pk):
            refused.append(name)
            continue
        notified.append(name)
        if user.id != access.user_id:
            notify(session, user.id, "mention", t("collab.mentioned", user=access.username, record=title), link)
    values = {
        "model": model.key,
        "record_id": pk,
        "user_id": access.user_id,
        "username": access.username,
        "body": text,
        "mentions": json.dumps(notified),
        "created_at": utcnow(),
    }
    comment_id = int(session.execute(insert(comment).values(**values)).inserted_primary_key[0])
    told = {user.id for name in notified if (user := user_named(session, name)) is not None}
    for user_id in watcher_ids(session, model.key, pk) - told - {access.user_id}:
        user = user_by_id(session, user_id)
        if user is not None and user.active and may_read(session, access_of(user), model.key, pk):
            notify(session, user_id, "comment", t("collab.commented", user=access.username, record=title), link)
    return dict(values, id=comment_id, mentions=notified, not_notified=refused)


def comment_json(row: Any) -> dict[str, Any]:
    """One stored comment as the API answers it."""
    return {
        "id": row.id,
        "user": row.username,
        "body": row.body,
        "mentions": json.loads(row.mentions or "[]"),
        "at": row.created_at.isoformat(timespec="seconds"),
    }


def comments_of(session: Session, access: Access, model_key: str, pk: int, after: int = 0) -> list[dict[str, Any]]:
    """A readable record's comments, oldest first (those with an id above `after` when given)."""
    model, _row = readable(session, access, model_key, pk)
    stmt = (
        select(comment)
        .where(comment.c.model == model.key, comment.c.record_id == pk, comment.c.id > after)
        .order_by(comment.c.id)
    )
    return [comment_json(row) for row in session.execute(stmt)]
