"""The landing page: the menu of models the user may open, grouped like the main menu."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, IndexView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user

from app.errors import ServiceError
from app.extensions import registry
from app.i18n import label, t
from app.services.money.reorder import alerts, create_purchase_orders
from app.views.inbox import request_waiting
from app.web.context import current_access, session
from reports.dashboard import dashboard
from reports.views import reorder_suggestions

HOME_ALERTS = 10  # low-stock and overstock items listed on the home page (with the count of all)


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
        stock_alerts = alerts(session(), access, first=HOME_ALERTS) if access.can("item", "read") else {}
        warehouses = registry().cls("warehouse")
        return self.render_template(
            self.index_template,
            groups=groups,
            company=company,
            user=current_user,
            alerts=stock_alerts,
            can_reorder=access.can("purchase_order", "write"),
            warehouses=[w.code for w in session().query(warehouses).order_by(warehouses.code)],
            dash=dashboard(session(), access, waiting=request_waiting()),
        )


class ReorderView(BaseView):
    """POST /reorder/orders: the home page's one click from suggestions to draft purchase orders."""

    route_base = "/reorder"
    class_permission_name = "PurchaseOrder"
    method_permission_name = {"index": "read", "orders": "write"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """补货建议: every item below its reorder point with the quantity to order, and overstock."""
        access = current_access()
        try:
            found = reorder_suggestions(session(), access)  # the reorder report, run as the reader
        except ServiceError as exc:
            return self.render_template("jxc/report_refused.html", message=exc.message), exc.status
        warehouses = registry().cls("warehouse")
        return self.render_template(
            "jxc/reorder.html",
            suggestions=[row | {"supplier": row["supplier_name"]} for row in found],
            alerts=alerts(session(), access),
            warehouses=[w.code for w in session().query(warehouses).order_by(warehouses.code)],
            can_order=access.can("purchase_order", "write"),
        )

    @expose("/orders", methods=["POST"])
    @has_access
    def orders(self) -> Any:
        """Create the drafts and say what was made."""
        try:
            result = create_purchase_orders(session(), current_access(), request.form.get("warehouse", "WH01"))
        except ServiceError as exc:
            session().rollback()
            flash(exc.message, "danger")
            return redirect("/")
        numbers = ", ".join(order["number"] for order in result["orders"]) or "-"
        flash(
            t("reorder_done", numbers=numbers, skipped=", ".join(result["skipped_without_supplier"]) or "-"), "success"
        )
        return redirect("/m/purchase_order/")
