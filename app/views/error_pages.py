"""Error answers in the reader's language: a JSON message on the API, a page with the menu elsewhere.

Werkzeug's own pages (Forbidden, Not Found, Method Not Allowed, Internal Server Error) are plain English
HTML without the menu; every HTTP error and every unexpected exception comes through here instead."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db
from app.i18n import MESSAGES, t

log = logging.getLogger(__name__)
KNOWN = (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503)


def error_title(code: int) -> str:
    """The catalogue's short title of an HTTP status ('页面不存在' for 404)."""
    key = f"http.{code}" if code in KNOWN else ("http.500" if code >= 500 else "http.400")
    return t(key)


def _detail(exc: HTTPException) -> str:
    """Our own abort(code, message) texts are shown; Werkzeug's English descriptions are not."""
    description = exc.description or ""
    default = type(exc).description if isinstance(type(exc).description, str) else ""
    if not description or description == default:
        return t(f"http.{exc.code}.detail") if f"http.{exc.code}.detail" in MESSAGES else ""
    return description


PHONE = "/phone/"  # an error met on a phone page leads back to the phone's home, not the desk's


def _answer(code: int, detail: str) -> Any:
    title = error_title(code)
    home = PHONE if request.path.startswith(PHONE) else None
    if request.path.startswith("/api/"):
        response = jsonify({"message": detail or title})
    else:
        try:
            appbuilder = current_app.appbuilder  # type: ignore[attr-defined]
            response = render_template(
                "jxc/error.html",
                code=code,
                title=title,
                detail=detail,
                home=home or appbuilder.get_url_for_index,
                appbuilder=appbuilder,
                base_template=appbuilder.base_template,
            )
        except Exception:  # noqa: BLE001 - the menu itself failed (a broken database): a page without it
            log.exception("error page with the menu failed")
            response = render_template("jxc/error_plain.html", code=code, title=title, detail=detail, home=home or "/")
    return response, code


def _http_error(exc: HTTPException) -> Any:
    if exc.code is None or exc.response is not None:  # a ready response (FAB's redirects, our JSON): as is
        return exc
    response, code = _answer(exc.code, _detail(exc))
    allow = dict(exc.get_headers()).get("Allow")
    return response, code, ({"Allow": allow} if allow else {})


def _unexpected(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    original = exc.original_exception if isinstance(exc, InternalServerError) else exc
    log.error("unexpected error on %s %s", request.method, request.path, exc_info=original)
    with contextlib.suppress(Exception):  # nothing more to undo
        db.session.rollback()
    return _answer(500, t("http.500.detail"))


def install_error_pages(app: Flask) -> None:
    """Route every HTTP error and every unexpected exception through the answers above."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
