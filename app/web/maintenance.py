"""Maintenance mode for every request while a restore runs, and fresh connections after it switched.

Runs before every other hook: during a restore nothing may open a transaction on the database being
replaced. Pages get a Chinese 503 page that reloads itself; the API a JSON 503 with `Retry-After`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template, request

from app.backups.maintenance import generation, maintenance, settle_connections
from app.i18n import t
from app.web.context import probing

RETRY_SECONDS = 10


def _check() -> Any:
    if request.path.startswith("/static/"):
        return None
    instance = current_app.config["INSTANCE_PATH"]
    if maintenance(instance) is not None:
        if request.path.startswith("/api/") or probing():
            response = jsonify({"message": t("backup.maintenance")})
        else:
            response = current_app.make_response(
                render_template("jxc/maintenance.html", message=t("backup.maintenance"), retry=RETRY_SECONDS)
            )
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_SECONDS)
        return response
    settle_connections(current_app._get_current_object())  # type: ignore[attr-defined]
    return None


def install_maintenance(app: Flask) -> None:
    """Put the maintenance check first among the request hooks."""
    app.extensions["jxc_db_generation"] = generation(app.config["INSTANCE_PATH"])
    app.before_request_funcs.setdefault(None, []).insert(0, _check)
