"""Plain factory functions: valid payloads for any model, built from its metadata."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.meta.registry import Registry
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES


class ExistingRows:
    """The first existing row of a model, for the sample values of links."""

    def __init__(self, session: Any, registry: Registry) -> None:
        self.session, self.registry = session, registry

    def existing_key(self, model_key: str) -> Any:
        """The business key (or id) of the model's first row, None when it has none."""
        model = self.registry.model(model_key)
        cls = self.registry.cls(model_key)
        column = cls.id if model.business_key == "id" else getattr(cls, model.business_key)
        return self.session.execute(select(column).order_by(cls.id).limit(1)).scalar_one_or_none()


def value_for(session: Any, registry: Registry, model: ModelSpec, spec: FieldSpec, tag: str) -> Any:
    """A valid value for one field (links point at existing rows): the field type's sample."""
    return FIELD_TYPES[spec.type].sample(spec, tag, ExistingRows(session, registry))


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
    if "received_qty" in payload:  # a receipt line's 到货 holds what it takes in and rejects (`beyond_arrival`)
        payload["received_qty"] = str(
            Decimal(str(payload.get("qty", 0))) + Decimal(str(payload.get("rejected_qty", 0)))
        )
    if model_key == "item_price" and payload.get("price_list") in ("retail", "wholesale"):
        payload.pop("partner", None)  # a retail or wholesale price names no partner (app/rules/item_price.py)
    if model.business_key not in ("id", "number") and model.field(model.business_key):
        key_spec = model.field(model.business_key)
        payload[model.business_key] = f"T{tag}"[: key_spec.max_length or 255] if key_spec else tag
    payload.update(overrides)
    return payload


def bad_value_for(spec: FieldSpec) -> Any:
    """A value the field must refuse (its type's first), or None when every value of its type is acceptable."""
    return next(iter(FIELD_TYPES[spec.type].bad_values(spec)), None)


def writable_models(registry: Registry) -> list[str]:
    """Models that the REST API writes (not ledger, not lines)."""
    return [m.key for m in registry.meta.models.values() if m.kind not in ("ledger", "line")]


def is_exact_type(spec: FieldSpec) -> bool:
    """True for decimal-like fields."""
    return FIELD_TYPES[spec.type].json_type.get("format") == "decimal"
