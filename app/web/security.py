"""Request hooks: locale, request id, write intent, live metadata, live sign-ins, CSRF for the API, headers."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

from flask import Flask, current_app, g, jsonify, request, session
from flask_jwt_extended import get_current_user, verify_jwt_in_request
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError, validate_csrf

from app.extensions import db, read_only_connection, registry_holder, write_intent
from app.i18n import LOCALES, t
from app.services.records.audit import request_id_var
from app.services.records.settings import settings_read_at
from app.services.users.access import security_read_at
from app.services.users.sessions import SESSION_KEY, session_alive
from app.web.context import is_probe, probing
from app.web.static_cache import serves_static

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Writes that must not queue for SQLite's write lock: cancelling a job that holds it (app.jobs.queue.cancel
# signals the job outside the database there).
NO_WRITE_LOCK = re.compile(r"^/api/v1/jobs/\d+/cancel$")
CSRF_FREE_API = ("/api/v1/security/login", "/api/v1/security/refresh")

CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


def _start_request() -> Any:
    """Runs before FAB's own hooks, so the first statement of a write request takes the write lock."""
    view = current_app.view_functions.get(request.endpoint or "")
    writes = request.method in UNSAFE or getattr(view, "jxc_writes", False)
    g.jxc_write_token = write_intent.set(writes and not NO_WRITE_LOCK.match(request.path))
    rid = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
    g.request_id = rid
    g.jxc_rid_token = request_id_var.set(rid)
    if is_probe(view):  # GET /healthz: no session, no stamps (app.web.context.probe)
        return None
    if "locale" not in session:
        session["locale"] = request.accept_languages.best_match(LOCALES) or "zh"
    lazy = not writes and current_app.extensions.get("jxc_lazy_begin") and not db.session().in_transaction()
    connection = read_only_connection(db.session) if lazy else db.session.connection()
    stamps = registry_holder().refresh_if_stale(connection)
    if stamps.reloaded:
        g.jxc_registry_reloaded = True
    settings_read_at(db.session, stamps.settings)
    security_read_at(db.session, stamps.security)
    return None


def _bearer_signs_in() -> bool:
    """Does the request carry an API token that actually signs someone in (valid, live, active user)?"""
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return False
    try:
        verify_jwt_in_request()
    except Exception:  # noqa: BLE001 - any refusal of the token means it signs nobody in
        return False
    return get_current_user() is not None


def _check_sign_in() -> Any:
    """A browser session lives while its row does: one ended by logout, a new password or a deactivation
    (here or in another process) is signed out before the request goes further."""
    if probing():  # GET /healthz reads no sign-in
        return None
    if not current_user.is_authenticated:
        if g.pop("jxc_sign_in_ended", False):  # the user loader found the sign-in ended (or the user inactive)
            logout_user()
            session.clear()
        return None
    if g.get("jxc_sign_in_checked") == current_user.id:  # the user loader read the user with their sign-in
        return None
    if session_alive(db.session, current_user.id, session.get(SESSION_KEY)):
        return None
    logout_user()
    session.clear()
    return None


def _api_csrf() -> Any:
    """Cookie-authenticated API writes need the CSRF token; only a bearer token that signs someone in skips it
    (a made-up "Authorization: Bearer x" beside the victim's cookie does not)."""
    if request.method not in UNSAFE or not request.path.startswith("/api/"):
        return None
    if request.path.startswith(CSRF_FREE_API):
        return None
    if not current_user.is_authenticated or _bearer_signs_in():
        return None  # not signed in by the cookie: there is nothing to forge
    try:
        validate_csrf(request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token"))
    except (CSRFError, Exception):  # noqa: BLE001 - any failure is a refusal
        response = jsonify({"message": t("csrf")})
        response.status_code = 400
        return response
    return None


def csp_nonce() -> str:
    """This request's script nonce (FAB's own templates mark their few inline scripts with it)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)


def _headers(response: Any) -> Any:
    """The security headers a response does not set itself (each of Werkzeug's `setdefault` looks through the
    headers twice: the names present are read once instead), and no-store but for static files."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    if "content-security-policy" not in present:
        headers.add("Content-Security-Policy", CSP.format(nonce=csp_nonce()))
    for name, value in _SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if "strict-transport-security" not in present and current_app.config.get("JXC_HTTPS"):
        headers.add("Strict-Transport-Security", "max-age=31536000")
    if "x-request-id" not in present and "request_id" in g:
        headers.add("X-Request-ID", g.request_id)
    if "cache-control" not in present and not serves_static(request.endpoint or ""):
        # what a reader was answered stays off the disk cache and the back button once they sign out
        headers.add("Cache-Control", "no-store")
    return response


def _end_request(_exc: BaseException | None) -> None:
    token = g.pop("jxc_write_token", None)
    if token is not None:
        write_intent.reset(token)
    rid_token = g.pop("jxc_rid_token", None)
    if rid_token is not None:
        request_id_var.reset(rid_token)


def _csrf_on_unsafe_methods(hooks: list[Any]) -> None:
    """Flask-WTF's CSRF hook asked only for a request whose method it checks (WTF_CSRF_METHODS, read each request):
    for any other it returns nothing, after working out whether the view is exempt."""
    for index, hook in enumerate(hooks):
        if getattr(hook, "__qualname__", "") == "CSRFProtect.init_app.<locals>.csrf_protect":

            def csrf_protect(hook: Any = hook) -> Any:
                if request.method not in current_app.config["WTF_CSRF_METHODS"]:
                    return None
                return hook()

            hooks[index] = csrf_protect


def install_request_hooks(app: Flask) -> None:
    """Register the hooks; ours run before FAB's so the transaction starts the right way."""
    _csrf_on_unsafe_methods(app.before_request_funcs.setdefault(None, []))
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.before_request(_check_sign_in)
    app.before_request(_api_csrf)
    app.after_request(_headers)
    app.teardown_request(_end_request)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
