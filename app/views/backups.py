"""/admin/backups/ (admins only): the backups with their status, run now, download, restore (asking for the
password again), the last outcomes, and where the key is kept (with the warning to keep a copy elsewhere)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_login import current_user
from werkzeug.security import check_password_hash

from app.backups import last_runs, list_backups, listed, settings_of
from app.backups.archive import SUFFIX, list_folder
from app.backups.maintenance import maintenance
from app.backups.settings import KeyProblem
from app.errors import ServiceError
from app.i18n import t
from app.jobs import submit
from app.web.context import current_access, session


def _admin_only() -> None:
    if not current_access().is_admin:
        abort(404)


class BackupsView(BaseView):
    """The backups page."""

    route_base = "/admin/backups"
    class_permission_name = "Meta"
    method_permission_name = {"index": "write", "run": "write", "download": "write", "restore": "write"}

    @expose("/")
    @has_access
    def index(self) -> Any:
        """The list, the last outcomes, the destinations and the key."""
        _admin_only()
        from flask import current_app

        settings = settings_of(current_app)
        key_text = None
        key_error = None
        if settings.key_source == "file":
            try:
                settings.master(create=True)  # the key file is created at first use: show it now
                assert settings.key_file is not None
                key_text = settings.key_file.read_text().strip()
            except KeyProblem as exc:
                key_error = t(exc.reason, **exc.params)
        backups = listed(list_backups(current_app))
        mirrors = [
            {"path": str(folder), "good": len([b for b in list_folder(folder) if b.status == "good"])}
            for folder in settings.mirrors
        ]
        return self.render_template(
            "jxc/backups.html",
            backups=backups,
            directory=str(settings.directory),
            mirrors=mirrors,
            s3=settings.s3.get("bucket"),
            key_source=settings.key_source,
            key_file=str(settings.key_file),
            key_text=key_text,
            key_error=key_error,
            runs=last_runs(current_app),
            busy=maintenance(current_app.config["INSTANCE_PATH"]) is not None,
            following=request.args.get("job", type=int),  # the backup or restore just started here
        )

    @expose("/run", methods=["POST"])
    @has_access
    def run(self) -> Any:
        """Start a backup job now."""
        _admin_only()
        try:
            job_id = submit("backup", {"reason": "manual"}, current_access())
            session().commit()
            flash(t("backup.started", id=job_id), "success")
        except ServiceError as exc:
            session().rollback()
            flash(exc.message, "danger")
            return redirect(url_for("BackupsView.index"))
        return redirect(url_for("BackupsView.index", job=job_id))  # the page follows it and shows its outcome

    @expose("/download/<name>")
    @has_access
    def download(self, name: str) -> Any:
        """The encrypted file itself (the owner keeps a copy on their own computer)."""
        _admin_only()
        from flask import current_app

        folder = settings_of(current_app).directory
        found = next((b for b in list_folder(folder) if b.name == name and name.endswith(SUFFIX)), None)
        if found is None:
            abort(404)
        return send_file(found.path, as_attachment=True, download_name=name, mimetype="application/octet-stream")

    @expose("/restore/<name>", methods=["POST"])
    @has_access
    def restore(self, name: str) -> Any:
        """Restore one backup in the background, once the admin has typed their password again."""
        _admin_only()
        from flask import current_app

        folder = settings_of(current_app).directory
        if not any(b.name == name and b.status == "good" for b in list_folder(folder)):
            abort(404)
        if not check_password_hash(current_user.password or "", request.form.get("password", "")):
            flash(t("password_current_wrong"), "danger")
            return redirect(url_for("BackupsView.index"))
        try:
            job_id = submit("backup_restore", {"name": name}, current_access())
            session().commit()
            flash(t("backup.restore_started", id=job_id, name=name), "warning")
        except ServiceError as exc:
            session().rollback()
            flash(exc.message, "danger")
            return redirect(url_for("BackupsView.index"))
        return redirect(url_for("BackupsView.index", job=job_id))
