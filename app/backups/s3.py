"""An S3-compatible bucket as a further destination (needs boto3: `pip install 'jxc[s3]'`).

Settings: JXC_BACKUP_S3_BUCKET, JXC_BACKUP_S3_ENDPOINT (MinIO, a NAS, another cloud), JXC_BACKUP_S3_PREFIX,
JXC_BACKUP_S3_REGION; credentials the usual AWS way (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile).
The file is uploaded under `<prefix><name>`, read back and compared (SHA-256), and its sidecar uploaded
after it; retention there follows the same rule as in the folders.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.backups.archive import SIDECAR, SUFFIX, BackupFile, retained
from app.backups.settings import BackupSettings


def describe(config: Mapping[str, str]) -> str:
    """s3://bucket/prefix (how the destination is named in results and logs)."""
    return f"s3://{config['bucket']}/{config.get('prefix', '')}"


def _client(config: Mapping[str, str]) -> Any:
    try:
        import boto3  # type: ignore[import-not-found]
    except ImportError as exc:
        raise RuntimeError("boto3 is not installed: pip install 'jxc[s3]'") from exc
    return boto3.client("s3", endpoint_url=config.get("endpoint") or None, region_name=config.get("region") or None)


def upload(config: Mapping[str, str], path: Path, info: Mapping[str, Any]) -> None:
    """Upload a backup and its sidecar; read the backup back and compare its SHA-256."""
    client, bucket, prefix = _client(config), config["bucket"], config.get("prefix", "")
    key = prefix + path.name
    client.upload_file(str(path), bucket, key)
    sha = hashlib.sha256()
    for chunk in client.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(1 << 20):
        sha.update(chunk)
    if sha.hexdigest() != info["sha256"]:
        client.delete_object(Bucket=bucket, Key=key)
        raise OSError(f"{describe(config)}{path.name}: read back a different SHA-256")
    client.put_object(Bucket=bucket, Key=key + SIDECAR, Body=json.dumps(dict(info)).encode("utf-8"))


def listing(config: Mapping[str, str]) -> list[BackupFile]:
    """The backups in the bucket (good: with a sidecar whose size matches)."""
    client, bucket, prefix = _client(config), config["bucket"], config.get("prefix", "")
    objects: dict[str, int] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            objects[item["Key"]] = item["Size"]
    found = []
    for key, size in objects.items():
        if key.endswith(SUFFIX):
            info: dict[str, Any] = {}
            if key + SIDECAR in objects:
                info = json.loads(client.get_object(Bucket=bucket, Key=key + SIDECAR)["Body"].read())
            status = "good" if info.get("size") == size else "unverified"
            found.append(BackupFile(Path(key), status, info or {"created": "1970-01-01T00:00:00+00:00"}))
    return found


def apply_retention(settings: BackupSettings) -> list[str]:
    """Remove the good backups in the bucket that the retention rule no longer keeps."""
    config = settings.s3
    backups = listing(config)
    keep = retained(backups, settings.keep_daily, settings.keep_weekly, settings.keep_monthly)
    client, removed = _client(config), []
    for backup in backups:
        if backup.status == "good" and backup.name not in keep:
            key = str(backup.path)
            client.delete_objects(Bucket=config["bucket"], Delete={"Objects": [{"Key": key}, {"Key": key + SIDECAR}]})
            removed.append(backup.name)
    return removed
