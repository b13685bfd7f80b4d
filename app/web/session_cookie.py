"""Flask's signed session cookie, its signature checked once per cookie.

Flask opens the session cookie of every request: it builds a new signing serializer (its keys, salt and
signer), derives the HMAC key and checks the signature, then decodes the payload, about 0.1 ms of a
request's Python. Whether a cookie's signature is good is a pure function of its text and the app's keys,
so the cookies found good are kept (the last MAX_COOKIES of this process, forgotten when the keys change)
with their payload's text and the time they were signed. What Flask checks on every request is still
checked on every request: the cookie's age against the session's lifetime (an expired or future cookie
opens an empty session, as Flask's own does). Each request gets its own session objects: a payload whose values
are all of types nothing can change in place (text, numbers, true/false, none: a signed-in browser's) is kept
decoded and each request gets a copy of its dictionary; any other (a list of flashed messages ...) is decoded
afresh each time. A cookie that fails the check is never kept.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class KeptSessionCookies(SecureCookieSessionInterface):
    """Flask's SecureCookieSessionInterface with its serializer built once and good cookies remembered."""

    MAX_COOKIES = 1024

    def __init__(self) -> None:
        self.keys: tuple[Any, ...] | None = None
        self.signing: URLSafeTimedSerializer | None = None
        # cookie -> (payload text, signed at, its values when none can change in place, else None)
        self.verified: dict[str, tuple[bytes, int, dict[str, Any] | None]] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, built again only when the secret key or its fallbacks change."""
        if not app.secret_key:
            return None
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self.keys or self.signing is None:
            self.signing = super().get_signing_serializer(app)
            self.verified = {}
            self.keys = keys
        return self.signing

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """As Flask's: the cookie's session, or an empty one when its signature is bad or its age is out of
        the session's lifetime."""
        signing = self.get_signing_serializer(app)
        if signing is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        found = self.verified.get(cookie)
        if found is None:
            checked = _verified(signing, cookie, max_age)
            if checked is None:
                return self.session_class()
            if len(self.verified) >= self.MAX_COOKIES:
                self.verified.clear()
            found = self.verified[cookie] = (*checked, _unchangeable(signing.load_payload(checked[0])))
        payload, signed_at, values = found
        age = int(time.time()) - signed_at  # as itsdangerous's TimestampSigner measures it
        if age > max_age or age < 0:
            return self.session_class()
        return self.session_class(values if values is not None else signing.load_payload(payload))


_UNCHANGEABLE = (str, int, float, bool, type(None))


def _unchangeable(values: Any) -> dict[str, Any] | None:
    """The decoded payload when it is a dictionary whose values are all of types nothing changes in place (a
    session made from it copies it: `dict(values)`), else None."""
    if type(values) is not dict or any(type(value) not in _UNCHANGEABLE for value in values.values()):
        return None
    return values


def _verified(signing: URLSafeTimedSerializer, cookie: str, max_age: int) -> tuple[bytes, int] | None:
    """(payload text, signed at) of a cookie signed with one of the keys, as itsdangerous's `loads` tries
    them (an expired signature ends the search); None for a cookie that is not good."""
    for signer in signing.iter_unsigners():
        try:
            payload, signed_at = signer.unsign(cookie, max_age=max_age, return_timestamp=True)
        except SignatureExpired:
            return None
        except BadSignature:
            continue
        return payload, int(signed_at.timestamp())
    return None


def install_session_cookies(app: Flask) -> None:
    """Open the session cookies with KeptSessionCookies."""
    app.session_interface = KeptSessionCookies()
