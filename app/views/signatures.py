"""Who signs a printed 单据: 制单 (whoever made it) and 审核 (whoever posted it), by the names pages show."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.meta.spec import ModelSpec
from app.meta.status import Status
from app.services.access.rights import Access
from app.services.records.audit_read import record_history
from app.services.records.serialize import user_name


def signatures(session: Session, access: Access, model: ModelSpec, pk: int, data: dict[str, Any]) -> dict[str, str]:
    """制单 from the record's created_by; 审核 from the audit row that posted it (a plain submit, or the last
    approval of a multi-level one), blank until it is posted. A user who has since left keeps their name."""
    maker = data.get("created_by")
    prepared = (maker.get("name") or maker.get("key") or "") if isinstance(maker, dict) else str(maker or "")
    approved = ""
    if model.kind == "document" and data.get("status") == Status.SUBMITTED:
        posted = next(
            (
                entry["user"]
                for entry in record_history(session, access, model, pk)  # newest first
                if (entry.get("after") or {}).get("status") == Status.SUBMITTED
            ),
            None,
        )
        if posted:
            user = session.execute(select(User).where(User.username == posted)).scalar_one_or_none()
            approved = user_name(user) if user is not None else posted
    return {"prepared": prepared, "approved": approved}
