"""Admin and money pages: add fields without code (uses the meta API), the global audit trail, settings,
partner accounts and the cash accounts."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.sqla.models import User

from app.clock import business_today
from app.errors import Forbidden, NotFound, ServiceError, ValidationFailed
from app.extensions import registry
from app.i18n import label, t
from app.meta.spec import FIGURES, MEASURES, SIDE_FIGURE
from app.meta.types import FIELD_TYPES
from app.services.money.cash import ZERO, account_balances
from app.services.money.receivables import (
    PAYABLE,
    RECEIVABLE,
    readable_sides,
)
from app.services.records.audit_read import recent_audit
from app.services.records.query import get_row
from app.services.records.runtime_fields import existing_rows
from app.services.records.serialize import user_name
from app.services.records.settings import policies, set_policy
from app.services.users.access import WRITES_LEFT_OUT, not_in_force
from app.services.users.accounts import UserError, assign_places, department_code, warehouse_codes
from app.views.changes import PLATFORM_TABLES, model_label, read_links
from app.views.forms import section_label
from app.views.labels import role_label, type_label
from app.web.context import current_access, session
from reports.views import overdue_customers, partner_account, supplier_scorecard


class FieldsAdminView(BaseView):
    """/admin/fields: pick a model, see its fields, add one (POSTs to /api/v1/meta/<model>/fields)."""

    route_base = "/admin/fields"
    class_permission_name = "Meta"
    method_permission_name = {"index": "write"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """The field editor."""
        meta = registry().meta
        models = [m for m in meta.models.values() if m.kind != "ledger"]
        selected = meta.models.get(request.args.get("model", "item")) or models[0]
        return self.render_template(
            "jxc/fields.html",
            models=[(m.key, label(m.label, m.key)) for m in models],
            selected=selected,
            fields=[
                {
                    "name": f.name,
                    "label": label(f.label, f.name),
                    "type": type_label(f.type),
                    "origin": f.origin,
                    "required": f.required,
                }
                for f in selected.fields
                if not f.system
            ],
            types=[(name, type_label(name)) for name in FIELD_TYPES if name != "lines"],
            link_models=[(m.key, label(m.label, m.key)) for m in models if not m.is_line],
            roles=[(r.key, label(r.label, r.key)) for r in meta.roles.values()],
            writes_left_out=WRITES_LEFT_OUT,
            figures=[(kind, t(f"figure.{kind}")) for kind in (*FIGURES, SIDE_FIGURE)],
            measures=[(measure, t(f"measure.{measure}")) for measure in MEASURES],
            sections=[(key, section_label(key)) for key in dict.fromkeys(f.section for f in selected.data_fields)],
            rows=existing_rows(session(), registry(), selected.key),
        )


class UserWarehousesView(BaseView):
    """/admin/user-warehouses/: which warehouses each user works in (the 'my_warehouses' row scope) and
    the department each belongs to (what roles set to see their department's data see)."""

    route_base = "/admin/user-warehouses"
    class_permission_name = "Meta"
    method_permission_name = {"index": "write", "save": "write"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """Users with their roles and warehouses."""

        warehouse, department = registry().cls("warehouse"), registry().cls("department")
        users = session().query(User).order_by(User.username).all()
        return self.render_template(
            "jxc/user_warehouses.html",
            users=[
                {
                    "id": u.id,
                    "username": u.username,
                    "name": user_name(u),
                    "roles": "、".join(role_label(r.name) for r in u.roles),
                    "warehouses": set(warehouse_codes(u.id)),
                    "department": department_code(u.id),
                }
                for u in users
            ],
            warehouses=[(w.code, w.name) for w in session().query(warehouse).order_by(warehouse.code)],
            departments=[(d.code, d.name) for d in session().query(department).order_by(department.code)],
        )

    @expose("/<int:user_id>", methods=["POST"])
    @has_access
    def save(self, user_id: int) -> Any:
        """Replace one user's warehouses and department."""
        try:
            warehouses, department = request.form.getlist("warehouse"), request.form.get("department", "")
            assign_places(user_id, warehouses, department, current_access())
            flash(t("saved"), "success")
        except UserError as exc:
            session().rollback()
            flash(str(exc), "danger")
        return redirect(url_for("UserWarehousesView.index"))


class SettingsView(BaseView):
    """/admin/settings/: the policy switches (each change audited)."""

    route_base = "/admin/settings"
    class_permission_name = "Meta"
    method_permission_name = {"index": "write", "save": "write"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """The switches with their values in force."""
        meta = registry().meta
        return self.render_template(
            "jxc/settings.html",
            policies=policies(session(), registry()),
            roles=[(r.key, label(r.label, r.key)) for r in meta.roles.values()],
            writes_left_out=WRITES_LEFT_OUT,
            # 价格屏蔽 stored before it was checked, found at start-up to lock roles out: not in force for them
            # stored before it was checked, found to lock roles out: 价格屏蔽 for them, their writes (not in force)
            not_in_force=not_in_force(),
        )

    @expose("/<key>", methods=["POST"])
    @has_access
    def save(self, key: str) -> Any:
        """Change one switch from its form."""
        current = next((p for p in policies(session(), registry()) if p.key == key), None)
        if current is None:
            return redirect(url_for("SettingsView.index"))
        if isinstance(current.default, bool):
            value: Any = "value" in request.form
        elif isinstance(current.default, list):
            value = request.form.getlist("value")
        else:
            value = request.form.get("value", "")
        try:
            set_policy(session(), current_access(), key, value)
            flash(t("saved"), "success")
        except ServiceError as exc:
            session().rollback()
            refused = "；".join(e.message for e in exc.errors) if isinstance(exc, ValidationFailed) else exc.message
            flash(refused, "danger")  # every reason at once (价格屏蔽: each model and field it would lock)
        return redirect(url_for("SettingsView.index"))


class AuditView(BaseView):
    """/admin/audit: every committed change, newest first."""

    route_base = "/admin/audit"
    class_permission_name = "Audit"
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """The audit trail page."""
        page = max(request.args.get("page", 0, type=int), 0)
        model_key = request.args.get("model") or None
        rows = recent_audit(session(), current_access(), page, 50, model_key)
        read_links(rows)
        keys = [m.key for m in registry().meta.models.values()] + list(PLATFORM_TABLES)
        return self.render_template(
            "jxc/audit.html",
            rows=rows,
            page=page,
            model_key=model_key or "",
            models=[(key, model_label(key)) for key in keys],
        )


class AccountsView(BaseView):
    """/accounts/<partner id>: a partner's receivable, payable, ageing and statement (对账单); /accounts/overdue.
    Both are views of the report runner (reports/views.py)."""

    route_base = "/accounts"
    class_permission_name = "Partner"
    method_permission_name = {"partner": "read", "overdue": "read", "dunning": "read"}

    @expose("/overdue")
    @has_access
    def overdue(self) -> Any:
        """催款: customers past their payment terms, most overdue first, with their ageing."""
        try:
            rows = overdue_customers(session(), current_access(), business_today())
        except Forbidden:
            abort(403)
        # 催款 on each row, as on the customer's account page: whoever reads receivables (the dunning view's check)
        may_dun = RECEIVABLE in readable_sides(current_access())
        return self.render_template("jxc/overdue.html", rows=rows, may_dun=may_dun)

    @expose("/<int:pk>")
    @has_access
    def partner(self, pk: int) -> Any:
        """The account page of one partner the user may see."""
        access, reg = current_access(), registry()
        try:
            row = get_row(session(), access, reg.model("partner"), pk)
        except NotFound:
            abort(404)
        requested = request.args.get("side")
        try:
            account = partner_account(
                session(), access, row, requested if requested in (RECEIVABLE, PAYABLE) else None, business_today()
            )
        except Forbidden:
            abort(403)
        scorecard = None
        if row.kind in ("supplier", "both"):
            with contextlib.suppress(Forbidden):  # the account shows without a scorecard the reader may not see
                scorecard = supplier_scorecard(session(), access, pk)
        reminders = None
        if row.kind in ("customer", "both") and RECEIVABLE in readable_sides(access):
            from app.schedules.dunning import reminders_of

            reminders = reminders_of(session(), pk)
        return self.render_template(
            "jxc/account.html",
            partner=row,
            account=account,
            sides=readable_sides(access),
            scorecard=scorecard,
            reminders=reminders,
        )

    @expose("/<int:pk>/dunning", methods=["POST"])
    @has_access
    def dunning(self, pk: int) -> Any:
        """立即催款: mail the customer what is overdue now (the 催款 schedule's path); the answer as a message."""
        from app.schedules.dunning import send_now

        try:
            _run_id, message = send_now(session(), current_access(), pk)
            flash(message, "success")
        except NotFound:
            abort(404)
        except Forbidden:
            abort(403)
        except ServiceError as exc:
            session().rollback()
            flash(exc.summary if isinstance(exc, ValidationFailed) and exc.summary else exc.message, "danger")
        if request.form.get("back") == "overdue":  # asked from the 逾期应收 list: back to it
            return redirect(url_for("AccountsView.overdue"))
        return redirect(url_for("AccountsView.partner", pk=pk))


class CashView(BaseView):
    """/cash/: 资金账户 — what each cash and bank account holds."""

    route_base = "/cash"
    class_permission_name = "Account"
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """Each account's opening balance, money in and out over submitted payments, and balance."""
        try:
            rows = account_balances(session(), current_access())
        except Forbidden:
            abort(403)
        total = sum((r.balance for r in rows), ZERO)
        kind = registry().model("account").field("kind")
        kinds = {o.value: label(o.label, o.value) for o in kind.options} if kind is not None else {}
        return self.render_template("jxc/cash.html", rows=[r.as_json() for r in rows], kinds=kinds, total=total)
