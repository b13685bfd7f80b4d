"""/admin/schedules/: schedules (create, change, delete, run now) and the delivery log (runs, recipients, status,
errors, retry). Plain forms; each action goes through the same services as /api/v1/schedules/. An admin sees and
changes every schedule; anyone else their own reports to themselves (the form offers nothing else)."""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.api.schedules_api import schedule_json
from app.clock import business_timezone
from app.errors import ServiceError, ValidationFailed
from app.extensions import registry
from app.i18n import label, t, texts_under
from app.meta.types import FIELD_TYPES
from app.schedules import frequency, store
from app.schedules.cron import run_now
from app.schedules.reporting import report_label
from app.schedules.runs import retry, runs_of
from app.services.access.rights import Access
from app.services.records.query import field_label
from app.views.reports import param_form
from app.web.context import current_access, session
from reports.params import preset_named
from reports.runner import available

DEFAULT_PARAMS = {"report": "sales_order"}  # what a new schedule's form starts with


def when_values(form: Any) -> dict[str, Any]:
    """How often, as the frequency picker (jxc/_frequency.html) sends it: a frequency in words (`frequency`, made
    the cron by the store), or under 高级 the cron string as typed."""
    every = form.get("every", "cron")
    if every == "cron":
        return {"cron": form.get("cron", "")}
    picked = {
        "every": every,
        "time": form.get("time", ""),
        "weekdays": form.getlist("weekdays"),
        "day": form.get("day"),
    }
    return {"cron": None, "frequency": picked}


def _stored_params(text: str) -> dict[str, Any]:
    """The parameters the form was shown with (kept in it, not shown: a model listing's filters and sort)."""
    try:
        found = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def typed_params(form: Any) -> dict[str, Any]:
    """A non-admin's parameters as the form shows them: the report picked and its filters as typed, each by its own
    input (`p_<name>`, the report page's words: 本月, 按客户, K001); another report than the one the form showed
    starts with its defaults. What the form does not show (a listing's filters) is kept as stored."""
    kept = _stored_params(form.get("params", ""))
    report = form.get("report", "").strip()
    params = dict(kept) if report == kept.get("report") else {}
    params["report"] = report
    spec = registry().meta.reports.get(report)
    if spec is not None and report == form.get("shown_report"):
        for param in spec.params:
            value = form.get(f"p_{param.name}", "").strip()
            if value:
                params[param.name] = value
            else:
                params.pop(param.name, None)
    return params


def _form_values(access: Any) -> dict[str, Any]:
    form = request.form
    if not access.is_admin:  # a report to themselves: the form has no other choice to offer
        return {
            "name": form.get("name", "").strip(),
            "title": form.get("title", "").strip(),
            "kind": "report",
            **when_values(form),
            "params": typed_params(form),
            "recipients": [access.username],
            "skip_empty": "skip_empty" in form,
            "active": "active" in form,
        }
    return {
        "name": form.get("name", "").strip(),
        "title": form.get("title", "").strip(),
        "kind": form.get("kind", ""),
        **when_values(form),
        "params": form.get("params", ""),
        "recipients": form.getlist("recipients"),
        "addresses": form.get("addresses", ""),
        "robots": form.get("robots", ""),
        "external": "external" in form,
        "run_as": form.get("run_as", ""),
        "skip_empty": "skip_empty" in form,
        "active": "active" in form,
    }


def _as_text(value: Any) -> str:
    """A schedule's JSON value (params, robots) as the form shows it to be edited."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _form_texts(current: dict[str, Any]) -> dict[str, str]:
    """The form's text fields of a schedule, or of a refused form as it was typed (nothing typed is lost)."""
    addresses = current.get("addresses") or []
    return {
        "params": _as_text(current.get("params") or DEFAULT_PARAMS),
        "robots": _as_text(current.get("robots") or []),
        "addresses": addresses if isinstance(addresses, str) else ", ".join(addresses),
    }


def params_words(access: Access, params: Any) -> str:
    """What a schedule sends, as a person reads it: the report's label and its filters as its page shows them
    (销售分析（期间：本月；汇总方式：按客户）), a listing's by its fields' labels (销售订单（状态：已审核））: never
    its JSON."""
    if not isinstance(params, dict):
        return str(params or "")
    name = str(params.get("report") or "")
    words = []
    report = access.registry.meta.reports.get(name)
    model = access.registry.meta.models.get(name)
    if report is not None:
        for param in report.params:
            value = params.get(param.name)
            if value not in (None, ""):
                words.append(f"{label(param.label, param.name)}：{_param_text(param, str(value))}")
    elif model is not None:
        filters = params.get("filters")
        for field, value in filters.items() if isinstance(filters, dict) else ():
            spec = model.field(str(field))
            shown = value
            if spec is not None and value not in (None, ""):
                shown = FIELD_TYPES[spec.type].read_text(spec, value)
            words.append(f"{field_label(model, str(field))}：{shown}")
    title = report_label(access.registry, params)
    return f"{title}（{t('sentence_separator').join(words)}）" if words else title


