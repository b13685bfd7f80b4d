"""/reports/: the reports the reader may run, each report's page (filters, grid with totals, chart, drill-down,
export) and its print view. The page's script asks /api/v1/reports/<name> for the same answer the API gives."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.sqla.models import User
from flask_login import current_user
from sqlalchemy import select

from app.clock import business_timezone
from app.errors import ServiceError
from app.i18n import label, t, texts_under
from app.jobs.kinds import get_kind
from app.meta.reports import PRESETS, ReportSpec
from app.meta.types import is_no_address
from app.schedules import store
from app.schedules.frequency import picked
from app.web.context import current_access, session
from reports.output import heading_lines
from reports.params import OFFERS, blank_named, needed, offered_help, offered_options, preset_named, takes_blank
from reports.runner import as_json, available, find, run_report


def param_form(report: ReportSpec, args: dict[str, str]) -> list[dict[str, Any]]:
    """What the filter form shows for each parameter: its input, choices and the value asked for."""
    fields = []
    for param in report.params:
        choices = [(v, label(text, v)) for v, text in offered_options(current_access(), report, param)]
        if param.type == "select" and param.default is None:  # a filter that may be left open
            choices.insert(0, ("", t("report.any")))
        if param.type == "select" and takes_blank(report, param):  # ... or ask for the rows without a value
            choices.insert(1, (t("report.blank"), t("report.blank")))
        value = args.get(param.name, param.default if param.type in ("select", "date_range") else "") or ""
        if blank_named(value):  # a drill-down's （未填）, shown in the reader's words
            value = t("report.blank")
        if param.type == "date_range":  # the presets are offered and shown as words (本月), which parse back
            choices = [(t(f"report.preset.{p}"), t(f"report.preset.{p}")) for p in PRESETS]
            named = preset_named(value)
            value = t(f"report.preset.{named}") if named else value
        fields.append(
            {
                "name": param.name,
                "type": param.type,
                "label": label(param.label, param.name),
                "choices": choices,
                "value": value,
                # a user filter offers whom the reader may filter by as they type (业务员: a salesperson themselves),
                # a link filter the rows it may name (客户: a salesperson's own customers; 仓库: a keeper's own)
                "lookup": f"/api/v1/reports/{report.key}/lookup?param={param.name}" if param.type in OFFERS else "",
            }
        )
    return fields


def _schedule_box(report: ReportSpec) -> dict[str, Any]:
    """What the page's 定时发送 offers: how often (每周一 08:00 to start with), to whom (the reader themselves, by
    their address or the sentence that they have none; an admin any user), in the business's time."""
    access = current_access()
    email = session().execute(select(User.email).where(User.username == access.username)).scalar()
    return {
        "me": access.username,
        "admin": access.is_admin,
        "email": None if email is None or is_no_address(email) else email,
        "users": store.recipients_offered(session(), access) if access.is_admin else [],
        "picker": picked({"cron": "0 8 * * 1"}),
        "zone": business_timezone(),
        "title": label(report.label, report.key),
        "texts": texts_under("report.schedule_"),  # unformatted: the script fills in {when}, {title}, {next_run}
    }


def _job_button(report: ReportSpec) -> dict[str, str] | None:
    """The job the report's page offers (`job:` in its YAML), when the reader may start it."""
    if report.job is None:
        return None
    kind = get_kind(report.job[0])
    if kind is None or not kind.allowed(current_access(), {}):
        return None
    return {"kind": kind.name, "label": label(report.job[1], kind.name)}


class ReportsView(BaseView):
    """Report pages for signed-in users; what each may run follows roles.yaml and their access."""

    route_base = "/reports"

    def _signed_in(self) -> bool:
        return bool(current_user.is_authenticated)

    @expose("/")
    def index(self) -> Any:
        """报表中心: every report the reader may run."""
        if not self._signed_in():
            return redirect(url_for("AuthDBView.login"))
        access = current_access()
        reports = [
            {"name": r.key, "label": label(r.label, r.key), "help": offered_help(access, r)} for r in available(access)
        ]
        return self.render_template("jxc/reports.html", reports=reports)

    @expose("/<name>/")
    def report(self, name: str) -> Any:
        """One report: filters, chart, grid with totals; rows open what is behind them."""
        if not self._signed_in():
            return redirect(url_for("AuthDBView.login"))
        try:
            report = find(current_access(), name)
        except ServiceError as exc:
            return self.render_template("jxc/report_refused.html", message=exc.message), exc.status
        args = {k: v for k, v in request.args.items() if k != "_l_"}
        query = urlencode(args)
        fields = param_form(report, args)
        config = {
            "api": f"/api/v1/reports/{name}",
            "query": query,
            "texts": {"total": t("report.total"), "empty": t("report.empty"), "error": t("report.error")},
            "labels": {f["name"]: f["label"] for f in fields},  # a refusal names the filter: 往来单位：必填
        }
        # a filter the report cannot run without, not chosen yet (对账单's 往来单位): the page asks for it first
        # instead of running and answering 往来单位：必填 in red before the reader has done anything
        asked = [f["label"] for p, f in zip(report.params, fields, strict=True) if needed(p) and not f["value"]]
        if asked:
            config["ask"] = t("report.ask", filters="、".join(asked))
        return self.render_template(
            "jxc/report.html",
            job=_job_button(report),
            schedule=_schedule_box(report),
            report={"name": name, "label": label(report.label, name), "help": offered_help(current_access(), report)},
            fields=fields,
            config=config,
            query=query,
        )

    @expose("/<name>/print")
    def print_view(self, name: str) -> Any:
        """The answer as a plain table with its title, period and 制表人, for paper."""
        if not self._signed_in():
            return redirect(url_for("AuthDBView.login"))
        args = {k: v for k, v in request.args.items() if k != "_l_"}
        try:
            result = run_report(session(), current_access(), name, args)
        except ServiceError as exc:
            session().rollback()
            return self.render_template("jxc/report_refused.html", message=exc.message), exc.status
        session().rollback()
        name_text = f"{current_user.first_name or ''}{current_user.last_name or ''}".strip() or current_user.username
        return self.render_template(
            "jxc/report_print.html",
            lines=heading_lines(result, name_text),
            answer=as_json(result),
            letterhead=result.letterhead,
        )
