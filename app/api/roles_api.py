"""FAB's role API (/api/v1/security/roles/) with the check FAB's role pages make: a role may not be given
permissions, or a name, that would let it write a model with a required field it could not fill (422, every
reason at once, app/services/access/locks.py)."""

from __future__ import annotations

import inspect
from typing import Any

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect
from flask_appbuilder.security.sqla.apis.role.api import RoleApi
from flask_appbuilder.security.sqla.models import PermissionView

from app.extensions import db
from app.services.access.origins import read_origins
from app.services.users.access import role_refusals

FAB_PERMISSIONS = inspect.unwrap(RoleApi.add_role_permissions)  # FAB's body, without its wrappers


class RolesApi(RoleApi):
    """/api/v1/security/roles/: a new set of permissions and a new name are checked before FAB stores them."""

    def _refused(self, role_id: Any, name: str | None, ids: Any) -> Any:
        """A 422 when the role `role_id`, renamed to `name` (None: kept) or given the permissions `ids` (None: kept),
        could not fill what it may write; None otherwise (and for a role or body FAB answers itself)."""
        role = self.datamodel.get(role_id) if str(role_id).isdigit() else None
        if role is None:
            return None
        if ids is None:
            views = role.permissions
        elif isinstance(ids, list) and all(isinstance(i, int) for i in ids):
            views = db.session.query(PermissionView).filter(PermissionView.id.in_(ids)).all() if ids else []
        else:
            return None
        refusals = role_refusals(name or role.name, views, role.name, read_origins(db.session).get(role.name))
        return (
            self.response_422(message={"permission_view_menu_ids" if ids is not None else "name": refusals})
            if refusals
            else None
        )

    @expose("/<int:role_id>/permissions", methods=["POST"])
    @protect()
    @safe
    @permission_name("add_role_permissions")
    def add_role_permissions(self, role_id: int) -> Any:
        """Set a role's permissions (checked).
        ---
        post:
          responses:
            200:
              description: Permissions set
            422:
              $ref: '#/components/responses/422'
        """
        body = request.get_json(silent=True)
        ids = body.get("permission_view_menu_ids") if isinstance(body, dict) else None
        return self._refused(role_id, None, ids) or FAB_PERMISSIONS(self, role_id)

    def put_headless(self, pk: Any) -> Any:
        """Rename a role (checked: a role roles.yaml does not know sees no field); a blank name is FAB's to refuse."""
        body = request.get_json(silent=True)
        name = body.get("name") if isinstance(body, dict) else None
        renamed = isinstance(name, str) and name.strip()
        return (self._refused(pk, name, None) if renamed else None) or super().put_headless(pk)
