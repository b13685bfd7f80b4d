"""Rules a model keeps on every change of a row beyond what its field types check, found by name.

`app/rules/<model>.py` may define `check_change(session, registry, row, values)`, returning
the cell errors of writing the parsed `values` (only the fields the payload sets) to `row` (None when the
row is being created), `check_delete(session, registry, row)` the cell errors of deleting it, and
`after_create(service, row, row_ref)` what a new row changes in others (a new price closes the one before
it), written through the same RecordService with `follow_update`; `check_creates(session, registry,
values_list)` the cell errors of many new rows at once (one list per row), and `derived_values(session,
registry, row, values)` the values a row takes from other tables once `values` are written to it (a budget's
spent: its month's purchase orders), set with them; `after_update(service, row, before, after)` what a change
written (its snapshots before and after) changes in other rows (an item moved to another category: the budgets'
spent); `check_creates` lets
RecordService.create_many write the model's new rows set-based (a model with `check_change` but without
it is created row by row). RecordService calls them, so the rules hold for forms, the REST API, grid
batches and imports alike.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from app.errors import CellError
from app.meta.spec import ModelSpec


def check_change(
    session: Session, registry: Any, model: ModelSpec, row: Any, values: dict[str, Any], row_ref: Any = None
) -> list[CellError]:
    """The model's own refusals of this change (none when it has no rules module), on the row `row_ref`."""
    rule = registry.rule(model.key, "check_change")
    if rule is None:
        return []
    return [replace(error, row=row_ref) for error in rule(session, registry, row, values)]


def check_creates(
    session: Session, registry: Any, model: ModelSpec, values_list: list[dict[str, Any]], row_refs: list[Any]
) -> list[list[CellError]]:
    """The model's refusals of many new rows at once (`check_creates(session, registry, values_list)` in its
    rules module, set-based: the rows are not written yet), each on its row; none without such a rule."""
    rule = registry.rule(model.key, "check_creates")
    if rule is None:
        return [[] for _ in values_list]
    found = rule(session, registry, values_list)
    return [[replace(error, row=ref) for error in errors] for errors, ref in zip(found, row_refs, strict=True)]


def derive_values(session: Session, registry: Any, model: ModelSpec, row: Any, values: dict[str, Any]) -> None:
    """Add to the parsed `values` what the row takes from other tables once they are written (none without such a
    rule): they are written, computed from and audited with the change."""
    rule = registry.rule(model.key, "derived_values")
    if rule is not None:
        values.update(rule(session, registry, row, values))


def check_delete(session: Session, registry: Any, model: ModelSpec, row: Any, row_ref: Any = None) -> list[CellError]:
    """The model's own refusals of deleting `row` (a department that users still belong to)."""
    rule = registry.rule(model.key, "check_delete")
    if rule is None:
        return []
    return [replace(error, row=row_ref) for error in rule(session, registry, row)]


def after_create(service: Any, model: ModelSpec, row: Any, row_ref: Any = None) -> None:
    """What the model's rules change in other rows once `row` is created (nothing without such a rule)."""
    rule = service.registry.rule(model.key, "after_create")
    if rule is not None:
        rule(service, row, row_ref)


def after_update(service: Any, model: ModelSpec, row: Any, before: dict[str, Any], after: Any) -> None:
    """What the model's rules change in other rows once a change of `row` is written (nothing without such a rule)."""
    rule = service.registry.rule(model.key, "after_update")
    if rule is not None:
        rule(service, row, before, after)
