"""HTML forms generated from field specs; submitted forms become ordinary service payloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict

from app.i18n import MESSAGES, label, t
from app.meta.spec import ModelSpec
from app.meta.types import FIELD_TYPES
from app.services.access.rights import Access

BLANK_LINES = 3


@dataclass
class FormField:
    """What a template needs to draw one input."""

    name: str
    label: str
    help: str
    input: str
    required: bool
    readonly: bool
    value: Any
    errors: list[str]
    options: list[tuple[str, str]]
    section: str = "basic"
    link_to: str | None = None
    lookup: str | None = None  # where its editor looks up what may be typed (links and users)
    share: bool = False  # a share typed as a percent (折扣率 7.5%): a bare number typed is one too
    link_name: str = ""  # a link's row by its name beside the code the input holds (K001: 杭州西湖区惠民便利店)
    row_id: bool = False  # another row's internal id (a line's 源单ID): carried by a form, shown to nobody


def form_fields(
    access: Access, model: ModelSpec, values: dict[str, Any], errors: dict[str, list[str]], creating: bool
) -> list[FormField]:
    """Inputs for the fields the user may see (read-only ones shown, not editable)."""
    out = []
    for spec in access.visible_fields(model):
        if spec.type == "lines" or spec.system:
            continue
        writable = access.can_write(model, spec) or (creating and spec.name == "number")
        ftype = FIELD_TYPES[spec.type]
        out.append(
            FormField(
                name=spec.name,
                label=label(spec.label, spec.name),
                help=label(spec.help),
                input=ftype.input_type,
                required=spec.required and writable,
                readonly=not writable,
                value=ftype.form_value(spec, values.get(spec.name), readonly=not writable),
                errors=errors.get(spec.name, []),
                options=[(o.value, label(o.label, o.value)) for o in spec.options],
                section=spec.section,
                link_to=spec.to if spec.is_link else None,
                lookup=ftype.lookup_url(spec),
                share=spec.is_fraction,
                link_name=_link_name(values.get(spec.name)) if ftype.lookup_url(spec) else "",
                row_id=spec.is_row_id,
            )
        )
    return out


def _link_name(value: Any) -> str:
    """The name of a link's row as the reader may read it ({id, key, name}), when it says more than its key."""
    if not isinstance(value, dict):
        return ""
    name = value.get("name") or ""
    return "" if name == value.get("key") else str(name)


def sections(fields: list[FormField]) -> list[tuple[str, list[FormField]]]:
    """Fields grouped by their form section, in the order sections first appear."""
    groups: dict[str, list[FormField]] = {}
    for field in fields:
        groups.setdefault(field.section, []).append(field)
    return [(section_label(key), items) for key, items in groups.items()]


def section_label(key: str) -> str:
    """A form section's heading: the catalogue's words for a known key (basic: 基本信息), else the key itself."""
    return t(f"section.{key}") if f"section.{key}" in MESSAGES else key


def line_columns(access: Access, line_model: ModelSpec) -> list[FormField]:
    """Column headers (as empty FormFields) of a document's line table."""
    return form_fields(access, line_model, {}, {}, creating=True)


def form_payload(access: Access, model: ModelSpec, form: MultiDict[str, str], creating: bool) -> dict[str, Any]:
    """Turn a submitted form into the same payload the REST API receives."""
    payload: dict[str, Any] = {}
    for spec in access.visible_fields(model):
        if spec.type == "lines" or spec.system:
            continue
        if not (access.can_write(model, spec) or (creating and spec.name == "number")):
            continue
        value = FIELD_TYPES[spec.type].form_raw(spec, form, spec.name)
        if value is not None and not (creating and value == "" and spec.default is not None):
            payload[spec.name] = value  # a blank input on create leaves the default to the service
    if model.lines_model:
        payload["lines"] = _lines_payload(access, access.registry.model(model.lines_model), form)
    return payload


def _lines_payload(access: Access, line_model: ModelSpec, form: MultiDict[str, str]) -> list[dict[str, Any]]:
    indices = sorted(
        {
            int(key.split("-")[1])
            for key in form
            if key.startswith("lines-") and key.count("-") >= 2 and key.split("-")[1].isdigit()
        }
    )
    lines = []
    for index in indices:
        line: dict[str, Any] = {}
        for spec in access.visible_fields(line_model):
            if spec.system or not access.can_write(line_model, spec):
                continue
            value = FIELD_TYPES[spec.type].form_raw(spec, form, f"lines-{index}-{spec.name}")
            if value is not None:
                line[spec.name] = value
        if not any(v not in ("", False, None) for v in line.values()):
            continue  # a blank row in the form is not a line
        line_id = form.get(f"lines-{index}-id", "")
        if line_id.isdigit():
            line["id"] = int(line_id)
        lines.append(line)
    return lines
