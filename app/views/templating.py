"""Template helpers: L(key) for page text, the texts a page's script needs, local times, model endpoints."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from app.clock import business_time
from app.i18n import MESSAGES, current_locale, t, texts_under
from app.meta.types import money_text, share_text
from app.views.changes import describe, model_label
from app.views.inbox import inbox_count
from app.views.menu import menu_html


def page_text(key: str, **params: object) -> str:
    """L(key, ...) in templates: a catalogue text (app/i18n) in the reader's language."""
    return t(key, **params)


def _pages_endpoint(model_key: str) -> str:
    return "".join(part.capitalize() for part in model_key.split("_")) + "Pages"


def action_label(action: str) -> str:
    """An audit action (create, submit ...) in the reader's language."""
    key = f"action.{action}"
    return t(key) if key in MESSAGES else action


def local_time(value: str | dt.datetime | None) -> str:
    """A stored UTC timestamp as the business's wall time, 'YYYY-MM-DD HH:MM'."""
    if not value:
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{business_time(moment):%Y-%m-%d %H:%M}"


def bell_unread() -> int | None:
    """The signed-in user's unread notifications for the bell in the page header (None: nobody signed in)."""
    from flask_login import current_user

    from app.extensions import db
    from app.schedules.notify import unread_count

    if not current_user or not current_user.is_authenticated:
        return None
    return unread_count(db.session, current_user.id)


def install_template_helpers(app: Flask) -> None:
    """Make L(), ui_texts(), ui_locale(), action labels, local times, audit changes and the pages_endpoint
    filter available in every template."""
    app.jinja_env.globals["L"] = page_text
    app.jinja_env.globals["ui_texts"] = texts_under
    app.jinja_env.globals["ui_locale"] = current_locale
    app.jinja_env.filters["pages_endpoint"] = _pages_endpoint
    app.jinja_env.filters["action_label"] = action_label
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["money"] = money_text  # money as read everywhere: 12,345,678.90 (the grid's numberText)
    app.jinja_env.filters["share"] = share_text  # a rate kept as a fraction, read as a person reads it: 33.33%
    app.jinja_env.filters["model_label"] = model_label
    app.jinja_env.globals["audit_describe"] = describe
    app.jinja_env.globals["inbox_count"] = inbox_count
    app.jinja_env.globals["bell_unread"] = bell_unread
    app.jinja_env.globals["menu_html"] = menu_html
