"""JXC's FAB security manager: sign-ins as sessions that logout, a new password or a deactivation end (cookies
and API tokens alike), throttled logins, the password policy and audit on FAB's user pages and API, and each
request's permissions read once (FAB asks the database for every menu entry otherwise)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import current_app, g, has_request_context, session
from flask_appbuilder.security.signals import user_creating, user_deleting
from flask_appbuilder.security.sqla.apis import (
    GroupApi,
    PermissionApi,
    PermissionViewMenuApi,
    ViewMenuApi,
)
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_jwt_extended import JWTManager, get_jwt, view_decorators
from flask_login import user_logged_in

from app.api.fab_rows import refusing
from app.api.roles_api import RolesApi
from app.api.users_api import AUDITED, JxcSecurityApi, UsersApi
from app.clock import utcnow
from app.extensions import db
from app.services.users.access import role_permissions
from app.services.users.accounts import hash_password, user_changed
from app.services.users.sessions import API, SESSION_KEY, WEB, end_session, signed_in_user, start_session
from app.views.security_labels import install_fab_labels
from app.views.user_pages import (
    ResetMyPasswordView,
    ResetPasswordView,
    RoleModelView,
    UserDBModelView,
    UserGroupModelView,
)
from app.web.context import request_user
from app.web.login_limits import install_login_limits


class JxcSecurityManager(SecurityManager):
    """FAB's SQLAlchemy security manager with JXC's sessions, limits, policy, audit and permission cache."""

    user_api = refusing(UsersApi)
    role_api = refusing(RolesApi)
    permission_api = refusing(PermissionApi)
    view_menu_api = refusing(ViewMenuApi)
    permission_view_menu_api = refusing(PermissionViewMenuApi)
    group_api = refusing(GroupApi)
    security_api = JxcSecurityApi
    userdbmodelview = UserDBModelView
    resetmypasswordview = ResetMyPasswordView
    resetpasswordview = ResetPasswordView
    rolemodelview = RoleModelView
    groupmodelview = UserGroupModelView
    # FAB's 用户统计 chart loads Google Charts from a public CDN (back offices run offline, and it is blocked
    # in mainland China): no such page
    userstatschartview = None

    def create_jwt_manager(self, app: Any) -> JWTManager:
        """Each token carries its session id; a token whose session has ended is refused."""
        manager = super().create_jwt_manager(app)
        manager.additional_claims_loader(_token_claims)
        manager.token_in_blocklist_loader(_token_revoked)
        manager._decode_jwt_from_config = VerifiedTokens(manager._decode_jwt_from_config)  # type: ignore[method-assign]
        if not isinstance(view_decorators.get_unverified_jwt_headers, TokenHeaders):
            view_decorators.get_unverified_jwt_headers = TokenHeaders(view_decorators.get_unverified_jwt_headers)
        return manager

    def register_views(self) -> None:
        """FAB's security views, then the throttle on their sign-in endpoints."""
        install_fab_labels()
        super().register_views()
        install_login_limits(self)

    def reset_password(self, userid: Any, password: str) -> None:
        """A new password (FAB's reset pages, `jxc init`): hashed, audited, every session of the user ended,
        in one transaction. (FAB's own looks for what changed after flushing it, and so finds nothing.)"""
        user = self.get_user_by_id(userid)
        user.password = hash_password(password)
        user.changed_on = utcnow()
        user_changed(db.session, _actor_of(getattr(g, "user", None)), user.id, "update", {"password": (None, True)})
        db.session.commit()

    def on_user_logout(self, user: Any) -> None:
        """End this browser's session."""
        end_session(db.session, session.pop(SESSION_KEY, None))
        db.session.commit()

    def load_user(self, pk: Any) -> Any | None:
        """The browser's user with their roles and their sign-in checked, in one query: None (signed out at
        once by app.web.security) when the session cookie's sign-in has ended or the user is not active."""
        if not has_request_context():
            return super().load_user(pk)
        user = signed_in_user(db.session, self.user_model, int(pk), session.get(SESSION_KEY))
        if user is None or not user.is_active:
            g.jxc_sign_in_ended = True
            return None
        g.jxc_sign_in_checked = user.id
        return user

    def load_user_jwt(self, _jwt_header: Any, jwt_data: dict[str, Any]) -> Any | None:
        """The token's user, read with their roles when its sign-in was checked (`_token_revoked`)."""
        user = g.get("jxc_token_users", {}).get((str(jwt_data.get("sub")), jwt_data.get("sid")))
        if user is None:
            user = self.get_user_by_id(int(jwt_data["sub"]))
        if user and user.is_active:
            g.user = user
            return user
        return None

    def get_user_permissions(self, user: Any) -> frozenset[tuple[str, str]]:
        """The user's (permission, view) pairs in one query of plain rows (FAB's own loads three ORM objects per
        pair and role: most of a page's time went there), kept per security stamp (`role_permissions`); FAB's
        own for its built-in roles."""
        roles = self.get_user_roles(user)
        if any(role.name in self.builtin_roles for role in roles):
            return frozenset(super().get_user_permissions(user))
        return role_permissions([role.id for role in roles])

    def request_permissions(self, user: Any) -> frozenset[tuple[str, str]]:
        """The user's (permission, view) pairs, read once per request."""
        cache = g.setdefault("jxc_permissions", {}) if has_request_context() else {}
        key = getattr(user, "id", None)
        if key not in cache:
            cache[key] = self.get_user_permissions(user)
        return cache[key]

    def _has_view_access(self, user: object, permission_name: str, view_name: str) -> bool:
        roles = self.get_user_roles(user)
        if any(role.name in self.builtin_roles for role in roles):
            return super()._has_view_access(user, permission_name, view_name)
        return (permission_name, view_name) in self.request_permissions(user)

    def is_item_public(self, permission_name: str, view_name: str) -> bool:
        """FAB asks this first on every API call, two queries of the public role; a signed-in user who may use
        the view is let in either way, so only a request without that right looks at the public role."""
        if has_request_context():
            user = request_user()
            if user is not None and user.is_active and self._has_view_access(user, permission_name, view_name):
                return False
        return bool(super().is_item_public(permission_name, view_name))

    def get_public_permissions(self) -> Any:
        """The public role's permissions, read once per request."""
        if not has_request_context():
            return super().get_public_permissions()
        if "jxc_public_permissions" not in g:
            g.jxc_public_permissions = super().get_public_permissions()
        return g.jxc_public_permissions


