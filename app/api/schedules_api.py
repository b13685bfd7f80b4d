"""Schedules API: /api/v1/schedules/ — list, create, change, delete, run now; the delivery log and retry. Admins
see and change every schedule; anyone else schedules reports to themselves and sees only their own
(`store.save`, `store.mine`)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.responses import service_errors
from app.clock import business_time, utcnow
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.schedules import frequency, store
from app.schedules.cron import next_period, run_now
from app.schedules.runs import retry, runs_of
from app.web.context import current_access, session


def schedule_json(item: store.Schedule) -> dict[str, Any]:
    """A schedule with its next run in the business's time and the recipients it cannot mail (`no_address`)."""
    out = item.as_json()
    if not current_access().is_admin:  # a robot's URL carries its key: admins only see it
        out["robots"] = [{"type": robot.get("type")} for robot in item.robots]
    out["next_run"] = f"{business_time(next_period(item.cron, utcnow())):%Y-%m-%d %H:%M}" if item.active else None
    out["no_address"] = store.without_address(session(), item)
    freq = frequency.from_cron(item.cron)  # the cron in words when it is one of the picker's shapes
    out["frequency"] = freq.as_json() if freq is not None else None
    out["when"] = frequency.words(freq) if freq is not None else None
    return out


def saved_json(item: store.Schedule) -> dict[str, Any]:
    """The answer to a save: the schedule, and `warnings` naming each recipient it cannot mail (无邮箱)."""
    return {"result": schedule_json(item), "warnings": store.save_warnings(session(), item)}


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed([CellError("body", t("schedules.body_not_object"))])
    return body


class SchedulesApi(BaseApi):
    """/api/v1/schedules/: what runs when, to whom (every signed-in user, as the inbox: what each may do with which
    schedule is the store's to say)."""

    resource_name = "schedules"
    version = "v1"
    allow_browser_login = True
    class_permission_name = "Meta"
    method_permission_name = {
        "list_schedules": "read",
        "create_schedule": "read",
        "change_schedule": "read",
        "delete_schedule": "read",
        "run_schedule": "read",
        "list_runs": "read",
        "retry_run": "read",
    }
    openapi_spec_tag = "schedules"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def list_schedules(self) -> Any:
        """The schedules the user sees (an admin every one, anyone else their own); `?report=<name>`: the user's own
        schedules of that report (`store.report_schedules`: what its page's 定时发送 lists).
        ---
        get:
          summary: Schedules
          responses:
            200:
              description: '{result: [schedule]}'
        """
        report = request.args.get("report")
        if report:
            schedules = store.report_schedules(session(), current_access(), report)
        else:
            schedules = store.visible_schedules(session(), current_access())
        return self.response(200, result=[schedule_json(s) for s in schedules])

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def create_schedule(self) -> Any:
        """Create a schedule from `{name, title, kind, cron, params, recipients, ...}`; how often as `cron` or as
        `frequency` `{every: day|week|month, time: "08:00", weekdays: [1..7], day: 1..28|"last"}` (stored as its
        cron; the answer gives both, and `when` in words).
        ---
        post:
          summary: Create a schedule
          responses:
            201:
              description: '{result: schedule, warnings: [recipients it cannot mail]}'
        """
        item = store.save(session(), current_access(), _body())
        session().commit()
        return self.response(201, **saved_json(item))

    @expose("/<int:pk>", methods=["PUT"])
    @protect()
    @safe
    @service_errors
    def change_schedule(self, pk: int) -> Any:
        """Change a schedule (the whole of it; how often as `cron` or `frequency`, the one changed when a GET's answer
        carrying both is sent back).
        ---
        put:
          summary: Change a schedule
          responses:
            200:
              description: '{result: schedule, warnings: [recipients it cannot mail]}'
        """
        item = store.save(session(), current_access(), _body(), pk)
        session().commit()
        return self.response(200, **saved_json(item))

    @expose("/<int:pk>", methods=["DELETE"])
    @protect()
    @safe
    @service_errors
    def delete_schedule(self, pk: int) -> Any:
        """Delete a schedule (an admin any, anyone else their own); its runs' log stays.
        ---
        delete:
          summary: Delete a schedule
          responses:
            200:
              description: '{message}'
        """
        store.delete(session(), current_access(), pk)
        session().commit()
        return self.response(200, message=t("schedules.deleted"))

    @expose("/<int:pk>/run", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def run_schedule(self, pk: int) -> Any:
        """Run a schedule now (its own period: the moment asked); answers 202 `{run_id}`.
        ---
        post:
          summary: Run now
          responses:
            202:
              description: '{run_id}'
        """
        return self.response(202, run_id=run_now(session(), store.mine(session(), current_access(), pk)))

    @expose("/runs", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def list_runs(self) -> Any:
        """The delivery log (`?schedule=<id>`): runs, recipients, status, errors.
        ---
        get:
          summary: Delivery log
          responses:
            200:
              description: '{result: [run]}'
        """
        runs = runs_of(session(), current_access(), request.args.get("schedule", type=int))
        return self.response(200, result=runs)

    @expose("/runs/<int:run_id>/retry", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def retry_run(self, run_id: int) -> Any:
        """Send again what a failed run did not deliver; answers 202 `{job_id}`.
        ---
        post:
          summary: Retry a run
          responses:
            202:
              description: '{job_id}'
        """
        job_id = retry(session(), current_access(), run_id)
        session().commit()
        return self.response(202, job_id=job_id)
