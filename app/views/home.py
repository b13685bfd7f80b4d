"""The landing page: the menu of models the user may open, grouped like the main menu."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, IndexView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user

from app.errors import ServiceError, ValidationFailed
from app.extensions import registry
from app.i18n import label, t
from app.services.money.reorder import alerts
from app.services.posting.worklist import worklist
from app.services.records.serialize import user_name
from app.views.inbox import request_waiting
from app.views.list_filters import filter_query
from app.web.context import current_access, session
from reports.context import Page
from reports.dashboard import dashboard
from reports.views import REORDER_INLINE, order_suggestions, reorder_suggestions

HOME_ALERTS = 10  # low-stock and overstock items listed on the home page (with the count of all)
REORDER_PAGE = 50  # suggestions a page of /reorder/ shows
REORDER_FILTERS = ("warehouse", "supplier", "category")


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
        waiting = [
            block | {"href": _list_href(block["model"], block["filters"])} for block in worklist(session(), access)
        ]
        return self.render_template(
            self.index_template,
            groups=groups,
            company=company,
            user=current_user,
            user_label=user_name(current_user),  # 欢迎，李销售 as the menu names them, not their login sp1
            alerts=stock_alerts,
            waiting=waiting,  # 待入库 / 待出库: the orders whose goods wait, in the reader's scope
            can_reorder=access.can("purchase_order", "write"),
            warehouses=[w.code for w in session().query(warehouses).order_by(warehouses.code)],
            # the alerts counted the items below their reorder point already: the tile shows that count
            dash=dashboard(session(), access, waiting=request_waiting(), below_reorder=stock_alerts.get("low_count")),
        )


def _list_href(model_key: str, filters: list[Any]) -> str:
    """The model's list page filtered by these filters (its URL's `filter=` arguments)."""
    return f"{url_for(registry().model(model_key).class_name + 'Pages.list')}?{filter_query(filters)}"


class ReorderView(BaseView):
    """/reorder/: 补货建议 a page at a time with filters; POST /reorder/orders drafts purchase orders for the
    items ticked, or for every suggestion within the filters (a job when there are many)."""

    route_base = "/reorder"
    class_permission_name = "PurchaseOrder"
    method_permission_name = {"index": "read", "orders": "write"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """补货建议: the items below their reorder point with the quantity to order (A items first, then by SKU),
        REORDER_PAGE at a time, narrowed by warehouse, default supplier or category; and the overstock."""
        access = current_access()
        filters = {name: request.args[name].strip() for name in REORDER_FILTERS if request.args.get(name, "").strip()}
        page = max(request.args.get("page", default=1, type=int), 1)
        window = Page.numbered(page, REORDER_PAGE)
        error = None
        try:  # the reorder report, run as the reader, one page of it
            found, count = reorder_suggestions(session(), access, filters, window)
        except ValidationFailed as exc:  # a code that names nothing: said, with the filters to correct
            found, count, error = [], 0, "; ".join(e.message for e in exc.errors)
        except ServiceError as exc:
            return self.render_template("jxc/report_refused.html", message=exc.message), exc.status
        reg = registry()
        warehouses, categories = reg.cls("warehouse"), reg.cls("category")
        first = window.offset
        return self.render_template(
            "jxc/reorder.html",
            suggestions=[row | {"supplier": row["supplier_name"]} for row in found],
            count=count,
            page=page,
            pages=max((count + REORDER_PAGE - 1) // REORDER_PAGE, 1),
            shown=(first + 1, first + len(found)),
            filters=filters,
            error=error,
            inline=REORDER_INLINE,
            alerts=alerts(session(), access, first=REORDER_PAGE),
            warehouses=[(w.code, w.name) for w in session().query(warehouses).order_by(warehouses.code)],
            categories=[(c.code, c.name) for c in session().query(categories).order_by(categories.code)],
            can_order=access.can("purchase_order", "write"),
        )

    @expose("/orders", methods=["POST"])
    @has_access
    def orders(self) -> Any:
        """Create the drafts for the items ticked (`items`) or every suggestion within the filters, and say what
        was made (or which job makes them)."""
        selected = request.form.get("scope") == "selected"  # else every suggestion (the home page's one click)
        items = request.form.getlist("items") if selected else None
        filters = {name: request.form[name] for name in REORDER_FILTERS if request.form.get(name)}
        back = url_for("ReorderView.index", **filters)
        if selected and not items:
            flash(t("reorder_nothing_asked"), "danger")
            return redirect(back)
        try:
            result = order_suggestions(session(), current_access(), request.form.get("warehouse"), items, filters)
        except ServiceError as exc:
            session().rollback()
            flash(exc.message, "danger")
            return redirect(back)
        if "job_id" in result:
            session().commit()
            flash(t("reorder_job", count=result["suggestions"], job=result["job_id"]), "success")
            return redirect("/jobs/")
        # what was made, then what was not (items without a default supplier), each said only when there is one
        said = [t("reorder_done", numbers=", ".join(order["number"] for order in result["orders"]))]
        said = said if result["orders"] else []
        if result["skipped_without_supplier"]:
            said.append(t("reorder_skipped", skipped=", ".join(result["skipped_without_supplier"])))
        flash("；".join(said), "success" if result["orders"] else "warning")
        return redirect("/m/purchase_order/")
