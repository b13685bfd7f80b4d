"""The notification centre: `notify(session, user_id, kind, text, link)` rings one user's bell (other
subsystems call it: collaboration, alerts); users read their own and mark them read.

A notification whose link is a record's page (`/m/<model>/<id>`) is about that record: it keeps the model and id,
and when the record is deleted (`mark_deleted`, as the delete commits) it stays, marked 记录已删除, and its link is
no longer given or followed: SQLite gives a deleted last row's id to the next row, which it would have opened."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from app.clock import business_time, utcnow
from app.extensions import core_reads
from app.meta.plain_reads import plain_rows
from app.schedules.tables import notification
from app.services.records.bulk import among

RECORD_PAGE = re.compile(r"/m/([a-z][a-z0-9_]*)/([0-9]+)")  # a record's page: what a notification is about


def notify(
    session: Session, user_id: int, kind: str, text: str, link: str | None = None, dedupe: str | None = None
) -> int | None:
    """Add a notification in the caller's transaction; with `dedupe`, not again while the same one is unread (one
    about a deleted record is not the same: its id, in the key, may be another record's now)."""
    if dedupe is not None:
        same = select(notification.c.id).where(
            notification.c.user_id == user_id,
            notification.c.dedupe == dedupe,
            notification.c.read_at.is_(None),
            notification.c.record_deleted_at.is_(None),
        )
        if session.execute(same).first() is not None:
            return None
    values = {"user_id": user_id, "kind": kind, "text": text, "link": link, "dedupe": dedupe, "created_at": utcnow()}
    page = RECORD_PAGE.fullmatch(link or "")
    if page is not None:
        values.update(model=page.group(1), record_id=int(page.group(2)))
    return int(session.execute(insert(notification).values(**values)).inserted_primary_key[0])


def mark_deleted(session: Session, model_key: str, ids: Collection[int]) -> None:
    """The records `ids` of `model_key` are deleted (in the caller's transaction): their notifications stay, marked
    记录已删除 (the first deletion's time: an id given again to another record that is deleted later marks nothing
    new), and are no longer followed."""
    stmt = update(notification).where(
        notification.c.model == model_key,
        among(session, notification.c.record_id, sorted(ids)),
        notification.c.record_deleted_at.is_(None),
    )
    session.execute(stmt.values(record_deleted_at=utcnow()))


_UNREAD = select(func.count()).where(notification.c.user_id == bindparam("user_id"), notification.c.read_at.is_(None))


def unread_count(session: Session, user_id: int) -> int:
    """The user's unread notifications (the bell on every page): one statement built once, read as plain rows on the
    session's connection (`plain_rows`: without the ORM's and the engine's execution layers)."""
    ((count,),) = plain_rows(core_reads(session), _UNREAD, {"user_id": user_id})
    return int(count)


def recent(session: Session, user_id: int, limit: int = 20, unread_only: bool = False) -> list[dict[str, Any]]:
    """The user's newest notifications, read or not (or only the unread)."""
    stmt = select(notification).where(notification.c.user_id == user_id)
    if unread_only:
        stmt = stmt.where(notification.c.read_at.is_(None))
    rows = session.execute(stmt.order_by(notification.c.id.desc()).limit(limit)).all()
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "text": r.text,
            "link": _followed(r),
            "model": r.model,
            "record_id": r.record_id,
            "record_deleted": r.record_deleted_at is not None,
            "read": r.read_at is not None,
            "created_at": f"{business_time(r.created_at):%Y-%m-%d %H:%M}",
        }
        for r in rows
    ]


def _followed(row: Any) -> str | None:
    """Where opening the notification leads: its link, only within JXC (a path: the bell never sends anyone
    elsewhere), and none once its record is deleted (the id may be another record's now)."""
    link = row.link or ""
    if row.record_deleted_at is not None or not link.startswith("/") or link.startswith("//"):
        return None
    return link


def mark_read(session: Session, user_id: int, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (those in `ids`, or all); only their own. Returns how many."""
    stmt = update(notification).where(notification.c.user_id == user_id, notification.c.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(notification.c.id.in_(ids))
    return int(session.execute(stmt.values(read_at=utcnow())).rowcount)


def open_one(session: Session, user_id: int, notification_id: int) -> str | None:
    """Mark one of the user's notifications read and give where it leads (None: not theirs, no link within JXC,
    or its record deleted)."""
    row = session.execute(
        select(notification.c.link, notification.c.record_deleted_at).where(
            notification.c.id == notification_id, notification.c.user_id == user_id
        )
    ).first()
    if row is None:
        return None
    mark_read(session, user_id, [notification_id])
    return _followed(row)
