"""Attachments on any record: images and PDFs only, recognised by their first bytes (never by name or by
what the browser says), at most `attachment_max_mb`, stored in <instance>/files/attachments/ (owner-only,
outside the static folder under a random name) and read back only by those who may read the record. A file is
written before its row; if the transaction then ends without its commit (a later failure rolls it back) the file
goes too (app.collab.forget), so no file is kept that no row names."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.collab.records import readable
from app.collab.tables import attachment
from app.errors import CellError, NotFound, ValidationFailed
from app.i18n import t
from app.instance_files import private_folder
from app.services.access.rights import Access
from app.services.records.settings import policy

MAX_SETTING = "attachment_max_mb"
WRITTEN = "jxc_written_files"  # the session's info key: stored names of files written in this transaction
# what a file starts with -> (content type, the extensions it may be called by)
SIGNATURES: tuple[tuple[bytes, str, tuple[str, ...]], ...] = (
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
    (b"GIF87a", "image/gif", (".gif",)),
    (b"GIF89a", "image/gif", (".gif",)),
)
WEBP = "image/webp"  # RIFF....WEBP


@dataclass(frozen=True)
class Stored:
    """Where an attachment's bytes are, and how to hand them out."""

    path: Path
    filename: str
    content_type: str


def sniff(data: bytes) -> tuple[str, tuple[str, ...]] | None:
    """(content type, allowed extensions) of an image or PDF recognised by its magic bytes; None otherwise."""
    for magic, content_type, extensions in SIGNATURES:
        if data.startswith(magic):
            return content_type, extensions
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP, (".webp",)
    return None


def attachments_root() -> Path:
    """<instance>/files/attachments (created owner-only)."""
    return private_folder("attachments")


def clean_filename(name: str) -> str:
    """The name the file is offered under: no folders, no control characters, at most 120 characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>:|?*').strip(" .")
    return (base or "file")[-120:]


def max_bytes(session: Session, registry: Any) -> int:
    """The size limit in bytes (the setting is in MB)."""
    return int(policy(session, registry, MAX_SETTING) or 0) * 1024 * 1024


def add_attachment(
    session: Session, access: Access, model_key: str, pk: int, filename: str, data: bytes
) -> dict[str, Any]:
    """Keep a file on a record the user may read (and write): refused unless it is an image or a PDF by
    content, its name fits its content, and it is within the size limit."""
    model, _row = readable(session, access, model_key, pk)
    access.require(model.key, "write")
    name = clean_filename(filename)
    limit = max_bytes(session, access.registry)
    if not data:
        raise ValidationFailed([CellError("file", t("collab.file_empty"))])
    if len(data) > limit:
        raise ValidationFailed([CellError("file", t("collab.file_too_big", mb=limit // (1024 * 1024)))])
    found = sniff(data)
    if found is None:
        raise ValidationFailed([CellError("file", t("collab.file_type", name=name))])
    content_type, extensions = found
    if "." not in name:  # a name without an extension (an image pasted from the clipboard): named by its content
        name = f"{name}{extensions[0]}"
    if not name.lower().endswith(extensions):
        raise ValidationFailed([CellError("file", t("collab.file_name_mismatch", name=name, ext=extensions[0]))])
    stored = secrets.token_hex(16)
    target = attachments_root() / stored
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    session.info.setdefault(WRITTEN, []).append(stored)  # removed unless the transaction commits (app.collab.forget)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    values = {
        "model": model.key,
        "record_id": pk,
        "user_id": access.user_id,
        "username": access.username,
        "filename": name,
        "content_type": content_type,
        "size": len(data),
        "stored": stored,
        "created_at": utcnow(),
    }
    new_id = int(session.execute(insert(attachment).values(**values)).inserted_primary_key[0])
    return attachment_json(dict(values, id=new_id))


def attachment_json(row: Any) -> dict[str, Any]:
    """One attachment as the API answers it (never where it is stored)."""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    created = get("created_at")
    return {
        "id": get("id"),
        "filename": get("filename"),
        "content_type": get("content_type"),
        "size": get("size"),
        "user": get("username"),
        "at": created.isoformat(timespec="seconds"),
        "url": f"/api/v1/collab/attachment/{get('id')}",
    }


def attachments_of(session: Session, access: Access, model_key: str, pk: int) -> list[dict[str, Any]]:
    """A readable record's attachments, newest first."""
    model, _row = readable(session, access, model_key, pk)
    stmt = (
        select(attachment)
        .where(attachment.c.model == model.key, attachment.c.record_id == pk)
        .order_by(attachment.c.id.desc())
    )
    return [attachment_json(row) for row in session.execute(stmt)]


def open_attachment(session: Session, access: Access, attachment_id: int) -> Stored:
    """An attachment's file, if the user may read its record (NotFound otherwise, as for a missing one)."""
    row = session.execute(select(attachment).where(attachment.c.id == attachment_id)).first()
    if row is None:
        raise NotFound(t("not_found"))
    readable(session, access, row.model, row.record_id)
    path = attachments_root() / row.stored
    if not path.is_file():
        raise NotFound(t("not_found"))
    return Stored(path, row.filename, row.content_type)
