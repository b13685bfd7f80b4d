"""FAB's security model APIs (roles, permissions, resources, permissions on resources, groups) answer a row
the database refuses with 422, never 500.

FAB 5.3's `SQLAInterface.add` re-raises the database's error as it is (its `edit` and `delete` wrap it), so
`POST /api/v1/security/permissions-resources/ {}` (no permission, no resource: NOT NULL) or a role whose
name is taken reached FAB's `@safe` as a 500 "Fatal error". Every security API JXC registers is built
through `refusing()`.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError

from app.extensions import db
from app.i18n import t

log = logging.getLogger(__name__)


class RefusesBadRows:
    """Mixin for a FAB ModelRestApi: a create the database refuses is a 422 with the reason in the catalogue."""

    def post_headless(self) -> Any:
        """FAB's create; a NOT NULL, foreign key, unique or too-long value refused by the database is a 422."""
        try:
            return super().post_headless()  # type: ignore[misc]
        except (IntegrityError, DataError) as exc:
            db.session.rollback()
            log.info("security API row refused: %s", exc.orig)
            return self.response_422(message=t("fab_row_refused"))  # type: ignore[attr-defined]


def refusing(api: type) -> type:
    """`api` with `RefusesBadRows` in front, under the same class name (FAB names permissions by it)."""
    return type(api.__name__, (RefusesBadRows, api), {"__doc__": api.__doc__, "__module__": __name__})
