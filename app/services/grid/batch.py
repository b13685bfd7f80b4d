"""Grid saves: one batch of creates, updates and deletes, all or nothing, with server-side undo / redo.

Every op goes through RecordService (parse, permission, mask, scope, audit), so the grid writes the
way forms, the REST API and imports do. Each saved batch is logged with the before and after values of
the cells it touched; undo posts the inverse as a new batch after checking nobody changed those cells
since, and undoing an undo is redo. `client_batch_id` makes retries safe: a batch already saved is
answered from the log, not applied twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.errors import CellError, Conflict, NotFound, ServiceError, ValidationFailed
from app.i18n import label, t
from app.meta.spec import ModelSpec
from app.services.access.rights import Access
from app.services.grid.rows import grid_json
from app.services.grid.tables import grid_batch, grid_change
from app.services.records.query import base_select
from app.services.records.serialize import snapshot, stored_json
from app.services.records.write import RecordService

MAX_BATCH_ROWS = 5000
MAX_BATCH_CELLS = 50000
SOURCES = ("edit", "paste", "fill", "delete", "undo", "form")
PRELOAD_CHUNK = 500


class BadBatch(ServiceError):
    """400: the batch itself is malformed or too big."""

    status = 400


@dataclass
class BatchResult:
    """What a saved batch changed: its rows as the grid shows them (created ones with their tmp_id) and
    deleted ids."""

    batch_id: int | None  # None: the batch changed nothing, so nothing was logged to undo
    rows: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    replayed: bool = False


@dataclass
class _Change:
    record_id: int
    op: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    tmp_id: str | None = None


class GridBatches:
    """Applies and undoes grid batches for one user."""

    def __init__(self, session: Session, access: Access) -> None:
        self.session = session
        self.access = access
        self.registry = access.registry

    # -- saving ---------------------------------------------------------------------------------

    def apply(self, model_key: str, body: Any) -> BatchResult:
        """Apply a batch body {client_batch_id, source, ops}; ValidationFailed / Conflict leave nothing saved."""
        client_id, source, ops = self._check_body(body)
        model = self.registry.model(model_key)
        done = self._find(client_id)
        if done is not None:
            return self._replay(model, done)
        return self._save(model, client_id, source, ops, kind="do", undoes=None)

    def _check_body(self, body: Any) -> tuple[str, str, list[dict[str, Any]]]:
        if not isinstance(body, dict):
            raise BadBatch(t("batch_malformed", reason="body"))
        client_id, source, ops = body.get("client_batch_id"), body.get("source", "edit"), body.get("ops")
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
            raise BadBatch(t("batch_malformed", reason="client_batch_id"))
        if source not in SOURCES:
            raise BadBatch(t("batch_malformed", reason="source"))
        if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
            raise BadBatch(t("batch_malformed", reason="ops"))
        if len(ops) > MAX_BATCH_ROWS or sum(len(op.get("values") or {}) for op in ops) > MAX_BATCH_CELLS:
            raise BadBatch(t("batch_too_big", max=MAX_BATCH_ROWS))
        for op in ops:
            if op.get("op") not in ("create", "update", "delete"):
                raise BadBatch(t("batch_malformed", reason=f"op {op.get('op')!r}"))
            if op["op"] != "create" and not isinstance(op.get("id"), int):
                raise BadBatch(t("batch_malformed", reason="id"))
            if op["op"] != "delete" and not isinstance(op.get("values"), dict):
                raise BadBatch(t("batch_malformed", reason="values"))
        return client_id, source, ops

    def _save(
        self, model: ModelSpec, client_id: str, source: str, ops: list[dict[str, Any]], kind: str, undoes: int | None
    ) -> BatchResult:
        records = RecordService(self.session, self.access, batch=True)
        existing = self._preload(model, [op["id"] for op in ops if op["op"] != "create"], lock=True)
        errors: list[CellError] = []
        conflicts: list[dict[str, Any]] = []
        changes: list[_Change] = []
        updated: list[tuple[_Change, Any, list[str]]] = []  # their after values are read once flushed
        saved: list[tuple[Any, str | None]] = []
        deleted: list[int] = []
        for op in ops:
            ref = {"tmp_id": op.get("tmp_id")} if op["op"] == "create" else {"id": op["id"]}
            row = existing.get(op.get("id"))
            if op["op"] != "create" and row is None:
                errors.append(CellError("_record", t("not_found"), ref))
                continue
            try:
                if op["op"] == "create":
                    row = records.create(model.key, op["values"], row_ref=ref)
                    for follow in records.followed:  # before the create: its undo deletes, then reopens
                        before = follow["before"] | {"version": follow["version"]}
                        changes.append(_Change(follow["id"], "update", before, None))
                        updated.append((changes[-1], follow["row"], list(follow["before"])))
                    records.followed.clear()
                    changes.append(_Change(row.id, "create", None, self._snapshot(model, row), op.get("tmp_id")))
                    saved.append((row, op.get("tmp_id")))
                elif op["op"] == "update":
                    names = [n for n in op["values"] if n not in ("id", "version")]
                    before = self._snapshot(model, row, names)
                    records.update(model.key, row.id, op["values"], op.get("version"), ref, row=row)
                    changes.append(_Change(row.id, "update", before, None))
                    updated.append((changes[-1], row, names))
                    saved.append((row, None))
                else:
                    before = self._snapshot(model, row)
                    records.delete(model.key, row.id, op.get("version"), ref, row=row)
                    changes.append(_Change(op["id"], "delete", before, None))
                    deleted.append(op["id"])
            except ValidationFailed as exc:
                errors.extend(exc.errors)
            except Conflict:
                conflicts.append({"id": op.get("id")})
        try:
            records.flush()  # the updates, in one go
        except ValidationFailed as exc:
            errors.extend(exc.errors)
        except Conflict:
            conflicts.extend({"id": change.record_id} for change, _, _ in updated)
        if conflicts:
            self.session.rollback()
            raise Conflict(t("batch_conflicts", count=len(conflicts)), conflicts=self._current(model, conflicts))
        if errors:
            self.session.rollback()
            raise ValidationFailed(errors, summary=t("batch_cells", count=len(errors)))
        for change, row, names in updated:
            change.after = self._snapshot(model, row, names)
        # a row whose cells were typed again as they are was not written (same version): nothing of it to undo
        changes = [c for c in changes if c.op != "update" or c.after != c.before]
        # a batch that changed nothing logs nothing: no undo entry that would undo nothing
        batch_id = self._log(model, client_id, source, kind, undoes, changes) if changes or kind != "do" else None
        # the rows as they are written, read before the commit expires them (after it each would load again)
        data = self._json(model, saved)
        records.commit()
        return BatchResult(batch_id, data, deleted)

    def _json(self, model: ModelSpec, rows: list[tuple[Any, str | None]]) -> list[dict[str, Any]]:
        """Rows (row, tmp_id) as the grid shows them, a created row with its tmp_id."""
        data = grid_json(self.session, self.access, model, [row for row, _ in rows])
        for item, (_, tmp_id) in zip(data, rows, strict=True):
            if tmp_id is not None:
                item["tmp_id"] = tmp_id
        return data

    def _preload(self, model: ModelSpec, ids: list[int], lock: bool = False) -> dict[int, Any]:
        """The batch's existing rows the user may see, read in a few queries.

        `lock` reads them FOR UPDATE (and afresh): their versions hold until the batch commits, so a
        stale one is a conflict on its row, never one at the flush. (SQLite writers run BEGIN IMMEDIATE.)
        """
        if not ids:
            return {}
        cls = self.registry.cls(model.key)
        stmt = base_select(self.access, model).order_by(cls.id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        found: dict[int, Any] = {}
        unique = sorted(set(ids))
        for start in range(0, len(unique), PRELOAD_CHUNK):
            chunk = unique[start : start + PRELOAD_CHUNK]
            for row in self.session.execute(stmt.where(cls.id.in_(chunk))).scalars():
                found[row.id] = row
        return found

    def _current(self, model: ModelSpec, conflicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each conflicting row as it is now (for Reload / Overwrite)."""

        rows = self._preload(model, [c["id"] for c in conflicts])
        current = {r["id"]: r for r in grid_json(self.session, self.access, model, list(rows.values()))}
        return [{"id": c["id"], "current": current.get(c["id"])} for c in conflicts]

    def _snapshot(self, model: ModelSpec, row: Any, names: list[str] | None = None) -> dict[str, Any]:
        """The row's stored values (as `serialize.snapshot` has them) and version; only `names` if given."""
        if names is None:
            return snapshot(model, row) | {"version": row.version}
        data: dict[str, Any] = {}
        for name in names:
            spec = model.field(name)
            if spec is None:
                continue
            data[name] = None if spec.type == "lines" else stored_json(spec, row)
        return data | {"version": row.version}

    def _log(
        self, model: ModelSpec, client_id: str, source: str, kind: str, undoes: int | None, changes: list[_Change]
    ) -> int:
        batch_id = self.session.execute(
            insert(grid_batch)
            .values(
                client_batch_id=client_id,
                user_id=self.access.user_id,
                model=model.key,
                source=source,
                kind=kind,
                undoes=undoes,
                created_at=utcnow(),
            )
            .returning(grid_batch.c.id)
        ).scalar_one()
        if changes:
            self.session.execute(
                insert(grid_change),
                [
                    {
                        "batch_id": batch_id,
                        "record_id": c.record_id,
                        "op": c.op,
                        "tmp_id": None if c.tmp_id is None else str(c.tmp_id)[:64],
                        "before": None if c.before is None else json.dumps(c.before, ensure_ascii=False),
                        "after": None if c.after is None else json.dumps(c.after, ensure_ascii=False),
                    }
                    for c in changes
                ],
            )
        if undoes is not None:
            self.session.execute(update(grid_batch).where(grid_batch.c.id == undoes).values(undone_by=batch_id))
        return batch_id

    # -- retries --------------------------------------------------------------------------------

    def _find(self, client_id: str) -> Any:
        return self.session.execute(
            select(grid_batch).where(
                grid_batch.c.user_id == self.access.user_id, grid_batch.c.client_batch_id == client_id
            )
        ).first()

    def _replay(self, model: ModelSpec, batch: Any) -> BatchResult:
        """A retry of a batch already saved: answer with the rows as they are now."""
        changes = self._changes(batch.id)
        rows = self._preload(model, [c.record_id for c in changes if c.op != "delete"])
        return BatchResult(
            batch.id,
            self._json(
                model, [(rows[c.record_id], c.tmp_id) for c in changes if c.record_id in rows and c.op != "delete"]
            ),
            [c.record_id for c in changes if c.op == "delete"],
            replayed=True,
        )

    def _changes(self, batch_id: int) -> list[_Change]:
        rows = self.session.execute(
            select(grid_change).where(grid_change.c.batch_id == batch_id).order_by(grid_change.c.id)
        ).all()
        return [
            _Change(
                r.record_id,
                r.op,
                None if r.before is None else json.loads(r.before),
                None if r.after is None else json.loads(r.after),
                r.tmp_id,
            )
            for r in rows
        ]

    # -- undo / redo ----------------------------------------------------------------------------

    def undo(self, batch_id: int, client_id: Any) -> tuple[BatchResult, str]:
        """Post the inverse of one of the user's batches (undoing an undo is redo); returns it and the model."""
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
            raise BadBatch(t("batch_malformed", reason="client_batch_id"))
        batch = self.session.execute(
            select(grid_batch).where(grid_batch.c.id == batch_id, grid_batch.c.user_id == self.access.user_id)
        ).first()
        if batch is None:
            raise NotFound(t("undo_unknown"))
        model = self.registry.model(batch.model)
        done = self._find(client_id)
        if done is not None:
            return self._replay(model, done), model.key
        if batch.undone_by is not None:
            raise Conflict(t("undo_done"))
        changes = self._changes(batch.id)
        ops = self._inverse(model, changes)
        kind = "redo" if batch.kind == "undo" else "undo"
        return self._save(model, client_id, "undo", ops, kind=kind, undoes=batch.id), model.key

    def _inverse(self, model: ModelSpec, changes: list[_Change]) -> list[dict[str, Any]]:
        """The ops that take the batch's cells back, refused (naming the cells) if they changed since."""
        rows = self._preload(model, [c.record_id for c in changes if c.op != "delete"])
        changed: list[dict[str, Any]] = []
        ops: list[dict[str, Any]] = []
        for change in reversed(changes):
            if change.op == "delete":
                ops.append(
                    {
                        "op": "create",
                        "tmp_id": f"undo-{change.record_id}",
                        "values": self._writable(model, change.before),
                    }
                )
                continue
            row = rows.get(change.record_id)
            if row is None:
                changed.append(self._cell(model, change, None, "_record"))
                continue
            now = self._snapshot(model, row, list(change.after or {}))
            for name, value in (change.after or {}).items():
                spec = model.field(name)
                # cells the user may not see were not theirs to change: whether they moved since is not said
                visible = spec is not None and not spec.system and self.access.can_see(model, spec)
                if visible and now.get(name) != value:
                    changed.append(self._cell(model, change, row, name))
            if change.op == "create":
                ops.append({"op": "delete", "id": row.id, "version": row.version})
            else:
                values = {k: v for k, v in (change.before or {}).items() if k != "version"}
                ops.append({"op": "update", "id": row.id, "version": row.version, "values": values})
        if changed:
            cells = "、".join(f"{c['key']} {c['label']}" for c in changed[:10])
            raise Conflict(t("undo_changed", cells=cells), conflicts=changed)
        return ops

    def _writable(self, model: ModelSpec, values: dict[str, Any] | None) -> dict[str, Any]:
        """A deleted row's values that a create may set again."""
        return {
            name: value
            for name, value in (values or {}).items()
            if (spec := model.field(name)) is not None and not spec.compute and self.access.can_write(model, spec)
        }

    def _cell(self, model: ModelSpec, change: _Change, row: Any, name: str) -> dict[str, Any]:
        key_field = model.field(model.business_key) if model.business_key != "id" else None
        key = getattr(row, key_field.column) if row is not None and key_field is not None else None
        if key is None:
            key = (change.after or change.before or {}).get(model.business_key) or f"#{change.record_id}"
        spec = model.field(name)
        return {
            "id": change.record_id,
            "field": name,
            "key": str(key),
            "label": label(spec.label, name) if spec is not None else t("undo_gone"),
        }

    def history(self, model_key: str, limit: int = 50) -> dict[str, list[int]]:
        """The user's undo and redo stacks for a model, newest first (so Ctrl+Z works after a reload)."""
        model = self.registry.model(model_key)
        self.access.require(model.key, "read")
        rows = self.session.execute(
            select(grid_batch.c.id, grid_batch.c.kind)
            .where(
                grid_batch.c.user_id == self.access.user_id,
                grid_batch.c.model == model.key,
                grid_batch.c.undone_by.is_(None),
            )
            .order_by(grid_batch.c.id.desc())
            .limit(limit * 2)
        ).all()
        undo = [r.id for r in rows if r.kind != "undo"][:limit]
        newest_do = max((r.id for r in rows if r.kind == "do"), default=0)
        redo = [r.id for r in rows if r.kind == "undo" and r.id > newest_do][:limit]
        return {"undo": undo, "redo": redo}
