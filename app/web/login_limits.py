"""Login attempts, throttled by Flask-Limiter: a growing wait per (user name, address) and per address.

Only failed sign-ins count (`deduct_when`). Each limit is a ladder of windows (5 a minute, 10 in 15 minutes,
20 an hour for one user name from one address), so each further failure makes the wait longer, up to an
hour, and it always ends: nobody can lock another person out for good, and a name tried from one address
does not slow its owner down at another. Every name, known or not, is counted and answered the same way.

The counters must be shared by every worker process: in Redis when REDIS_URL is set (Flask-Limiter's own
storage), else in the database (`DatabaseStorage`, a `limits` storage on the jxc_rate_limit table), the one
thing every process of an embedded install already shares; process memory would give each gunicorn worker
its own count.
"""

from __future__ import annotations

import time
from typing import Any

from flask import jsonify, make_response, render_template, request
from flask_limiter import RequestLimit
from flask_login import current_user
from limits.storage import Storage
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, write_intent
from app.i18n import t
from app.services.users.tables import rate_limit

PER_USER = "5 per minute; 10 per 15 minutes; 20 per hour"  # one user name from one address
PER_ADDRESS = "20 per minute; 60 per 15 minutes; 200 per day"  # every name from one address
DATABASE_SCHEME = "jxcdb"


class DatabaseStorage(Storage):
    """Flask-Limiter's fixed-window counters in the app's database (when there is no Redis)."""

    STORAGE_SCHEME = [DATABASE_SCHEME]

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """Database errors (a failing store lets the sign-in through rather than lock everyone out)."""
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add to a counter, starting a new window when the old one is over.

        Written through the request's own session and committed at once (the sign-in view has finished
        by then): on SQLite a second connection would wait for the write lock that very session holds."""
        now = time.time()
        session = db.session
        stmt = select(rate_limit.c.count, rate_limit.c.expires_at).where(rate_limit.c.key == key)
        row = session.execute(stmt).first()
        if row is None:
            session.execute(insert(rate_limit).values(key=key, count=amount, expires_at=now + expiry))
            count = amount
        else:
            count, expires = (row.count + amount, row.expires_at) if row.expires_at > now else (amount, now + expiry)
            session.execute(update(rate_limit).where(rate_limit.c.key == key).values(count=count, expires_at=expires))
        session.commit()
        return count

    def _row(self, key: str) -> Any:
        token = write_intent.set(False)  # a read: never wait for the write lock the request itself may hold
        try:
            with db.engine.connect() as conn:
                row = conn.execute(select(rate_limit).where(rate_limit.c.key == key)).first()
                conn.rollback()
                return row
        finally:
            write_intent.reset(token)

    def get(self, key: str) -> int:
        """The count in the current window (0 when it is over)."""
        row = self._row(key)
        return int(row.count) if row is not None and row.expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        """When the current window ends."""
        row = self._row(key)
        return float(row.expires_at) if row is not None else time.time()

    def check(self) -> bool:
        """Is the database reachable?"""
        try:
            self._row("check")
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter."""
        with db.engine.begin() as conn:
            return conn.execute(delete(rate_limit)).rowcount

    def clear(self, key: str) -> None:
        """Forget one counter."""
        with db.engine.begin() as conn:
            conn.execute(delete(rate_limit).where(rate_limit.c.key == key))


def _address() -> str:
    return request.remote_addr or "-"


def _user_and_address() -> str:
    payload = request.get_json(silent=True) if request.is_json else None
    name = (payload or {}).get("username") if isinstance(payload, dict) else request.form.get("username")
    return f"{str(name or '').strip().lower()[:64]}|{_address()}"


def _failed(response: Any) -> bool:
    """A sign-in that did not sign anybody in (the API answers 401; the page redirects either way)."""
    if request.path.startswith("/api/"):
        return response.status_code == 401
    return not current_user.is_authenticated


def _throttled(limit: RequestLimit) -> Any:
    seconds = max(int(limit.reset_at - time.time()), 1)
    message = t("login_throttled", seconds=seconds)
    if request.path.startswith("/api/"):
        response = jsonify({"message": message})
    else:
        response = make_response(render_template("jxc/throttled.html", message=message))
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    return response


def install_login_limits(sm: Any) -> None:
    """Throttle the sign-in page and the API login (their POSTs) with FAB's Flask-Limiter instance."""
    limiter = sm.limiter
    login_endpoints = [sm.auth_view.blueprint]
    security_api = next((v for v in sm.appbuilder.baseviews if v.__class__.__name__ == "JxcSecurityApi"), None)
    if security_api is not None:
        login_endpoints.append(security_api.blueprint)
    for blueprint in login_endpoints:
        for limits, key in ((PER_USER, _user_and_address), (PER_ADDRESS, _address)):
            limiter.limit(
                limits, key_func=key, methods=["POST"], deduct_when=_failed, on_breach=_throttled, per_method=True
            )(blueprint)
