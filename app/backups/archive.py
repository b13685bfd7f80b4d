"""One backup run: dump, encrypt, write to every destination, verify each copy, then apply retention.

A file counts as a good backup only once it has been read back and verified: it is written as a hidden
`.<name>.partial`, renamed to `<name>.jxcbak` after the check, and its sidecar `<name>.jxcbak.json` (size,
SHA-256, time, versions; no table data) is written last. A run killed at any point leaves at most a
`.partial` file of ciphertext, which the next run removes and no listing counts.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

from app.backups import databases
from app.backups.crypto import BackupFileError, EncryptingWriter, PlainReader, decrypt, key_id
from app.backups.settings import BackupSettings
from app.i18n import join_list, t

SUFFIX = ".jxcbak"
SIDECAR = ".json"
PARTIAL = ".partial"
_LEN = struct.Struct(">I")
READ = 1 << 20


def app_version() -> str:
    """The installed JXC version."""
    try:
        return metadata.version("jxc")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
        return "0"


class _Hashing:
    """A file that also hashes and counts what is written to it."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.handle.write(data)


def owner_only_file(path: Path) -> BinaryIO:
    """A new file readable by its owner only (refuses to overwrite)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_sha256(path: Path) -> tuple[str, int]:
    """(SHA-256, size) of a file, read back from disk."""
    sha, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(READ):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def owner_only_dir(folder: Path) -> None:
    """Create a destination folder readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)


