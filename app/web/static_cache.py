"""Static files the browser keeps: every url_for() of a static file (ours and FAB's) carries a hash of the file's
content (?v=...), and a request naming the current hash is answered as cacheable for a year.

A page opened again then takes its scripts and styles from the browser's cache without asking the server
whether they changed (without this, each of a grid page's ~35 files was one more round trip to a one-worker
server before the page's own requests). A changed file has another hash, so another address: nobody keeps an
old copy. Images and fonts named without their hash (a relative url() inside a style sheet: FAB's flags and
icon fonts) are kept for a day; other files named without their hash are revalidated as before.

Templates' `url_for` of a static file (~25 on every page: FAB's layout, ours) answers the address built the first
time for the same file as long as its modification time and size are the same (`static_url`): building it through
Werkzeug's routing and this module's defaults took ~20-40 us each, a quarter of a plain page's Python.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask, current_app, has_request_context, request, url_for
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
DAY = 24 * 3600
KEPT_A_DAY = (".png", ".gif", ".jpg", ".svg", ".ico", ".woff", ".woff2", ".ttf", ".eot")
_hashes: dict[tuple[str, float, int], str] = {}  # (path, mtime, size) -> the content's short hash
_urls: dict[tuple[str, str, str], tuple[str | None, tuple[int, int], str]] = {}  # see static_url
URLS_KEPT = 4096


def _folder(app: Flask, endpoint: str) -> str | None:
    if endpoint == "static":
        return app.static_folder
    if endpoint.endswith(".static"):
        blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
        return blueprint.static_folder if blueprint else None
    return None


def serves_static(endpoint: str) -> bool:
    """Is the endpoint one that serves a static folder (the app's or a blueprint's)?"""
    return _folder(current_app, endpoint) is not None


def file_version(app: Flask, endpoint: str, filename: str) -> str | None:
    """The short hash of a static file's content (None: no such file); read once per file version."""
    folder = _folder(app, endpoint)
    path = safe_join(folder, filename) if folder else None
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (path, stat.st_mtime, stat.st_size)
    if key not in _hashes:
        with open(path, "rb") as f:
            _hashes[key] = hashlib.sha256(f.read()).hexdigest()[:12]
    return _hashes[key]


def _add_version(endpoint: str, values: dict[str, Any]) -> None:
    filename = values.get("filename")
    if "v" in values or not isinstance(filename, str) or _folder(current_app, endpoint) is None:
        return
    version = file_version(current_app, endpoint, filename)
    if version:
        values["v"] = version


def _keep_versioned(response: Any) -> Any:
    endpoint = request.endpoint or ""
    if response.status_code not in (200, 304) or _folder(current_app, endpoint) is None:
        return response
    filename = (request.view_args or {}).get("filename", "")
    version = request.args.get("v")
    if version and version == file_version(current_app, endpoint, filename):
        age = YEAR
    elif not version and filename.lower().endswith(KEPT_A_DAY):
        age = DAY
    else:
        return response
    response.cache_control.no_cache = None
    response.cache_control.public = True
    response.cache_control.max_age = age
    response.cache_control.immutable = age == YEAR
    return response


def static_url(endpoint: str, **values: Any) -> str:
    """`url_for` as templates call it, a static file's address kept: (endpoint, filename, the request's script
    root) -> (its path, (mtime in ns, size) when built, the address). A file changed on disk (another time or
    size) is built again, with its new hash; anything but a static file's plain address goes to `url_for`."""
    filename = values.get("filename")
    if len(values) != 1 or not isinstance(filename, str) or not has_request_context():
        return url_for(endpoint, **values)
    key = (endpoint, filename, request.script_root)
    kept = _urls.get(key)
    if kept is None:
        folder = _folder(current_app, endpoint)
        path = safe_join(folder, filename) if folder else None
    else:
        path = kept[0]
    if path is None:
        return url_for(endpoint, **values)
    try:
        stat = os.stat(path)
    except OSError:
        return url_for(endpoint, **values)
    seen = (stat.st_mtime_ns, stat.st_size)
    if kept is None or kept[1] != seen:
        if len(_urls) >= URLS_KEPT:
            _urls.clear()
        kept = _urls[key] = (path, seen, url_for(endpoint, **values))
    return kept[2]


def install_static_cache(app: Flask) -> None:
    """Version the addresses of static files, let the browser keep the versioned ones, and keep the addresses
    templates build."""
    app.url_defaults(_add_version)
    app.after_request(_keep_versioned)
    app.jinja_env.globals["url_for"] = static_url