class VerifiedTokens:
    """flask_jwt_extended's token decoding, remembered per token: a bearer token is parsed three times per request
    (its claims unverified, its header, then claims and signature again), a third of the Python of a small API call.
    A token whose signature was verified here once is a pure function of its text and the app's key, so its
    claims are kept (the last MAX_TOKENS tokens of this process); its expiry and not-before are checked again
    on every request, and whether its sign-in is live (`_token_revoked`) is asked on every request as before."""

    MAX_TOKENS = 1024

    def __init__(self, decode: Any) -> None:
        self.decode = decode
        self.claims: dict[str, dict[str, Any]] = {}

    def __call__(self, encoded_token: str, csrf_value: Any = None, allow_expired: bool = False) -> dict[str, Any]:
        if csrf_value is not None or allow_expired:
            return self.decode(encoded_token, csrf_value, allow_expired)
        claims = self.claims.get(encoded_token)
        now, leeway = time.time(), current_app.config.get("JWT_DECODE_LEEWAY", 0)
        if claims is not None and _in_time(claims, now, _seconds(leeway)):
            return dict(claims)
        claims = self.decode(encoded_token, csrf_value, allow_expired)  # raises for a bad or expired token
        if len(self.claims) >= self.MAX_TOKENS:
            self.claims.clear()
        self.claims[encoded_token] = dict(claims)
        return claims


