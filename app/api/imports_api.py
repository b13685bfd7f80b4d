"""Imports API at /api/v1/imports/: the template of a model, uploads run as jobs, their error workbooks.

Any signed-in user may call it; what they may import is decided per model by `Access` (the `import`
and `write` actions, field masks, row scope), exactly as on every other path.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any
from urllib.parse import quote

from flask import request, send_file
from flask_appbuilder.api import BaseApi, expose, safe

from app.api.grid_api import XLSX_MIME, signed_in
from app.api.responses import service_errors
from app.i18n import current_locale, label
from app.web.context import current_access
from importers.pipeline import importable_model
from importers.template import template_workbook


def attachment(data: bytes, ascii_name: str, name: str, mimetype: str = XLSX_MIME) -> Any:
    """Send bytes as a download named `name` (UTF-8) with an ASCII fallback."""
    response = send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=ascii_name)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return response


class ImportsApi(BaseApi):
    """/api/v1/imports/: templates, uploads and their error reports."""

    resource_name = "imports"
    version = "v1"
    allow_browser_login = True
    csrf_exempt = True  # cookie sessions are checked for CSRF in app.web.security; JWT needs none
    openapi_spec_tag = "imports"

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
          - {in: path, name: model_key, required: true, schema: {type: string}}
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
        return attachment(data, f"{model.key}-template.xlsx", name)
