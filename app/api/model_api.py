"""The generated REST API: one FAB BaseApi subclass per model, reading the live registry.

The class is built once per model at start-up; every request reads the registry in force, so a
field added at run time is in the API and in OpenAPI at once, with no view re-creation.
"""

from __future__ import annotations

import functools
from typing import Any

from apispec import APISpec
from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.api.schemas import get_item_schema, get_list_schema
from flask_appbuilder.security.decorators import protect

from app.api.responses import kept_answer, service_errors
from app.api.rison_args import rison
from app.api.schema import model_schemas
from app.documents.flow import REQUEST, flow_of, has_flow, money_targets_of, open_lines_json, source_of, targets_of
from app.documents.flow import open_lines as flow_open_lines
from app.documents.flow import pick as flow_pick
from app.documents.flow import push as flow_push
from app.errors import CellError, ValidationFailed
from app.extensions import registry
from app.i18n import label, t
from app.meta.spec import ModelSpec
from app.meta.types import FIELD_TYPES
from app.services.access.rights import Access, permission_resource
from app.services.money.invoices import record_invoice, takes_invoices, withdraw_invoice
from app.services.money.open_items import request_from_receipts
from app.services.posting.autopost import post_on_save
from app.services.posting.service import PostingService, may_wait_for_approval
from app.services.records.audit_read import record_history
from app.services.records.query import BadQuery, Filter, get_row, list_rows
from app.services.records.serialize import rows_to_json
from app.services.records.write import RecordService
from app.web.context import answer_session, current_access, session
from app.web.inputs import json_object


