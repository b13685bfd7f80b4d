"""The notification centre: `notify(session, user_id, kind, text, link)` rings one user's bell (other
subsystems call it: collaboration, alerts); users read their own and mark them read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from app.clock import business_time, utcnow
from app.schedules.tables import notification


def notify(
    session: Session, user_id: int, kind: str, text: str, link: str | None = None, dedupe: str | None = None
) -> int | None:
    """Add a notification in the caller's transaction; with `dedupe`, not again while the same one is unread."""
    if dedupe is not None:
        same = select(notification.c.id).where(
            notification.c.user_id == user_id, notification.c.dedupe == dedupe, notification.c.read_at.is_(None)
        )
        if session.execute(same).first() is not None:
            return None
    values = {"user_id": user_id, "kind": kind, "text": text, "link": link, "dedupe": dedupe, "created_at": utcnow()}
    return int(session.execute(insert(notification).values(**values)).inserted_primary_key[0])


def unread_count(session: Session, user_id: int) -> int:
    stmt = select(func.count()).where(notification.c.user_id == user_id, notification.c.read_at.is_(None))
    return int(session.execute(stmt).scalar_one())


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
            "link": r.link,
            "read": r.read_at is not None,
            "created_at": f"{business_time(r.created_at):%Y-%m-%d %H:%M}",
        }
        for r in rows
    ]


def mark_read(session: Session, user_id: int, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (those in `ids`, or all); only their own. Returns how many."""
    stmt = update(notification).where(notification.c.user_id == user_id, notification.c.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(notification.c.id.in_(ids))
    return int(session.execute(stmt.values(read_at=utcnow())).rowcount)


def open_one(session: Session, user_id: int, notification_id: int) -> str | None:
    """Mark one of the user's notifications read and give its link (None: not theirs, or no link).
    Only links within JXC (a path) are given: the bell never sends anyone elsewhere."""
    row = session.execute(
        select(notification.c.link).where(notification.c.id == notification_id, notification.c.user_id == user_id)
    ).first()
    if row is None:
        return None
    mark_read(session, user_id, [notification_id])
    link = row.link or ""
    return link if link.startswith("/") and not link.startswith("//") else None
