"""Restore a backup: check everything first, back up what is there, then restore beside it and switch.

1. Before touching anything: the key, every chunk's authentication, the manifest (same kind of database,
   a schema this code knows) and, for SQLite, every table's checksum on the copy in memory. Each refusal
   is a BackupError with a Chinese message; the database and the folders are as they were.
2. A backup of the current data (reason "before_restore"), through the normal run.
3. Maintenance mode (every process answers 503, workers wait); the backup is restored into a NEW file or
   database beside the live one and checked against the manifest's checksums; only then is it switched
   in (SQLite: the file is renamed over the live one; PostgreSQL: the databases are renamed). A failure
   before the switch removes the new copy and leaves the live database as it was.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.backups import databases
from app.backups.archive import READ, make_backup, open_backup, run_lock
from app.backups.crypto import BackupFileError
from app.backups.maintenance import bump_generation, maintenance_mode
from app.backups.settings import BackupSettings, KeyProblem
from app.config import ROOT
from app.errors import ServiceError
from app.i18n import t


class BackupError(ServiceError):
    """A backup or restore refused or failed, with a message for the user (nothing was changed)."""

    status = 422

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(t(key, **params))
        self.key = key


def known_revisions() -> set[str]:
    """Every Alembic revision this code has (a backup at another one comes from a newer JXC)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(ROOT / "app" / "migrations"))
    return {revision.revision for revision in script.walk_revisions()}


def master_or_refuse(settings: BackupSettings, create: bool) -> bytes:
    """The master key, or a BackupError saying what is wrong with it."""
    try:
        return settings.master(create=create)
    except KeyProblem as exc:
        raise BackupError(exc.reason, **exc.params) from exc


def _file_error(exc: BackupFileError) -> BackupError:
    return BackupError(
        {"wrong_key": "backup.wrong_key", "truncated": "backup.truncated", "not_a_backup": "backup.not_a_backup"}.get(
            exc.reason, "backup.corrupt"
        )
    )


def _check_manifest(manifest: dict[str, Any], kind: str) -> None:
    if manifest.get("database") != kind:
        raise BackupError("backup.other_database", found=str(manifest.get("database")), current=kind)
    schema = manifest.get("schema")
    if schema is not None and schema not in known_revisions():
        raise BackupError("backup.newer_schema", schema=schema, version=str(manifest.get("app_version")))
    if not isinstance(manifest.get("tables"), dict):
        raise BackupError("backup.corrupt")


def _compare(expected: databases.Tables, found: databases.Tables) -> None:
    for table in sorted(set(expected) | set(found)):
        if expected.get(table) != found.get(table):
            raise BackupError("backup.checksum_mismatch", table=table)


def check_backup(settings: BackupSettings, url: str, path: Path) -> dict[str, Any]:
    """Read and check a whole backup file against this database's kind and schema; return its manifest."""
    master = master_or_refuse(settings, create=False)
    kind = databases.kind_of(url)
    try:
        with open(path, "rb") as handle:
            manifest, reader = open_backup(handle, master)
            _check_manifest(manifest, kind)
            if kind == "sqlite":
                data = reader.read(-1)
                memory = _sqlite_checked(data, manifest)
                memory.close()
            else:
                while reader.read(READ):
                    pass
    except BackupFileError as exc:
        raise _file_error(exc) from exc
    return manifest


def _sqlite_checked(data: bytes, manifest: dict[str, Any]) -> Any:
    try:
        memory = databases.sqlite_load(data)
    except databases.DumpFailed as exc:
        raise BackupError("backup.corrupt") from exc
    try:
        _compare(manifest["tables"], databases.sqlite_checksums(memory))
    except BaseException:
        memory.close()
        raise
    return memory


@dataclass
class RestoreResult:
    """What a restore did."""

    manifest: dict[str, Any]
    safety_backup: str | None  # the backup of the data replaced; None when there was no database yet


def restore_backup(
    settings: BackupSettings, url: str, path: Path, release: Callable[[], None] = lambda: None
) -> RestoreResult:
    """Restore `path` into the database at `url` (see the module docstring).

    `release()` is called in maintenance mode just before the switch: it must close this process's
    connections to the database (the app passes its engine's dispose)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError("backup.no_file", path=str(path))
    master = master_or_refuse(settings, create=False)
    kind = databases.kind_of(url)
    manifest = check_backup(settings, url, path)
    # no retention in this run: it could remove the very backup being restored; a new machine has nothing to keep
    safety = make_backup(settings, url, reason="before_restore", retention=False) if databases.exists(url) else None
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)
    with run_lock(settings), maintenance_mode(settings.instance, "restore"):
        with open(path, "rb") as handle:
            try:
                manifest, reader = open_backup(handle, master)
                if kind == "sqlite":
                    _restore_sqlite(url, reader.read(-1), manifest, stamp, release)
                else:
                    _restore_pg(url, reader, manifest, stamp, release)
            except BackupFileError as exc:  # changed since it was checked
                raise _file_error(exc) from exc
        bump_generation(settings.instance)
    return RestoreResult(manifest, safety.name if safety is not None else None)


def _restore_sqlite(url: str, data: bytes, manifest: dict[str, Any], stamp: str, release: Callable[[], None]) -> None:
    live = databases.sqlite_path(url)
    new = live.with_name(f"{live.name}.restoring-{stamp}")
    memory = _sqlite_checked(data, manifest)
    try:
        databases.sqlite_write(memory, new)
        release()
        databases.sqlite_switch(new, live)
    except BaseException:
        new.unlink(missing_ok=True)
        raise
    finally:
        memory.close()


def _restore_pg(url: str, reader: Any, manifest: dict[str, Any], stamp: str, release: Callable[[], None]) -> None:
    live = databases.make_url(url).database
    new, old = f"{live}_restore_{stamp}", f"{live}_old_{stamp}"

    def chunks() -> Any:
        while chunk := reader.read(READ):
            yield chunk

    databases.pg_create(url, new)
    try:
        databases.pg_restore(url, new, chunks())
        _schema, found = databases.pg_read_checks(url, new)
        _compare(manifest["tables"], found)
        release()
        databases.pg_switch(url, new, old)
    except BaseException:
        databases.pg_drop(url, new)
        raise
    databases.pg_drop(url, old)
