"""The landing page: the menu of models the user may open, grouped like the main menu."""

from __future__ import annotations

from typing import Any

from flask import redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_login import current_user

from app.i18n import label
from app.services.context import current_access, registry, session
from app.services.reorder import alerts


class HomeView(IndexView):
    """Index page: shortcuts to every model the user may read."""

    route_base = ""
    default_view = "index"
    index_template = "jxc/home.html"

    @expose("/")
    def index(self) -> Any:
        """Dashboard for signed-in users; the login page otherwise."""
        if not current_user.is_authenticated:
            return redirect(url_for("AuthDBView.login"))
        access = current_access()
        meta = registry().meta
        groups = []
        for menu in meta.menus:
            items = [
                {"key": key, "label": label(meta.models[key].label, key)}
                for key in menu.models
                if access.can(key, "read")
            ]
            if items:
                groups.append({"label": label(menu.label, menu.key), "items": items})
        company = meta.settings.get("company", {})
        stock_alerts = alerts(session(), access) if access.can("item", "read") else {"low": [], "overstock": []}
        return self.render_template(
            self.index_template, groups=groups, company=company, user=current_user, alerts=stock_alerts
        )
