"""Audit entries as a reader sees them: model and field labels, option labels, readable values.

The trail stores keys and raw values (`status: draft -> pending`); the history on a record's page and the
audit page show 「状态」: 草稿 → 待审批 instead, and platform rows (fields, settings, users) as JSON that
keeps its Chinese readable (no \\u escapes)."""

from __future__ import annotations

import json
from typing import Any

from flask import g

from app.extensions import db, registry
from app.i18n import MESSAGES, label, t
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES
from app.services.records.serialize import link_labels
from app.services.records.write import BOOKKEEPING
from app.views.labels import role_label, type_label
from app.web.context import current_access

PLATFORM_TABLES = ("ab_user", "jxc_setting", "jxc_meta_field")  # audited rows of no metadata model


def model_label(key: str | None) -> str:
    """A model key (or a platform table's) in the reader's language."""
    if not key:
        return ""
    model = registry().meta.models.get(key)
    if model is not None:
        return label(model.label, key)
    return t(f"audit.model.{key}") if f"audit.model.{key}" in MESSAGES else key


def _field_label(model: ModelSpec | None, name: str) -> str:
    spec = model.field(name) if model is not None else None
    if spec is not None:
        return label(spec.label, name)
    return t(f"audit.key.{name}") if f"audit.key.{name}" in MESSAGES else name


def _text(model: ModelSpec | None, name: str, value: Any) -> str:
    spec = model.field(name) if model is not None else None
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return t("bool.yes") if value else t("bool.no")
    if spec is not None and spec.type == "lines":
        return t("audit.lines", count=len(value) if isinstance(value, list) else 0)
    if spec is not None and spec.is_link and isinstance(value, int):
        return _linked(spec, value)
    if spec is not None:
        try:
            return FIELD_TYPES[spec.type].cell_text(spec, value) or "—"
        except (TypeError, ValueError, KeyError, AttributeError):
            pass
    if name == "approved_as":  # an approval's role (app/services/posting/service.py), a role key on any model
        return role_label(str(value))
    if model is None and name in PLATFORM_VALUES:
        return PLATFORM_VALUES[name](value)
    if isinstance(value, dict) and set(value) <= {"zh", "en"}:
        return label(value)  # a label or help text of an added field
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return "、".join(str(v) for v in value) or "—"
    if isinstance(value, (dict, list)):
        return readable_json(value)
    return str(value)


PLATFORM_VALUES = {  # keys of platform rows (users, added fields) whose values are keys themselves
    "role": lambda value: role_label(str(value)),
    "roles": lambda value: "、".join(role_label(str(v)) for v in value) if isinstance(value, list) else str(value),
    "model": lambda value: model_label(str(value)),
    "type": lambda value: type_label(str(value)),
}


def _linked(spec: FieldSpec, pk: int) -> str:
    """A linked row as its key and name (the trail keeps ids), read once per request (`read_links` reads a
    page's at once)."""
    cache = g.setdefault("jxc_audit_links", {})
    if (spec.to, pk) not in cache:
        _read_labels(spec, [pk], cache)
    return str(cache[(spec.to, pk)])


def read_links(entries: list[dict[str, Any]]) -> None:
    """Read the rows that a page of entries links to, one query per linked model, for `_linked` (the audit
    page read them one by one: forty statements for fifty entries)."""
    wanted: dict[tuple[str, str], tuple[FieldSpec, set[int]]] = {}
    for entry in entries:
        model = registry().meta.models.get(entry.get("model") or "")
        for values in (entry.get("before"), entry.get("after")):
            if model is None or not isinstance(values, dict):
                continue
            for name, value in values.items():
                spec = model.field(name)
                if spec is not None and spec.is_link and isinstance(value, int):
                    wanted.setdefault((spec.type, spec.to or ""), (spec, set()))[1].add(value)
    cache = g.setdefault("jxc_audit_links", {})
    for spec, ids in wanted.values():
        _read_labels(spec, sorted(pk for pk in ids if (spec.to, pk) not in cache), cache)


def _read_labels(spec: FieldSpec, ids: list[int], cache: dict[tuple[str | None, int], str]) -> None:
    """The rows' texts as the reader's own labels give them (`link_labels`: a row out of their scope, or a code
    or name their masks hide, says no more in a history than on the record itself); a row they may not see, or
    one deleted since, by its id."""
    labels = link_labels(db.session, current_access(), spec, set(ids)) if ids else {}
    for pk in ids:
        found = labels.get(pk) or {}
        key, name = found.get("key"), found.get("name")
        parts = [name or key] if spec.type == "user" else [key, name]  # a user by their name, else user name
        cache[(spec.to, pk)] = " ".join(dict.fromkeys(str(part) for part in parts if part)) or str(pk)


def readable_json(value: Any) -> str:
    """JSON with its Chinese as characters, not \\u escapes."""
    return json.dumps(value, ensure_ascii=False, default=str)


def describe(entry: dict[str, Any]) -> dict[str, Any]:
    """One audit entry's changes: {"changes": [{label, before, after}]} for an update, {"values": [{label,
    value}]} for a create or delete, {"json": text} for a row of no model."""
    model = registry().meta.models.get(entry.get("model") or "")
    before, after = entry.get("before"), entry.get("after")
    if model is None and not isinstance(after if after is not None else before, dict):
        shown = after if after is not None else before
        return {"json": readable_json(shown) if shown is not None else "", "removed": after is None}
    if isinstance(before, dict) and isinstance(after, dict):
        changes = [
            {"label": _field_label(model, k), "before": _text(model, k, before.get(k)), "after": _text(model, k, v)}
            for k, v in after.items()
            if before.get(k) != v and k not in BOOKKEEPING
        ]
        return {"changes": changes}
    values = after if isinstance(after, dict) else before if isinstance(before, dict) else {}
    shown = [
        {"label": _field_label(model, k), "value": _text(model, k, v)}
        for k, v in values.items()
        if k not in BOOKKEEPING and k != "id" and v not in (None, "", [])
    ]
    return {"values": shown, "removed": after is None}
