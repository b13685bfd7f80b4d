"""Admin pages: add fields without code (uses the meta API), and the global audit trail."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.i18n import label
from app.meta.types import FIELD_TYPES
from app.services.audit_read import recent_audit
from app.services.context import current_access, registry, session


class FieldsAdminView(BaseView):
    """/admin/fields: pick a model, see its fields, add one (POSTs to /api/v1/meta/<model>/fields)."""

    route_base = "/admin/fields"
    class_permission_name = "Meta"
    method_permission_name = {"index": "write"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """The field editor."""
        meta = registry().meta
        models = [m for m in meta.models.values() if m.kind != "ledger"]
        selected = meta.models.get(request.args.get("model", "item")) or models[0]
        return self.render_template(
            "jxc/fields.html",
            models=[(m.key, label(m.label, m.key)) for m in models],
            selected=selected,
            fields=[
                {
                    "name": f.name,
                    "label": label(f.label, f.name),
                    "type": f.type,
                    "origin": f.origin,
                    "required": f.required,
                }
                for f in selected.fields
                if not f.system
            ],
            types=[name for name in FIELD_TYPES if name != "lines"],
            link_models=[(m.key, label(m.label, m.key)) for m in models if not m.is_line],
            roles=[(r.key, label(r.label, r.key)) for r in meta.roles.values()],
        )


class AuditView(BaseView):
    """/admin/audit: every committed change, newest first."""

    route_base = "/admin/audit"
    class_permission_name = "Audit"
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """The audit trail page."""
        page = max(request.args.get("page", 0, type=int), 0)
        model_key = request.args.get("model") or None
        rows = recent_audit(session(), current_access(), page, 50, model_key)
        return self.render_template("jxc/audit.html", rows=rows, page=page, model_key=model_key or "")
