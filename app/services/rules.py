"""Rules a model keeps on every change of a row beyond what its field types check, found by name.

`app/services/<model>_rules.py` may define `check_change(session, registry, row, values)`, returning
the cell errors of writing the parsed `values` (only the fields the payload sets) to `row` (None when the
row is being created). RecordService.create and .update call it, so the rule holds for forms, the REST
API, grid batches and imports alike.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from app.meta.spec import ModelSpec
from app.services.errors import CellError

Rule = Callable[[Session, Any, Any, dict[str, Any]], list[CellError]]


def check_change(
    session: Session, registry: Any, model: ModelSpec, row: Any, values: dict[str, Any], row_ref: Any = None
) -> list[CellError]:
    """The model's own refusals of this change (none when it has no rules module), on the row `row_ref`."""
    rule = _rule(model.key)
    if rule is None:
        return []
    return [replace(error, row=row_ref) for error in rule(session, registry, row, values)]


@cache
def _rule(model_key: str) -> Rule | None:
    """Looked up once per model: an update must not search the import path each time."""
    name = f"app.services.{model_key}_rules"
    if importlib.util.find_spec(name) is None:
        return None
    return getattr(importlib.import_module(name), "check_change", None)