def _param_text(param: Any, value: str) -> str:
    """A report parameter's value as the report's filter form shows it: a choice by its text, a period preset in
    words (本月)."""
    if param.type == "date_range":
        named = preset_named(value)
        return t(f"report.preset.{named}") if named else value
    return next((label(text, value) for option, text in param.options if option == value), value)


def _report_offer(access: Access, params: Any) -> dict[str, Any]:
    """A non-admin's choice of what to send: the reports they may run and the lists they may read (the schedule's
    own first), and the chosen report's filters as its page's form shows them (a listing's, in words)."""
    params = params if isinstance(params, dict) else {}
    current = str(params.get("report") or "")
    reports = [(r.key, label(r.label, r.key)) for r in available(access)]
    models = access.registry.meta.models
    lists = [(m.key, label(m.label, m.key)) for m in models.values() if not m.is_line and access.can(m.key, "read")]
    if current and current not in {key for key, _ in reports + lists}:
        reports.insert(0, (current, report_label(access.registry, params)))
    report = access.registry.meta.reports.get(current)
    shown = {str(k): str(v) for k, v in params.items() if k != "report"}
    return {
        "current": current,
        "reports": reports,
        "lists": lists,
        "fields": param_form(report, shown) if report is not None else [],
        "words": "" if report is not None or not current else params_words(access, params),
    }


def _message(exc: ServiceError) -> str:
    if isinstance(exc, ValidationFailed):
        return "；".join(e.message for e in exc.errors)
    return exc.message


class SchedulesView(BaseView):
    """The schedules page and its delivery log (every signed-in user: their own; admins: all)."""

    route_base = "/admin/schedules"
    class_permission_name = "Meta"
    method_permission_name = {"index": "read", "save": "read", "delete": "read", "run": "read", "retry_run": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """Schedules, the form (a new one, or `?edit=<id>`), and the latest runs."""
        editing = request.args.get("edit", type=int)
        return self._page(lambda items: next((s for s in items if s["id"] == editing), None))

    def _page(self, pick_current: Any) -> Any:
        """The page, its form filled with `pick_current(schedules)` (a schedule, a refused form's values or None)."""
        access = current_access()
        items = [schedule_json(s) for s in store.visible_schedules(session(), access)]
        for item in items:
            item["content"] = params_words(access, item["params"]) if item["kind"] == "report" else ""
        current = pick_current(items)
        return self.render_template(
            "jxc/schedules.html",
            schedules=items,
            current=current,
            texts=_form_texts(current or {}),
            offer=None if access.is_admin else _report_offer(access, (current or {}).get("params") or DEFAULT_PARAMS),
            users=store.recipients_offered(session(), access),
            picker=frequency.picked(current),
            zone=business_timezone(),
            kinds=store.KINDS if access.is_admin else ("report",),
            is_admin=access.is_admin,
            runs=runs_of(session(), access, limit=50),
            words={part: texts_under(f"schedules.{part}.") for part in ("kind", "robot", "channel")},
        )

    @expose("/save", methods=["POST"])
    @has_access
    def save(self) -> Any:
        """Create, or change the schedule named by the form's `id`."""
        pk = request.form.get("id", type=int)
        values = _form_values(current_access())
        try:
            item = store.save(session(), current_access(), values, pk)
            session().commit()
            flash(t("saved"), "success")
            for warning in store.save_warnings(session(), item):
                flash(warning, "warning")
        except ServiceError as exc:
            session().rollback()
            flash(_message(exc), "danger")
            # the form again as typed, refused: a redirect showed the stored schedule (or an empty form) instead
            return self._page(lambda _items: {**values, "id": pk} if pk else values)
        return redirect(url_for("SchedulesView.index"))

    @expose("/<int:pk>/delete", methods=["POST"])
    @has_access
    def delete(self, pk: int) -> Any:
        """Delete a schedule (an admin any, anyone else their own)."""
        return _acted(lambda: store.delete(session(), current_access(), pk), t("schedules.deleted"))

    @expose("/<int:pk>/run", methods=["POST"])
    @has_access
    def run(self, pk: int) -> Any:
        """Run now; the log below shows it."""
        return _acted(
            lambda: run_now(session(), store.mine(session(), current_access(), pk)), t("schedules.run_started")
        )

    @expose("/runs/<int:run_id>/retry", methods=["POST"])
    @has_access
    def retry_run(self, run_id: int) -> Any:
        """Send again what a failed run did not deliver."""
        return _acted(lambda: retry(session(), current_access(), run_id), t("schedules.run_started"))


def _acted(work: Any, done: str) -> Any:
    """A button of the page: do it and commit, saying `done`, or roll back saying why; the page again either way."""
    try:
        work()
        session().commit()
        flash(done, "success")
    except ServiceError as exc:
        session().rollback()
        flash(_message(exc), "danger")
    return redirect(url_for("SchedulesView.index"))
