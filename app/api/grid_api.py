"""The grid API at /api/v1/grid/: Tabulator's remote rows, one batch endpoint for every write, server-side
undo / redo, the change feed, link lookups, column layouts and the xlsx export of the current view.

Any signed-in user may call it; what they may read or write is decided per model by `Access`
(actions, field masks, row scope), exactly as in the generated REST API.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from typing import Any

from apispec import APISpec
from flask import Response, jsonify, request
from flask_appbuilder.api import BaseApi, expose, safe

from app.api.responses import XLSX_MIME, attachment_named, fast_json, service_errors
from app.api.schema import add_model_key_parameter
from app.clock import utcnow
from app.errors import NotFound
from app.extensions import registry
from app.i18n import label, t
from app.meta.spec import FieldSpec, ModelSpec
from app.services.grid.batch import BatchResult, GridBatches
from app.services.grid.export import export_columns, write_csv, write_xlsx
from app.services.grid.rows import View, changes_since, lookup, lookup_within, row_ids, rows_page, save_layout
from app.services.money.prices import suggested_line
from app.services.records.computed import draft_totals
from app.services.users.lookup import namable_users
from app.web.context import current_access, request_user, session
from app.web.inputs import json_object


def stream_file(path: str, chunk: int = 65536) -> Iterator[bytes]:
    """Yield a temporary file's bytes; the file is removed as soon as it is open."""
    with open(path, "rb") as handle:
        os.unlink(path)
        while data := handle.read(chunk):
            yield data


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """401 unless the request has a user (session cookie or JWT bearer token)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request_user() is None:
            response = jsonify({"message": t("forbidden")})
            response.status_code = 401
            return response
        return view(*args, **kwargs)

    return wrapper


def _model(model_key: str, action: str = "read") -> ModelSpec:
    try:
        model = registry().model(model_key)
    except KeyError as exc:
        raise NotFound(t("not_found")) from exc
    current_access().require(model.key, action)
    return model


def _lookup_within(target: ModelSpec, purpose: str | None) -> Any:
    """SQL of the ids a lookup for the field `purpose` ("stocktake.warehouse") may offer, or None for every row
    the reader sees (`lookup_within`: a warehouse the reader's row scope on that model does not admit)."""
    owner, _, name = (purpose or "").partition(".")
    try:
        model = registry().model(owner)
    except KeyError:
        return None
    spec = model.field(name)
    return None if spec is None else lookup_within(current_access(), target, [(model, spec)])


def _user_field(purpose: str | None) -> tuple[ModelSpec, FieldSpec]:
    """The user field `purpose` names ("sales_order.salesperson") on a model the reader may read; 404 for any
    other (no such model or field, a field hidden from them, or not a user field)."""
    owner, _, name = (purpose or "").partition(".")
    model = _model(owner)
    spec = model.field(name)
    if spec is None or spec.type != "user" or not current_access().can_see(model, spec):
        raise NotFound(t("not_found"))
    return model, spec


def _document(model_key: str) -> ModelSpec:
    """A model with lines (a document) the user may read; 404 for any other."""
    model = _model(model_key)
    if not model.lines_model:
        raise NotFound(t("not_a_document"))
    return model


class GridApi(BaseApi):
    """/api/v1/grid/<model>/...: what the spreadsheet grid reads and writes."""

    resource_name = "grid"
    version = "v1"
    allow_browser_login = True
    csrf_exempt = True  # cookie sessions are checked for CSRF in app.web.security; JWT needs none
    openapi_spec_tag = "grid"

    def add_apispec_components(self, api_spec: APISpec) -> None:
        """FAB's components, and the `model_key` parameter of the models in force."""
        super().add_apispec_components(api_spec)
        add_model_key_parameter(api_spec, registry())

    def _result(self, result: BatchResult, **extra: Any) -> Any:
        return self.response(
            200, batch_id=result.batch_id, rows=result.rows, deleted=result.deleted, replayed=result.replayed, **extra
        )

    @expose("/<model_key>/rows", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def rows(self, model_key: str) -> Any:
        """A page of rows in Tabulator's remote format.
        ---
        get:
          summary: Grid rows (page, size, sort[i][field|dir], filter[i][field|type|value], search, ids)
          parameters:
          - model_key
          - {in: query, name: page, schema: {type: integer, minimum: 1, default: 1}}
          - {in: query, name: size, schema: {type: integer, minimum: 1, maximum: 1000, default: 100}}
          responses:
            200:
              description: '{last_page, last_row, data: [row with id and version], sums}'
            422:
              description: '`page` or `size` out of bounds: {message, errors: [{field, message}]}'
        """
        # a plain dict of the arguments' first values (what MultiDict.get answers): Werkzeug's get of an argument
        # not given (ids, after, search) raises and catches a KeyError each time
        return fast_json(rows_page(session(), current_access(), _model(model_key), request.args.to_dict()))

    @expose("/<model_key>/ids", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def ids(self, model_key: str) -> Any:
        """Ids and versions of the view's rows at positions start.. (pastes past the loaded page).
        ---
        get:
          summary: Row ids of the current view from an absolute position
          parameters:
          - model_key
          - {in: query, name: start, schema: {type: integer, minimum: 0}}
          - {in: query, name: count, schema: {type: integer, minimum: 1, maximum: 5000, default: 100}}
          responses:
            200:
              description: '{rows: [{id, version}], total}'
            422:
              description: '`start` or `count` out of bounds: {message, errors: [{field, message}]}'
        """
        return jsonify(row_ids(session(), current_access(), _model(model_key), request.args))

    @expose("/<model_key>/batch", methods=["POST"])
    @signed_in
    @safe
    @service_errors
    def batch(self, model_key: str) -> Any:
        """Save creates, updates and deletes in one transaction, all or nothing.
        ---
        post:
          summary: Save a batch of grid changes
          parameters:
          - model_key
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    client_batch_id: {type: string}
                    source: {type: string, enum: [edit, paste, fill, delete, undo, form]}
                    ops: {type: array, items: {type: object}}
          responses:
            200:
              description: '{batch_id, rows, deleted, replayed}'
            409:
              description: '{message, conflicts: [{id, current}]}'
            422:
              description: '{message, errors: [{id | tmp_id, field, message}]}'
        """
        model = _model(model_key)
        return self._result(GridBatches(session(), current_access()).apply(model.key, request.get_json(silent=True)))

    @expose("/batches/<int:batch_id>/undo", methods=["POST"])
    @signed_in
    @safe
    @service_errors
    def undo(self, batch_id: int) -> Any:
        """Undo one of your batches (undoing an undo is redo).
        ---
        post:
          summary: Undo a grid batch
          parameters:
          - {in: path, name: batch_id, required: true, schema: {type: integer}}
          responses:
            200:
              description: '{batch_id (the inverse batch), undoes, rows, deleted}'
            409:
              description: '{message, conflicts: [{id, field, key, label}]} cells changed since'
        """
        body = json_object()
        result, _ = GridBatches(session(), current_access()).undo(batch_id, body.get("client_batch_id"))
        return self._result(result, undoes=batch_id)

    @expose("/<model_key>/batches", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def history(self, model_key: str) -> Any:
        """Your undo and redo stacks for a model, newest first.
        ---
        get:
          summary: Undo / redo stacks
          parameters:
          - model_key
          responses:
            200:
              description: '{undo: [batch ids], redo: [batch ids]}'
        """
        return jsonify(GridBatches(session(), current_access()).history(_model(model_key).key))

    @expose("/<model_key>/changes", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def changes(self, model_key: str) -> Any:
        """Rows of the model written since a cursor (live updates by polling).
        ---
        get:
          summary: Change feed
          parameters:
          - model_key
          - {in: query, name: since, schema: {type: integer}}
          responses:
            200:
              description: '{cursor, changed: [ids], deleted: [ids]}'
        """
        model = _model(model_key)
        return jsonify(changes_since(session(), current_access(), model, request.args.get("since")))

    @expose("/<model_key>/layout", methods=["PUT"])
    @signed_in
    @safe
    @service_errors
    def layout(self, model_key: str) -> Any:
        """Remember your column order, widths and visibility.
        ---
        put:
          summary: Save the column layout
          parameters:
          - model_key
          responses:
            200:
              description: '{columns}'
        """
        model = _model(model_key)
        return jsonify(columns=save_layout(session(), current_access(), model, request.get_json(silent=True)))

    @expose("/lookup/<model_key>", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def lookup(self, model_key: str) -> Any:
        """Rows matching typed text by code, name, pinyin initials or barcode (link editors).
        ---
        get:
          summary: Link lookup
          parameters:
          - model_key
          - {in: query, name: q, schema: {type: string}}
          - {in: query, name: for, schema: {type: string}, description: 'the field being filled, model.field'}
          responses:
            200:
              description: '{results: [{id, key, name}]}'
        """
        model = _model(model_key)
        within = _lookup_within(model, request.args.get("for"))
        return jsonify(results=lookup(session(), current_access(), model, request.args.get("q", "")[:100], within))

    @expose("/user_lookup", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def user_lookup(self) -> Any:
        """Users a user field may name (销售员, 采购员), by user name or name: only the writer themselves where
        they may name nobody else; 403 for who may not write the field.
        ---
        get:
          summary: User lookup for a user field
          parameters:
          - {in: query, name: for, required: true, schema: {type: string}, description: 'the field, model.field'}
          - {in: query, name: q, schema: {type: string}}
          responses:
            200:
              description: '{results: [{id, key, name}]}: key the user name, name as pages show the user'
        """
        model, spec = _user_field(request.args.get("for"))
        return jsonify(results=namable_users(session(), current_access(), model, spec, request.args.get("q", "")[:100]))

    @expose("/<model_key>/line_defaults", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def line_defaults(self, model_key: str) -> Any:
        """Unit and price a new document line gets for an item (typed or scanned) and the partner.
        ---
        get:
          summary: Defaults for a new document line
          parameters:
          - model_key
          - {in: query, name: item, schema: {type: string}}
          - {in: query, name: partner, schema: {type: string}}
          - {in: query, name: unit, schema: {type: string}}
          - {in: query, name: prices_include_tax, schema: {type: boolean}}
          responses:
            200:
              description: '{item, unit, tax_rate, price} as the line JSON shows them'
        """
        model = _model(model_key)
        args = request.args
        return jsonify(
            suggested_line(
                session(),
                current_access(),
                model,
                args.get("item"),
                args.get("partner"),
                args.get("unit"),
                args.get("prices_include_tax") in ("1", "true", "on"),
            )
        )

    @expose("/<model_key>/draft_totals", methods=["POST"])
    @signed_in
    @safe
    @service_errors
    def draft_totals(self, model_key: str) -> Any:
        """A document being typed, computed as a save would: its lines' and its own computed fields.
        ---
        post:
          summary: Line figures and totals of an unsaved document (the document form, as you type)
          parameters:
          - model_key
          responses:
            200:
              description: 'for {header fields, lines: [...]}: {lines: [computed fields], totals, summary}'
        """
        return jsonify(draft_totals(session(), current_access(), _document(model_key), request.get_json(silent=True)))

    @expose("/<model_key>/export", methods=["GET"])
    @signed_in
    @safe
    @service_errors
    def export(self, model_key: str) -> Any:
        """The current view (filters, sort, columns) as an xlsx file, or csv with `format=csv`
        (`encoding=utf-8`, with a BOM, or `gbk`).
        ---
        get:
          summary: Export the view to xlsx or csv
          parameters:
          - model_key
          - {in: query, name: columns, schema: {type: string}}
          - {in: query, name: format, schema: {type: string, enum: [xlsx, csv]}}
          - {in: query, name: encoding, schema: {type: string, enum: [utf-8, gbk]}}
          responses:
            200:
              description: xlsx or csv
        """
        access = current_access()
        model = _model(model_key, "export")
        columns = export_columns(access, model, request.args.get("columns", ""))
        view = View.from_args(request.args)
        fmt = "csv" if request.args.get("format") == "csv" else "xlsx"
        if fmt == "csv":
            encoding = request.args.get("encoding") or "utf-8"
            path = write_csv(session(), access, model, view, columns, encoding)
            mimetype = f"text/csv; charset={'gb18030' if encoding == 'gbk' else 'utf-8'}"
        else:
            path = write_xlsx(session(), access, model, view, columns)
            mimetype = XLSX_MIME
        name = f"{label(model.label, model.key)}-{utcnow():%Y%m%d-%H%M}.{fmt}"
        response = Response(stream_file(path), mimetype=mimetype)
        response.headers["Content-Length"] = str(os.path.getsize(path))
        response.headers["Content-Disposition"] = attachment_named(f"{model.key}.{fmt}", name)
        return response
