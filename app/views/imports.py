"""/imports/: every model the user may import into, grouped as the menu groups them, with its template.
/imports/<model>/: the import page of a model — upload, correct the column mapping, see every row with its bad
cells marked, fix cells in place or a whole column at once, then apply (a job, with its progress) and undo. The
pages only carry configuration; reading, checking and applying go through /api/v1/imports/."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.extensions import db, registry
from app.i18n import label
from app.jobs import store
from app.web.context import current_access
from importers.pipeline import may_import


class ImportsView(BaseView):
    """The import page of every model the user may import into."""

    route_base = "/imports"
    default_view = "index"

    @expose("/")
    def index(self) -> Any:
        """What the user may import, grouped as the menu groups it (models in no menu last)."""
        if not current_user.is_authenticated:
            return redirect(url_for("AuthDBView.login", next=request.full_path))
        access, meta = current_access(), registry().meta
        allowed = [key for key, model in meta.models.items() if may_import(access, model)]
        in_menus = {key for menu in meta.menus for key in menu.models}
        groups = [(label(menu.label, menu.key), [key for key in menu.models if key in allowed]) for menu in meta.menus]
        groups.append(("", [key for key in allowed if key not in in_menus]))
        titles = {key: label(meta.models[key].label, key) for key in allowed}
        return self.render_template(
            "jxc/imports_index.html", groups=[group for group in groups if group[1]], titles=titles
        )

    @expose("/<model_key>/")
    def page(self, model_key: str) -> Any:
        """The page."""
        if not current_user.is_authenticated:
            return redirect(url_for("AuthDBView.login", next=request.full_path))
        access = current_access()
        if model_key not in registry().meta.models or not may_import(access, registry().model(model_key)):
            abort(404)
        model = registry().model(model_key)
        config = {
            "model": model.key,
            "csrf_token": generate_csrf(),
            # the import this user started here and has not seen end (the page was left or reloaded meanwhile)
            "active_job": store.active_of(db.session, access.user_id, "import", model=model.key),
            "urls": {
                "preview": "/api/v1/imports/preview",
                "check": "/api/v1/imports/check",
                "upload": "/api/v1/imports/",
                "job": "/api/v1/jobs/{id}",
                "cancel": "/api/v1/jobs/{id}/cancel",
                "errors": "/api/v1/imports/{id}/errors.xlsx",
                "undo": "/api/v1/imports/{id}/undo",
                "template": f"/api/v1/imports/template/{model.key}",
                "grid": f"/grid/{model.key}/",
            },
        }
        title = label(model.label, model.key)
        return self.render_template("jxc/imports.html", config=config, title=title)
