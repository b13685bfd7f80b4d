"""FAB's security API for users (/api/v1/security/users/), with JXC's rules: the password policy, an audit row
for every change in the same transaction, sessions ended by a new password or a deactivation, and answers
that never carry a password (FAB's own echoes the request body back on PUT)."""

from __future__ import annotations

import inspect
import json
from typing import Any

from flask import g, request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.decorators import permission_name, protect
from flask_appbuilder.security.sqla.apis.user.api import UserApi
from flask_appbuilder.security.sqla.apis.user.schema import UserPostSchema, UserPutSchema
from flask_jwt_extended import get_jwt, jwt_required
from marshmallow import Schema, fields
from sqlalchemy import inspect as inspect_state

from app.extensions import db
from app.meta.types import ValueProblem, parse_integer
from app.services.users.accounts import email_problems, stored_email, user_changed
from app.services.users.passwords import password_problems
from app.services.users.sessions import end_session

AUDITED = ("username", "first_name", "last_name", "email", "active", "password")
EMAIL = "The user's e-mail address; none (left out, null or blank) for a user without one, who is never mailed"
FAB_POST, FAB_PUT = inspect.unwrap(UserApi.post), inspect.unwrap(UserApi.put)  # FAB's bodies, without its wrappers


def actor() -> tuple[int | None, str]:
    """Who is acting, for the audit trail."""
    user = getattr(g, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None, "jxc"
    return user.id, user.username


def attribute_changes(item: Any) -> dict[str, tuple[Any, Any]]:
    """The audited attributes of a user that this unit of work changes (old, new)."""
    state = inspect_state(item)
    changes = {}
    for name in AUDITED:
        history = state.attrs[name].history
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            changes[name] = (old, new)
    roles = state.attrs["roles"].history
    if roles.has_changes():
        changes["roles"] = (
            [r.name for r in roles.unchanged + roles.deleted],
            [r.name for r in roles.unchanged + roles.added],
        )
    return changes


class NewUser(UserPostSchema):
    """FAB's body of a new user, the e-mail optional: none (left out, null or blank) is a user without an
    address, as `jxc user add` and the user pages make one."""

    email = fields.String(required=False, allow_none=True, load_default=None, metadata={"description": EMAIL})


class UserChange(UserPutSchema):
    """FAB's body of a change to a user; a null or blank e-mail says the user has no address."""

    email = fields.String(required=False, allow_none=True, metadata={"description": EMAIL})


class UsersApi(UserApi):
    """/api/v1/security/users/ with the password policy, an optional e-mail, audit and ended sessions."""

    add_model_schema = NewUser()
    edit_model_schema = UserChange()

    def _user(self, pk: Any) -> Any:
        """The user `pk` names, or None (no such user, or not an id a column holds)."""
        try:
            return self.datamodel.get(parse_integer(pk), self._base_filters)
        except ValueProblem:
            return None

    def _refused(self, schema: Schema, user: Any = None) -> Any:
        """A 422 for a body whose password fails the policy or whose e-mail is not one address or is another
        user's (`email_problems`), naming with them what FAB's schema refuses too; None when JXC finds none."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None
        problems: dict[str, list[str]] = {}
        if body.get("password"):
            username = body.get("username") or (user.username if user is not None else "")
            problems["password"] = password_problems(str(body["password"]), str(username))
        if "email" in body:
            problems["email"] = email_problems(db.session, body["email"], user.id if user is not None else None)
        problems = {name: found for name, found in problems.items() if found}
        if not problems:
            return None
        return self.response_422(message=schema.validate(body) | problems)

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def post(self) -> Any:
        """Create a user (the password must pass the policy).
        ---
        post:
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/{{self.__class__.__name__}}.post'
          responses:
            201:
              description: Created
            400:
              $ref: '#/components/responses/400'
            422:
              $ref: '#/components/responses/422'
        """
        return self._refused(self.add_model_schema) or FAB_POST(self)

    @expose("/<pk>", methods=("PUT",))
    @protect()
    @safe
    @permission_name("put")
    def put(self, pk: Any) -> Any:
        """Change a user; the answer says which fields changed, never a password.
        ---
        put:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/{{self.__class__.__name__}}.put'
          responses:
            200:
              description: Changed
            400:
              $ref: '#/components/responses/400'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        user = self._user(pk)
        if user is None:  # FAB's put reads on into a missing user (500)
            return self.response_404()
        refused = self._refused(self.edit_model_schema, user)
        if refused is not None:
            return refused
        response = FAB_PUT(self, pk)
        body = response.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("result"), dict) and "password" in body["result"]:
            body["result"]["password"] = None  # never echoed
            response.set_data(json.dumps(body))
        return response

    def pre_add(self, item: Any) -> None:
        """Hash the password, then audit the new user in the same transaction; no e-mail: none (marked)."""
        item.email = stored_email(item.email, item.username)
        super().pre_add(item)
        db.session.add(item)
        db.session.flush()
        changes = {name: (None, getattr(item, name)) for name in AUDITED}
        changes["roles"] = (None, [r.name for r in item.roles])
        user_changed(db.session, actor(), item.id, "create", changes)

    def pre_update(self, item: Any, data: Any) -> None:
        """Hash a new password, audit what changed, end the user's sessions if it calls for it."""
        item.email = stored_email(item.email, item.username)
        super().pre_update(item, data)
        user_changed(db.session, actor(), item.id, "update", attribute_changes(item))

    def pre_delete(self, item: Any) -> None:
        """Audit the deletion and end the user's sessions."""
        user_changed(db.session, actor(), item.id, "delete", {"username": (item.username, None)})


class JxcSecurityApi(SecurityApi):
    """FAB's /api/v1/security/ (login, refresh) plus logout, which ends the token's session."""

    @expose("/logout", methods=["POST"])
    @jwt_required()
    @safe
    def logout(self) -> Any:
        """End this token's session (and any token issued with it).
        ---
        post:
          responses:
            200:
              description: Signed out
        """
        end_session(db.session, get_jwt().get("sid"))
        db.session.commit()
        return self.response(200, message="OK")
