"""弱审核: when the company switches `approve_before_post` off, saving a document also posts it.

Forms and the REST API call this after a document is saved; with the switch on (the default) a
document waits for its 审核 as before. A posting refusal (short stock, credit limit ...) leaves the
saved draft in place and is reported, never lost.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.errors import ServiceError
from app.meta.spec import ModelSpec
from app.meta.status import Status
from app.services.access.rights import Access
from app.services.posting.service import PostingService
from app.services.records.settings import policy


def post_on_save(session: Session, access: Access, model: ModelSpec, row: Any) -> tuple[bool, str]:
    """Submit a just-saved draft when posting needs no separate approval; (posted, refusal message)."""
    if model.kind != "document" or row.status != Status.DRAFT or not access.can(model.key, "submit"):
        return False, ""
    if policy(session, access.registry, "approve_before_post"):
        return False, ""
    try:
        PostingService(session, access).submit(model.key, row.id)
    except ServiceError as exc:
        session.rollback()
        return False, exc.message
    return True, ""
