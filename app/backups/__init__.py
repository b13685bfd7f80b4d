"""Encrypted backups in several places and a checked restore (docs/backups.md).

- `run_backup(app)`: one backup run of the app's database into every destination (what `jxc backup`,
  the backups page's "run now" and a schedule call; the job kind `backup` runs it in the background);
- `restore(app, path)`: check, back up the current data, restore beside it in maintenance mode, switch;
- `settings_of(app)`, `list_backups(app)`: for the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.backups.archive import BackupFile, RunResult, list_folder, make_backup
from app.backups.restore import BackupError, RestoreResult, restore_backup
from app.backups.settings import BackupSettings, backup_settings

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["BackupError", "list_backups", "restore", "run_backup", "settings_of"]


def settings_of(app: Flask) -> BackupSettings:
    """The app's backup settings."""
    return backup_settings(app.config)  # the command line calls backup_settings(build_config()) directly


def run_backup(app: Flask, reason: str = "manual") -> RunResult:
    """Take one backup of the app's database into every destination, verified, then apply retention."""
    return make_backup(settings_of(app), app.config["SQLALCHEMY_DATABASE_URI"], reason)


def restore(app: Flask, path: Path | str) -> RestoreResult:
    """Restore a backup file into the app's database (refusing a bad file before touching anything)."""
    from app.extensions import db

    def release() -> None:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    return restore_backup(settings_of(app), app.config["SQLALCHEMY_DATABASE_URI"], Path(path), release)


def list_backups(app: Flask) -> list[BackupFile]:
    """The backups in the first destination, newest first."""
    return list_folder(settings_of(app).directory)
