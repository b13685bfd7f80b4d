"""Units on the lines that post: a line without a unit ratio counts its item in the base unit.

Lines of most documents take their unit's ratio when saved and post their base quantity
(app/services/stock/units.py). A stocktake counts in base units, and a draft saved before units converted
has no ratio: such a line in another unit (箱 for an item kept in 瓶) would move the wrong quantity,
so it is refused with the unit it must use.
"""

from __future__ import annotations

from typing import Any

from app.documents.context import PostingContext
from app.errors import CellError, ValidationFailed
from app.i18n import t


def check_units(ctx: PostingContext, lines: list[Any]) -> None:
    """Refuse, per cell, every line without a ratio whose unit is not its item's base unit."""
    tracked = ctx.tracking({getattr(line, "item_id", None) for line in lines})
    errors = []
    for index, line in enumerate(lines):
        info = tracked.get(getattr(line, "item_id", None))
        unit_id = getattr(line, "unit_id", None)
        if getattr(line, "unit_ratio", None) is not None:
            continue  # the line took its unit's ratio when saved: it posts its base quantity
        if info is not None and unit_id is not None and info.unit_id is not None and unit_id != info.unit_id:
            errors.append(CellError(f"lines.{index}.unit", t("unit_not_base", sku=info.sku, unit=info.unit_name)))
    if errors:
        raise ValidationFailed(errors)
