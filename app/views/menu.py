"""The navigation menu, rendered once per permission set, language and metadata version instead of on every
page: drawing it asked FAB's `has_access` for each of its ~55 entries, about half of a page's time. What the
menu shows depends on nothing else (each entry is shown when the user's roles grant `menu_access` on it), so
users with the same rights share one rendering; the 待审批 count is put into it per request."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template
from markupsafe import Markup

from app.extensions import registry
from app.i18n import current_locale
from app.views.inbox import inbox_count
from app.web.context import request_user

BADGE = "<!--jxc-inbox-badge-->"  # where jxc/_menu.html puts the 待审批 count
LIMIT = 256  # renderings kept; the cache starts over when full (a handful of role sets in practice)
_rendered: dict[tuple[Any, ...], str] = {}


def menu_html() -> Markup:
    """The menu of this request's user, with the count of documents waiting for their approval."""
    key = (current_locale(), registry().version, _rights())
    html = _rendered.get(key)
    if html is None:
        if len(_rendered) >= LIMIT:
            _rendered.clear()
        html = _rendered[key] = render_template("jxc/_menu.html", menu=current_app.appbuilder.menu)
    if BADGE in html:
        waiting = inbox_count()
        html = html.replace(BADGE, f' <span class="badge jxc-inbox-badge">{int(waiting)}</span>' if waiting else "")
    return Markup(html)  # noqa: S704 - our own template's output, the count an integer


def _rights() -> frozenset[tuple[str, str]]:
    """The (permission, view) pairs that decide what the menu shows: the signed-in user's, else the public
    role's."""
    sm = current_app.appbuilder.sm
    user = request_user()
    if user is not None:
        return frozenset(sm.request_permissions(user)) if user.is_active else frozenset()
    return frozenset((p.permission.name, p.view_menu.name) for p in sm.get_public_permissions() or [])