class ModelApi(BaseApi):
    """CRUD for one metadata model at /api/v1/<model>/, in FAB's response shapes."""

    model_key = ""
    version = "v1"
    allow_browser_login = True
    csrf_exempt = True  # cookie sessions are checked for CSRF in app.web.security; JWT needs none
    method_permission_name = {
        "get_list": "read",
        "get": "read",
        "info": "read",
        "history": "read",
        "post": "write",
        "put": "write",
        "delete": "delete",
        "submit": "submit",
        "cancel": "approve",
        "approve": "approve",
        "reject": "approve",
        "close": "close",
        "flow": "read",
        "push": "read",
        "open_lines": "write",
        "pick": "write",
        "invoice": "invoice",
        "invoice_withdraw": "invoice",
    }

    @property
    def model(self) -> ModelSpec:
        """The model's spec in the registry in force."""
        return registry().model(self.model_key)

    def add_apispec_components(self, api_spec: APISpec) -> None:
        """Schemas from the live registry (so runtime fields appear at once)."""
        super().add_apispec_components(api_spec)
        for suffix, schema in model_schemas(registry(), self.model).items():
            api_spec.components.schema(f"{self.__class__.__name__}.{suffix}", schema)

    def _labels(self, model: ModelSpec, names: list[str]) -> dict[str, str]:
        return {spec.name: label(spec.label, spec.name) for spec in model.fields if spec.name in names}

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @rison(get_list_schema)
    @service_errors
    def get_list(self, **kwargs: Any) -> Any:
        """List rows the caller may see.
        ---
        get:
          summary: List rows (rison q with filters, order, paging)
          parameters:
          - in: query
            name: q
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/get_list_schema'
          responses:
            200:
              description: Rows
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      ids: {type: array, items: {type: integer}}
                      result:
                        type: array
                        items:
                          $ref: '#/components/schemas/{{self.__class__.__name__}}.get'
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            403:
              $ref: '#/components/responses/401'
            422:
              description: '`page_size` (1 to 1000) or `page` out of bounds: {message, errors: [{field, message}]}'
        """
        args = kwargs.get("rison", {})
        access = current_access()
        model = self.model
        filters = [Filter(f["col"], f["opr"], f.get("value")) for f in args.get("filters", [])]
        order = (args.get("order_column") or "id", args.get("order_direction") or "desc")
        page_size = int(args.get("page_size", 20))
        columns = args.get("columns") or args.get("select_columns")
        try:
            page = list_rows(
                session(),
                access,
                model,
                filters,
                order,
                int(args.get("page", 0)),
                page_size,
                search=str(args.get("search") or request.args.get("search", "")),
            )
        except ValueError as exc:
            raise BadQuery(str(exc)) from exc
        result = rows_to_json(session(), access, model, page.rows, columns=columns)
        visible = [f.name for f in access.visible_fields(model) if f.type != "lines"]
        return self.response(
            200,
            count=page.count,
            ids=[row.id for row in page.rows],
            result=result,
            list_columns=visible,
            order_columns=[f.name for f in access.visible_fields(model) if FIELD_TYPES[f.type].sortable],
            label_columns=self._labels(model, visible),
            list_title=label(model.label, model.key),
        )

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    @rison(get_item_schema)
    @service_errors
    def get(self, pk: int, **kwargs: Any) -> Any:
        """One row, with its lines for documents.
        ---
        get:
          summary: Get one row
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: The row
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/{{self.__class__.__name__}}.get'
            404:
              $ref: '#/components/responses/404'
        """
        access = current_access()
        model = self.model
        row = get_row(session(), access, model, pk)
        result = rows_to_json(session(), access, model, [row], with_lines=True)[0]
        visible = [f.name for f in access.visible_fields(model)]
        return self.response(
            200,
            id=pk,
            result=result,
            show_columns=visible,
            label_columns=self._labels(model, visible),
            description_columns={f.name: label(f.help) for f in model.fields if f.name in visible},
            show_title=label(model.label, model.key),
        )

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def post(self) -> Any:
        """Create a row (documents may carry `lines`).
        ---
        post:
          summary: Create a row
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/{{self.__class__.__name__}}.post'
          responses:
            201:
              description: Created
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result:
                        $ref: '#/components/schemas/{{self.__class__.__name__}}.get'
            400:
              $ref: '#/components/responses/400'
            422:
              $ref: '#/components/responses/422'
        """
        payload = json_object(required=True)
        access = current_access()
        service = RecordService(session(), access)
        row = service.create(self.model_key, payload)
        service.commit()
        return self._saved(201, row)

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @safe
    @service_errors
    def put(self, pk: int) -> Any:
        """Update some fields of a row; send `version` to refuse lost updates (409).
        ---
        put:
          summary: Update a row
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/{{self.__class__.__name__}}.put'
          responses:
            200:
              description: Updated
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result:
                        $ref: '#/components/schemas/{{self.__class__.__name__}}.get'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        payload = json_object(required=True)
        access = current_access()
        service = RecordService(session(), access)
        row = service.update(self.model_key, pk, payload)
        service.commit()
        return self._saved(200, row)

    @expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @safe
    @service_errors
    def delete(self, pk: int) -> Any:
        """Delete a row (documents only while draft).
        ---
        delete:
          summary: Delete a row
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: Deleted
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        access = current_access()
        service = RecordService(session(), access)
        version = request.args.get("version")
        service.delete(self.model_key, pk, int(version) if version and version.isdigit() else None)
        service.commit()
        return self.response(200, message="OK")

    @expose("/_info", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def info(self, **kwargs: Any) -> Any:
        """Fields the caller may write, filters they may use and their permissions.
        ---
        get:
          summary: Field and permission info
          responses:
            200:
              description: Info
        """
        build = functools.partial(_info_answer, self.model_key)
        return kept_answer(current_access(), "model_info", self.model_key, build)

    @expose("/<int:pk>/history", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def history(self, pk: int) -> Any:
        """Audit trail of one row (masked like the row itself).
        ---
        get:
          summary: Audit trail of a row
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: Audit entries, newest first
        """
        access = current_access()
        return self.response(200, result=record_history(session(), access, self.model, pk))

    @expose("/<int:pk>/submit", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def submit(self, pk: int) -> Any:
        """Submit (审核) a draft document: it posts to the stock ledger.
        ---
        post:
          summary: Submit a document (posts its stock moves)
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: "Submitted, or pending approval: `message` says what happened (posted and stock moved,
                sent for approval, money recorded), `warnings` what to look at (budget, an account below zero)"
            404:
              $ref: '#/components/responses/404'
            409:
              description: The document is no longer draft (or changed since `version`)
            422:
              $ref: '#/components/responses/422'
        """
        return self._transition(pk, PostingService.submit)

    @expose("/<int:pk>/cancel", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def cancel(self, pk: int) -> Any:
        """Cancel (反审核) a submitted document: reversing entries are posted; nothing is edited.
        ---
        post:
          summary: Cancel a submitted document
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: Cancelled
            409:
              description: The document is not submitted
            422:
              $ref: '#/components/responses/422'
        """
        return self._transition(pk, PostingService.cancel)

    @expose("/<int:pk>/approve", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def approve(self, pk: int) -> Any:
        """Approve the next level of a pending document (the last level posts it).
        ---
        post:
          summary: Approve a pending document
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: "Approved (still pending if more levels are needed): `message` says which level of how
                many, or that the last one posted the document"
            403:
              description: The user lacks the role this level needs
            409:
              description: The document is not pending
        """
        return self._transition(pk, PostingService.approve)

    @expose("/<int:pk>/reject", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def reject(self, pk: int) -> Any:
        """Send a pending document back to draft.
        ---
        post:
          summary: Reject a pending document
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: Back to draft
            409:
              description: The document is not pending
        """
        return self._transition(pk, PostingService.reject)

    @expose("/<int:pk>/close", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def close(self, pk: int) -> Any:
        """关闭: the rest of some lines (`{"lines": [line ids]}`) or of the whole submitted order is no longer
        expected; a sales order's reservation for it is released.
        ---
        post:
          summary: Close the rest of an order
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: Closed; `result.close_status` is partly or closed
            409:
              description: The order is not submitted
            422:
              $ref: '#/components/responses/422'
        """
        access = current_access()
        body = request.get_json(silent=True)
        ids = body.get("lines") if isinstance(body, dict) else None
        if ids is not None and not (isinstance(ids, list) and all(type(i) is int for i in ids)):
            raise ValidationFailed([CellError("lines", t("bad_id_list"))])
        service = PostingService(session(), access)
        doc = service.close(self.model_key, pk, ids)
        result = rows_to_json(answer_session(), access, self.model, [doc], with_lines=True)[0]
        return self.response(200, id=pk, result=result, message=service.message, warnings=service.warnings)

    @expose("/<int:pk>/flow", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def flow(self, pk: int) -> Any:
        """Where a document's lines come from and which documents come from it (as far as the user may read).
        ---
        get:
          summary: Source and follow-on documents
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          responses:
            200:
              description: "`sources` (with the line links) and `follow_ons`, each {model, id, number, status};
                `targets`: the documents this one may be pushed down to"
        """
        access = current_access()
        doc = get_row(session(), access, self.model, pk)
        found = flow_of(session(), access, self.model_key, doc)
        targets = [
            {"model": key, "label": label(registry().model(key).label, key)}
            for key in targets_of(registry(), self.model_key) + money_targets_of(registry(), self.model_key)
            if access.can(key, "write")
        ]
        return self.response(200, result=found, targets=targets)

    @expose("/<int:pk>/push/<target>", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def push(self, pk: int, target: str) -> Any:
        """下推: create a draft `target` with this submitted document's open quantities, each line linked.
        ---
        post:
          summary: Push a document down to a draft follow-on
          parameters:
          - in: path
            schema: {type: integer}
            name: pk
          - in: path
            schema: {type: string}
            name: target
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  description: values for the draft's header (e.g. partner, warehouse)
          responses:
            200:
              description: "All that is open is in unsubmitted follow-ons already: the first of them, none made
                (`message` names them)"
            201:
              description: The draft (of what unsubmitted follow-ons do not hold already; `message` says so)
            422:
              $ref: '#/components/responses/422'
        """
        access = current_access()
        self._require_flow_target(target)
        body = request.get_json(silent=True)
        pushed = flow_push(session(), access, self.model_key, pk, target, body if isinstance(body, dict) else None)
        return self._created(target, pushed.row, pushed.message, 201 if pushed.created else 200)

    @expose("/open_lines", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def open_lines(self) -> Any:
        """选单: open lines of the submitted sources this document may come from (`source_ids` as a comma
        list, or `partner` id), each with what is still open in base units less what unsubmitted documents of
        this model hold (`draft`: the id of one left out, the draft being edited).
        ---
        get:
          summary: Open source lines to pick from
          responses:
            200:
              description: Lines with their source document
        """
        access = current_access()
        ids = _int_list(request.args.get("source_ids"))
        partner = _int_list(request.args.get("partner"))
        editing = _int_list(request.args.get("draft"))
        found = flow_open_lines(
            session(), access, self.model_key, ids, partner[0] if partner else None, editing[0] if editing else None
        )
        return self.response(200, result=open_lines_json(session(), access, found))

    @expose("/pick", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def pick(self) -> Any:
        """选单: create a draft of this model from open source lines of one or several sources.
        ---
        post:
          summary: Create a draft from picked source lines
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    source_line_ids: {type: array, items: {type: integer}}
          responses:
            201:
              description: The draft
            422:
              $ref: '#/components/responses/422'
        """
        access = current_access()
        body = json_object(required=True)
        if self.model_key == REQUEST:  # 付款申请 from whole receipts: their ids
            sources = body.pop("source_ids", None)
            row = request_from_receipts(session(), access, sources if isinstance(sources, list) else [], body)
            session().commit()
            return self._created(self.model_key, row)
        ids = body.pop("source_line_ids", None)
        row = flow_pick(session(), access, self.model_key, ids if isinstance(ids, list) else [], body)
        return self._created(self.model_key, row)

    @expose("/invoice", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def invoice(self) -> Any:
        """发票: record one invoice (number, date) on several submitted deliveries (开票) or receipts (收票).
        ---
        post:
          summary: Record an invoice on several documents
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    ids: {type: array, items: {type: integer}}
                    invoice_number: {type: string}
                    invoice_date: {type: string, format: date}
          responses:
            200:
              description: "`count` and `result`: the documents invoiced, each {id, number}"
            422:
              $ref: '#/components/responses/422'
        """
        access = current_access()
        body = json_object(required=True)
        ids = body.get("ids")
        docs = record_invoice(
            session(),
            access,
            self.model_key,
            ids if isinstance(ids, list) else [],
            body.get("invoice_number"),
            body.get("invoice_date"),
        )
        return self._invoiced(docs, "invoice_done")

    @expose("/invoice/withdraw", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def invoice_withdraw(self) -> Any:
        """撤销开票 / 撤销收票: these invoiced documents wait for their invoice again.
        ---
        post:
          summary: Withdraw the invoice recorded on several documents
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    ids: {type: array, items: {type: integer}}
          responses:
            200:
              description: "`count` and `result`: the documents, each {id, number}"
            422:
              $ref: '#/components/responses/422'
        """
        ids = json_object(required=True).get("ids")
        docs = withdraw_invoice(session(), current_access(), self.model_key, ids if isinstance(ids, list) else [])
        return self._invoiced(docs, "invoice_withdrawn")

    def _invoiced(self, docs: list[Any], message: str) -> Any:
        session().commit()
        return self.response(
            200,
            count=len(docs),
            result=[{"id": d.id, "number": d.number} for d in docs],
            message=t(message, count=len(docs)),
        )

    def _require_flow_target(self, target: str) -> None:
        if target not in targets_of(registry(), self.model_key) + money_targets_of(registry(), self.model_key):
            raise ValidationFailed([CellError("_record", t("push_not_a_target", target=target))])

    def _created(self, model_key: str, row: Any, message: str | None = None, status: int = 201) -> Any:
        access = current_access()
        model = registry().model(model_key)
        result = rows_to_json(session(), access, model, [row], with_lines=True)[0]
        message = message or t("draft_made", number=row.number)
        return self.response(status, id=row.id, model=model_key, result=result, message=message)

    def _saved(self, status: int, row: Any) -> Any:
        """The saved row; a document is also posted when the company posts on save (弱审核)."""
        access = current_access()
        auto = post_on_save(session(), access, self.model, row)
        result = rows_to_json(session(), access, self.model, [row], with_lines=True)[0]
        extra: dict[str, Any] = {}
        if self.model.kind == "document":
            extra = {
                "posted": auto.posted,
                "post_error": auto.refusal,
                "message": auto.message,
                "warnings": auto.warnings,
            }
        return self.response(status, id=row.id, result=result, **extra)

    def _transition(self, pk: int, action: Any) -> Any:
        access = current_access()
        body = json_object()
        version = body.get("version")
        service = PostingService(session(), access)
        comment = body.get("comment")
        service.comment = comment.strip()[:500] if isinstance(comment, str) else ""
        doc = action(service, self.model_key, pk, version)
        result = rows_to_json(answer_session(), access, self.model, [doc], with_lines=True)[0]
        return self.response(200, id=pk, result=result, message=service.message, warnings=service.warnings)


def _info_answer(model_key: str, access: Access) -> dict[str, Any]:
    """`_info`'s answer: the fields of the model `access` may see (which it may write, their filters) and the
    actions it may take."""
    model = access.registry.model(model_key)
    fields = []
    for spec in access.visible_fields(model):
        info: dict[str, Any] = {
            "name": spec.name,
            "label": label(spec.label, spec.name),
            "description": label(spec.help),
            "type": spec.type,
            "required": spec.required,
            "readonly": not access.can_write(model, spec),
        }
        if spec.options:
            info["options"] = [{"value": o.value, "label": label(o.label)} for o in spec.options]
        if spec.to:
            info["to"] = spec.to
        lookup = FIELD_TYPES[spec.type].lookup_url(spec)
        if lookup and not info["readonly"]:  # where to find what it may name (a salesperson: only themselves)
            info["lookup"] = f"{lookup}?for={model.key}.{spec.name}"
        fields.append(info)
    return {
        "fields": fields,
        "add_columns": [_fab_column(f) for f in fields if not f["readonly"]],
        "edit_columns": [_fab_column(f) for f in fields if not f["readonly"]],
        "filters": {s.name: list(FIELD_TYPES[s.type].filter_ops) for s in access.visible_fields(model)},
        "permissions": [f"can_{a}" for a in access.registry.meta.actions if access.can(model.key, a)],
    }


# FAB's _info names a column's type after its marshmallow field (FAB clients read it to pick an input)
FAB_TYPES = {
    "integer": "Integer",
    "decimal": "Decimal",
    "money": "Decimal",
    "quantity": "Decimal",
    "date": "Date",
    "datetime": "DateTime",
    "boolean": "Boolean",
    "link": "Related",
    "user": "Related",
    "lines": "List",
}


def _fab_column(info: dict[str, Any]) -> dict[str, Any]:
    """A writable column in FAB's `_info` shape: name, label, description, type, required (and JXC's type)."""
    return {
        "name": info["name"],
        "label": info["label"],
        "description": info["description"],
        "type": FAB_TYPES.get(info["type"], "String"),
        "required": info["required"],
        "jxc_type": info["type"],
        "validate": [],
    }


def _int_list(raw: str | None) -> list[int] | None:
    """`1,2,3` as ints (None when absent); a malformed list is a 400."""
    if raw is None or raw == "":
        return None
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise BadQuery(t("bad_id_list")) from exc


# every document action's route (ModelApi's method names); a model's API has those `document_routes` gives it
DOCUMENT_ROUTES = frozenset(
    {"submit", "cancel", "approve", "reject", "close", "flow", "push", "open_lines", "pick", "invoice"}
    | {"invoice_withdraw"}
)


def document_routes(reg: Any, model: ModelSpec) -> set[str]:
    """The document actions `model`'s API has, from what the model is: a document is submitted and cancelled;
    approved or rejected where it may wait for approval; closed where its lines keep a closed quantity; its flow
    where documents come before or after it; pushed down where it has targets, picked into where it has a
    source (a payment request picks whole receipts); invoiced where invoices are recorded on it. The others are
    not routes, so the OpenAPI document lists only these."""
    if model.kind != "document" or model.is_line:
        return set()
    key = model.key
    found = {"submit", "cancel"}
    if may_wait_for_approval(reg.meta, key):
        found |= {"approve", "reject"}
    if model.lines_model and reg.model(model.lines_model).field("closed_qty") is not None:
        found.add("close")
    if has_flow(reg, key):
        found.add("flow")
    if targets_of(reg, key) or money_targets_of(reg, key):
        found.add("push")
    if source_of(reg, key)[0]:
        found |= {"open_lines", "pick"}
    if key == REQUEST:
        found.add("pick")
    if takes_invoices(key):
        found |= {"invoice", "invoice_withdraw"}
    return found


def api_class_for(reg: Any, model: ModelSpec) -> type[ModelApi]:
    """A ModelApi subclass bound to one model key (FAB names blueprints after the class), with the routes of
    the document actions the model has (`document_routes`)."""
    attrs: dict[str, Any] = {
        "model_key": model.key,
        "resource_name": model.key,
        "class_permission_name": permission_resource(model),
        "openapi_spec_tag": model.key,
    }
    if model.is_line or model.kind == "ledger":
        # Lines are written through their document; the ledger only by posting.
        attrs["include_route_methods"] = {"get_list", "get", "info", "history"}
    else:
        attrs["exclude_route_methods"] = set(DOCUMENT_ROUTES - document_routes(reg, model))
    return type(f"{model.class_name}Api", (ModelApi,), attrs)
