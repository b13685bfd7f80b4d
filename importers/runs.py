"""Applied imports remembered: the same file twice is recognised, an import is undone in one step, and
corrected column mappings are kept per layout.

An applied import records each row it created or updated with the row's version right after (and the
values an update replaced). Undo checks every one of them in a few queries: if any row changed since
(another version, or gone), it refuses with the list; otherwise it deletes what the import created and
puts back what it updated, through RecordService, audited in one statement, in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from app.clock import business_time, utcnow
from app.errors import CellError, NotFound, ServiceError, ValidationFailed
from app.i18n import t
from app.services.records.bulk import among, insert_columns, insert_rows
from app.services.records.write import RecordService
from importers.matcher import normalise_header
from importers.tables import import_change, import_layout, import_run

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.services.access.rights import Access
    from importers.pipeline import Outcome

CHUNK = 5000


def content_hash(data: bytes) -> str:
    """What identifies a file's content (sha256 hex)."""
    return hashlib.sha256(data).hexdigest()


def standing_import(session: Session, model: str, digest: str) -> Any:
    """The applied (not undone) import of this content into this model, or None."""
    stmt = (
        select(import_run)
        .where(import_run.c.model == model, import_run.c.content_hash == digest, import_run.c.status == "applied")
        .order_by(import_run.c.id.desc())
        .limit(1)
    )
    return session.execute(stmt).first()


def already_imported(session: Session, model: str, digest: str) -> str:
    """ "already imported as #n" when this content stands applied to this model, else ""."""
    earlier = standing_import(session, model, digest)
    if earlier is None:
        return ""
    when = business_time(earlier.created_at).strftime("%Y-%m-%d %H:%M") if earlier.created_at else ""
    return t("imports.already", id=earlier.id, when=when)


def record_import(
    session: Session, access: Access, outcome: Outcome, digest: str, filename: str, job_id: int | None
) -> int:
    """Write the import and the rows it changed (in bulk); return its id."""
    result = session.execute(
        insert(import_run).values(
            job_id=job_id,
            user_id=access.user_id,
            model=outcome.model,
            action=outcome.action,
            mode=outcome.mode,
            content_hash=digest,
            filename=filename[:255],
            status="applied",
            created=outcome.created,
            updated=outcome.updated,
            created_at=utcnow(),
        )
    )
    import_id = int(result.inserted_primary_key[0])  # type: ignore[attr-defined]
    created = len(outcome.created_ids)
    insert_columns(  # the created rows (most of a large import) column by column
        session,
        import_change,
        {
            "import_id": [import_id] * created,
            "record_id": [pk for pk, _ in outcome.created_ids],
            "op": ["create"] * created,
            "version": [version for _, version in outcome.created_ids],
            "before": [None] * created,
        },
    )
    rows = [
        {
            "import_id": import_id,
            "record_id": change["id"],
            "op": op,
            "version": change["version"],
            "before": json.dumps(change["before"], ensure_ascii=False, default=str),
        }
        for op, changes in (("update", outcome.updated_rows), ("follow", outcome.followed_rows))
        for change in changes
    ]
    insert_rows(session, import_change, rows)
    return import_id


def get_import(session: Session, access: Access, import_id: int) -> Any:
    """An import its user (or an admin) may see; NotFound otherwise."""
    row = session.execute(select(import_run).where(import_run.c.id == import_id)).first()
    if row is None or (row.user_id != access.user_id and not access.is_admin):
        raise NotFound(t("not_found"))
    return row


