"""The language each user chose, remembered across sessions and devices."""

from __future__ import annotations

from typing import Any

from flask import Flask, request, session
from flask_login import current_user, user_logged_in
from sqlalchemy import delete, insert, select

from app.extensions import db
from app.i18n import LOCALES
from app.services.access.tables import user_pref


def _remember_choice(response: Any) -> Any:
    """After FAB's /lang/<locale> switch, store the choice for the signed-in user."""
    if request.endpoint == "LocaleView.index" and current_user.is_authenticated:
        locale = session.get("locale")
        if locale in LOCALES:
            db.session.execute(delete(user_pref).where(user_pref.c.user_id == current_user.id))
            db.session.execute(insert(user_pref).values(user_id=current_user.id, locale=locale))
            db.session.commit()
    return response


def _restore_choice(_app: Any, user: Any) -> None:
    """On login, switch to the user's remembered language."""
    locale = db.session.execute(select(user_pref.c.locale).where(user_pref.c.user_id == user.id)).scalar()
    if locale in LOCALES:
        session["locale"] = locale


def install_language_memory(app: Flask) -> None:
    """Hook the two halves into the app."""
    app.after_request(_remember_choice)
    user_logged_in.connect(_restore_choice, app)
