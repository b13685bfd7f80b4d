"""待审批 inbox API: the documents waiting for the signed-in user's approval step."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.responses import service_errors
from app.services.posting.inbox import waiting_for, with_parties
from app.web.context import current_access, session


class InboxApi(BaseApi):
    """/api/v1/inbox/: what waits for me."""

    resource_name = "inbox"
    version = "v1"
    allow_browser_login = True
    csrf_exempt = True
    class_permission_name = "Meta"  # every signed-in user reads their own inbox
    method_permission_name = {"get_inbox": "read"}
    openapi_spec_tag = "inbox"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def get_inbox(self) -> Any:
        """Documents waiting for my approval step, oldest first.
        ---
        get:
          summary: My approval inbox
          responses:
            200:
              description: "`count` and `result`: {model, id, number, date, amount, level, levels, role, partner,
                created_by}"
        """
        access = current_access()
        found = with_parties(session(), access, waiting_for(session(), access))
        return self.response(200, count=len(found), result=found)
