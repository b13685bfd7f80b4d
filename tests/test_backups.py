"""Backups and restores on SQLite and PostgreSQL: round trips while the app writes, refusals that change
nothing, a backup killed with kill -9, retention, further destinations, the key file, the command line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from app.backups import archive, databases, s3
from app.backups.archive import BackupFile, list_folder, make_backup, retained
from app.backups.crypto import MAGIC
from app.backups.restore import BackupError, check_backup, restore_backup
from tests.backup_world import (
    KEY,
    SECRET_NOTE,
    Writer,
    checks,
    count_moves,
    pg_database,
    pg_databases_like,
    settings_for,
    sqlite_database,
)
from tests.conftest import PG_URL
from tests.servers import run_jxc


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A small live database of its own on each backend."""
    if request.param == "sqlite":
        yield sqlite_database(tmp_path / "instance")
    else:
        with pg_database(PG_URL) as url:
            yield url


def files_under(*folders: Path) -> set[Path]:
    """Every file below the folders."""
    return {p for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file()}


def assert_no_plaintext(*folders: Path) -> None:
    """No file in the backup folders holds the secret note or a SQLite header (the dump stays encrypted)."""
    for path in files_under(*folders):
        data = path.read_bytes()
        assert SECRET_NOTE.encode() not in data, path
        assert b"SQLite format 3" not in data and b"PGDMP" not in data, path


