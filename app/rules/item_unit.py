"""Rules on an item's extra units: not the base unit itself (its ratio is 1 by definition)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.errors import CellError
from app.i18n import t


def check_change(session: Session, registry: Any, row: Any, values: dict[str, Any]) -> list[CellError]:
    """Refuse an extra unit that is the item's base unit."""
    item_id = values.get("item", getattr(row, "item_id", None))
    unit_id = values.get("unit", getattr(row, "unit_id", None))
    item = session.get(registry.cls("item"), item_id) if item_id is not None else None
    if item is None or unit_id is None or item.unit_id != unit_id:
        return []
    return [CellError("unit", t("unit_is_base", sku=item.sku))]
