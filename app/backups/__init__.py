"""Encrypted backups in several places and a checked restore (docs/backups.md).

- `run_backup(app)`: one backup run of the app's database into every destination (what `jxc backup`,
  the backups page's "run now" and a schedule call; the job kind `backup` runs it in the background);
- `restore(app, path)`: check, back up the current data, restore beside it in maintenance mode, switch;
- `settings_of(app)`, `list_backups(app)`, `listed(backups)`, `last_runs(app)`: for the page (`listed` for `jxc backup
  list` too).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.backups.archive import BackupFile, RunResult, list_folder, make_backup
from app.backups.restore import BackupError, RestoreResult, restore_backup
from app.backups.settings import BackupSettings, backup_settings
from app.clock import business_zone
from app.i18n import t

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["BackupError", "last_runs", "list_backups", "listed", "restore", "run_backup", "settings_of"]

log = logging.getLogger(__name__)
STATUS = "backup_status.json"


def settings_of(app: Flask) -> BackupSettings:
    """The app's backup settings."""
    return backup_settings(app.config)  # the command line calls backup_settings(build_config()) directly


def last_runs(app: Flask) -> dict[str, Any]:
    """{"backup": {...}, "restore": {...}}: when each last ran (`at` in UTC; `shown` in the business's time zone, as
    the list shows the backups), whether it succeeded, its message."""
    try:
        runs = json.loads((settings_of(app).instance / STATUS).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    for run in runs.values():
        run["shown"] = f"{datetime.fromisoformat(run['at']).astimezone(business_zone()):%Y-%m-%d %H:%M:%S}"
    return runs


def _record(settings: BackupSettings, what: str, ok: bool, message: str, **more: Any) -> None:
    """Keep the last outcome in the instance folder (outside the database: a restore replaces that)."""
    path = settings.instance / STATUS
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        runs = {}
    runs[what] = {"at": datetime.now(UTC).isoformat(), "ok": ok, "message": message, **more}
    temp = path.with_name(f".{STATUS}.{os.getpid()}")
    temp.write_text(json.dumps(runs, ensure_ascii=False), encoding="utf-8")
    os.replace(temp, path)


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, BackupError) else f"{type(exc).__name__}: {exc}"


def run_backup(app: Flask, reason: str = "manual") -> RunResult:
    """Take one backup of the app's database into every destination, verified, then apply retention.

    The outcome is kept for the backups page; a failure is logged as an error (the alert) and raised."""
    settings = settings_of(app)
    try:
        result = make_backup(settings, app.config["SQLALCHEMY_DATABASE_URI"], reason)
    except BaseException as exc:
        log.error("backup failed: %s", _message(exc))
        _record(settings, "backup", False, _message(exc))
        raise
    failed = "; ".join(f"{where}: {why}" for where, why in result.failed.items())
    if failed:
        log.error("backup %s: some destinations failed: %s", result.name, failed)
    _record(settings, "backup", not failed, failed, name=result.name)
    return result


def restore(app: Flask, path: Path | str) -> RestoreResult:
    """Restore a backup file into the app's database (refusing a bad file before touching anything)."""
    from app.extensions import db

    def release() -> None:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    settings = settings_of(app)
    try:
        result = restore_backup(settings, app.config["SQLALCHEMY_DATABASE_URI"], Path(path), release)
    except BaseException as exc:
        _record(settings, "restore", False, _message(exc), name=Path(path).name)
        raise
    _record(settings, "restore", True, "", name=Path(path).name, safety_backup=result.safety_backup)
    return result


def list_backups(app: Flask) -> list[BackupFile]:
    """The backups in the first destination, newest first."""
    return list_folder(settings_of(app).directory)


REASONS = ("manual", "scheduled", "before_restore")


def listed(backups: list[BackupFile]) -> list[dict[str, Any]]:
    """The backups as the page and `jxc backup list` show them (in the current language): file, time in the business's
    time zone, status, size, kind (手动 / 定时 / 恢复前自动备份), rows and tables."""
    zone = business_zone()
    return [
        {
            "name": b.name,
            "created": f"{b.created.astimezone(zone):%Y-%m-%d %H:%M:%S}",  # the server's zone was UTC
            "status": b.status,
            "status_label": t(f"backup.status.{b.status}"),
            "size": size_text(b.path.stat().st_size),
            "reason": t(f"backup.reason.{b.info['reason']}")
            if b.info.get("reason") in REASONS
            else b.info.get("reason", ""),
            "rows": b.info.get("rows", ""),
            "tables": b.info.get("tables", ""),
        }
        for b in backups
    ]


def size_text(size: float) -> str:
    """A file's size to be read: 512 B, 3.4 KB, 1.2 GB."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)
