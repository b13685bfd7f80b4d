"""待审批: the documents waiting for one user's approval step. One function, shared by the inbox (API and
page), the menu's count and the dashboard; the menu's count is kept per user and data stamp."""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from app.extensions import core_reads
from app.i18n import label
from app.meta.status import Status
from app.meta.types import FIELD_TYPES
from app.services.access.rights import Access
from app.services.posting.service import PostingService
from app.services.records.data_stamp import data_stamp
from app.services.records.query import base_select
from app.services.records.serialize import rows_to_json
from app.services.records.settings import policy


def approves_anything(access: Access) -> bool:
    """Can anything ever wait for the user's approval: an approval chain (approvals.yaml) of a document model they
    may approve has a level of one of their roles (or of the role a copy is of: `Access.stands_for`), by amount or
    added by the document (over budget), as `PostingService.required_levels` reads the same chain (an admin
    approves any level)? A 待审批 tile or count is shown to them only; nothing can wait for anyone else."""
    return any(
        access.can(key, "approve") and (access.is_admin or any(access.stands_for(role) for role in chain.roles))
        for key, chain in access.registry.meta.approvals.items()
    )


COUNTS_KEPT = 1024  # (user, data stamp) pairs kept per metadata version; a new stamp leaves the old ones unused


def waiting_count(session: Session, access: Access) -> int:
    """How many documents wait for the user's approval (the menu's badge on every page): `waiting_for`'s length,
    0 without a query for who can approve nothing, and kept per user and data stamp (`data_stamp`: any transaction
    that ends, the user's own approval too, makes another stamp, so a kept count is never older than the rows
    the request sees). Everything else it depends on is in the database (roles, row scope,
    settings, the documents and budgets) or in this registry's metadata (approvals.yaml, roles.yaml): a new
    registry keeps its own counts. Without a stamp (SQLite, a transaction that has run statements) it is counted."""
    if not approves_anything(access):
        return 0
    stamp = data_stamp(session)
    if stamp is None:
        return len(waiting_for(session, access))
    key = (access.user_id, stamp)
    return int(access.registry.kept_recent("inbox_count", key, lambda: len(waiting_for(session, access)), COUNTS_KEPT))


def waiting_for(session: Session, access: Access) -> list[dict[str, Any]]:
    """Pending documents the user may approve now, oldest first: their next level (by amount band and extra levels
    such as over budget) is one of the user's roles or a copy of it (`Access.stands_for`; an admin approves any
    level), in the user's row scope, and not their own when `creator_cannot_approve` is on."""
    registry = access.registry
    pending = _pending(session, access)
    if not pending:
        return []
    service = PostingService(session, access)
    not_own = bool(policy(session, registry, "creator_cannot_approve"))
    found: list[dict[str, Any]] = []
    for model, rows in pending:
        for doc in rows:
            if not_own and doc.created_by_id == access.user_id:
                continue
            levels = service.required_levels(model, doc)
            step = doc.approval_step or 0
            if step >= len(levels):
                continue
            role = levels[step].role
            if not access.is_admin and access.stands_for(role) is None:
                continue
            chain = registry.meta.approvals.get(model.key)
            # the amount the levels go by is a figure: shown only to who sees it (价格屏蔽 may hide it)
            shown = chain is not None and access.may_use(model.key, chain.amount_field)
            amount = getattr(doc, chain.amount_field) if shown else None
            found.append(
                {
                    "model": model.key,
                    "model_label": label(model.label, model.key),
                    "id": doc.id,
                    "number": doc.number,
                    "date": doc.date.isoformat() if doc.date else None,
                    "amount": None if amount is None else str(amount),
                    "level": step + 1,
                    "levels": len(levels),
                    "role": role,
                    "created_by_id": doc.created_by_id,
                }
            )
    found.sort(key=lambda d: (d["date"] or "", d["number"]))
    return found


PARTIES = ("partner", "created_by")  # what an approver asks first: who the document is with, who made it


def with_parties(session: Session, access: Access, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`found` (`waiting_for`'s), each with the text of its document's partner (往来单位) and creator (制单人) as the
    reader sees them on its page (`partner`, `created_by`; empty when the model has none or the reader may not see
    it): for the pages an approver decides on, who saw only a number, a date and an amount. The menu's count needs
    none of it."""
    registry = access.registry
    ids: dict[str, list[int]] = {}
    for row in found:
        ids.setdefault(row["model"], []).append(row["id"])
    texts: dict[tuple[str, int], dict[str, str]] = {}
    for key, pks in ids.items():
        model, cls = registry.model(key), registry.cls(key)
        docs = list(session.scalars(select(cls).where(cls.id.in_(pks))))
        specs = [spec for spec in (model.field(name) for name in PARTIES) if spec is not None]
        for data in rows_to_json(session, access, model, docs, columns=["id", *PARTIES]):
            texts[(key, data["id"])] = {
                s.name: FIELD_TYPES[s.type].read_text(s, data.get(s.name)) for s in specs if s.name in data
            }
    return [row | {name: texts.get((row["model"], row["id"]), {}).get(name, "") for name in PARTIES} for row in found]


def _pending(session: Session, access: Access) -> list[tuple[Any, list[Any]]]:
    """(model, its pending documents in the user's row scope, by id) for each document model the user may
    approve: one query finds which documents are pending in any model (on most pages none: the menu's
    count costs one statement, not one per document model), then one per model that has some."""
    registry = access.registry
    models = [m for m in registry.meta.models.values() if m.kind == "document" and access.can(m.key, "approve")]
    if not models:
        return []

    def build() -> Any:
        parts = []
        for model in models:
            cls = registry.cls(model.key)
            pending = base_select(access, model).where(cls.status == Status.PENDING)
            parts.append(pending.with_only_columns(literal(model.key).label("model"), cls.id.label("id")))
        return union_all(*parts)

    # Without a row scope (an admin, or roles that see every row) the statement is the same for every such
    # user of this metadata version: built once (it was a tenth of a page's time: ~15 selects each request).
    if all(access.scope(model) is None for model in models):
        for model in models:
            access.require(model.key, "read")
        stmt = registry.kept(("inbox_pending", tuple(model.key for model in models)), build)
    else:
        stmt = build()
    ids: dict[str, list[int]] = {}
    for key, pk in core_reads(session).execute(stmt):  # plain rows: without the ORM's execution layers
        ids.setdefault(key, []).append(pk)
    out = []
    for model in models:
        if model.key in ids:
            cls = registry.cls(model.key)
            out.append((model, list(session.scalars(select(cls).where(cls.id.in_(ids[model.key])).order_by(cls.id)))))
    return out
