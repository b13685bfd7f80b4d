"""OpenAPI schemas of a model, generated from the registry in force."""

from __future__ import annotations

from typing import Any

from app.meta.registry import Registry
from app.meta.spec import ModelSpec
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
        schema = FIELD_TYPES[spec.type].schema(spec)
        if spec.is_link:
            schema = {
                "oneOf": [{"type": "integer"}, {"type": "string"}],
                "nullable": True,
                "description": schema.get("description", ""),
            }
        elif schema.get("format") == "decimal":
            schema = {
                "oneOf": [{"type": "string"}, {"type": "number"}],
                "nullable": True,
                "description": schema.get("description", ""),
            }
        props[spec.name] = schema
        if creating and spec.required:
            required.append(spec.name)
    if not creating:
        props["version"] = {"type": "integer", "description": "version read by the client; 409 if it changed"}
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def model_schemas(registry: Registry, model: ModelSpec) -> dict[str, dict[str, Any]]:
    """Component schemas: get (read shape), post (create) and put (update)."""
    return {
        "get": _read_schema(registry, model),
        "post": _write_schema(registry, model, True),
        "put": _write_schema(registry, model, False),
    }
