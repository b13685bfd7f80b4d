"""Jobs API: /api/v1/jobs/ — a job's status, progress, counts and files; cancel, retry, submit.

A user sees their own jobs and an admin everyone's; another user's job answers 404 like a missing one.
Reading works with Redis down (the database has every job); queueing answers 503 then.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, send_file
from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.responses import service_errors
from app.errors import CellError, Conflict, NotFound, ValidationFailed
from app.i18n import t
from app.jobs import queue, store
from app.jobs.kinds import get_kind, kind_label
from app.services.records.query import page_size_asked
from app.web.context import current_access, session
from app.web.inputs import json_object

MAX_JOBS_LISTED = 500


def job_json(row: Any) -> dict[str, Any]:
    """A job as the API shows it: its fields, its kind's label and the links to its files."""
    out = store.as_json(row)
    out["label"] = kind_label(row.kind)
    out["status_label"] = t(f"jobs.status.{row.status}")
    if row.status == store.QUEUED:  # waiting, not progressing: the page says so once it is more than a moment
        out["waited"] = queue.waited_seconds(row)
        if out["waited"] >= current_app.config["JXC_JOB_WAIT_SECONDS"] and not out["message"]:
            out["message"] = t("jobs.waiting", seconds=out["waited"])
    base = f"/api/v1/jobs/{row.id}"
    out["result_url"] = f"{base}/result" if row.result_file else None
    out["error_report_url"] = f"{base}/error_report" if row.error_file else None
    return out


class JobsApi(BaseApi):
    """/api/v1/jobs/: background jobs of the signed-in user (an admin: everyone's)."""

    resource_name = "jobs"
    version = "v1"
    allow_browser_login = True
    class_permission_name = "Job"
    method_permission_name = {
        "list_jobs": "read",
        "get_job": "read",
        "submit_job": "read",
        "cancel_job": "read",
        "retry_job": "read",
        "result": "read",
        "error_report": "read",
    }
    openapi_spec_tag = "jobs"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def list_jobs(self) -> Any:
        """The newest jobs the user may see (`?active=1`: only queued and running ones; `limit`: how many, 1-500).
        ---
        get:
          summary: Jobs
          parameters:
          - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 500, default: 100}}
          - {in: query, name: active, schema: {type: string}}
          responses:
            200:
              description: '{result: [job]}'
            422:
              description: '`limit` out of bounds or not a whole number: {message, errors: [{field, message}]}'
        """
        limit = page_size_asked("limit", request.args.get("limit"), 100, MAX_JOBS_LISTED)
        rows = queue.read_jobs(current_access(), limit=limit)
        if request.args.get("active"):
            rows = [r for r in rows if r.status in store.ACTIVE]
        return self.response(200, result=[job_json(r) for r in rows])

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def submit_job(self) -> Any:
        """Submit a job of a kind open to the API: `{"kind", "args", "key"}`; answers 202 `{"job_id"}`.
        ---
        post:
          summary: Submit a job
          responses:
            202:
              description: '{job_id}'
            503:
              description: The queue (Redis) is down
        """
        body = json_object()
        kind = get_kind(str(body.get("kind", "")))
        if kind is None or not kind.over_api:
            raise NotFound(t("jobs.unknown_kind", kind=str(body.get("kind", ""))[:64]))
        args = body.get("args") or {}
        if not isinstance(args, dict):
            raise ValidationFailed([CellError("args", t("jobs.bad_args"))])
        key = body.get("key")
        job_id = queue.submit(kind.name, args, current_access(), key=str(key)[:128] if key else None)
        session().commit()
        return self.response(202, job_id=job_id)

    @expose("/<int:job_id>", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def get_job(self, job_id: int) -> Any:
        """One job: status, progress, counts, log, result and error-report links.
        ---
        get:
          summary: A job
          parameters:
          - in: path
            schema: {type: integer}
            name: job_id
          responses:
            200:
              description: 'The job: {id, kind, status, done, total, percent, counts, log, message, ...}'
            404:
              $ref: '#/components/responses/404'
        """
        (row,) = queue.read_jobs(current_access(), job_id=job_id)
        return self.response(200, **job_json(row))

    @expose("/<int:job_id>/cancel", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def cancel_job(self, job_id: int) -> Any:
        """Cancel a queued job, or ask a running one to stop (its changes are rolled back). `?if_active=1`: a job
        that has ended is no refusal but answered with its status (a page dropping a job it no longer wants, which
        may have ended since it last looked: the import page's earlier check).
        ---
        post:
          summary: Cancel a job
          parameters:
          - in: path
            schema: {type: integer}
            name: job_id
          - {in: query, name: if_active, schema: {type: string}}
          responses:
            200:
              description: '{status, message}'
            409:
              description: The job has ended
        """
        access = current_access()
        try:
            status = queue.cancel(access, job_id)
        except Conflict:
            if request.args.get("if_active") not in ("1", "true"):
                raise
            return self.response(200, status=queue.job_for(access, job_id).status, message=t("jobs.not_active"))
        message = t("jobs.cancelled") if status == store.CANCELLED else t("jobs.cancel_asked")
        return self.response(200, status=status, message=message)

    @expose("/<int:job_id>/retry", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def retry_job(self, job_id: int) -> Any:
        """Submit a failed or cancelled job again (as the user asking); answers 202 `{"job_id"}`.
        ---
        post:
          summary: Retry a job
          parameters:
          - in: path
            schema: {type: integer}
            name: job_id
          responses:
            202:
              description: '{job_id, message}'
            503:
              description: The queue (Redis) is down
        """
        new_id = queue.retry(current_access(), job_id)
        return self.response(202, job_id=new_id, message=t("jobs.retried", id=new_id))

    def _file(self, job_id: int, which: str) -> Any:
        path, name = queue.result_path(current_access(), job_id, which)
        return send_file(path, as_attachment=True, download_name=name, max_age=0)

    @expose("/<int:job_id>/result", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def result(self, job_id: int) -> Any:
        """The job's result file.
        ---
        get:
          summary: Download a job's result
          parameters:
          - in: path
            schema: {type: integer}
            name: job_id
          responses:
            200:
              description: The file
            404:
              $ref: '#/components/responses/404'
        """
        return self._file(job_id, "result")

    @expose("/<int:job_id>/error_report", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def error_report(self, job_id: int) -> Any:
        """The job's error report.
        ---
        get:
          summary: Download a job's error report
          parameters:
          - in: path
            schema: {type: integer}
            name: job_id
          responses:
            200:
              description: The file
            404:
              $ref: '#/components/responses/404'
        """
        return self._file(job_id, "error_report")
