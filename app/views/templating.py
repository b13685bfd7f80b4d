"""Template helpers: L(zh, en) for page text, model endpoints."""

from __future__ import annotations

from flask import Flask

from app.i18n import current_locale


def _l(zh: str, en: str) -> str:
    return zh if current_locale() == "zh" else en


def _pages_endpoint(model_key: str) -> str:
    return "".join(part.capitalize() for part in model_key.split("_")) + "Pages"


def install_template_helpers(app: Flask) -> None:
    """Make L() and the pages_endpoint filter available in every template."""
    app.jinja_env.globals["L"] = _l
    app.jinja_env.filters["pages_endpoint"] = _pages_endpoint
