"""OpenAPI schemas of a model, generated from the registry in force."""

from __future__ import annotations

import contextlib
from typing import Any

from apispec import APISpec
from apispec.exceptions import DuplicateComponentNameError

from app.meta.registry import Registry
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES

LINK_OUT = {
    "type": "object",
    "nullable": True,
    "properties": {"id": {"type": "integer"}, "key": {"type": "string"}, "name": {"type": "string"}},
}


def _read_schema(registry: Registry, model: ModelSpec) -> dict[str, Any]:
    props: dict[str, Any] = {"id": {"type": "integer", "readOnly": True}}
    for spec in model.fields:
        if spec.hidden:
            continue
        if spec.type == "lines":
            props["lines"] = {"type": "array", "items": _read_schema(registry, registry.model(model.lines_model or ""))}
        elif spec.is_link:
            props[spec.name] = dict(LINK_OUT, description=FIELD_TYPES[spec.type].schema(spec).get("description", ""))
        else:
            props[spec.name] = FIELD_TYPES[spec.type].schema(spec)
    return {"type": "object", "properties": props}


def _write_schema(registry: Registry, model: ModelSpec, creating: bool) -> dict[str, Any]:
    """What a create (or an update) accepts: each field's `FieldType.input_schema`, the one place that
    describes a field's checks; a create must carry the required fields nothing else fills."""
    props: dict[str, Any] = {}
    required = []
    for spec in model.fields:
        if spec.hidden or spec.system or (spec.readonly and spec.name != "number"):
            continue
        if spec.type == "lines":
            props["lines"] = {
                "type": "array",
                "items": _write_schema(registry, registry.model(model.lines_model or ""), creating),
            }
            continue
        props[spec.name] = FIELD_TYPES[spec.type].input_schema(spec)
        if creating and spec.required and not _filled_for_the_client(spec):
            required.append(spec.name)
    if not creating:
        props["version"] = {"type": "integer", "description": "version read by the client; 409 if it changed"}
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def _filled_for_the_client(spec: FieldSpec) -> bool:
    """A required field a create may leave out: a default, a setting's default, a computation or numbering."""
    return (
        spec.default is not None
        or spec.default_setting is not None
        or spec.compute is not None
        or (spec.name == "number")
    )


def model_schemas(registry: Registry, model: ModelSpec) -> dict[str, dict[str, Any]]:
    """Component schemas: get (read shape), post (create) and put (update)."""
    return {
        "get": _read_schema(registry, model),
        "post": _write_schema(registry, model, True),
        "put": _write_schema(registry, model, False),
    }


def add_model_key_parameter(api_spec: APISpec, registry: Registry) -> None:
    """The `model_key` path parameter of the grid, import and metadata APIs: one of the models in force
    (any other key is a 404)."""
    with contextlib.suppress(DuplicateComponentNameError):  # another API of the document added it
        api_spec.components.parameter(
            "model_key",
            "path",
            {"required": True, "schema": {"type": "string", "enum": sorted(registry.meta.models)}},
        )
