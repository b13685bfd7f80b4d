"""/notifications/: the signed-in user's notifications (the bell's full list: open one, mark read, mark all
read) and /notifications/settings, the user's own alert preferences (which alerts, and the digest by
e-mail or robot). Every user has these pages for themselves (can_read on Notification)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.errors import ValidationFailed
from app.i18n import t
from app.schedules.notify import mark_read, open_one, recent, unread_count
from app.schedules.prefs import ALERT_KINDS, CHANNELS, get_pref, save_pref
from app.views.security_labels import email_text
from app.web.context import current_access, session, writes_on_get

PAGE_ROWS = 200


class NotificationsView(BaseView):
    """The notifications page and the alert preferences page."""

    route_base = "/notifications"
    class_permission_name = "Notification"
    method_permission_name = {"index": "read", "open": "read", "read": "read", "settings": "read"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """Newest first; unread ones stand out. `?unread=1` shows only the unread."""
        user_id = current_access().user_id or 0
        only_unread = request.args.get("unread") == "1"
        rows = recent(session(), user_id, limit=PAGE_ROWS, unread_only=only_unread)
        return self.render_template(
            "jxc/notifications.html", rows=rows, unread=unread_count(session(), user_id), only_unread=only_unread
        )

    @expose("/<int:pk>/open")
    @has_access
    @writes_on_get
    def open(self, pk: int) -> Any:
        """Follow a notification's link, marking it read (its link within JXC, else this page)."""
        link = open_one(session(), current_access().user_id or 0, pk)
        session().commit()
        return redirect(link or url_for("NotificationsView.index"))

    @expose("/read", methods=["POST"])
    @has_access
    def read(self) -> Any:
        """Mark one (`id`) or all of the user's notifications read."""
        one = request.form.get("id", type=int)
        marked = mark_read(session(), current_access().user_id or 0, [one] if one else None)
        session().commit()
        flash(t("bell.marked", count=marked), "success")
        return redirect(request.form.get("next") or url_for("NotificationsView.index"))

    @expose("/settings", methods=["GET", "POST"])
    @has_access
    def settings(self) -> Any:
        """The user's own alert preferences."""
        user_id = current_access().user_id or 0
        if request.method == "POST":
            data = {
                "kinds": request.form.getlist("kinds"),
                "channel": request.form.get("channel", "none"),
                "robot_url": request.form.get("robot_url", ""),
                "robot_secret": request.form.get("robot_secret", ""),
            }
            try:
                save_pref(session(), user_id, data)
                session().commit()
                flash(t("saved"), "success")
                return redirect(url_for("NotificationsView.settings"))
            except ValidationFailed as exc:
                session().rollback()
                flash("；".join(e.message for e in exc.errors), "danger")
        return self.render_template(
            "jxc/alert_settings.html",
            pref=get_pref(session(), user_id),
            kinds=[(kind, t(f"alerts.kind.{kind}")) for kind in ALERT_KINDS],
            channels=[(channel, t(f"alerts.channel.{channel}")) for channel in CHANNELS],
            email_shown=email_text(g.user.email),
        )
