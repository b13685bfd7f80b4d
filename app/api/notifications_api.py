"""Notifications API: /api/v1/notifications/ — the signed-in user's bell (unread count, newest first) and
marking read. Every role has can_read on Notification; nobody reads another user's."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.api import BaseApi, expose, safe
from flask_appbuilder.security.decorators import protect

from app.api.responses import service_errors
from app.errors import CellError, ValidationFailed
from app.i18n import t
from app.schedules.notify import mark_read, recent, unread_count
from app.web.context import current_access, session
from app.web.inputs import json_object


class NotificationsApi(BaseApi):
    """/api/v1/notifications/: the user's own notifications."""

    resource_name = "notifications"
    version = "v1"
    allow_browser_login = True
    class_permission_name = "Notification"
    method_permission_name = {"list_notifications": "read", "read_notifications": "read", "count": "read"}
    openapi_spec_tag = "notifications"

    @expose("/", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def list_notifications(self) -> Any:
        """Unread count and the newest notifications.
        ---
        get:
          summary: Notifications
          responses:
            200:
              description: '{unread, result: [notification]}'
        """
        user_id = current_access().user_id or 0
        return self.response(200, unread=unread_count(session(), user_id), result=recent(session(), user_id))

    @expose("/count", methods=["GET"])
    @protect()
    @safe
    @service_errors
    def count(self) -> Any:
        """The unread count alone: what the bell polls (one indexed count, no rows).
        ---
        get:
          summary: Unread count
          responses:
            200:
              description: '{unread}'
        """
        return self.response(200, unread=unread_count(session(), current_access().user_id or 0))

    @expose("/read", methods=["POST"])
    @protect()
    @safe
    @service_errors
    def read_notifications(self) -> Any:
        """Mark read: `{"ids": [..]}`, or `{}` for all.
        ---
        post:
          summary: Mark notifications read
          responses:
            200:
              description: '{marked, unread}'
        """
        ids = json_object().get("ids")
        if ids is not None and not (isinstance(ids, list) and all(isinstance(i, int) for i in ids)):
            raise ValidationFailed([CellError("ids", t("schedules.body_not_object"))])
        user_id = current_access().user_id or 0
        marked = mark_read(session(), user_id, ids)
        session().commit()
        return self.response(200, marked=marked, unread=unread_count(session(), user_id))
