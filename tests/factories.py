"""Plain factory functions: valid payloads for any model, built from its metadata."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select

from app.meta.registry import Registry
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES

# Values that satisfy the patterns metadata uses (phone, email, month ...).
PATTERN_SAMPLES = ("2026-11", "021-88886666", "13800138000", "demo@example.com")


def _existing_key(session: Any, registry: Registry, model_key: str) -> Any:
    model = registry.model(model_key)
    cls = registry.cls(model_key)
    column = cls.id if model.business_key == "id" else getattr(cls, model.business_key)
    return session.execute(select(column).order_by(cls.id).limit(1)).scalar_one_or_none()


def value_for(session: Any, registry: Registry, model: ModelSpec, spec: FieldSpec, tag: str) -> Any:
    """A valid value for one field (links point at existing rows)."""
    if spec.type in ("text", "long_text"):
        if spec.pattern:
            return next((sample for sample in PATTERN_SAMPLES if re.fullmatch(spec.pattern, sample)), None)
        return f"{tag}-{spec.name}"[: spec.max_length or 255]
    if spec.type == "barcode":
        return None
    if spec.type == "integer":
        return max(int(spec.min or 0), 1) if spec.max is None or int(spec.max) >= 1 else int(spec.max)
    if spec.type in ("decimal", "money", "quantity"):
        low = float(spec.min) if spec.min is not None else 0
        high = float(spec.max) if spec.max is not None else 1000
        return str(min(max(low, 0.5), high))
    if spec.type == "date":
        return "2026-11-25"
    if spec.type == "datetime":
        return "2026-11-25T08:30:00"
    if spec.type == "boolean":
        return True
    if spec.type == "select":
        return spec.options[0].value
    if spec.type == "link":
        return _existing_key(session, registry, spec.to or "")
    if spec.type == "user":
        return "admin"
    return None


def make_payload(
    session: Any, registry: Registry, model_key: str, *, required_only: bool = False, **overrides: Any
) -> dict[str, Any]:
    """A payload that creates a valid row of `model_key` (documents get one line)."""
    model = registry.model(model_key)
    tag = uuid.uuid4().hex[:8].upper()
    payload: dict[str, Any] = {}
    for spec in model.fields:
        if spec.system or spec.readonly or spec.hidden or spec.name in ("number", "status"):
            continue
        if spec.type == "lines":
            line_model = registry.model(model.lines_model or "")
            payload["lines"] = [make_payload(session, registry, line_model.key, required_only=required_only)]
            continue
        if required_only and not spec.required:
            continue
        if model.kind == "line" and spec.name == "unit":
            continue  # blank: the item's base unit (any other unit needs the item's ratio for it)
        value = value_for(session, registry, model, spec, tag)
        if value is not None:
            payload[spec.name] = value
    if model.business_key not in ("id", "number") and model.field(model.business_key):
        key_spec = model.field(model.business_key)
        payload[model.business_key] = f"T{tag}"[: key_spec.max_length or 255] if key_spec else tag
    payload.update(overrides)
    return payload


def bad_value_for(spec: FieldSpec) -> Any:
    """A value the field must refuse, or None when every value of its type is acceptable."""
    return {
        "integer": "1.5",
        "decimal": "abc",
        "money": "1.23456789",
        "quantity": "x",
        "date": "2026-02-30",
        "datetime": "yesterday",
        "boolean": "maybe",
        "select": "no-such-option",
        "link": "NO-SUCH-KEY",
        "user": "no-such-user",
        "barcode": "6901234567890",
    }.get(spec.type, None if spec.max_length is None else "x" * (spec.max_length + 1))


def writable_models(registry: Registry) -> list[str]:
    """Models that the REST API writes (not ledger, not lines)."""
    return [m.key for m in registry.meta.models.values() if m.kind not in ("ledger", "line")]


def is_exact_type(spec: FieldSpec) -> bool:
    """True for decimal-like fields."""
    return FIELD_TYPES[spec.type].json_type.get("format") == "decimal"
