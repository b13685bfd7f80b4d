"""Stocktake uploads at /api/v1/stocktake/<id>/counts/upload: a file of counts into a draft stocktake.

The model's own API (app/api/model_api.py) keeps every other route of /api/v1/stocktake/; this one takes
a multipart file and hands it to importers/stocktake.py, which previews it (`dry_run`) or applies it through
the phone's count batches.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.responses import XLSX_MIME, download, service_errors
from app.errors import CellError, ValidationFailed
from app.extensions import db
from app.i18n import t
from app.web.context import current_access, session
from importers.count_sheet import count_sheet
from importers.reader import MAX_FILE_BYTES
from importers.stocktake import UploadRefused, preview_counts, upload_counts, upload_message, variance


class StocktakeCountsApi(BaseApi):
    """/api/v1/stocktake/<id>/counts/upload, /counts/sheet and /variance."""

    resource_name = "stocktake"
    version = "v1"
    allow_browser_login = True
    csrf_exempt = True  # cookie sessions are checked for CSRF in app.web.security; JWT needs none
    class_permission_name = "Meta"  # every signed-in user; writing the stocktake is checked by the service
    method_permission_name = {"upload_counts": "read", "variance": "read", "count_sheet": "read"}
    openapi_spec_tag = "stocktake"

    @expose("/<int:stocktake_id>/counts/upload", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def upload_counts(self, stocktake_id: int) -> Any:
        """Add the counts of an xlsx / csv file to a draft stocktake; the same file twice counts once. With
        `dry_run` nothing is written: the answer is the preview (every bad cell, the rows that add up per item
        and batch with their locations, each line's variance against the book snapshot once applied).
        ---
        post:
          summary: Upload counts (SKU or barcode, quantity, batch, location, reason), or preview them
          parameters:
          - {in: path, name: stocktake_id, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    file: {type: string, format: binary}
                    dry_run: {type: string, enum: ['0', '1', 'true', 'false']}
          responses:
            200:
              description: >-
                applied: '{stocktake, number, key, rows, counted: [{item, batch, added, counted}], locations}';
                dry_run: '{dry_run, rows, replayed, applicable, message, errors: [{row, column, field, message}],
                lines: [{item, batch, rows, added, file_locations, locations, counted_before, counted, book,
                moved_since, stock_now, diff, stock_after, value}], total_value}'
            422:
              description: '{message, errors: [{row, column, field, message}]}: nothing was applied'
            409:
              description: the stocktake is no longer a draft
        """
        upload = request.files.get("file")
        data = upload.read(MAX_FILE_BYTES + 1) if upload is not None else b""
        if not data:
            raise ValidationFailed([CellError("file", t("imports.no_file"))])
        dry_run = (request.form.get("dry_run") or "").lower() in ("1", "true", "yes", "on")
        try:
            if dry_run:
                preview = preview_counts(session(), current_access(), stocktake_id, data, upload.filename or "")
                db.session.rollback()
                return self.response(200, **preview)
            result = upload_counts(session(), current_access(), stocktake_id, data, upload.filename or "")
        except UploadRefused as exc:
            db.session.rollback()
            response = jsonify(exc.as_dict())
            response.status_code = exc.status
            return response
        return self.response(200, **result, message=upload_message(result))

    @expose("/<int:stocktake_id>/counts/sheet", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def count_sheet(self, stocktake_id: int) -> Any:
        """The draft stocktake's count sheet: its stocks and lines with the columns the upload reads.
        ---
        get:
          summary: Count sheet (xlsx) of a draft stocktake, to fill and upload
          parameters:
          - {in: path, name: stocktake_id, required: true, schema: {type: integer}}
          - {in: query, name: blind, schema: {type: string, enum: ['0', '1', 'true', 'false']},
             description: leave out the book quantities (a blind count)}
          responses:
            200:
              description: >-
                xlsx: 商品编码, 商品名称, 规格型号, 单位, 批号, 账面数量 (not on a blind sheet), then 实盘数量, 库位
                and 差异原因 to fill; a row left without 实盘数量 is not counted when the sheet is uploaded
              content:
                application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {}
            409:
              description: the stocktake is no longer a draft
        """
        blind = (request.args.get("blind") or "").lower() in ("1", "true", "yes", "on")
        name, data = count_sheet(session(), current_access(), stocktake_id, blind=blind)
        return download(data, XLSX_MIME, f"count-sheet-{stocktake_id}.xlsx", name)

    @expose("/<int:stocktake_id>/variance", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def variance(self, stocktake_id: int) -> Any:
        """The variance sheet before (or after) posting: book, counted, difference and value per line.
        ---
        get:
          summary: Variance sheet of a stocktake
          parameters:
          - {in: path, name: stocktake_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: '{stocktake, number, scope, lines: [{item, batch, book, counted, diff, value}], total_value}'
        """
        return self.response(200, **variance(session(), current_access(), stocktake_id))
