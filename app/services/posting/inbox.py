"""Documents waiting for my approval: one function, for the dashboard and the approval inbox alike.

A pending document waits for the user when its current approval level's role is one of theirs (an admin
answers for any level), they may approve that document model and see the document (row scope), and it is
not their own while the creator-cannot-approve setting is on (an admin may, as the approval itself allows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.meta.status import Status
from app.services.access.rights import Access
from app.services.posting.service import PostingService
from app.services.records.settings import policy

LIMIT = 200  # per document model: an inbox longer than this is a conversation, not a list


@dataclass(frozen=True)
class Waiting:
    """One document waiting for the user: which, the level it is at and how many there are."""

    model: str
    id: int
    number: str
    level: int
    levels: int
    amount: Any


def waiting_for(session: Session, access: Access) -> list[Waiting]:
    """Every pending document the user is the next approver of, oldest first per model."""
    registry = access.registry
    service = PostingService(session, access)
    own_blocked = policy(session, registry, "creator_cannot_approve") and not access.is_admin
    found: list[Waiting] = []
    for model in registry.meta.models.values():
        if model.kind != "document" or not access.can(model.key, "approve"):
            continue
        cls = registry.cls(model.key)
        stmt = select(cls).where(cls.status == Status.PENDING.value).order_by(cls.id).limit(LIMIT)
        scope = access.scope(model)
        if scope is not None:
            stmt = stmt.where(scope)
        chain = registry.meta.approvals.get(model.key)
        for doc in session.execute(stmt).scalars():
            if own_blocked and doc.created_by_id == access.user_id:
                continue
            levels = service.required_levels(model, doc)
            step = doc.approval_step or 0
            if step >= len(levels):
                continue
            if access.is_admin or levels[step].role in access.role_names:
                amount = getattr(doc, chain.amount_field) if chain is not None else None
                found.append(Waiting(model.key, doc.id, doc.number, step + 1, len(levels), amount))
    return found
