"""The spreadsheet grid page /grid/<model>/: a Tabulator grid configured from the model's metadata.

The page only carries configuration (columns the user may see, what they may do, API addresses);
rows, saves, undo and export go through /api/v1/grid/ (app.api.grid_api).
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.clock import business_timezone
from app.extensions import registry
from app.i18n import current_locale, label
from app.jobs.exports import EXPORT_JOB_ROWS
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES
from app.services.access.rights import Access
from app.services.grid.batch import MAX_BATCH_ROWS
from app.services.grid.rows import changes_since, load_layout
from app.web.context import current_access, session
from importers.pipeline import may_import

PAGE_SIZE = 100


def grid_column(access: Access, model: ModelSpec, spec: FieldSpec) -> dict[str, Any]:
    """One column of the grid as the browser needs it: the field type describes how it looks and edits."""
    ftype = FIELD_TYPES[spec.type]
    return ftype.grid_look(spec) | {
        "field": spec.name,
        "title": label(spec.label, spec.name),
        "type": spec.type,
        "editable": access.can_write(model, spec) and not spec.compute and not model.is_line,
        "frozen": spec.grid_frozen,
        "options": [{"value": o.value, "label": label(o.label, o.value)} for o in spec.options] or None,
        "link_to": spec.to if spec.is_link else None,
        "lookup": ftype.lookup_url(spec),
        "required": spec.required,
        "help": label(spec.help) if spec.help else "",
        "sortable": ftype.sortable,
        # a line's document (单据编号) opens that document's page
        "opens": f"/m/{spec.to}/{{id}}" if model.is_line and spec.name == "parent" else None,
    }


def grid_config(access: Access, model: ModelSpec) -> dict[str, Any]:
    """Everything the grid script needs for one model and one user."""
    columns = [grid_column(access, model, spec) for spec in access.visible_fields(model) if spec.in_grid]
    writable = model.kind != "ledger" and not model.is_line
    can_write = writable and access.can(model.key, "write")
    base = f"/api/v1/grid/{model.key}"
    return {
        "model": model.key,
        "title": label(model.label, model.key),
        "locale": current_locale(),
        "timezone": business_timezone(),
        # the change feed's position before the page reads any row: nothing written after it is missed
        "changes_cursor": changes_since(session(), access, model, None)["cursor"],
        "key_field": model.business_key,
        "display_field": model.display,
        "columns": columns,
        "layout": load_layout(session(), access.user_id, model.key),
        "can_create": can_write,
        "can_write": can_write,
        "can_delete": writable and access.can(model.key, "delete"),
        "can_export": access.can(model.key, "export"),
        "can_import": may_import(access, model),
        "export_job_rows": EXPORT_JOB_ROWS,
        "page_size": PAGE_SIZE,
        "max_batch_rows": MAX_BATCH_ROWS,
        "csrf_token": generate_csrf(),
        "urls": {
            "rows": f"{base}/rows",
            "ids": f"{base}/ids",
            "batch": f"{base}/batch",
            "undo": "/api/v1/grid/batches/{id}/undo",
            "history": f"{base}/batches",
            "export": f"{base}/export",
            "template": f"/api/v1/imports/template/{model.key}",
            "jobs": "/api/v1/jobs/",
            "import_page": f"/imports/{model.key}/",
            "changes": f"{base}/changes",
            "layout": f"{base}/layout",
            "form": f"/m/{model.key}/{{id}}/edit",
            "show": f"/m/{model.key}/{{id}}",
            "new": f"/m/{model.key}/new",
        },
    }


class GridView(BaseView):
    """/grid/<model>/ for every model the user may read."""

    route_base = "/grid"
    default_view = "grid"

    @expose("/<model_key>/")
    def grid(self, model_key: str) -> Any:
        """The grid page."""
        if not current_user.is_authenticated:
            return redirect(url_for("AuthDBView.login", next=request.full_path))
        access = current_access()
        if model_key not in registry().meta.models or not access.can(model_key, "read"):
            abort(404)
        model = registry().model(model_key)
        return self.render_template(
            "jxc/grid.html", config=grid_config(access, model), title=label(model.label, model.key)
        )
