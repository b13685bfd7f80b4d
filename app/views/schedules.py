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
from app.i18n import t, texts_under
from app.schedules import frequency, store
from app.schedules.cron import run_now
from app.schedules.runs import retry, runs_of
from app.web.context import current_access, session


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


def _form_values(access: Any) -> dict[str, Any]:
    form = request.form
    if not access.is_admin:  # a report to themselves: the form has no other choice to offer
        return {
            "name": form.get("name", "").strip(),
            "title": form.get("title", "").strip(),
            "kind": "report",
            **when_values(form),
            "params": form.get("params", ""),
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
        "params": _as_text(current.get("params") or {"report": "sales_order"}),
        "robots": _as_text(current.get("robots") or []),
        "addresses": addresses if isinstance(addresses, str) else ", ".join(addresses),
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
        current = pick_current(items)
        return self.render_template(
            "jxc/schedules.html",
            schedules=items,
            current=current,
            texts=_form_texts(current or {}),
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
