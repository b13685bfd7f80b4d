"""Metadata admin API: list models and add fields live; the global audit trail."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.responses import kept_answer, service_errors
from app.api.schema import add_model_key_parameter
from app.errors import CellError, ValidationFailed, argument_refused
from app.extensions import registry, registry_holder
from app.i18n import label, t
from app.meta.types import MAX_INTEGER
from app.services.access.rights import Access
from app.services.records.audit_read import recent_audit
from app.services.records.query import page_size_asked
from app.services.records.runtime_fields import add_field
from app.services.records.settings import policies, set_policy
from app.services.users.access import WRITES_LEFT_OUT, not_in_force
from app.web.context import current_access, session


class MetaApi(BaseApi):
    """/api/v1/meta/models and /api/v1/meta/<model>/fields."""

    resource_name = "meta"
    version = "v1"
    allow_browser_login = True
    csrf_exempt = True
    class_permission_name = "Meta"
    method_permission_name = {"models": "read", "add_model_field": "write"}
    openapi_spec_tag = "meta"

    def add_apispec_components(self, api_spec: APISpec) -> None:
        """FAB's components, and the `model_key` parameter of the models in force."""
        super().add_apispec_components(api_spec)
        add_model_key_parameter(api_spec, registry())

    @expose("/models", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def models(self) -> Any:
        """Models the caller may read, with the fields they may see.
        ---
        get:
          summary: Models and their fields
          responses:
            200:
              description: Models
        """
        return kept_answer(current_access(), "meta_models", None, _models_answer)

    @expose("/<model_key>/fields", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def add_model_field(self, model_key: str) -> Any:
        """Add a field to a model, live (admin only).
        ---
        post:
          summary: Add a field at run time
          parameters:
          - model_key
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    name: {type: string}
                    type: {type: string}
                    label: {type: object}
                    required: {type: boolean}
                    default: {description: value a new row gets when the field is left out}
                    backfill:
                      description: 'what the rows already there take (a required field on a model with rows needs it
                        or a default, else 422 on backfill)'
                    section:
                      type: string
                      description: form group; left out, the section of the model's fields of the same type
          responses:
            201:
              description: Field added
            422:
              $ref: '#/components/responses/422'
        """
        spec = add_field(session(), registry_holder(), current_access(), model_key, request.get_json(silent=True))
        return self.response(201, result=dict(spec.to_dict(), name=spec.name), version=registry().version)


def _models_answer(access: Access) -> dict[str, Any]:
    """`/meta/models`'s answer: the models `access` may read, each with the fields it may see."""
    result = []
    for model in access.registry.meta.models.values():
        if not access.can(model.key, "read"):
            continue
        result.append(
            {
                "key": model.key,
                "label": label(model.label, model.key),
                "labels": model.label,
                "kind": model.kind,
                "business_key": model.business_key,
                "parent": model.parent,
                "fields": [
                    dict(spec.to_dict(), name=spec.name, origin=spec.origin, writable=access.can_write(model, spec))
                    for spec in access.visible_fields(model)
                ],
            }
        )
    return {"version": access.registry.version, "result": result}


MAX_AUDIT_PAGE = 500


class AuditApi(BaseApi):
    """/api/v1/audit/: the global, read-only audit trail."""

    resource_name = "audit"
    version = "v1"
    allow_browser_login = True
    class_permission_name = "Audit"
    method_permission_name = {"get_list": "read"}
    openapi_spec_tag = "audit"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def get_list(self) -> Any:
        """Newest audit rows first (`page`, `page_size`, `model`).
        ---
        get:
          summary: Audit trail
          parameters:
          - {in: query, name: page, schema: {type: integer, minimum: 0, default: 0}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 500, default: 50}}
          - {in: query, name: model, schema: {type: string}}
          responses:
            200:
              description: Audit rows
            422:
              description: '`page` or `page_size` out of bounds: {message, errors: [{field, message}]}'
        """
        page = request.args.get("page", default=0, type=int)
        size = page_size_asked("page_size", request.args.get("page_size"), 50, MAX_AUDIT_PAGE)
        if not 0 <= page <= MAX_INTEGER:
            raise argument_refused("page", t("out_of_range", bound=MAX_INTEGER))
        rows = recent_audit(session(), current_access(), page, size, request.args.get("model") or None)
        return self.response(200, result=rows)


class SettingsApi(BaseApi):
    """/api/v1/settings/: the policy switches; changing one is admin-only and audited."""

    resource_name = "settings"
    version = "v1"
    allow_browser_login = True
    csrf_exempt = True
    class_permission_name = "Meta"
    method_permission_name = {"get_list": "read", "put": "write"}
    openapi_spec_tag = "settings"

    def add_apispec_components(self, api_spec: APISpec) -> None:
        """FAB's components, and `LeftOut`: what of a stored setting or role is not in force, and why."""
        super().add_apispec_components(api_spec)
        text = {"type": "string"}
        left_out = {"$ref": "#/components/schemas/LeftOut"}
        api_spec.components.schema(
            "LeftOut",
            {
                "type": "object",
                "description": "a role kept from a setting or an action it holds: it could not fill the model's "
                "required field (hidden or read-only for it)",
                "properties": {"role": text, "model": text, "field": text, "message": text},
                "required": ["role", "model", "field", "message"],
            },
        )
        switch = {
            "type": "object",
            "properties": {
                "key": text,
                "value": {"description": "the value stored (or the default)"},
                "default": {},
                "label": text,
                "help": text,
                "left_out": {
                    "description": "the roles the value is not in force for (价格屏蔽 on a role that must fill a "
                    "required amount), each with the model and the required field it would keep the role from filling",
                    "type": "array",
                    "items": left_out,
                },
            },
        }
        api_spec.components.schema(
            "Settings",
            {
                "type": "object",
                "properties": {
                    "result": {"type": "array", "items": switch},
                    "writes_left_out": {
                        "description": "each role's write on a model (「收付款单：修改」) not in force: a required "
                        "field of the model is hidden or read-only for the role, so it could save no row of it",
                        "type": "array",
                        "items": left_out,
                    },
                },
            },
        )

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def get_list(self) -> Any:
        """Every switch with its stored value and what of it is not in force (`left_out`), and the roles' writes
        not in force (`writes_left_out`): stored before they were checked, they would lock a role out of what it
        writes (docs/security.md, One check).
        ---
        get:
          summary: Policy switches
          responses:
            200:
              description: Switches
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/Settings'}
        """
        rows = policies(session(), registry())
        left_out = not_in_force()
        return self.response(
            200,
            result=[{**p.__dict__, "left_out": left_out.get(p.key, [])} for p in rows],
            writes_left_out=left_out[WRITES_LEFT_OUT],
        )

    @expose("/<key>", methods=["PUT"])
    @protect()
    @safe
    @service_errors
    def put(self, key: str) -> Any:
        """Change one switch: body {"value": ...}.
        ---
        put:
          summary: Change a policy switch (admin)
          parameters:
          - in: path
            schema: {type: string}
            name: key
          responses:
            200:
              description: Changed
            422:
              $ref: '#/components/responses/422'
        """
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or "value" not in body:
            raise ValidationFailed([CellError("value", t("required"))])
        value = set_policy(session(), current_access(), key, body["value"])
        return self.response(200, key=key, value=value)