class TokenHeaders:
    """flask_jwt_extended parses a bearer token's header once more after verifying the token (base64 and JSON,
    checked character by character): the header is a pure function of the token's text, so it is kept (the
    last VerifiedTokens.MAX_TOKENS tokens of this process) and handed out as a copy. What the header says is
    not trusted for anything the verified claims do not already say."""

    def __init__(self, parse: Any) -> None:
        self.parse = parse
        self.headers: dict[str, dict[str, Any]] = {}

    def __call__(self, encoded_token: str) -> dict[str, Any]:
        header = self.headers.get(encoded_token)
        if header is None:
            header = self.parse(encoded_token)  # raises for a token that is not one
            if len(self.headers) >= VerifiedTokens.MAX_TOKENS:
                self.headers.clear()
            self.headers[encoded_token] = dict(header)
        return dict(header)


def _seconds(leeway: Any) -> float:
    return leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway or 0)


def _in_time(claims: dict[str, Any], now: float, leeway: float) -> bool:
    """Is a verified token still within its `exp` and past its `nbf` (as PyJWT checks them)?"""
    expires, not_before = claims.get("exp"), claims.get("nbf")
    if expires is not None and now >= float(expires) + leeway:
        return False
    return not_before is None or now >= float(not_before) - leeway


def _token_claims(identity: Any) -> dict[str, str]:
    """A new API token's session. A sign-in's access and refresh tokens share one, and an access token refreshed
    from a refresh token keeps that token's: a refresh starts no sign-in, and a logout with any token of a sign-in
    ends them all (each token used to start a session of its own, so a refresh token outlived the logout)."""
    user_id = int(identity)
    kept = g.setdefault("jxc_token_sessions", {}) if has_request_context() else {}
    if user_id not in kept:
        kept[user_id] = _refreshing_session(user_id)
        if kept[user_id] is None:
            kept[user_id] = start_session(db.session, user_id, API)
            db.session.commit()
    return {"sid": kept[user_id]}


def _refreshing_session(user_id: int) -> str | None:
    """The session of the token this request came with (POST /api/v1/security/refresh: the refresh token, whose
    session `_token_revoked` found alive), when it is this user's."""
    try:
        claims = get_jwt()
    except RuntimeError:  # no token verified in this request: a sign-in
        return None
    sid = claims.get("sid")
    return str(sid) if sid and str(claims.get("sub")) == str(user_id) else None


def _token_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
    """Has the token's session ended (logout, a new password, a deactivation)?"""
    try:
        user_id = int(payload.get("sub", ""))
    except ValueError:
        return True
    checked = g.setdefault("jxc_token_users", {})  # the token is verified more than once in a request
    key = (str(user_id), payload.get("sid"))
    if key not in checked:
        checked[key] = signed_in_user(db.session, current_app.appbuilder.sm.user_model, user_id, payload.get("sid"))
    return checked[key] is None  # load_user_jwt takes the user found here: no query of its own


def _actor_of(user: Any) -> tuple[int | None, str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return None, "jxc"
    return user.id, user.username


def _actor(event: Any) -> tuple[int | None, str]:
    return _actor_of(getattr(event, "triggered_by", None))


@user_logged_in.connect
def _signed_in(_app: Any, user: Any, **_extra: Any) -> None:
    """A browser signed in: its session row, its id in the signed cookie."""
    session[SESSION_KEY] = start_session(db.session, user.id, WEB)
    db.session.commit()


@user_creating.connect
def _user_created(_sm: Any, event: Any) -> None:
    changes = {name: (None, getattr(event.model, name, None)) for name in AUDITED}
    user_changed(db.session, _actor(event), event.model_id, "create", changes)


@user_deleting.connect
def _user_deleted(_sm: Any, event: Any) -> None:
    user_changed(db.session, _actor(event), event.model_id, "delete", {"username": (event.model.username, None)})
