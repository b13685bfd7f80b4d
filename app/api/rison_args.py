"""Rison query arguments (`?q=(...)`), parsed and checked against a JSON schema compiled once.

FAB's own `@rison(schema)` validates the schema itself against the JSON-Schema metaschema on every request
(`jsonschema.validate`), a third of a list request's time; this keeps its behaviour (JSON accepted where rison
is not) with the validator built when the API class is, and answers a `q` it cannot take as every refused argument
is answered (422 on `q`, saying in the reader's language what is wrong with it) where FAB said 400 in English.
"""

from __future__ import annotations

import functools
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import jsonschema
import prison
from flask import Flask, g, request
from flask_appbuilder.const import API_URI_RIS_KEY

from app.api.responses import error_response
from app.errors import argument_refused
from app.i18n import t


def rison(schema: dict[str, Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Put the parsed `q` argument in kwargs['rison'] (400 when it does not parse or fit the schema)."""
    validator = jsonschema.validators.validator_for(schema)(schema)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            value = request.args.get(API_URI_RIS_KEY)
            parsed: Any = _parsed_in_request(value) if value else {}
            if parsed is _UNPARSED:
                return _not_rison(value)
            error = jsonschema.exceptions.best_match(validator.iter_errors(parsed))
            if error is not None:
                return error_response(argument_refused(API_URI_RIS_KEY, _schema_problem(error)))
            kwargs["rison"] = parsed
            return view(self, *args, **kwargs)

        return wrapper

    return decorate


_UNPARSED = object()


def _parsed(value: str) -> Any:
    """`q` as rison, else as JSON; `_UNPARSED` when it is neither."""
    try:
        return prison.loads(value)
    except Exception:  # noqa: BLE001 - prison fails on bad text in many ways: TypeError on `(a:`, RecursionError on `(((`
        try:
            return json.loads(urllib.parse.parse_qs(f"{API_URI_RIS_KEY}={value}")[API_URI_RIS_KEY][0])
        except (ValueError, KeyError, IndexError, RecursionError):
            return _UNPARSED


def _parsed_in_request(value: str) -> Any:
    """`_parsed`, once per request: `refuse_unreadable_q` reads `q` before the view's `@rison` does."""
    kept = g.get("jxc_q")
    if kept is None or kept[0] != value:
        kept = g.jxc_q = (value, _parsed(value))
    return kept[1]


def _schema_problem(error: jsonschema.exceptions.ValidationError) -> str:
    """What of `q` does not fit its schema, named by its path in `q` (page_size, filters.0.opr) with the value as it
    was written (rison)."""
    written = prison.dumps(error.instance)[:100]
    part = ".".join(str(step) for step in error.absolute_path)
    return t("q_bad_part", part=part, value=written) if part else t("q_not_object", value=written)


def _not_rison(value: str) -> Any:
    return error_response(argument_refused(API_URI_RIS_KEY, t("q_not_rison", value=value[:100])))


def refuse_unreadable_q() -> Any:
    """Before any API view: a `q` that is neither rison nor JSON is a 422 on `q`. FAB's own `@rison` (its security
    APIs) lets prison's TypeError on `(a:` and RecursionError on `(((` through to a 500."""
    if API_URI_RIS_KEY not in request.args:  # Werkzeug's get of a missing argument raises and catches a KeyError
        return None
    value = request.args[API_URI_RIS_KEY]
    if value and request.path.startswith("/api/") and _parsed_in_request(value) is _UNPARSED:
        return _not_rison(value)
    return None


def q_not_fitting() -> Any:
    """FAB's 400 for a `q` that does not fit its schema (its security APIs), as ours: a 422 on `q`, with `q` as written
    (FAB's own reason is English)."""
    value = request.args.get(API_URI_RIS_KEY, "")
    return error_response(argument_refused(API_URI_RIS_KEY, t("q_not_fitting", value=value[:100])))


def install_q_check(app: Flask) -> None:
    """`refuse_unreadable_q` before every request's view."""
    app.before_request(refuse_unreadable_q)
