"""Computed fields (`compute:` in metadata): one function fills them for a save, a posting and a draft.

A document computes its lines first (a line's handler sees the header's values as `values["document"]`,
e.g. whether its prices include tax), then its own fields from its lines. The handlers themselves are
`app.ledger.compute`; this module only feeds them values and rounds what they return.
"""

from __future__ import annotations

from contextlib import suppress
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.ledger.compute import total_amount, total_qty, total_tax, total_with_tax
from app.meta.registry import Registry
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES, ValueProblem, format_decimal
from app.services.access.rights import Access

MAX_DRAFT_LINES = 1000


def compute_fields(
    registry: Registry,
    model: ModelSpec,
    values: dict[str, Any],
    lines: list[dict[str, Any]] | None = None,
    document: dict[str, Any] | None = None,
) -> None:
    """Fill the computed fields into `values` (and first into each of `lines`, a document's)."""
    line_model = registry.model(model.lines_model) if model.lines_model else None
    if line_model is not None and lines is not None:
        header = dict(values)
        for line in lines:
            compute_fields(registry, line_model, line, document=header)
    for spec in model.computed_fields:
        given = dict(values)
        if document is not None:
            given["document"] = document
        if line_model is not None:
            given["lines"] = [dict(line) for line in lines or []]
        values[spec.name] = _rounded(spec, registry.compute(model.key, spec.name)(given))


def apply_computed(registry: Registry, model: ModelSpec, row: Any) -> None:
    """Set a row's computed fields (and its lines') from its values, as saved."""
    line_model = registry.model(model.lines_model) if model.lines_model else None
    values = _values(model, row)
    lines = [_values(line_model, line) for line in row.lines] if line_model is not None else None
    compute_fields(registry, model, values, lines)
    _assign_computed(model, row, values)
    if line_model is not None:
        for line, line_values in zip(row.lines, lines or [], strict=True):
            _assign_computed(line_model, line, line_values)


def draft_totals(access: Access, model: ModelSpec, payload: Any) -> dict[str, Any]:
    """What a document being typed comes to, before it is saved: each line's computed fields, the
    document's, and the total line the form shows. Values that do not parse count as empty (the save
    reports them); links are not looked up (no handler reads them). Only fields the user may see."""
    registry = access.registry
    line_model = registry.model(model.lines_model or "")
    raw_lines = payload.get("lines") if isinstance(payload, dict) else None
    if not isinstance(raw_lines, list):
        raise ValidationFailed([CellError("lines", t("not_list"))])
    if len(raw_lines) > MAX_DRAFT_LINES:
        raise ValidationFailed([CellError("lines", t("batch_too_big", max=MAX_DRAFT_LINES))])
    values = _draft_values(access, model, payload)
    lines = [_draft_values(access, line_model, line) for line in raw_lines]
    compute_fields(registry, model, values, lines)
    return {
        "lines": [_computed_json(access, line_model, line) for line in lines],
        "totals": _computed_json(access, model, values),
        "summary": _summary(access, line_model, lines),
    }


def _draft_values(access: Access, model: ModelSpec, raw: Any) -> dict[str, Any]:
    """The values of one draft row as a save would parse them; a value that does not parse is None."""
    raw = raw if isinstance(raw, dict) else {}
    values: dict[str, Any] = {}
    for spec in model.data_fields:
        values[spec.name] = None
        if spec.compute or spec.is_link or not access.can_see(model, spec):
            continue
        with suppress(ValueProblem):
            values[spec.name] = FIELD_TYPES[spec.type].parse(spec, raw.get(spec.name))
    return values


def _computed_json(access: Access, model: ModelSpec, values: dict[str, Any]) -> dict[str, Any]:
    return {
        spec.name: FIELD_TYPES[spec.type].to_json(spec, values[spec.name])
        for spec in model.data_fields
        if spec.compute and access.can_see(model, spec)
    }


def _summary(access: Access, line_model: ModelSpec, lines: list[dict[str, Any]]) -> str:
    """合计：n 行，数量 q (and the money when the user sees the lines' prices and tax)."""
    given = {"lines": lines}
    counted = sum(1 for line in lines if line.get("qty") is not None)
    text = t("lines.total", count=counted, qty=_grouped(total_qty(given), 0))
    if _visible(access, line_model, "price"):
        text += t("lines.total_amount", amount=_grouped(total_amount(given), 2))
    if _visible(access, line_model, "tax_amount"):
        text += t("lines.total_tax", tax=_grouped(total_tax(given), 2), with_tax=_grouped(total_with_tax(given), 2))
    return text


def _visible(access: Access, model: ModelSpec, name: str) -> bool:
    spec = model.field(name)
    return spec is not None and access.can_see(model, spec)


def _grouped(value: Decimal, min_scale: int) -> str:
    """An exact decimal with thousands separators (1234.5 -> 1,234.50 with min_scale 2)."""
    whole, _, frac = format_decimal(value, min_scale).partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}" + (f".{frac}" if frac else "")


def _values(model: ModelSpec, row: Any) -> dict[str, Any]:
    return {f.name: getattr(row, f.column) for f in model.data_fields}


def _assign_computed(model: ModelSpec, row: Any, values: dict[str, Any]) -> None:
    for spec in model.data_fields:
        if spec.compute:
            setattr(row, spec.column, values[spec.name])


def _rounded(spec: FieldSpec, value: Any) -> Any:
    """Computed decimals are rounded half-up to the field's scale (typed input never is)."""
    scale = FIELD_TYPES[spec.type].scale(spec)
    if value is None or scale is None:
        return value
    return Decimal(value).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