@contextmanager
def run_lock(settings: BackupSettings) -> Iterator[None]:
    """One backup or restore at a time on this instance (a second one waits)."""
    owner_only_dir(settings.instance)
    with open(settings.instance / "backup.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---- reading ------------------------------------------------------------------------------------------


def open_backup(handle: BinaryIO, master: bytes) -> tuple[dict[str, Any], PlainReader]:
    """The manifest of a backup file and a reader positioned at its database payload."""
    reader = PlainReader(decrypt(handle, master))
    head = reader.read(_LEN.size)
    if len(head) < _LEN.size:
        raise BackupFileError("corrupt", "no manifest")
    (length,) = _LEN.unpack(head)
    try:
        manifest = json.loads(reader.read(length))
    except ValueError as exc:
        raise BackupFileError("corrupt", "bad manifest") from exc
    return manifest, reader


def verify_file(path: Path, master: bytes) -> dict[str, Any]:
    """Decrypt a whole backup file (authenticating every chunk) and return its manifest."""
    with open(path, "rb") as handle:
        manifest, reader = open_backup(handle, master)
        while reader.read(READ):
            pass
    return manifest


# ---- listing and retention ----------------------------------------------------------------------------


@dataclass
class BackupFile:
    """A backup file in one destination, with what its sidecar says (status 'good' only if verified)."""

    path: Path
    status: str  # good | unverified | damaged
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The file's name (the same in every destination)."""
        return self.path.name

    @property
    def created(self) -> datetime:
        """When the backup was taken (the sidecar's time, else the file's)."""
        text = self.info.get("created")
        if text:
            return datetime.fromisoformat(text)
        return datetime.fromtimestamp(self.path.stat().st_mtime, UTC)


def list_folder(folder: Path) -> list[BackupFile]:
    """The backups in one folder, newest first. A file without a sidecar, or not matching it, is not good."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"*{SUFFIX}"):
        sidecar = path.with_name(path.name + SIDECAR)
        info: dict[str, Any] = {}
        status = "unverified"
        if sidecar.exists():
            try:
                info = json.loads(sidecar.read_text(encoding="utf-8"))
                status = "good" if info.get("size") == path.stat().st_size else "damaged"
            except ValueError:
                status = "damaged"
        found.append(BackupFile(path, status, info))
    return sorted(found, key=lambda b: b.created, reverse=True)


RECENT = timedelta(hours=24)


def retained(backups: list[BackupFile], daily: int, weekly: int, monthly: int, now: datetime | None = None) -> set[str]:
    """Names kept by the rule: every good backup of the last 24 hours (a backup taken by hand does not push
    out the night's), then the newest good backup of each of the last `daily` days, `weekly` ISO weeks and
    `monthly` months that have one (and always the newest good one)."""
    good = sorted((b for b in backups if b.status == "good"), key=lambda b: b.created, reverse=True)
    recent = (now or datetime.now(UTC)) - RECENT
    keep: set[str] = {b.name for b in good[:1] + [b for b in good if b.created > recent]}
    for count, period in (
        (daily, lambda d: d.date()),
        (weekly, lambda d: d.isocalendar()[:2]),
        (monthly, lambda d: (d.year, d.month)),
    ):
        seen: list[Any] = []
        for backup in good:
            key = period(backup.created)
            if key not in seen:
                if len(seen) >= count:
                    break
                seen.append(key)
                keep.add(backup.name)
    return keep


def apply_retention(folder: Path, settings: BackupSettings) -> list[str]:
    """Remove the good backups the rule no longer keeps (never a file that is not good); return their names."""
    backups = list_folder(folder)
    keep = retained(backups, settings.keep_daily, settings.keep_weekly, settings.keep_monthly)
    removed = []
    for backup in backups:
        if backup.status == "good" and backup.name not in keep:
            backup.path.unlink(missing_ok=True)
            backup.path.with_name(backup.name + SIDECAR).unlink(missing_ok=True)
            removed.append(backup.name)
    return removed


def remove_partials(folder: Path) -> None:
    """Remove what killed runs left (ciphertext only, never counted as a backup)."""
    if folder.is_dir():
        for path in folder.glob(f".*{PARTIAL}"):
            path.unlink(missing_ok=True)


# ---- writing ------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    """What one run did: the file, its manifest summary, each destination's outcome, what retention removed."""

    name: str
    manifest: dict[str, Any]
    copies: dict[str, str] = field(default_factory=dict)  # destination -> "ok" or the error
    removed: list[str] = field(default_factory=list)

    @property
    def failed(self) -> dict[str, str]:
        """Destinations that did not get a verified copy."""
        return {where: outcome for where, outcome in self.copies.items() if outcome != "ok"}


def _write_sidecar(path: Path, info: dict[str, Any]) -> None:
    sidecar = path.with_name(path.name + SIDECAR)
    temp = path.with_name(f".{path.name}{SIDECAR}{PARTIAL}")
    temp.unlink(missing_ok=True)
    with owner_only_file(temp) as handle:
        handle.write(json.dumps(info, ensure_ascii=False, indent=1).encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, sidecar)
    _sync_dir(path.parent)


def _finish(partial: Path, final: Path, sha: str, size: int) -> None:
    """Read the copy back; if it is what was written, give it its name (else remove it and raise)."""
    found_sha, found_size = file_sha256(partial)
    if (found_sha, found_size) != (sha, size):
        partial.unlink(missing_ok=True)
        raise OSError(f"read back {found_size} bytes, SHA-256 {found_sha[:12]}: not what was written")
    os.replace(partial, final)
    _sync_dir(final.parent)


def _copy_to(source: Path, folder: Path, sha: str, size: int) -> Path:
    owner_only_dir(folder)
    partial = folder / f".{source.name}{PARTIAL}"
    partial.unlink(missing_ok=True)
    with open(source, "rb") as src, owner_only_file(partial) as dst:
        while chunk := src.read(READ):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    final = folder / source.name
    _finish(partial, final, sha, size)
    return final


def new_name(now: datetime) -> str:
    """jxc-20261202T120000Z-1a2b.jxcbak: sorts by time, unique within a second."""
    return f"jxc-{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}{SUFFIX}"


def make_backup(settings: BackupSettings, url: str, reason: str = "manual", retention: bool = True) -> RunResult:
    """Take one backup of the database at `url` into every destination (see the module docstring).

    Raises when the first destination does not get a verified copy; a further destination that fails is
    reported in `copies` (the run is then not a full success, and the caller says so)."""
    master = settings.master()
    kind = databases.kind_of(url)
    now = datetime.now(UTC)
    name = new_name(now)
    with run_lock(settings):
        for folder in settings.destinations:
            remove_partials(folder)
        owner_only_dir(settings.directory)
        partial = settings.directory / f".{name}{PARTIAL}"
        manifest: dict[str, Any] = {}
        try:
            with owner_only_file(partial) as handle:
                hashing = _Hashing(handle)
                writer = EncryptingWriter(hashing, master)  # type: ignore[arg-type]

                def start(schema: str | None, tables: databases.Tables) -> None:
                    manifest.update(
                        format=1,
                        created=now.isoformat(),
                        app_version=app_version(),
                        schema=schema,
                        database=kind,
                        reason=reason,
                        tables=tables,
                    )
                    text = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode("utf-8")
                    writer.write(_LEN.pack(len(text)) + text)

                dump = databases.sqlite_dump if kind == "sqlite" else databases.pg_dump
                dump(url, start, writer)
                writer.close()
                handle.flush()
                os.fsync(handle.fileno())
            if verify_file(partial, master) != manifest:
                raise BackupFileError("corrupt", "the written file does not read back as written")
            final = settings.directory / name
            _finish(partial, final, hashing.sha.hexdigest(), hashing.size)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        info = {
            "file": name,
            "size": hashing.size,
            "sha256": hashing.sha.hexdigest(),
            "created": manifest["created"],
            "app_version": manifest["app_version"],
            "schema": manifest["schema"],
            "database": kind,
            "reason": reason,
            "key_id": key_id(master),
            "tables": len(manifest["tables"]),
            "rows": sum(t["rows"] for t in manifest["tables"].values()),
        }
        _write_sidecar(final, info)
        result = RunResult(name, info, {str(settings.directory): "ok"})
        for folder in settings.mirrors:
            try:
                _write_sidecar(_copy_to(final, folder, info["sha256"], info["size"]), info)
                result.copies[str(folder)] = "ok"
            except OSError as exc:
                result.copies[str(folder)] = str(exc) or type(exc).__name__
        if settings.s3:
            from app.backups import s3

            where = s3.describe(settings.s3)
            try:
                s3.upload(settings.s3, final, info)
                result.copies[where] = "ok"
            except Exception as exc:  # noqa: BLE001 - reported with the run, the local copies stand
                result.copies[where] = str(exc) or type(exc).__name__
        for folder in settings.destinations if retention else ():
            if result.copies.get(str(folder)) == "ok":
                result.removed += apply_retention(folder, settings)
        if retention and settings.s3 and result.copies.get(s3.describe(settings.s3)) == "ok":
            result.removed += s3.apply_retention(settings)
    return result


def summary(result: RunResult) -> str:
    """One line per destination, for the command line and the job log (in the current language)."""
    info = result.manifest
    lines = [t("backup.summary", name=result.name, tables=info["tables"], rows=info["rows"], size=info["size"])]
    lines += [
        t("backup.summary_copy", where=where, outcome=t("backup.copy_ok") if outcome == "ok" else outcome)
        for where, outcome in result.copies.items()
    ]
    if result.removed:
        lines.append(t("backup.summary_removed", names=join_list(sorted(set(result.removed)))))
    return "\n".join(lines)
