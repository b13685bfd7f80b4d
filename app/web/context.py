"""The request's user and their Access (computed once per request), and the session."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context, request
from flask_jwt_extended import current_user as jwt_user
from flask_jwt_extended import verify_jwt_in_request
from flask_login import current_user

from app.extensions import db, read_only_connection
from app.services.access.rights import Access
from app.services.users.access import access_for


def writes_on_get(view: Any) -> Any:
    """Mark a view reached by a plain link (a GET) that writes, such as opening a notification (it is marked
    read): its request takes the write lock at its start like a POST does (app.web.security), so on SQLite its
    write never meets a snapshot another writer has moved past ("database is locked")."""
    view.jxc_writes = True
    return view


def probe(view: Any) -> Any:
    """Mark a view that answers machines (`GET /healthz`): its request reads no session, sign-in or stamps (the
    view's own query is all it costs the database), and a hook that refuses it (a restore under way) answers JSON."""
    view.jxc_probe = True
    return view


def is_probe(view: Any) -> bool:
    """Is `view` marked `probe`?"""
    return bool(getattr(view, "jxc_probe", False))


def probing() -> bool:
    """Is this request for a view marked `probe`?"""
    return is_probe(current_app.view_functions.get(request.endpoint or ""))


def request_user() -> Any:
    """The user of this request, from the session cookie or the JWT bearer token."""
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()

    if has_request_context() and "jxc_jwt_user" in g:  # the token is checked once per request
        return g.jxc_jwt_user
    try:
        verify_jwt_in_request(optional=True)
        user = jwt_user._get_current_object() if jwt_user else None
    except Exception:  # noqa: BLE001 - a bad token is simply no user
        user = None
    if has_request_context():
        g.jxc_jwt_user = user
    return user


def current_access() -> Access:
    """Access of the request's user, computed once per request."""
    if has_request_context() and "jxc_access" in g:
        return g.jxc_access
    access = access_for(request_user())
    if has_request_context():
        g.jxc_access = access
    return access


def session() -> Any:
    """The SQLAlchemy session of this app context."""
    return db.session


def answer_session() -> Any:
    """The session, for reading a write request's answer once its action has committed: on PostgreSQL those reads
    go as a read-only request's (`read_only_connection`), without the BEGIN before them and the ROLLBACK when the
    request ends, two round trips (a submit's answer reads its link labels in one statement). A write after it
    begins its transaction as in a read-only request; inside a transaction still open, nothing changes."""
    if current_app.extensions.get("jxc_lazy_begin") and not db.session().in_transaction():
        read_only_connection(db.session)
    return db.session
