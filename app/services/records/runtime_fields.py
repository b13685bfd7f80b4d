"""Fields without code: add a field to a model at run time, live in every process.

The field is stored in jxc_meta_field (so backups carry it), its column is added (add-only), the
metadata version is bumped and the change audited, all in one transaction. Every process compares
the version before each request or job and rebuilds its registry when it moved.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from app.clock import business_today
from app.errors import CellError, Forbidden, NotFound, ValidationFailed
from app.i18n import MESSAGES, label, t
from app.meta.headers import name_clashes
from app.meta.registry import Registry, RegistryHolder, build_registry
from app.meta.schema import sync_schema
from app.meta.spec import TODAY, FieldSpec, MetadataInvalid, MetaError, ModelSpec
from app.meta.tables import meta_field, meta_state
from app.meta.types import FIELD_TYPES
from app.services.access.rights import Access
from app.services.records.audit import audit_change
from app.services.records.settings import PRICE_MASK, policy, price_mask_locks


def bump_version(session: Session) -> int:
    """Move the metadata version on (inside the caller's transaction) and return it."""
    current = session.execute(select(meta_state.c.version).where(meta_state.c.id == 1)).scalar()
    if current is None:
        session.execute(insert(meta_state).values(id=1, version=1))
        return 1
    session.execute(update(meta_state).where(meta_state.c.id == 1).values(version=meta_state.c.version + 1))
    return int(current) + 1


def add_field(session: Session, holder: RegistryHolder, access: Access, model_key: str, raw_spec: Any) -> FieldSpec:
    """Validate and add one field; ValidationFailed lists every problem with the spec."""
    if not access.is_admin:
        raise Forbidden(t("forbidden"))
    registry = holder.current
    if model_key not in registry.meta.models:
        raise NotFound(t("not_found"))
    model = registry.model(model_key)
    if model.kind == "ledger":
        raise Forbidden(t("ledger_readonly"))
    if not isinstance(raw_spec, dict) or not isinstance(raw_spec.get("name"), str):
        raise ValidationFailed([CellError("name", t("required"))])
    spec_body = {k: v for k, v in raw_spec.items() if k != "name"}
    name = raw_spec["name"]
    if model.field(name) is not None:
        raise ValidationFailed([CellError("name", t("field_exists", field=name))])
    if spec_body.get("type") == "lines":
        raise ValidationFailed([CellError("type", "lines cannot be added at run time")])
    conn = session.connection()
    if not spec_body.get("section"):
        spec_body["section"] = placed_section(model, spec_body)
    spec_body, unfilled = _rows_filled(existing_rows(session, registry, model_key), model, spec_body)
    try:
        candidate = build_registry(
            holder.root, conn, holder.user_table, extra_fields=[{"model": model_key, "name": name, "spec": spec_body}]
        )
    except MetadataInvalid as exc:
        raise ValidationFailed([_cell_error(e) for e in exc.errors] + unfilled) from exc
    locked = [  # as at load, with 价格屏蔽 in force: the new field must not lock a masked role out of the model
        CellError(
            "required", t("meta_required_unfillable", field=label(spec.label, name), role=label(role.label, role.key))
        )
        for found, spec, role in price_mask_locks(session, candidate, policy(session, registry, PRICE_MASK) or [])
        if found.key == model_key and spec.name == name
    ]
    added = candidate.model(model_key).field(name)
    assert added is not None
    # Excel imports match columns by their header text: a name or label another field of the model has (or has
    # without its unit) would head a column that could fill either, and the template could not be imported back
    taken = [
        CellError(option, t("field_label_taken", model=label(model.label, model_key), label=text))
        for option, text in name_clashes(added, candidate.model(model_key).fields)
    ]
    if locked or unfilled or taken:
        raise ValidationFailed(taken + locked + unfilled)
    session.execute(
        insert(meta_field).values(
            model=model_key,
            name=name,
            spec=json.dumps(spec_body, ensure_ascii=False),
            created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            created_by=access.username,
        )
    )
    sync_schema(conn, candidate)
    bump_version(session)
    audit_change(
        session, access, "jxc_meta_field", None, "add_field", None, {"model": model_key, "name": name, **spec_body}
    )
    session.commit()
    holder.refresh_if_stale(session.connection())
    return added


def placed_section(model: ModelSpec, spec_body: dict[str, Any]) -> str:
    """The form section a field added without one joins: the section where the model keeps most of its fields of
    the same type (a money field on the item joins its prices, on a partner its finance figures, on a document's
    header its totals), else of the same sort (a number where its numbers are), else 基本信息."""
    kind = FIELD_TYPES.get(spec_body.get("type")) if isinstance(spec_body.get("type"), str) else None
    own = model.data_fields
    for alike in (
        lambda f: f.type == spec_body.get("type"),
        lambda f: kind is not None and FIELD_TYPES[f.type].numeric == kind.numeric,
    ):
        sections = [f.section for f in own if alike(f)]
        if sections:
            return max(dict.fromkeys(sections), key=sections.count)  # the most used; the first of a tie
    return "basic"


def existing_rows(session: Session, registry: Registry, model_key: str) -> int:
    """How many rows the model's table holds: those a field added now must fill when it is required."""
    return int(session.execute(select(func.count()).select_from(registry.tables.tables[model_key])).scalar_one())


def _rows_filled(rows: int, model: ModelSpec, spec_body: dict[str, Any]) -> tuple[dict[str, Any], list[CellError]]:
    """The rows already there take the value asked for them (`backfill`), in the same change; a required field
    without one takes its default there too. A required field with neither is refused, saying why (every row already
    there could no longer be saved), and so is one value for many rows of a unique field, or for a link (a row of
    another model: no one typed value here). Returns the spec to add and the problems."""
    spec_body = {k: v for k, v in spec_body.items() if k != "backfill" or v not in (None, "")}
    required = bool(spec_body.get("required"))
    value = spec_body.get("backfill", spec_body.get("default") if required else None)
    if not rows or (value in (None, "") and not required):
        return spec_body, []
    name = label(model.label, model.key)
    if FieldSpec(model.key, str(spec_body.get("type")), {}).is_link:
        return spec_body, [
            CellError(
                "backfill" if "backfill" in spec_body else "required", t("field_rows_link", model=name, rows=rows)
            )
        ]
    if value in (None, ""):
        return spec_body, [CellError("backfill", t("field_rows_need_value", model=name, rows=rows))]
    if spec_body.get("unique") and rows > 1:
        return spec_body, [CellError("unique", t("field_rows_unique", model=name, rows=rows))]
    if value == TODAY and spec_body.get("type") == "date":
        value = business_today().isoformat()  # the rows take the day the field was added, as new rows take theirs
    return {**spec_body, "backfill": value}, []


def _cell_error(error: MetaError) -> CellError:
    """A metadata error as a per-option error, in the reader's language where it has a code."""
    if error.code in MESSAGES:
        return CellError(error.option or "spec", t(error.code, **dict(error.params)))
    return CellError(error.option or "spec", error.message + (f" ({error.hint})" if error.hint else ""))
