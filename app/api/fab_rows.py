"""FAB's security model APIs (users, roles, permissions, resources, permissions on resources, groups) answer a
row the database refuses with 422, never 500, a blank value of a column that needs one with 422, a `q` that does
not fit their list as every refused `q` (422 on `q`), and their 400s and 422s in the reader's language.

FAB 5.3's `SQLAInterface.add` re-raises the database's error as it is (its `edit` and `delete` wrap it), so
`POST /api/v1/security/permissions-resources/ {}` (no permission, no resource: NOT NULL) or a role whose
name is taken reached FAB's `@safe` as a 500 "Fatal error". Every security API JXC registers is built
through `refusing()`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import request
from sqlalchemy.exc import DataError, IntegrityError

from app.api.rison_args import q_not_fitting
from app.extensions import db
from app.i18n import current_locale, t

log = logging.getLogger(__name__)
CJK = re.compile(r"[\u4e00-\u9fff]")


# marshmallow's own messages (FAB builds its request schemas with it) -> the catalogue's words for the same
MARSHMALLOW = {
    "Missing data for required field.": "required",
    "Field may not be null.": "required",
    "Unknown field.": "unknown_field",
    "Not a valid string.": "not_text",
    "Not a valid integer.": "not_integer",
    "Not a valid number.": "not_number",
    "Not a valid boolean.": "not_boolean",
    "Not a valid date.": "not_date",
    "Not a valid datetime.": "not_datetime",
    "Not a valid list.": "not_list",
    "Not a valid email address.": "fab_not_email",
}


def in_catalogue(message: Any) -> Any:
    """A FAB/marshmallow 422 message (text, or lists and mappings of them per field) in the reader's language:
    marshmallow's known texts by their catalogue key; any other English one (a database's refusal) in Chinese
    as "a value it refuses"."""
    if isinstance(message, dict):
        return {key: in_catalogue(value) for key, value in message.items()}
    if isinstance(message, list):
        return [in_catalogue(value) for value in message]
    if not isinstance(message, str):
        return message
    if message in MARSHMALLOW:
        return t(MARSHMALLOW[message])
    if current_locale() == "en" or CJK.search(message):  # in the reader's words already (ours)
        return message
    return t("fab_bad_value")


class RefusesBadRows:
    """Mixin for a FAB ModelRestApi: a create the database refuses, or a blank value where the table needs one,
    is a 422 with the reason in the catalogue; every 400 and 422 in the reader's language."""

    def response_400(self, message: Any = None) -> Any:
        if isinstance(message, str) and message.startswith("Not a valid rison"):  # FAB's @rison: q refused
            return q_not_fitting()
        return super().response_400(message=in_catalogue(message))  # type: ignore[misc]

    def response_422(self, message: Any = None) -> Any:
        return super().response_422(message=in_catalogue(message))  # type: ignore[misc]

    def _blank_required(self) -> Any:
        """A 422 naming the body's blank texts ("", "  ") for columns that may not be empty; None when none."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return None
        table = self.datamodel.obj.__table__  # type: ignore[attr-defined]
        blank = {
            name: [t("required")]
            for name, value in body.items()
            if isinstance(value, str) and not value.strip() and name in table.c and not table.c[name].nullable
        }
        return self.response_422(message=blank) if blank else None

    def post_headless(self) -> Any:
        """FAB's create; a NOT NULL, foreign key, unique or too-long value refused by the database is a 422."""
        refused = self._blank_required()
        if refused is not None:
            return refused
        try:
            return super().post_headless()  # type: ignore[misc]
        except (IntegrityError, DataError) as exc:
            db.session.rollback()
            log.info("security API row refused: %s", exc.orig)
            return self.response_422(message=t("fab_row_refused"))

    def put_headless(self, pk: Any) -> Any:
        """FAB's change, refusing a blank value where the table needs one."""
        return self._blank_required() or super().put_headless(pk)  # type: ignore[misc]


def refusing(api: type) -> type:
    """`api` with `RefusesBadRows` in front, under the same class name (FAB names permissions by it)."""
    return type(api.__name__, (RefusesBadRows, api), {"__doc__": api.__doc__, "__module__": __name__})
