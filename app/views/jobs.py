"""/jobs/: the user's background jobs (an admin: everyone's) with live progress bars, cancel, retry and
the result and error-report downloads. The page polls /api/v1/jobs/ while a job is queued or running."""

from __future__ import annotations

from typing import Any

from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_wtf.csrf import generate_csrf

from app.api.jobs_api import job_json
from app.i18n import t
from app.jobs import queue, store
from app.web.context import current_access


class JobsView(BaseView):
    """The jobs page."""

    route_base = "/jobs"
    class_permission_name = "Job"
    method_permission_name = {"index": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """Newest jobs first; the script keeps the active ones' bars moving."""
        access = current_access()
        rows = queue.read_jobs(access)
        jobs = [job_json(row) for row in rows]
        config = {
            "api": "/api/v1/jobs/",
            "csrf_token": generate_csrf(),
            "statuses": {s: t(f"jobs.status.{s}") for s in store.STATUSES},
            "active": list(store.ACTIVE),
        }
        return self.render_template(
            "jxc/jobs.html",
            jobs=jobs,
            config=config,
            everyone=access.is_admin,
            notice=queue.worker_notice() if access.is_admin else None,
        )
