"""The database out of reach: 503 on every request, JSON on the API, a Chinese page with the menu elsewhere.

Nothing is kept across the fault: a connection that rested is pinged before use, and a dead one renews the
pool (`install_idle_ping`), so the app answers normally as soon as the database is back, without a restart.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.extensions import db
from app.i18n import t
from app.web.inputs import json_error

log = logging.getLogger(__name__)
RETRY_AFTER = "5"


def database_unavailable(exc: Exception) -> Any:
    """503 for a database that cannot be reached (the page draws the menu without asking the database)."""
    log.error("database unavailable: %s", exc)
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the session is discarded at teardown
        log.debug("rollback on a lost connection failed", exc_info=True)
    if request.path.startswith("/api/"):
        response = json_error(t("http.503"), 503)
    else:
        appbuilder = current_app.appbuilder  # type: ignore[attr-defined]
        # the page is drawn for nobody: loading the signed-in user would ask the database again
        g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
        html = render_template(
            "jxc/unavailable.html",
            message=t("db_unavailable"),
            appbuilder=appbuilder,
            base_template=appbuilder.base_template,
        )
        response = current_app.make_response((html, 503))
    response.headers["Retry-After"] = RETRY_AFTER
    return response


# FAB's fixed English answers (BaseApi.response_4xx/500 and @safe) -> the catalogue's words for the same
FAB_ANSWERS = {
    "Arguments are not correct": "http.400",
    "Not authorized": "http.401",
    "Forbidden": "forbidden",
    "Not found": "not_found",
    "Internal error": "http.500",
    "Fatal error": "http.500",
}


def fab_answer_in_words(response: Any) -> Any:
    """An API answer FAB wrote itself (`{"message": "Forbidden"}` from @protect, "Not found"...) in the
    reader's language, like every answer of ours."""
    if response.status_code < 400 or not request.path.startswith("/api/") or not response.is_json:
        return response
    if (response.content_length or 0) > 200:  # FAB's own answers are a few words
        return response
    body = response.get_json(silent=True)
    message = body.get("message") if isinstance(body, dict) and len(body) == 1 else None
    if isinstance(message, str) and message in FAB_ANSWERS:
        response.set_data(json_error(t(FAB_ANSWERS[message]), response.status_code).get_data())
    return response


def install_fault_pages(app: Flask) -> None:
    """Answer 503 whenever the database cannot be reached, whatever part of the request found out; FAB's own
    English API answers in the reader's language."""
    for kind in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(kind, database_unavailable)
    app.after_request(fab_answer_in_words)
