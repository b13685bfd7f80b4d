"""A schedule of kind `backup`: one run of `app.backups.run_backup` (every destination, verified, then
retention: 7 daily, 4 weekly, 12 monthly by default), as an admin. The run's log shows the backup's name
and each destination's outcome; a run that leaves any destination without a verified copy fails (the
previous good backups untouched) and rings every admin's bell."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from app.backups import BackupError, run_backup, settings_of
from app.backups.archive import summary
from app.errors import Forbidden
from app.i18n import t
from app.jobs import JobContext
from app.schedules import store
from app.schedules.deliver import Outgoing, error_text
from app.schedules.kinds import builder
from app.schedules.notify import notify


def _alert_admins(session: Any, error: str) -> None:
    """Ring every admin's bell (once while unread) that the scheduled backup failed."""
    session.rollback()
    admins = session.execute(select(User.id).where(User.roles.any(name="admin"), User.active.is_(True))).scalars()
    for user_id in list(admins):
        notify(session, user_id, "alert", t("alerts.backup_failed", error=error), "/admin/backups/", dedupe="backup")
    session.commit()


@builder("backup")
def backup_messages(ctx: JobContext, item: store.Schedule, run: Any) -> list[Outgoing]:
    """Take the backup; one log line per destination (channel `backup`), or the failure raised."""
    if not ctx.access.is_admin:
        raise Forbidden(t("forbidden"))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ctx.session.rollback()  # no transaction of this job held open while the database is copied
    try:
        result = run_backup(app, reason=str(item.params.get("reason") or "scheduled"))
    except Exception as exc:
        _alert_admins(ctx.session, error_text(exc))
        raise
    for line in summary(result).splitlines():
        ctx.log(line)
    if result.failed:
        failed = "; ".join(f"{where}: {why}" for where, why in result.failed.items())
        _alert_admins(ctx.session, failed)
        raise BackupError("backup.copies_failed", primary=str(settings_of(app).directory), failed=failed)
    subject = t("alerts.backup_done", name=result.name, rows=result.manifest.get("rows", ""))
    return [Outgoing("backup", f"{where}/{result.name}", subject) for where in result.copies]
