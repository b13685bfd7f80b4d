"""待入库 / 待出库: the orders whose goods still wait to be received or shipped, as one reader may see them. One
definition (`waiting_filters`), shared by the home page's block and the order list it links to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.documents.base import FILL_STATUS, NOT_FILLED, PARTLY_FILLED
from app.documents.flow import closing_done_field
from app.i18n import label
from app.meta.status import Status
from app.meta.types import FIELD_TYPES
from app.services.access.rights import Access
from app.services.records.query import Filter, list_rows
from app.services.records.serialize import rows_to_json

WORKLIST_FIRST = 5  # the orders a block lists (the oldest first), with the count of all
SHOWN = ("number", "date", "partner", "warehouse")  # what a block shows of each order, then its status


def waiting_models(registry: Any) -> list[tuple[str, str, str]]:
    """(order model, its 入库状态 / 出库状态 field, the follow-on that fills it) for each document that has one."""
    found = []
    for key, model in registry.meta.models.items():
        if model.kind != "document" or not model.lines_model:
            continue
        target, done_field = closing_done_field(registry, key)
        field = FILL_STATUS.get(done_field)
        if target is not None and field is not None and model.field(field) is not None:
            found.append((key, field, target))
    return found


def waiting_filters(field: str) -> list[Filter]:
    """An order waits while it is approved (已审核), not all received / delivered and not closed (关闭状态 blank
    or 部分关闭: an order closed whole and then given back a cancelled receipt's quantities stays closed)."""
    return [
        Filter("status", "eq", Status.SUBMITTED),
        Filter(field, "in", [NOT_FILLED, PARTLY_FILLED]),
        Filter("close_status", "in", ["", "partly"]),
    ]


def worklist(session: Session, access: Access, first: int = WORKLIST_FIRST) -> list[dict[str, Any]]:
    """For each order model the reader may read (and see the status of): how many of its orders wait, within the
    reader's row scope (a keeper's warehouses, a salesperson's own orders), and the `first` that waited longest,
    each with what a block shows; `target` is the follow-on 下推 makes, `can_push` whether the reader may write it."""
    registry = access.registry
    found = []
    for key, field, target in waiting_models(registry):
        model = registry.model(key)
        if not access.can(key, "read") or not access.can_see(model, model.field(field)):
            continue
        filters = waiting_filters(field)
        page = list_rows(session, access, model, filters, ("date", "asc"), 0, first)
        rows = []
        for data in rows_to_json(session, access, model, page.rows):
            specs = [model.field(name) for name in (*SHOWN, field)]
            text = {s.name: FIELD_TYPES[s.type].read_text(s, data.get(s.name)) for s in specs if s and s.name in data}
            rows.append({"id": data["id"], "status": text.pop(field, ""), **text})
        found.append(
            {
                "model": key,
                "label": label(model.label, key),
                "field": field,
                "count": page.count,
                "rows": rows,
                "filters": filters,
                "target": target,
                "target_label": label(registry.model(target).label, target),
                "can_push": access.can(target, "write"),
            }
        )
    return found
