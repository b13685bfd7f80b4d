"""The job kinds `backup` (run now, or from a schedule) and `backup_restore` (from the backups page).

from app.jobs import submit
submit("backup", {"reason": "scheduled"}, access)    # admin only; or call app.backups.run_backup(app)
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.backups import BackupError, restore, run_backup, settings_of
from app.backups.archive import summary
from app.i18n import texts_for
from app.jobs import JobContext, job_kind


def _admin(access: Any, _args: Any) -> bool:
    return bool(access.is_admin)


@job_kind(
    "backup",
    label=texts_for("backup.kind.backup"),
    allowed=_admin,
    writes=False,  # it reads through a connection of its own; on SQLite it never holds the write lock
    timeout=6 * 3600,
    over_api=True,
)
def backup_job(ctx: JobContext) -> dict[str, Any]:
    """One backup run; fails (the alert on the jobs and backups pages) unless every destination verified."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ctx.total(None)
    result = run_backup(app, reason=str(ctx.args.get("reason") or "manual"))
    for line in summary(result).splitlines():
        ctx.log(line)
    if result.failed:
        raise BackupError(
            "backup.copies_failed",
            primary=str(settings_of(app).directory),
            failed="; ".join(f"{where}: {why}" for where, why in result.failed.items()),
        )
    return {"name": result.name, "copies": result.copies, "removed": sorted(set(result.removed))}


@job_kind(
    "backup_restore",
    label=texts_for("backup.kind.restore"),
    allowed=_admin,
    writes=False,
    timeout=6 * 3600,
)
def restore_job(ctx: JobContext) -> dict[str, Any]:
    """Restore a backup of the first destination by name (the page asked for the password again)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    name = str(ctx.args["name"])
    folder = settings_of(app).directory
    path = folder / name
    if path.parent != folder or not path.name.endswith(".jxcbak"):
        raise BackupError("backup.no_file", path=name)
    ctx.session.rollback()  # nothing of this job's session may stay open on the database being replaced
    result = restore(app, path)
    return {"restored": name, "created": result.manifest["created"], "safety_backup": result.safety_backup}
