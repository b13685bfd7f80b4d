"""What a request may carry, checked once before any view runs (docs/inputs.md).

- JSON bodies: `NaN`, `Infinity` and numbers beyond a double (`1e1000000`) are refused, and so is nesting
  deeper than `MAX_JSON_DEPTH`; a body that does not parse is a 400 with a Chinese message, not a 500.
- Integer ids in URLs (`<int:pk>`) stop at the largest id a column holds: a longer one is a 404.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, Request, Response, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.meta.types import MAX_INTEGER

MAX_ID = MAX_INTEGER  # ids are INTEGER columns (32 bits on PostgreSQL)
MAX_JSON_DEPTH = 64  # the deepest real body (a document with lines and their links) is 4


class JsonRefused(ValueError):
    """A JSON body the app does not accept (its message is the key of the Chinese text)."""


def _refuse_constant(name: str) -> Any:
    raise JsonRefused("bad_json_number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JsonRefused("bad_json_number")
    return number


def _check_depth(value: Any) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH (walked without recursion; only objects and lists are visited:
    a batch of a thousand rows has ten thousand values)."""
    if not isinstance(value, dict | list):
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise JsonRefused("bad_json_depth")
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))


def loads_strict(text: str | bytes) -> Any:
    """json.loads that refuses what the app never accepts (non-finite numbers, deep nesting)."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise JsonRefused("bad_json_depth") from exc
    _check_depth(value)
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON with strict loading (request bodies); answers keep their keys in the order they were built
    (Flask sorts them: half the encoding time of a grid page of 100 rows, and no reader depends on the order)."""

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            return super().loads(s, **kwargs)
        return loads_strict(s)


class JxcRequest(Request):
    """A body that is not JSON where JSON is read (`request.json` in FAB's own APIs) is a 400 with a Chinese
    message, not Werkzeug's 415, which FAB's error wrapper answers with a 500."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        raise BadRequest(t("bad_json"))


class BoundedIntConverter(IntegerConverter):
    """`<int:pk>` that matches only ids a column can hold (a longer number is simply not found)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def json_object(required: bool = False) -> dict[str, Any]:
    """The request's JSON body as an object ({} when there is none and none is required); 422 otherwise."""
    body = request.get_json(silent=True)
    if body is None and not required:
        return {}
    if not isinstance(body, dict):
        raise ValidationFailed([CellError("_record", t("not_object"))])
    return body


def json_error(message: str, status: int) -> Response:
    """The API's error shape: {"message": ...} with the status."""
    response = jsonify({"message": message})
    response.status_code = status
    return response


def _limit_body() -> Any:
    """Bodies other than file uploads get the JSON limit; too large a body is refused before it is read."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.mimetype != "multipart/form-data":
        limit = min(limit, current_app.config["JXC_MAX_JSON_BYTES"])
        request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    return None


def _check_json_body() -> Any:
    """Parse a JSON body once, before the view: refused bodies answer 400 here (the view reads the cache)."""
    if (
        not request.is_json
        or not request.content_length
        and "chunked" not in request.headers.get("Transfer-Encoding", "")
    ):
        return None
    try:
        request.get_json()
    except BadRequest as exc:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, JsonRefused):
            cause = cause.__cause__ or cause.__context__
        return json_error(t(str(cause) if cause is not None else "bad_json"), 400)
    return None


def install_converters(app: Flask) -> None:
    """Before any route exists: bounded integer ids and the strict JSON provider."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.request_class = JxcRequest
    app.json_provider_class = StrictJSONProvider
    app.json = StrictJSONProvider(app)


def install_input_checks(app: Flask) -> None:
    """The size limit first of all hooks, then the JSON body check (errors answered by app/views/error_pages.py)."""
    # first of all hooks: CSRF protection reads the form, and nothing may read a body before it is limited
    app.before_request_funcs.setdefault(None, []).insert(0, _limit_body)
    app.before_request(_check_json_body)
