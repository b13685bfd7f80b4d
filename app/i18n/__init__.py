"""UI texts in zh_CN (first) and English, chosen by the request's locale.

One catalogue per language, `zh.yaml` and `en.yaml` beside this file: flat keys, `{name}` parameters.
Both hold the same keys with the same parameters (checked by tests/test_i18n.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
_HERE = Path(__file__).resolve().parent


def _load(locale: str) -> dict[str, str]:
    with open(_HERE / f"{locale}.yaml", encoding="utf-8") as handle:
        loaded = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when present
        return {str(key): str(text) for key, text in (loaded or {}).items()}


CATALOGUES: dict[str, dict[str, str]] = {locale: _load(locale) for locale in LOCALES}
MESSAGES = CATALOGUES[DEFAULT_LOCALE]  # every key (the catalogues hold the same ones)


_CHOSEN: ContextVar[str | None] = ContextVar("jxc_locale", default=None)


@contextmanager
def use_locale(locale: str | None) -> Iterator[None]:
    """Texts in `locale` inside the block, outside a request too (a command run for a user in English)."""
    token = _CHOSEN.set(locale if locale in LOCALES else None)
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def chosen_locale() -> str | None:
    """The locale chosen with `use_locale` (None when none was: a request's, or the default, is in force)."""
    return _CHOSEN.get()


def current_locale() -> str:
    """The locale chosen with `use_locale`, else the request's ('zh' or 'en'); zh outside a request."""
    chosen = _CHOSEN.get()
    if chosen is not None:
        return chosen
    # the request's locale once Flask-Babel has chosen it (it keeps it on `g` until `refresh()`), read without
    # Flask's proxies: a page or an API answer asks for it once per label, dozens of times
    from flask.globals import _cv_app, _cv_request

    app_ctx = _cv_app.get(None)
    if app_ctx is not None and _cv_request.get(None) is not None:
        chosen_by_babel = getattr(app_ctx.g.__dict__.get("_flask_babel"), "babel_locale", None)
        if chosen_by_babel is not None:
            return chosen_by_babel.language if chosen_by_babel.language in LOCALES else DEFAULT_LOCALE
    try:
        from flask import has_request_context
        from flask_babel import get_locale

        if has_request_context():
            locale = get_locale()
            if locale is not None and locale.language in LOCALES:
                return locale.language
    except Exception:  # pragma: no cover - babel not initialised (CLI)
        pass
    return DEFAULT_LOCALE


def t(key: str, locale: str | None = None, **params: Any) -> str:
    """Translate message `key` and fill in its parameters."""
    return CATALOGUES[locale or current_locale()][key].format(**params)


def join_list(items: Iterable[str], locale: str | None = None) -> str:
    """Items run together as the language lists them (、 in Chinese, ", " in English)."""
    return t("list_separator", locale).join(items)


def texts_for(key: str) -> dict[str, str]:
    """The text of `key` in every language, as a {zh, en} label (labels built in code, not in YAML)."""
    return {locale: CATALOGUES[locale][key] for locale in LOCALES}


def texts_under(prefix: str, locale: str | None = None) -> dict[str, str]:
    """Every key under `prefix` (the prefix taken off) with its unformatted text: what a page's script gets."""
    catalogue = CATALOGUES[locale or current_locale()]
    return {key[len(prefix) :]: text for key, text in catalogue.items() if key.startswith(prefix)}


def label(texts: dict[str, str] | None, fallback: str = "", locale: str | None = None) -> str:
    """Pick the text for the current locale from a {zh, en} mapping."""
    if not texts:
        return fallback
    loc = locale or current_locale()
    return texts.get(loc) or texts.get(DEFAULT_LOCALE) or texts.get("en") or fallback
