"""The session cookie's signature checked once per cookie (app.web.session_cookie): every cookie opens what
Flask's own session interface opens, on the first request and on later ones, an expired one included."""

from __future__ import annotations

import time

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.web.session_cookie import KeptSessionCookies


def _cookie(app, payload, age=0, key=None):
    """A session cookie signed `age` seconds ago with the app's key (or `key`)."""
    flask_own = SecureCookieSessionInterface()

    class SignedThen(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    signing = URLSafeTimedSerializer(
        [key or app.secret_key],
        salt=flask_own.salt,
        serializer=flask_own.serializer,
        signer=SignedThen,
        signer_kwargs={"key_derivation": flask_own.key_derivation, "digest_method": flask_own.digest_method},
    )
    return signing.dumps(payload)


def _opened(app, interface, cookie):
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        from flask import request

        session = interface.open_session(app, request._get_current_object())
        return dict(session), session


def test_every_cookie_opens_what_flasks_own_interface_opens(app):
    assert isinstance(app.session_interface, KeptSessionCookies)
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    good = _cookie(app, {"locale": "en", "jxc_sid": "s1", "_flashes": [("info", "x")]})
    cookies = {
        "good": good,
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "other key": _cookie(app, {"locale": "en"}, key="not-the-apps-key"),
        "expired": _cookie(app, {"locale": "en"}, age=lifetime + 5),
        "from the future": _cookie(app, {"locale": "en"}, age=-120),
        "not a cookie": "garbage",
    }
    flask_own, kept = SecureCookieSessionInterface(), KeptSessionCookies()
    for name, cookie in cookies.items():
        for _ in range(2):  # the first opening checks the signature, the second answers from what was kept
            assert _opened(app, kept, cookie)[0] == _opened(app, flask_own, cookie)[0], name
    assert _opened(app, kept, good)[0]["jxc_sid"] == "s1"
    assert list(kept.verified) == [good]  # only the good cookie was kept


def test_a_kept_cookie_still_expires_and_each_request_gets_its_own_session(app):
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    cookie = _cookie(app, {"locale": "en", "_flashes": [("info", "x")]}, age=lifetime - 1)
    kept = KeptSessionCookies()
    first, session = _opened(app, kept, cookie)
    assert first["locale"] == "en" and cookie in kept.verified
    session["_flashes"].append(("info", "y"))  # one request's changes stay its own
    assert _opened(app, kept, cookie)[0]["_flashes"] == [("info", "x")]
    time.sleep(2.1)  # now older than the session's lifetime
    assert _opened(app, kept, cookie)[0] == {} == _opened(app, SecureCookieSessionInterface(), cookie)[0]


def test_a_signed_in_browsers_cookie_is_kept_decoded_and_each_request_changes_its_own_copy(app):
    cookie = _cookie(app, {"locale": "en", "jxc_sid": "s1", "_fresh": True, "_user_id": "1"})
    kept = KeptSessionCookies()
    first, session = _opened(app, kept, cookie)
    assert first == _opened(app, SecureCookieSessionInterface(), cookie)[0]
    assert kept.verified[cookie][2] == first  # kept decoded: its values are text and true/false
    session["locale"] = "zh"
    session.pop("jxc_sid")
    again, other = _opened(app, kept, cookie)
    assert again == first and other is not session and not other.modified
