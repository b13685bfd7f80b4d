"""Sign-ins as rows: a browser session or an API token lives while its row does.

Each sign-in gets a random id, kept in the signed session cookie or as the token's `sid` claim. Logout
deletes its row; a password change or a deactivation deletes every row of the user, so a copied cookie or
a leaked token stops working at once, in every process.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Integer, String, bindparam, delete, insert, select
from sqlalchemy.orm import Session, joinedload

from app.clock import utcnow
from app.services.users.tables import login_session

WEB, API = "web", "api"
SESSION_KEY = "jxc_sid"  # the browser session's id, in Flask's signed session cookie


def start_session(session: Session, user_id: int, kind: str) -> str:
    """Record a new sign-in of the user and return its id (the caller commits)."""
    sid = secrets.token_urlsafe(32)
    session.execute(insert(login_session).values(sid=sid, user_id=user_id, kind=kind, created_at=utcnow()))
    return sid


def session_alive(session: Session, user_id: int, sid: str | None) -> bool:
    """Is this sign-in of this user still live?"""
    if not sid:
        return False
    found = session.execute(
        select(login_session.c.sid).where(login_session.c.sid == sid, login_session.c.user_id == user_id)
    ).first()
    return found is not None


def signed_in_user(session: Session, user_model: Any, user_id: int, sid: str | None) -> Any | None:
    """The user of this live sign-in with their roles and their groups' roles (FAB's `get_user_roles` reads
    both), in one query; None when the sign-in has ended (the caller still checks that the user is active)."""
    if not sid:
        return None
    stmt = _SIGNED_IN.get(user_model)
    if stmt is None:
        stmt = _SIGNED_IN[user_model] = _signed_in_select(user_model)
    return session.execute(stmt, {"jxc_user_id": user_id, "jxc_sid": sid}).unique().scalar_one_or_none()


# the sign-in query of every request, built once per user model with its values as parameters: building it
# (its comparisons, its eager loads) and working out its cache key again was a tenth of a grid page's Python
_SIGNED_IN: dict[Any, Any] = {}


def _signed_in_select(user_model: Any) -> Any:
    user_id, sid = bindparam("jxc_user_id", type_=Integer()), bindparam("jxc_sid", type_=String())
    live = select(login_session.c.sid).where(login_session.c.sid == sid, login_session.c.user_id == user_id)
    group_roles = joinedload(user_model.groups).joinedload(user_model.groups.property.mapper.class_.roles)
    return (
        select(user_model)
        .options(joinedload(user_model.roles), group_roles)
        .where(user_model.id == user_id, live.exists())
    )


def end_session(session: Session, sid: str | None) -> None:
    """Sign one session or token out (the caller commits)."""
    if sid:
        session.execute(delete(login_session).where(login_session.c.sid == sid))


def end_all_sessions(session: Session, user_id: int) -> int:
    """Sign every session and token of the user out (the caller commits); how many there were."""
    return session.execute(delete(login_session).where(login_session.c.user_id == user_id)).rowcount or 0
