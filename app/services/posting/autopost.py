"""弱审核: when the company switches `approve_before_post` off, saving a document also posts it.

Forms and the REST API call this after a document is saved; with the switch on (the default) a
document waits for its 审核 as before. A document over an approval band goes to approval instead of
posting, and the answer says so. A posting refusal (short stock, credit limit ...) leaves the
saved draft in place and is reported, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.errors import ServiceError
from app.meta.spec import ModelSpec
from app.meta.status import Status
from app.services.access.rights import Access
from app.services.posting.service import PostingService
from app.services.records.settings import policy


@dataclass(frozen=True)
class AutoPost:
    """What saving did beyond the save: `posted` once the document is submitted (posted to the ledger),
    `message` what happened (posted, or sent for approval), `refusal` why it could not be submitted."""

    posted: bool = False
    message: str = ""
    refusal: str = ""
    warnings: list[str] = field(default_factory=list)


def post_on_save(session: Session, access: Access, model: ModelSpec, row: Any) -> AutoPost:
    """Submit a just-saved draft when posting needs no separate approval."""
    if model.kind != "document" or row.status != Status.DRAFT or not access.can(model.key, "submit"):
        return AutoPost()
    if policy(session, access.registry, "approve_before_post"):
        return AutoPost()
    service = PostingService(session, access)
    try:
        doc = service.submit(model.key, row.id)
    except ServiceError as exc:
        session.rollback()
        return AutoPost(refusal=exc.message)
    return AutoPost(doc.status == Status.SUBMITTED, service.message, warnings=service.warnings)