def undo_import(session: Session, access: Access, import_id: int, progress: Any = None) -> dict[str, int]:
    """Undo an applied import in one transaction (not committed here); refused with every row changed since."""
    run = get_import(session, access, import_id)
    if run.status != "applied":
        raise ServiceError(t("imports.not_applied"))
    registry = access.registry
    model = registry.model(run.model)
    cls: Any = registry.cls(run.model)
    changes = session.execute(
        select(import_change).where(import_change.c.import_id == import_id).order_by(import_change.c.id)
    ).all()
    key_spec = model.field(model.business_key)
    key_column = getattr(cls, key_spec.column) if key_spec is not None else cls.id
    current: dict[int, tuple[int, Any]] = {}
    ids = [c.record_id for c in changes]
    for start in range(0, len(ids), CHUNK):
        stmt = select(cls.id, cls.version, key_column).where(among(session, cls.id, ids[start : start + CHUNK]))
        current.update({pk: (version, key) for pk, version, key in session.execute(stmt)})
    changed = [
        CellError(
            model.business_key,
            t("imports.changed_since", value=str(current.get(c.record_id, (0, c.record_id))[1])),
            c.record_id,
        )
        for c in changes
        if c.record_id not in current or current[c.record_id][0] != c.version
    ]
    if changed:
        raise ValidationFailed(changed, summary=t("imports.undo_refused", count=len(changed)))
    records = RecordService(session, access, batch=True)
    created = [(c.record_id, c.version) for c in changes if c.op == "create"]
    # what the model's rules changed because of created rows (a closed price) is put back once they are gone
    restored = [c for c in changes if c.op == "update"] + [c for c in changes if c.op == "follow"]
    total = len(created) + len(restored)

    def deleted(done: int, _of: int) -> None:
        if progress is not None:
            progress(done, total)

    records.delete_many(run.model, created, progress=deleted)
    for done, change in enumerate(restored, start=len(created) + 1):
        before = json.loads(change.before or "{}")
        records.update(run.model, change.record_id, _as_payload(model, before), expected_version=change.version)
        if progress is not None and (done % 500 == 0 or done == total):
            progress(done, total)
    records.write_audit()
    session.execute(
        update(import_run)
        .where(import_run.c.id == import_id, import_run.c.status == "applied")
        .values(status="undone", undone_at=utcnow(), undone_by=access.user_id)
    )
    return {"deleted": len(created), "restored": len(restored)}


def _as_payload(model: Any, before: dict[str, Any]) -> dict[str, Any]:
    """Stored JSON values as a payload (a link's id as the id itself)."""
    out = {}
    for name, value in before.items():
        spec = model.field(name)
        if spec is not None:
            out[name] = value if not spec.is_link or value is None else int(value)
    return out


# -- remembered mappings ---------------------------------------------------------------------------


def load_layout(session: Session, model: str, signature: str) -> dict[str, str] | None:
    """The mapping a user corrected for this model and layout, or None."""
    stored = session.execute(
        select(import_layout.c.mapping).where(import_layout.c.model == model, import_layout.c.signature == signature)
    ).scalar_one_or_none()
    return json.loads(stored) if stored else None


def save_layout(session: Session, access: Access, model: str, signature: str, mapping: dict[str, str]) -> None:
    """Remember {header: field or ""} for this model and layout (headers normalised)."""
    fields = {s.name for s in access.visible_fields(access.registry.model(model))}
    clean = {normalise_header(h): (f if f in fields else "") for h, f in mapping.items() if normalise_header(h)}
    values = {"mapping": json.dumps(clean, ensure_ascii=False), "user_id": access.user_id, "updated_at": utcnow()}
    done = session.execute(
        update(import_layout)
        .where(import_layout.c.model == model, import_layout.c.signature == signature)
        .values(**values)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        session.execute(insert(import_layout).values(model=model, signature=signature, **values))


def list_imports(session: Session, access: Access, model: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The user's imports (an admin: everyone's), newest first, as JSON."""
    stmt = select(import_run).order_by(import_run.c.id.desc()).limit(limit)
    if not access.is_admin:
        stmt = stmt.where(import_run.c.user_id == access.user_id)
    if model:
        stmt = stmt.where(import_run.c.model == model)
    return [
        {
            "id": row.id,
            "job_id": row.job_id,
            "model": row.model,
            "action": row.action,
            "mode": row.mode,
            "filename": row.filename,
            "status": row.status,
            "created": row.created,
            "updated": row.updated,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "undone_at": row.undone_at.isoformat() if row.undone_at else None,
        }
        for row in session.execute(stmt)
    ]
