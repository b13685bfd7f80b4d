"""Imports API at /api/v1/imports/: the template of a model, uploads run as jobs, their error workbooks.

Any signed-in user may call it; what they may import is decided per model by `Access` (the `import`
and `write` actions, field masks, row scope), exactly as on every other path.
"""

from __future__ import annotations

import json
from typing import Any

from apispec import APISpec
from flask import request, send_file
from flask_appbuilder.api import BaseApi, expose, safe

from app.api.grid_api import signed_in
from app.api.responses import XLSX_MIME, download, service_errors
from app.api.schema import add_model_key_parameter
from app.errors import CellError, NotFound, ValidationFailed
from app.extensions import registry
from app.i18n import current_locale, label, t
from app.jobs import queue, submit
from app.web.context import current_access, session
from importers.jobs import keep_upload
from importers.matcher import normalise_header
from importers.pipeline import ACTIONS, MODES, importable_model, preview
from importers.reader import MAX_FILE_BYTES
from importers.runs import get_import, list_imports, load_layout, save_layout
from importers.template import template_workbook

TRUE = ("1", "true", "yes", "on")


def upload_form() -> dict[str, Any]:
    """The multipart fields of an upload, checked: model, file, mode, action, dry_run, force, post, mapping."""
    errors = []
    upload = request.files.get("file")
    data = upload.read(MAX_FILE_BYTES + 1) if upload is not None else b""
    if not data:
        errors.append(CellError("file", t("imports.no_file")))
    elif len(data) > MAX_FILE_BYTES:
        errors.append(CellError("file", t("imports.too_big", mb=MAX_FILE_BYTES // (1024 * 1024))))
    mode = request.form.get("mode") or "all"
    action = request.form.get("action") or "create"
    if mode not in MODES:
        errors.append(CellError("mode", t("imports.bad_option")))
    if action not in ACTIONS:
        errors.append(CellError("action", t("imports.bad_option")))
    mapping = None
    if request.form.get("mapping"):
        try:
            mapping = json.loads(request.form["mapping"])
        except ValueError:
            mapping = None
        if not isinstance(mapping, dict):
            errors.append(CellError("mapping", t("imports.bad_mapping")))
    if errors:
        raise ValidationFailed(errors)
    return {
        "data": data,
        "filename": (upload.filename or "") if upload is not None else "",
        "mode": mode,
        "action": action,
        "dry_run": (request.form.get("dry_run") or "").lower() in TRUE,
        "force": (request.form.get("force") or "").lower() in TRUE,
        "post": (request.form.get("post") or "").lower() in TRUE,
        "mapping": mapping,
    }


class ImportsApi(BaseApi):
    """/api/v1/imports/: templates, uploads and their error reports."""

    resource_name = "imports"
    version = "v1"
    allow_browser_login = True
    csrf_exempt = True  # cookie sessions are checked for CSRF in app.web.security; JWT needs none
    openapi_spec_tag = "imports"

    def add_apispec_components(self, api_spec: APISpec) -> None:
        """FAB's components, and the `model_key` parameter of the models in force."""
        super().add_apispec_components(api_spec)
        add_model_key_parameter(api_spec, registry())

    @expose("/template/<model_key>", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def template(self, model_key: str) -> Any:
        """The model's import template (xlsx), in `?lang=zh|en` or the reader's language.
        ---
        get:
          summary: Import template
          parameters:
          - model_key
          - {in: query, name: lang, schema: {type: string}}
          responses:
            200:
              description: xlsx
        """
        access = current_access()
        model = importable_model(access, model_key)
        locale = request.args.get("lang") if request.args.get("lang") in ("zh", "en") else current_locale()
        data = template_workbook(access, model, locale)
        name = f"{label(model.label, model.key, locale)}-template.xlsx"
        return download(data, XLSX_MIME, f"{model.key}-template.xlsx", name)

    @expose("/", methods=["POST"])
    @signed_in
    @safe
    @service_errors
    def upload(self) -> Any:
        """Import a file as a background job: multipart `model`, `file`, `mode` (all | valid), `action`
        (create | update | upsert), `dry_run` (a check, as `/check`), `force`, `post` (documents: post them, not
        drafts), `mapping` (JSON {header: field}); 202 {job_id}.
        ---
        post:
          summary: Import a file
          responses:
            202:
              description: '{job_id}'
        """
        return self._submit(None)

    @expose("/check", methods=["POST"])
    @signed_in
    @safe
    @service_errors
    def check(self) -> Any:
        """Check a file as a background job, through the import's own write path, and roll it all back: the same
        multipart fields as an import; 202 {job_id}. The job's result is what the import would do (`created`,
        `updated`, `unchanged`, `skipped`) and every cell it would refuse (`issues`, `refused`): the cells' own
        problems, the model's rules, row scope and field permissions, at once. Nothing is written.
        ---
        post:
          summary: Check a file (a dry run of its import)
          responses:
            202:
              description: '{job_id}'
        """
        return self._submit("import_check")

    def _submit(self, kind: str | None) -> Any:
        """The upload kept and its job queued: an import, or a check (`kind`, or the form's `dry_run`)."""
        access = current_access()
        model = importable_model(access, request.form.get("model") or "")
        form = upload_form()
        kind = kind or ("import_check" if form["dry_run"] else "import")
        digest = keep_upload(form.pop("data"))
        args = dict(form, model=model.key, upload=digest, dry_run=kind == "import_check")
        job_id = submit(kind, args, access)
        session().commit()
        return self.response(202, job_id=job_id)

    @expose("/<int:job_id>/errors.xlsx", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def errors(self, job_id: int) -> Any:
        """The annotated workbook of an import job's errors (bad cells red, the reason in a comment).
        ---
        get:
          summary: Errors workbook of an import
          parameters:
          - {in: path, name: job_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: xlsx
        """
        access = current_access()
        row = queue.job_for(access, job_id)
        if row.kind not in ("import", "import_check"):
            raise NotFound(t("not_found"))
        path, _name = queue.result_path(access, job_id, "error_report")
        return send_file(path, mimetype=XLSX_MIME, as_attachment=True, download_name=f"errors-{job_id}.xlsx", max_age=0)

    @expose("/<int:import_id>/undo", methods=["POST"])
    @signed_in
    @safe
    @service_errors
    def undo(self, import_id: int) -> Any:
        """Undo an applied import in one step, as a job; it is refused with the rows changed since.
        ---
        post:
          summary: Undo an import
          parameters:
          - {in: path, name: import_id, required: true, schema: {type: integer}}
          responses:
            202:
              description: '{job_id}'
        """
        access = current_access()
        run = get_import(session(), access, import_id)
        importable_model(access, run.model)
        job_id = submit("import_undo", {"import_id": import_id}, access)
        session().commit()
        return self.response(202, job_id=job_id)

    @expose("/", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def imports(self) -> Any:
        """The user's imports (an admin: everyone's), newest first; `?model=` for one model.
        ---
        get:
          summary: Imports
          responses:
            200:
              description: '{result: [import]}'
        """
        rows = list_imports(session(), current_access(), request.args.get("model") or None)
        return self.response(200, result=rows)

    @expose("/preview", methods=["POST"])
    @signed_in
    @safe
    @service_errors
    def preview(self) -> Any:
        """Read and check a file without importing it (the import page): multipart `model`, `file`, `action`,
        `mapping`; a given mapping is remembered for the file's layout.
        ---
        post:
          summary: Preview an import
          responses:
            200:
              description: '{headers, columns, fields, rows, issues, problems, notes, unknown_columns, signature}'
        """
        access = current_access()
        model = importable_model(access, request.form.get("model") or "")
        form = upload_form()
        mapping = form["mapping"]
        remembered = {normalise_header(h): str(f or "") for h, f in mapping.items()} if mapping else None
        result = preview(
            session(),
            access,
            model.key,
            form["data"],
            form["filename"],
            action=form["action"],
            remembered=remembered,
            layouts=lambda signature: load_layout(session(), model.key, signature),
        )
        if mapping and result.get("signature"):
            save_layout(session(), access, model.key, result["signature"], mapping)
        session().commit()
        return self.response(200, **result)
