"""Where backups go, how long they stay, and the key: from the app's config, else the environment.

JXC_BACKUP_DIR          the first destination (default: <instance>/backups)
JXC_BACKUP_MIRRORS      further directories, e.g. a NAS mount (separated by commas or the path separator)
JXC_BACKUP_S3_BUCKET    an S3-compatible bucket (with JXC_BACKUP_S3_ENDPOINT, JXC_BACKUP_S3_PREFIX and
                        the usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY); needs `pip install jxc[s3]`
JXC_BACKUP_KEY          the secret the master key is derived from (at least 32 characters), or
JXC_BACKUP_KEY_FILE     a file holding it, created at first use (default: <instance>/backup.key); never
                        inside a backup destination
JXC_BACKUP_KEEP_DAILY / _WEEKLY / _MONTHLY   retention (7 / 4 / 12)
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.backups.crypto import master_key
from app.config import owner_only_folder

MIN_KEY_CHARS = 32


class KeyProblem(Exception):
    """The backup key cannot be used: `reason` is a message key (backup.key_*)."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class BackupSettings:
    """Everything a backup or a restore needs to know besides the database."""

    instance: Path
    directory: Path
    mirrors: tuple[Path, ...] = ()
    key_env: str = ""
    key_file: Path | None = None
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 12
    s3: Mapping[str, str] = field(default_factory=dict)

    @property
    def destinations(self) -> tuple[Path, ...]:
        """The directories a backup is written to, the first one first."""
        return (self.directory, *self.mirrors)

    @property
    def key_source(self) -> str:
        """'env' (JXC_BACKUP_KEY) or 'file' (the key file, shown on the backups page with a warning)."""
        return "env" if self.key_env else "file"

    def master(self, create: bool = True) -> bytes:
        """The master key: from JXC_BACKUP_KEY, else the key file (created at first use when `create`)."""
        if self.key_env:
            if len(self.key_env.strip()) < MIN_KEY_CHARS:
                raise KeyProblem("backup.key_short", min=MIN_KEY_CHARS)
            return master_key(self.key_env)
        path = self.key_file
        assert path is not None
        resolved = path.resolve()
        for folder in self.destinations:
            if resolved.is_relative_to(folder.resolve()):
                raise KeyProblem("backup.key_in_destination", path=str(path))
        if not path.exists():
            if not create:
                raise KeyProblem("backup.key_missing", path=str(path))
            owner_only_folder(path.parent)
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
        path.chmod(0o600)
        return master_key(path.read_text())


def _setting(config: Mapping[str, Any], name: str, default: str = "") -> str:
    value = config.get(name)
    if value is None:
        value = os.environ.get(name, default)
    return str(value)


def _paths(text: str) -> tuple[Path, ...]:
    return tuple(Path(p.strip()).expanduser() for p in re.split(rf"[,{re.escape(os.pathsep)}]", text) if p.strip())


def backup_settings(config: Mapping[str, Any]) -> BackupSettings:
    """The settings for an app's config (a Flask app.config or any mapping with INSTANCE_PATH)."""
    instance = Path(config["INSTANCE_PATH"])
    directory = Path(_setting(config, "JXC_BACKUP_DIR") or instance / "backups").expanduser()
    s3 = {
        key: _setting(config, f"JXC_BACKUP_S3_{key.upper()}")
        for key in ("bucket", "endpoint", "prefix", "region")
        if _setting(config, f"JXC_BACKUP_S3_{key.upper()}")
    }
    return BackupSettings(
        instance=instance,
        directory=directory,
        mirrors=_paths(_setting(config, "JXC_BACKUP_MIRRORS")),
        key_env=_setting(config, "JXC_BACKUP_KEY"),
        key_file=Path(_setting(config, "JXC_BACKUP_KEY_FILE") or instance / "backup.key").expanduser(),
        keep_daily=int(_setting(config, "JXC_BACKUP_KEEP_DAILY", "7")),
        keep_weekly=int(_setting(config, "JXC_BACKUP_KEEP_WEEKLY", "4")),
        keep_monthly=int(_setting(config, "JXC_BACKUP_KEEP_MONTHLY", "12")),
        s3=s3 if s3.get("bucket") else {},
    )