def test_round_trip_while_writing(live: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    before = count_moves(live)
    writer = Writer(live)
    writer.start()
    while writer.written < 20:  # the writes are under way when the backup starts
        time.sleep(0.01)
    result = make_backup(settings, live)
    written = writer.finish()
    assert written > 20
    manifest_rows = None
    path = settings.directory / result.name
    manifest = check_backup(settings, live, path)
    manifest_rows = manifest["tables"]["stock_move"]["rows"]
    assert before + 20 <= manifest_rows <= before + written  # a snapshot taken while rows went in
    assert manifest["schema"] and manifest["app_version"] and manifest["database"] in live
    assert set(manifest["tables"]) == {"alembic_version", "partner", "stock_move"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(MAGIC)
    assert [b.status for b in list_folder(settings.directory)] == ["good"]
    assert_no_plaintext(settings.directory)

    restored = restore_backup(settings, live, path)
    assert checks(live) == manifest["tables"]  # equal per-table checksums after the round trip
    assert count_moves(live) == manifest_rows
    # the data as it was just before the restore was backed up first, and can itself be restored
    safety = settings.directory / restored.safety_backup
    assert check_backup(settings, live, safety)["tables"]["stock_move"]["rows"] == before + written
    assert not (settings.instance / "maintenance.json").exists()
    assert_no_plaintext(settings.directory)
    if "sqlite" in live:
        folder = Path(live.removeprefix("sqlite:///")).parent
        assert not list(folder.glob("*.restoring-*"))
        assert stat.S_IMODE(Path(live.removeprefix("sqlite:///")).stat().st_mode) == 0o600
    else:
        assert pg_databases_like(PG_URL, live) == [live.rsplit("/", 1)[1]]  # no copy left beside it


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_bad_files_fail_closed(live: str, tmp_path: Path) -> None:
    """A wrong key, a flipped byte, a cut-off file and a newer schema: refused, nothing changed, nothing left."""
    settings = settings_for(tmp_path)
    good = settings.directory / make_backup(settings, live).name
    size = good.stat().st_size
    bad = tmp_path / "bad"
    bad.mkdir()
    cases = {}
    for name, at in (("flipped_payload", size - 40), ("flipped_header", 30)):
        path = bad / f"{name}.jxcbak"
        path.write_bytes(good.read_bytes())
        _flip(path, at)
        cases[name] = (path, settings, "backup.corrupt")
    truncated = bad / "truncated.jxcbak"
    truncated.write_bytes(good.read_bytes()[: size - 100])
    cases["truncated"] = (truncated, settings, "backup.truncated")
    cases["wrong_key"] = (good, settings_for(tmp_path, key_env="w" * 40), "backup.wrong_key")
    # another file chosen (a spreadsheet, a text): said so, not 已损坏或被改动过
    other = bad / "not_a_backup.jxcbak"
    other.write_bytes(b"PK\x03\x04 an xlsx, not a backup")
    cases["not_a_backup"] = (other, settings, "backup.not_a_backup")

    # a backup from a newer JXC: its database is at a revision this code does not have
    if "sqlite" in live:
        newer_url = sqlite_database(tmp_path / "newer", revision="9999_from_the_future")
        newer = settings_for(tmp_path / "n").directory / make_backup(settings_for(tmp_path / "n"), newer_url).name
        cases["newer_schema"] = (newer, settings, "backup.newer_schema")
    else:
        with pg_database(PG_URL, revision="9999_from_the_future") as newer_url:
            newer_settings = settings_for(tmp_path / "n")
            newer = newer_settings.directory / make_backup(newer_settings, newer_url).name
        cases["newer_schema"] = (newer, settings, "backup.newer_schema")

    before = checks(live)
    files_before = files_under(settings.directory, settings.instance)
    databases_before = [] if "sqlite" in live else pg_databases_like(PG_URL, live)
    for name, (path, case_settings, key) in cases.items():
        with pytest.raises(BackupError) as refused:
            restore_backup(case_settings, live, path)
        assert refused.value.key == key, name
        assert "数据库没有任何改动" in refused.value.message, name  # a clear Chinese message
        assert checks(live) == before, name
        assert files_under(settings.directory, settings.instance) == files_before, name  # no safety backup, no copy
        if "postgresql" in live:
            assert pg_databases_like(PG_URL, live) == databases_before, name
    assert_no_plaintext(settings.directory, bad)


def test_kill_9_during_a_backup_leaves_the_good_one(tmp_path: Path) -> None:
    """A backup process killed mid-way (pg_dump waiting on a lock): the last good backup stands, the
    partial file is never listed as good, and the next run removes it."""
    settings = settings_for(tmp_path)
    with pg_database(PG_URL) as url:
        first = make_backup(settings, url)
        good_bytes = (settings.directory / first.name).read_bytes()
        code = (
            "import sys; from pathlib import Path; from app.backups.archive import make_backup; "
            "from tests.backup_world import settings_for; "
            "make_backup(settings_for(Path(sys.argv[1])), sys.argv[2])"
        )
        with psycopg.connect(**archive.databases.pg_conninfo(url)) as blocker:
            blocker.execute("LOCK TABLE stock_move IN ACCESS EXCLUSIVE MODE")  # the backup waits on it
            child = subprocess.Popen(  # noqa: S603
                [sys.executable, "-c", code, str(tmp_path), url],
                cwd=Path(__file__).resolve().parent.parent,
                start_new_session=True,
            )
            deadline = time.monotonic() + 20
            while not list(settings.directory.glob(".*.partial")) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            blocker.rollback()
        partials = list(settings.directory.glob(".*.partial"))
        assert partials, "the backup was killed before it started writing"
        listed = list_folder(settings.directory)
        assert [(b.name, b.status) for b in listed] == [(first.name, "good")]
        assert (settings.directory / first.name).read_bytes() == good_bytes
        second = make_backup(settings, url)
        assert not list(settings.directory.glob(".*.partial"))
        assert {b.name for b in list_folder(settings.directory) if b.status == "good"} == {first.name, second.name}


def test_failing_runs_keep_the_good_backups(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, keep_daily=1, keep_weekly=1, keep_monthly=1)
    url = sqlite_database(tmp_path / "db")
    good = make_backup(settings, url)
    missing = f"sqlite:///{tmp_path / 'gone' / 'jxc.db'}"
    for _ in range(5):
        with pytest.raises(archive.databases.DumpFailed):
            make_backup(settings, missing)
    assert [(b.name, b.status) for b in list_folder(settings.directory)] == [(good.name, "good")]
    assert not list(settings.directory.glob(".*"))


def test_retention_keeps_daily_weekly_monthly() -> None:
    start = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    backups = [
        BackupFile(Path(f"b{n:03d}.jxcbak"), "good", {"created": (start - timedelta(hours=12 * n)).isoformat()})
        for n in range(800)  # two a day for 400 days
    ]
    backups.append(BackupFile(Path("unverified.jxcbak"), "unverified", {"created": start.isoformat()}))
    keep = retained(backups, 7, 4, 12, now=start + timedelta(days=2))
    kept = sorted((b for b in backups if b.name in keep), key=lambda b: b.created, reverse=True)
    days = {b.created.date() for b in kept}
    assert kept[0].name == "b000.jxcbak"
    assert len({b.created.date() for b in kept if b.created > start - timedelta(days=7)}) == 7
    assert len({(b.created.year, b.created.month) for b in kept}) == 12
    assert len(kept) == len(days) <= 7 + 4 + 12
    assert "unverified.jxcbak" not in keep  # only good backups are counted (or removed)
    assert retained(backups[:1], 0, 0, 0, now=start + timedelta(days=2)) == {"b000.jxcbak"}  # the newest stays
    assert len(retained(backups, 0, 0, 0, now=start)) == 2  # everything of the last 24 hours stays


def test_second_directory_verified_and_a_failing_one_reported(tmp_path: Path) -> None:
    nas = tmp_path / "nas" / "jxc"
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where a folder should be")
    settings = settings_for(tmp_path, mirrors=(nas, blocked))
    url = sqlite_database(tmp_path / "db")
    result = make_backup(settings, url)
    assert result.copies[str(settings.directory)] == "ok" and result.copies[str(nas)] == "ok"
    assert str(blocked) in result.failed
    copy = nas / result.name
    assert copy.read_bytes() == (settings.directory / result.name).read_bytes()
    sidecar = json.loads((nas / (result.name + ".json")).read_text())
    assert sidecar["sha256"] == archive.file_sha256(copy)[0]
    assert [b.status for b in list_folder(nas)] == ["good"]
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert check_backup(settings, url, copy)["tables"]["partner"]["rows"] == 30


def test_key_file_created_once_outside_the_backups(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, key_env="", key_file=tmp_path / "instance" / "backup.key")
    url = sqlite_database(tmp_path / "db")
    result = make_backup(settings, url)
    key_text = settings.key_file.read_text()
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    make_backup(settings, url)
    assert settings.key_file.read_text() == key_text  # created at first use only
    assert check_backup(settings, url, settings.directory / result.name)
    inside = settings_for(tmp_path, key_env="", key_file=settings.directory / "backup.key")
    with pytest.raises(Exception) as refused:
        make_backup(inside, url)
    assert "backup.key_in_destination" in str(refused.value)
    short = settings_for(tmp_path, key_env="short")
    with pytest.raises(BackupError) as too_short:
        check_backup(short, url, settings.directory / result.name)
    assert too_short.value.key == "backup.key_short"
    assert KEY not in key_text


def test_a_backup_restores_onto_a_new_machine_without_a_database(live: str, tmp_path: Path) -> None:
    """Disaster recovery: the key and a backup copied to a machine whose database is not there yet (no file, no
    PostgreSQL database). The restore refused with 'no database at ...' (it backed up the missing data first)."""
    settings = settings_for(tmp_path)
    result = make_backup(settings, live)
    before = checks(live)
    if databases.kind_of(live) == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(databases.sqlite_path(live)) + suffix).unlink(missing_ok=True)
    else:
        databases.pg_drop(live, databases.make_url(live).database)
    restored = restore_backup(settings, live, settings.directory / result.name)
    assert restored.safety_backup is None and checks(live) == before
    assert [f.name for f in list_folder(settings.directory) if f.status == "good"] == [result.name]  # none "before"


def test_command_line_backup_list_and_restore_in_chinese(live: str, tmp_path: Path) -> None:
    """`jxc backup`, `jxc backup list` and `jxc restore` speak the product's language through the catalogue (they
    printed "Restored … the data before it" and "Restore failed" in English); `--lang en` for English. The list is
    the backups page's: file, time in the business's time zone, size, kind, status."""
    instance = tmp_path / "instance"
    env = dict(os.environ, DATABASE_URL=live, JXC_INSTANCE=str(instance), JXC_BACKUP_KEY=KEY)
    env.update(JXC_TIMEZONE="Asia/Shanghai")
    for name in ("JXC_BACKUP_DIR", "JXC_BACKUP_MIRRORS", "JXC_BACKUP_S3_BUCKET"):
        env.pop(name, None)
    done = run_jxc("backup", env=env)
    assert done.returncode == 0, done.stderr
    name = done.stdout.split("：")[0]
    assert done.stdout.startswith(f"{name}：") and " 张表，" in done.stdout and "：已校验" in done.stdout, done.stdout
    path = instance / "backups" / name
    assert path.exists() and "partner" not in done.stdout
    taken = list_folder(instance / "backups")[0].created.astimezone(ZoneInfo("Asia/Shanghai"))
    size = path.stat().st_size
    listed = run_jxc("backup", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "文件\t时间\t大小\t来源\t状态",
        f"{name}\t{taken:%Y-%m-%d %H:%M:%S}\t{size / 1024:.1f} KB\t手动\t已校验",
    ]
    english_list = run_jxc("backup", "list", "--lang", "en", env=env).stdout
    assert english_list.splitlines()[0] == "File\tTime\tSize\tSource\tStatus"

    before = checks(live)
    sqlite = databases.kind_of(live) == "sqlite"
    with closing(
        sqlite3.connect(databases.sqlite_path(live)) if sqlite else psycopg.connect(**databases.pg_conninfo(live))
    ) as conn:
        conn.execute("DELETE FROM stock_move")
        conn.commit()
    done = run_jxc("restore", str(path), "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert checks(live) == before  # the rows deleted after the backup are back
    safety = done.stdout.strip().rsplit("：", 1)[-1]
    assert done.stdout.strip() == f"已恢复 {path}（备份时间 {taken:%Y-%m-%d %H:%M:%S}）；恢复前的数据已备份为：{safety}"
    assert "\t恢复前自动备份\t已校验" in run_jxc("backup", "list", env=env).stdout
    junk = tmp_path / "junk.jxcbak"
    junk.write_bytes(MAGIC + b"\0" * 64)
    refused = run_jxc("restore", str(junk), "--yes", env=env)
    assert refused.returncode == 1 and refused.stderr.strip().endswith("数据库没有任何改动。"), refused.stderr
    english = run_jxc("restore", str(tmp_path / "gone.jxcbak"), "--yes", "--lang", "en", env=env)
    assert english.returncode == 1 and english.stderr.strip() == f"No such backup file: {tmp_path / 'gone.jxcbak'}"


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An S3-compatible server on loopback (moto's standalone server); the test is skipped without one."""
    pytest.importorskip("boto3")
    binary = shutil.which("moto_server")
    if binary is None:
        pytest.skip("no S3-compatible server here (moto_server not on PATH)")
    from servers import free_port

    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [binary, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_s3_bucket_destination_verified(tmp_path: Path, s3_server: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket="jxc-backups")
    config = {"bucket": "jxc-backups", "endpoint": s3_server, "prefix": "shop1/", "region": "us-east-1"}
    settings = settings_for(tmp_path, s3=config)
    url = sqlite_database(tmp_path / "db")
    result = make_backup(settings, url)
    assert result.copies["s3://jxc-backups/shop1/"] == "ok", result.copies
    stored = client.get_object(Bucket="jxc-backups", Key=f"shop1/{result.name}")["Body"].read()
    assert stored == (settings.directory / result.name).read_bytes()
    listed = s3.listing(config)
    assert [(b.name, b.status) for b in listed] == [(result.name, "good")]
    down = tmp_path / "from-s3.jxcbak"
    down.write_bytes(stored)
    assert check_backup(settings, url, down)["tables"]["partner"]["rows"] == 30
