"""Where a document is in its life: draft -> (pending ->) submitted -> cancelled.

Every document model gets a `status` field whose options are these (app/meta/loader.py); posting moves
documents between them with one conditional UPDATE each (app/services/posting/service.py).
"""

from __future__ import annotations

from enum import StrEnum

from app.i18n import CATALOGUES, t


class Status(StrEnum):
    """A document's status, stored as its value."""

    DRAFT = "draft"  # 草稿: editable, posts nothing
    PENDING = "pending"  # 待审批: submitted, waiting for approvals before it posts
    SUBMITTED = "submitted"  # 已审核: posted to the ledger
    CANCELLED = "cancelled"  # 已作废: reversed (反审核)

    @property
    def label(self) -> dict[str, str]:
        """The status in each language, from the UI catalogues (status.<value>)."""
        return {locale: texts[f"status.{self.value}"] for locale, texts in CATALOGUES.items()}

    def text(self) -> str:
        """The status in the reader's language."""
        return t(f"status.{self.value}")
