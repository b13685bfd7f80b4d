"""The one write path: parse -> validate -> permission -> write -> audit, in one transaction.

REST, forms, the grid batch endpoint, importers and jobs all call RecordService; none of them
writes model rows any other way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.clock import business_today, utcnow
from app.errors import CellError, Conflict, Forbidden, NotFound, ValidationFailed
from app.i18n import t
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.status import Status
from app.meta.types import FIELD_TYPES, ValueProblem
from app.services.access.rights import DEPARTMENT, Access
from app.services.records.audit import (
    Encoded,
    audit_change,
    audit_columns,
    change_row,
    encoded,
    json_objects,
    lines_json,
    write_audit_rows,
    write_created_audit,
)
from app.services.records.bulk import among, insert_columns, new_ids
from app.services.records.codes import code_key, normalise_code, same_code
from app.services.records.computed import (
    StreamedLines,
    apply_computed,
    apply_lines_computed,
    compute_columns,
    compute_own_fields,
    line_inputs,
)
from app.services.records.deletions import note_deleted
from app.services.records.numbering import next_number
from app.services.records.owners import note_new_owner, owner_of
from app.services.records.query import base_select, field_label, get_row
from app.services.records.resolver import Resolver
from app.services.records.rules import (
    after_create,
    after_update,
    check_change,
    check_creates,
    check_delete,
    derive_values,
)
from app.services.records.serialize import snapshot, snapshot_columns, snapshot_many, value_to_json
from app.services.records.settings import field_default

CONTROL_KEYS = {"id", "version", "line_no"}
BULK_CHUNK = 1000  # rows per bulk insert (COPY on PostgreSQL) and per scope / unique query of create_many
MEMO_TYPES = (str, int, float)  # raw values whose parsed outcome a batch remembers
MEMO_SIZE = 50_000
NUMBERED_LINES = 200  # new lines of one document from which their ids are taken first (PostgreSQL)
LINES_CHUNK = 5000  # lines per chunk of update_lines: checked, written and audited together, then let go


class NewLine:
    """A line `update_lines` adds: an attribute per column of the line table (None unless set), read and set by
    the document's line rules and computed fields as they read an ORM line, then inserted in bulk."""


@dataclass
class _Held:
    """An update a batch has not flushed yet."""

    model: ModelSpec
    row: Any
    row_ref: Any
    before: dict[str, Any]
    columns: frozenset[str] | None = None  # the columns `_write_held` wrote (None: the ORM flushed the row)


def only_own_user(session: Session, access: Access, model: ModelSpec, spec: FieldSpec, raw: Any) -> str | None:
    """Why a user field refuses a user, when the writer may name only themselves there (a salesperson on an order):
    said alike for another user and for a name nobody has, so nobody learns user names by trying."""
    if spec.type != "user" or access.assignable_users(session, model, spec) is None:
        return None
    shown = raw.get("id", raw.get("key")) if isinstance(raw, dict) else raw
    department = DEPARTMENT in access.scope_levels.values()
    if shown in (None, ""):  # blanked: the row would be nobody's, out of the writer's own rows
        return t("own_user_not_blank", field=field_label(model, spec.name))
    return t(
        "own_user_or_department_only" if department else "own_user_only",
        field=field_label(model, spec.name),
        value=shown,
    )


def value_refusal(
    session: Session, access: Access, model: ModelSpec, spec: FieldSpec, raw: Any, problem: ValueProblem
) -> str:
    """The one wording of a cell's refused value, whichever channel typed it (a form, the grid, an import): a user
    field the writer may fill with themselves only says so (`only_own_user`) even for a login nobody has, else
    the field type's own message (找不到用户「x」 for an admin)."""
    return only_own_user(session, access, model, spec, raw) or str(problem)


class RecordService:
    """Creates, updates and deletes rows of any metadata model for one user in one transaction.

    With `batch=True` (grid batches, which read their rows FOR UPDATE) updates are held back and
    written by `flush()`: one flush, one row-scope query per model, then their audit rows; `commit()`
    inserts all audit rows in one statement. The checks and cell errors are the same; only a constraint
    broken by a concurrent writer at that flush is reported without its row.
    """

    def __init__(self, session: Session, access: Access, batch: bool = False) -> None:
        self.session = session
        self.access = access
        self.registry = access.registry
        self.resolver = Resolver(session, access)
        self.batch = batch
        self._held: dict[tuple[str, int], _Held] = {}
        self._audit_rows: list[dict[str, Any]] = []
        self._parsed: dict[tuple[int, type, Any], Any] = {}  # batches: (field, raw) -> (value,) or the problem
        self._memo = False  # `update_lines` under way: its lines' plain values remembered as a batch's are
        self._verdicts: dict[tuple[str, str, bool], tuple[FieldSpec | None, str]] = {}  # see _field_verdict
        self._typed_kept: dict[tuple[str, tuple[str, ...], bool], bool] = {}  # see _kept_as_typed
        self._own_fields: dict[str, tuple[str, ...]] = {}  # per model: user fields scoped `me` (_fill_own_scope)
        self.followed: list[dict[str, Any]] = []  # updates rules made to other rows (follow_update)
        self.followed_any = False  # whether any rule made one in this service's life
        self.unchanged = 0  # updates that found every value as stored and wrote nothing (an import counts them)
        self._when_written: dict[str, tuple[set[Any], Callable[[set[Any]], Any]]] = {}  # see once_written

    # -- public API ---------------------------------------------------------------------------

    def create(
        self, model_key: str, payload: dict[str, Any], row_ref: Any = None, carried: list[dict[str, Any]] | None = None
    ) -> Any:
        """Insert a row (and its lines); ValidationFailed lists every bad value.

        `carried`: per line, values the code takes from a source line (下推: its price) that the user may not see
        and so could not have typed; they are stored as given, the user's payload never sets them."""
        model = self._writable_model(model_key, "write")
        values, lines, errors = self._parse_payload(model, payload, None, row_ref)
        if carried and lines is not None:
            line_model = self.registry.model(model.lines_model or "")
            for line_values, extra in zip(lines, carried, strict=True):
                line_values.update({k: self.parse_value(line_model.field(k), v) for k, v in extra.items()})  # type: ignore[arg-type]
        self._apply_defaults(model, values)
        self._fill_own_scope(model, values)
        bad = {e.field for e in errors}
        errors += self._check_required(model, values, row_ref, skip=bad)
        errors += self._check_unique(model, values, None, row_ref)
        errors += check_change(self.session, self.registry, model, None, values, row_ref)
        self._raise(errors)
        derive_values(self.session, self.registry, model, None, values)
        cls = self.registry.cls(model.key)
        row = cls()
        if model.kind == "document":
            values["status"] = Status.DRAFT
            if not values.get("number"):
                day = values.get("date") if isinstance(values.get("date"), dt.date) else business_today()
                values["number"] = next_number(
                    self.session, model.number_prefix or "DOC", day, lambda number: self._taken(model, number)
                )
        now = utcnow()
        values.update(created_at=now, updated_at=now, created_by=self.access.user_id, updated_by=self.access.user_id)
        self._assign(model, row, values)
        if lines is not None:
            self._replace_lines(model, row, lines, row_ref)
        self._compute(model, row)
        self.session.add(row)
        self._flush(model, row_ref)
        self._check_in_scope(model, [(row, row_ref)])
        self._audit(model.key, row.id, "create", None, self._snapshot(model, row))
        note_new_owner(self.session, model, row, None, self.access)
        after_create(self, model, row, row_ref)
        return row

    def creates_in_bulk(self, model: ModelSpec) -> bool:
        """Whether `create_many` writes new rows of `model` set-based: master data without lines or a
        composite unique key, whose rules (if any) check new rows set-based (`check_creates`), change
        no other row (`after_create`) and take nothing from other tables (`derived_values`). Other models are
        created row by row with `create`."""
        return (
            model.kind not in ("document", "ledger")
            and not model.is_line
            and not model.lines_model
            and not model.unique_together
            and self.registry.rule(model.key, "after_create") is None
            and self.registry.rule(model.key, "derived_values") is None
            and (
                self.registry.rule(model.key, "check_change") is None
                or self.registry.rule(model.key, "check_creates") is not None
            )
        )

    def create_many(
        self,
        model_key: str,
        items: list[tuple[dict[str, Any], Any]],
        parsed: bool = False,
        cells: list[dict[str, Any]] | None = None,
    ) -> list[tuple[int | None, list]]:
        """Insert many new rows of one model (`creates_in_bulk`) set-based; returns per item (its new id, [])
        or (None, its cell errors).

        Each payload is parsed and checked as `create` checks it (masks, defaults, own scope, required
        fields, codes normalised and unique against the table and the other rows, the model's rules, computed
        fields); the good rows are written with one bulk insert per chunk (COPY on PostgreSQL), checked
        against the user's row scope in one query per chunk (a row that would leave it is removed again and
        reported on its row) and audited in one bulk insert per chunk. Nothing is committed here.

        `parsed`: the payloads hold values as this service's `parse_value` returned them (an import parsed
        its file with it to report every bad cell): they are not parsed a second time; every other check
        stands (which fields the user may write, users they may assign, required, unique, rules, scope). `cells`:
        each item's cells as the user typed them, quoted where a message names a value (a user field's refused
        user: the name typed, not the id it was parsed to)."""
        model = self._writable_model(model_key, "write")
        if not self.creates_in_bulk(model):
            raise ValueError(f"{model.key} is created row by row")
        results: list[tuple[int | None, list]] = []
        for start in range(0, len(items), BULK_CHUNK):
            typed_cells = cells[start : start + BULK_CHUNK] if cells is not None else None
            results.extend(self._create_chunk(model, items[start : start + BULK_CHUNK], parsed, typed_cells))
        return results

    def _create_chunk(
        self,
        model: ModelSpec,
        items: list[tuple[dict[str, Any], Any]],
        typed: bool,
        cells: list[dict[str, Any]] | None = None,
    ) -> list[tuple[int | None, list]]:
        data_fields = model.data_fields
        defaults = self._defaults(model, data_fields)
        errors: list[list[CellError]] = []
        parsed: list[dict[str, Any]] = []
        for n, (payload, ref) in enumerate(items):
            if typed and payload.__class__ is dict and self._kept_as_typed(model, tuple(payload), True):
                values, row_errors = defaults | payload, []  # `_parse_payload`'s typed values, the defaults under them
            else:
                shown = cells[n] if cells is not None else None
                values, _, row_errors = self._parse_payload(model, payload, None, ref, typed=typed, shown=shown)
                for name, value in defaults.items():
                    values.setdefault(name, value)
            self._fill_own_scope(model, values)
            skip = {e.field for e in row_errors} if row_errors else frozenset()
            row_errors += self._check_required(model, values, ref, skip=skip)
            errors.append(row_errors)
            parsed.append(values)
        self._check_unique_many(model, parsed, [ref for _, ref in items], errors)
        for index, found in enumerate(check_creates(self.session, self.registry, model, parsed, [r for _, r in items])):
            errors[index].extend(found)
        results: list[tuple[int | None, list]] = [(None, row_errors) for row_errors in errors]
        good = [index for index, row_errors in enumerate(errors) if not row_errors]
        if not good:
            return results
        # the good rows column by column: computed, inserted, scope-checked and audited without an object per row
        kept = [parsed[index] for index in good]
        count = len(kept)
        given = set().union(*kept)  # the fields any row has: the others are a column of None, built without a look
        blank = [None] * count
        data = {
            spec.name: [values.get(spec.name) for values in kept] if spec.name in given else blank.copy()
            for spec in data_fields
        }
        compute_columns(self.registry, model, data)
        now = utcnow()
        stamps = {"created_at": now, "updated_at": now, "created_by": self.access.user_id}
        stamps["updated_by"] = self.access.user_id
        table = self.registry.cls(model.key).__table__
        with self._flush_errors(model, None):
            self.session.flush()  # rows written through the ORM before (they are in the unique checks above)
            columns = {"id": new_ids(self.session, table, count), "version": [1] * count}
            for spec in model.stored_fields:
                if spec.name in stamps:
                    columns[spec.column] = [stamps[spec.name]] * count
                elif spec.name in data:
                    columns[spec.column] = data[spec.name]
                elif spec.name not in columns:
                    columns[spec.column] = [values.get(spec.name) for values in kept] if spec.name in given else blank
            insert_columns(self.session, table, columns)  # COPY on PostgreSQL, executemany on SQLite; no RETURNING
        ids = columns["id"]
        outside = self._outside_scope(model, ids)
        if outside:
            self.session.execute(delete(table).where(table.c.id.in_(outside)))
        afters = json_objects(snapshot_many(model, columns))
        audited: list[int] = []
        texts: list[str] = []
        for position, (index, pk, after) in enumerate(zip(good, ids, afters, strict=True)):
            if pk in outside:
                values = {spec.name: columns[spec.column][position] for spec in self._scoped_fields(model)}
                results[index] = (None, self._scope_errors(model, [(values, items[index][1])]))
                continue
            results[index] = (pk, [])
            audited.append(pk)
            texts.append(after)
        write_created_audit(self.session, self.access, model.key, audited, texts, now)
        return results

    def _defaults(self, model: ModelSpec, data_fields: tuple[FieldSpec, ...]) -> dict[str, Any]:
        """What `_apply_defaults` fills into a new row's blank fields, worked out once for many rows."""
        values: dict[str, Any] = {}
        for spec in data_fields:
            default = field_default(self.session, self.registry, spec)
            if default is not None:
                values[spec.name] = self.resolver.resolve(spec.to or "", default) if spec.is_link else default
        return values

    def _check_unique_many(
        self, model: ModelSpec, values_list: list[dict[str, Any]], refs: list[Any], errors: list[list[CellError]]
    ) -> None:
        """`_check_unique` for many new rows: one query per unique field and chunk, and the rows among
        themselves (the second of two rows with one code is the duplicate, as it would be row by row)."""
        cls = self.registry.cls(model.key)
        for spec in model.data_fields:
            if not spec.unique:
                continue
            code = spec.is_code
            first: dict[Any, int] = {}
            for index, values in enumerate(values_list):
                value = values.get(spec.name)
                if value is None:
                    continue
                key = code_key(value) if code else value
                if key in first:
                    shown = FIELD_TYPES[spec.type].to_json(spec, value)
                    errors[index].append(CellError(spec.name, t("duplicate", value=shown), refs[index]))
                else:
                    first[key] = index
            column = getattr(cls, spec.column)
            compared = func.lower(column) if code else column
            keys = list(first)
            for start in range(0, len(keys), BULK_CHUNK):
                stmt = select(compared).where(among(self.session, compared, keys[start : start + BULK_CHUNK]))
                for taken in self.session.execute(stmt).scalars():
                    index = first.get(taken)
                    if index is None:
                        continue
                    shown = FIELD_TYPES[spec.type].to_json(spec, values_list[index][spec.name])
                    errors[index].append(CellError(spec.name, t("duplicate", value=shown), refs[index]))

    def _outside_scope(self, model: ModelSpec, ids: list[int]) -> set[int]:
        """The ids of written rows the user's row scope does not cover (one query)."""
        scope = self.access.scope(model)
        if scope is None:
            return set()
        cls = self.registry.cls(model.key)
        seen = set(self.session.execute(select(cls.id).where(cls.id.in_(ids), scope)).scalars())
        return {pk for pk in ids if pk not in seen}

    def follow_update(self, model_key: str, row: Any, payload: dict[str, Any], row_ref: Any = None) -> Any:
        """An update a rule makes to another row because of this change (a new price closes the previous
        one): written like any update, and listed in `followed` ({model, id, before, version before, row})
        so an import or a grid batch records it and its undo puts it back."""
        model = self.registry.model(model_key)
        before = {
            name: FIELD_TYPES[spec.type].to_json(spec, getattr(row, spec.column))
            for name in payload
            if (spec := model.field(name)) is not None
        }
        version = row.version
        self.update(model_key, row.id, payload, row_ref=row_ref, row=row)
        self.followed.append({"model": model_key, "id": row.id, "before": before, "version": version, "row": row})
        self.followed_any = True
        return row

    def update(
        self,
        model_key: str,
        pk: int,
        payload: dict[str, Any],
        expected_version: int | None = None,
        row_ref: Any = None,
        row: Any = None,
    ) -> Any:
        """Change some fields of a row the user may see; Conflict if it changed since `version`.

        `row` may be passed when the caller already read it through `query.base_select` (batches).
        In a batch the row is held until `flush()` (rows of models with a composite unique key are
        flushed at once, so a duplicate is reported on its row).
        """
        model = self._writable_model(model_key, "write")
        row = row if row is not None else get_row(self.session, self.access, model, pk)
        if (model.key, row.id) in self._held:
            self.flush()  # the same row twice in a batch: the second change sees the first's version
        version = expected_version if expected_version is not None else payload.get("version")
        self.check_version(model, row, version)
        self._check_editable(model, row, row_ref)
        before, owner = self._snapshot(model, row), owner_of(model, row)
        with self._flush_errors(model, row_ref):  # in a batch a lookup below may autoflush held rows
            values, lines, errors = self._parse_payload(model, payload, row, row_ref)
            errors += self._check_required(model, values, row_ref, only=values)
            errors += self._check_unique(model, values, row.id, row_ref)
            errors += check_change(self.session, self.registry, model, row, values, row_ref)
            self._raise(errors)
            derive_values(self.session, self.registry, model, row, values)
            if self._unchanged(model, row, values, lines):
                self.unchanged += 1
                return row  # a save that changes nothing writes nothing: no new version, 修改人 or history line
            values.update(updated_at=utcnow(), updated_by=self.access.user_id)
            self._assign(model, row, values)
            if lines is not None:
                self._replace_lines(model, row, lines, row_ref)
            self._compute(model, row, changed=set(values) if lines is None else None)
        note_new_owner(self.session, model, row, owner, self.access)
        held = _Held(model, row, row_ref, before)
        if self.batch and not model.unique_together:
            self._held[model.key, row.id] = held
            return row
        self._flush(model, row_ref)
        self._check_in_scope(model, [(row, row_ref)])
        self._audit_update(held)
        return row

    def update_lines(
        self, model_key: str, pk: int, lines: Iterable[dict[str, Any]], row: Any = None, row_ref: Any = None
    ) -> Any:
        """Add or change some lines of a draft document without listing the others (a file of 100,000 counts
        into a stocktake): a payload with the id of one of its lines changes the fields it names, one without
        adds a line after the last. Chunk by chunk (LINES_CHUNK), each line is checked as `update` checks lines
        (masks, read-only fields, types, required fields, links, defaults, the document's line rules), the new
        ones inserted in bulk (ids from the sequence; COPY on PostgreSQL) and the changed ones flushed, then
        the chunk is audited in one row on the document (before: the lines it changed, as they were; after:
        the lines it wrote) and let go of. The header is updated once at the end: its computed fields from
        every line (streamed from the table), its version, the user's row scope, its audit row. A bad cell
        rolls the whole change back (ValidationFailed naming it)."""
        model = self._writable_model(model_key, "write")
        row = row if row is not None else get_row(self.session, self.access, model, pk)
        if not model.lines_model:
            raise ValueError(f"{model.key} has no lines")
        self._check_editable(model, row, row_ref)
        line_model = self.registry.model(model.lines_model)
        line_cls = self.registry.cls(line_model.key)
        before = snapshot(model, row)
        numbered = self.session.execute(select(func.max(line_cls.line_no)).where(line_cls.parent_id == row.id)).scalar()
        place = [numbered or 0, 0]  # the last line number taken, the lines read so far
        self._memo = True  # 100,000 counts repeat a few quantities and locations: each parsed once
        try:
            chunk: list[dict[str, Any]] = []
            for payload in lines:
                chunk.append(payload)
                if len(chunk) == LINES_CHUNK:
                    self._write_lines(model, line_model, row, chunk, place, row_ref)
                    chunk = []
            if chunk:
                self._write_lines(model, line_model, row, chunk, place, row_ref)
        except (ValidationFailed, Conflict):
            self.session.rollback()
            raise
        finally:
            self._memo = False
            if not self.batch:
                self._parsed.clear()
        with self._flush_errors(model, row_ref):
            self.session.flush()
        with self.session.no_autoflush:  # the header written once, below, with its totals
            self._assign(model, row, {"updated_at": utcnow(), "updated_by": self.access.user_id})
            values = {spec.name: getattr(row, spec.column) for spec in model.data_fields}
            if model.computed_fields:
                names = line_inputs(self.registry, model)
                names = tuple(spec.name for spec in line_model.data_fields) if names is None else names
                columns = [getattr(line_cls, line_model.field(name).column) for name in names]  # type: ignore[union-attr]
                stmt = select(*columns).where(line_cls.parent_id == row.id).order_by(line_cls.line_no)
                compute_own_fields(self.registry, model, values, StreamedLines(self.session, stmt, names))
                self._assign(model, row, {spec.name: values[spec.name] for spec in model.computed_fields})
            self.session.expire(row, ["lines"])
        self._flush(model, row_ref)
        self._check_in_scope(model, [(row, row_ref)])
        after = snapshot(model, row)
        ignored = ("updated_at", "version")
        if {k: v for k, v in after.items() if k not in ignored} != {
            k: v for k, v in before.items() if k not in ignored
        }:
            self._audit(model.key, row.id, "update", before, after)
        return row

    def _write_lines(
        self, model: ModelSpec, line_model: ModelSpec, row: Any, chunk: list[dict[str, Any]], place: list[int], ref: Any
    ) -> None:
        """One chunk of `update_lines`: parsed, checked, written and audited; nothing of it is kept."""
        line_cls = self.registry.cls(line_model.key)
        behaviour = self.registry.behaviour(model.key)
        errors: list[CellError] = []
        parsed: list[tuple[dict[str, Any], Any]] = []
        for payload in chunk:
            where = f"lines.{place[1]}."
            place[1] += 1
            values, _, found = self._parse_payload(line_model, payload, None, ref, prefix=where)
            line_id = payload.get("id") if isinstance(payload, dict) else None
            only = values if line_id is not None else None
            found += self._check_required(
                line_model, values, ref, prefix=where, only=only, skip={e.field for e in found}
            )
            errors += found
            parsed.append((values, line_id))
        self._raise(errors)
        ids = [line_id for _, line_id in parsed if line_id is not None]
        existing: dict[Any, Any] = {}
        if ids:
            stmt = select(line_cls).where(line_cls.parent_id == row.id, among(self.session, line_cls.id, ids))
            existing = {line.id: line for line in self.session.scalars(stmt)}
        now = utcnow()
        stamps = {"updated_at": now, "updated_by": self.access.user_id}
        table = line_cls.__table__
        columns = self._line_columns(line_model)
        stored = [column for name, column in columns.items() if name not in ("id", "version")]
        stored += ["parent_id", "line_no"]
        # a new line is a plain object with an attribute per column, never an ORM object: inserted in bulk below
        blank = dict.fromkeys(column.name for column in table.columns)
        blank.update(created_at=now, created_by_id=self.access.user_id, parent_id=row.id)
        added = [values for values, line_id in parsed if line_id not in existing]
        new: list[Any] = []
        changed: list[tuple[Any, dict[str, Any]]] = []
        with self.session.no_autoflush:
            if added:
                defaults = self._defaults(line_model, line_model.data_fields)
                for values in added:
                    for name, value in defaults.items():
                        values.setdefault(name, value)
                behaviour.new_lines_values(self.session, self.registry, model, row, added)
            for values, line_id in parsed:
                line = existing.get(line_id)
                values.update(stamps)
                if line is None:
                    line = NewLine()
                    place[0] += 1
                    fields = line.__dict__
                    fields.update(blank)
                    fields["line_no"] = place[0]
                    for name, value in values.items():
                        column = columns.get(name)
                        if column is not None:
                            fields[column] = value
                    new.append(line)
                else:
                    changed.append((line, snapshot(line_model, line)))
                    self._assign(line_model, line, values)
            lines = new + [line for line, _ in changed]
            flags = [True] * len(new) + [False] * len(changed)
            self._raise(behaviour.prepare_lines(self.session, self.registry, row, line_model, lines, ref, flags))
        header = {spec.name: getattr(row, spec.column) for spec in model.data_fields}
        apply_lines_computed(self.registry, line_model, lines, header)
        with self._flush_errors(model, ref):
            self.session.flush()  # the changed lines (and the header's snapshot time)
            pks = new_ids(self.session, table, len(new))
            for line, pk in zip(new, pks, strict=True):
                line.id, line.version = pk, 1
            # the new lines as columns, taken once: inserted (COPY on PostgreSQL) and snapshotted for the audit
            taken = {column: [line.__dict__[column] for line in new] for column in blank}
            taken |= {"id": pks, "version": [1] * len(new)}
            insert_columns(self.session, table, {column: taken[column] for column in ("id", "version", *stored)})
        # the lines as written, in the JSON `audit_row` makes of their snapshots: the new ones column by column
        snapped = snapshot_many(line_model, {column: taken[column] for column in blank})
        after = json_objects(snapped) if new else []
        after += [encoded(snapshot(line_model, line)) for line, _ in changed]
        self._audit(model.key, row.id, "update", {"lines": [before for _, before in changed]}, lines_json(after))

    def _line_columns(self, line_model: ModelSpec) -> dict[str, str]:
        """Field name -> column of the fields `_assign` writes on a line (all but lines), once per metadata version."""
        key = ("line_columns", line_model.key)
        found = self.registry.cache.get(key)
        if found is None:
            found = self.registry.cache[key] = {
                spec.name: spec.column for spec in line_model.fields if spec.type != "lines"
            }
        return found

    def delete(
        self, model_key: str, pk: int, expected_version: int | None = None, row_ref: Any = None, row: Any = None
    ) -> None:
        """Delete a row the user may see (documents only while draft)."""
        model = self._writable_model(model_key, "delete")
        row = row if row is not None else get_row(self.session, self.access, model, pk)
        self.check_version(model, row, expected_version)
        self._check_editable(model, row, row_ref)
        self._raise(check_delete(self.session, self.registry, model, row, row_ref))
        before = self._snapshot(model, row)
        self.session.delete(row)
        try:
            self.session.flush()
        except IntegrityError as exc:
            self.session.rollback()
            raise ValidationFailed([CellError("id", t("in_use"), row_ref)]) from exc
        except StaleDataError as exc:
            self.session.rollback()
            raise Conflict(t("version_conflict", current="?")) from exc
        note_deleted(self.session, model, [pk])
        self._audit(model.key, pk, "delete", before, None)

    def delete_many(self, model_key: str, items: list[tuple[int, int | None]], progress: Any = None) -> None:
        """Delete many rows the user may see, (id, expected version) each, set-based: checked as `delete` checks
        one (the action, row scope, versions, the model's rules), then one DELETE and bulk audit rows per chunk.
        A model with lines (a document) goes row by row. A row still in use is named as `delete` names it."""
        model = self._writable_model(model_key, "delete")
        if model.lines_model:
            for done, (pk, version) in enumerate(items, start=1):
                self.delete(model_key, pk, expected_version=version)
                if progress is not None:
                    progress(done, len(items))
            return
        cls = self.registry.cls(model.key)
        # rows no rule looks at are checked, snapshotted and audited column by column, without an object per row
        by_columns = model.kind != "document" and self.registry.rule(model.key, "check_delete") is None
        for start in range(0, len(items), BULK_CHUNK):
            chunk = items[start : start + BULK_CHUNK]
            if not (by_columns and self._delete_columns(model, cls, chunk)):
                self._delete_rows(model, cls, chunk)
            if progress is not None:
                progress(start + len(chunk), len(items))

    def _delete_columns(self, model: ModelSpec, cls: Any, chunk: list[tuple[int, int | None]]) -> bool:
        """One chunk of `delete_many` read as columns (a model without lines, document status or delete rule):
        found, versions checked, snapshotted, deleted in one statement and audited; False (nothing done) when
        the database refuses the DELETE (the row path then names the row)."""
        ids = [pk for pk, _ in chunk]
        table = cls.__table__
        stmt = base_select(self.access, model).with_only_columns(*table.columns)
        found = {row.id: row for row in self.session.execute(stmt.where(among(self.session, table.c.id, ids)))}
        for pk, version in chunk:
            if pk not in found:
                raise NotFound(t("not_found"))
            self.check_version(model, found[pk], version)
        rows = [found[pk] for pk in ids]
        befores = json_objects(snapshot_many(model, {c.name: [row[n] for row in rows] for n, c in enumerate(table.c)}))
        if not self._delete_set(cls, ids):
            return False
        note_deleted(self.session, model, ids)
        gone = set(ids)
        for held in [obj for obj in self.session.identity_map.values() if isinstance(obj, cls) and obj.id in gone]:
            self.session.expunge(held)  # as the row path leaves a row it deleted
        audit = audit_columns(self.access, model.key, "delete", ids, befores, None, utcnow())
        rows_of_audit = [dict(zip(audit, row, strict=True)) for row in zip(*audit.values(), strict=True)]
        if self.batch:
            self._audit_rows.extend(rows_of_audit)
        else:
            write_audit_rows(self.session, rows_of_audit)
        return True

    def _delete_rows(self, model: ModelSpec, cls: Any, chunk: list[tuple[int, int | None]]) -> None:
        """One chunk of `delete_many` read as rows: checked as `delete` checks one, deleted in one statement and
        audited; row by row with `delete` when the database refuses that."""
        ids = [pk for pk, _ in chunk]
        found = self.session.execute(base_select(self.access, model).where(among(self.session, cls.id, ids)))
        rows = {row.id: row for row in found.scalars()}
        errors: list[CellError] = []
        for pk, version in chunk:
            if pk not in rows:
                raise NotFound(t("not_found"))
            self.check_version(model, rows[pk], version)
            self._check_editable(model, rows[pk], pk)
            errors += check_delete(self.session, self.registry, model, rows[pk], pk)
        self._raise(errors)
        befores = {pk: self._snapshot(model, rows[pk]) for pk in ids}
        if self._delete_set(cls, ids):
            note_deleted(self.session, model, ids)
            for pk in ids:
                self.session.expunge(rows[pk])
                self._audit(model.key, pk, "delete", befores[pk], None)
        else:  # one of them is still in use (or needs another deleted first): the row path names it
            for pk, version in chunk:
                self.delete(model.key, pk, expected_version=version, row_ref=pk, row=rows[pk])

    def _delete_set(self, cls: Any, ids: list[int]) -> bool:
        """DELETE these rows in one statement; False (nothing deleted) when the database refuses it."""
        try:
            with self.session.begin_nested():
                stmt = delete(cls).where(among(self.session, cls.id, ids))
                self.session.execute(stmt.execution_options(synchronize_session=False))
        except IntegrityError:
            return False
        return True

    def flush(self) -> None:
        """Write the updates a batch held: one flush, one scope check per model, their audit rows."""
        held = list(self._held.values())
        self._held.clear()
        if not held:
            return
        with self._flush_errors(held[0].model, None if len(held) > 1 else held[0].row_ref):
            self._write_held([h for h in held if not h.model.lines_model])
            self.session.flush()  # whatever else changed (rows with lines)
        for model_key in {h.model.key for h in held}:
            same = [h for h in held if h.model.key == model_key]
            self._check_in_scope(same[0].model, [(h.row, h.row_ref) for h in same])
        for change in held:
            self._audit_update(change)

    def _write_held(self, held: list[_Held]) -> None:
        """Held updates of rows without lines as one executemany UPDATE per model and set of changed columns
        (`WHERE id = ? AND version = ?`, the version checked as the ORM checks it, which would send one
        statement per row); the rows then read as saved, their version one up."""
        groups: dict[tuple[str, tuple[str, ...]], list[tuple[Any, dict[str, Any]]]] = {}
        for change in held:
            state = inspect(change.row)
            changed = {key: state.dict[key] for key in state.committed_state if key != "version"}
            # what it wrote since the `before` snapshot, unless the ORM flushed the row in between (an autoflush
            # bumps the version): then its audit snapshots the whole row again
            if state.dict.get("version") == change.before.get("version"):
                change.columns = frozenset(changed) | {"version"} if changed else frozenset()
            if changed:
                groups.setdefault((change.model.key, tuple(sorted(changed))), []).append((change.row, changed))
        for (model_key, keys), rows in groups.items():
            table = self.registry.cls(model_key).__table__
            stmt = (
                update(table)
                .where(table.c.id == bindparam("w_id"), table.c.version == bindparam("w_version"))
                .values({key: bindparam(f"v_{key}", type_=table.c[key].type) for key in keys})
                .values(version=bindparam("w_next", type_=table.c.version.type))
            )
            params = [
                {"w_id": row.id, "w_version": row.version, "w_next": row.version + 1}
                | {f"v_{key}": value for key, value in changed.items()}
                for row, changed in rows
            ]
            with self.session.no_autoflush:  # the ORM would write these rows first, one statement each
                result = self.session.execute(stmt, params)
            if self.session.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(params):
                raise StaleDataError(f"{model_key}: {result.rowcount} of {len(params)} rows updated")
            for row, _ in rows:
                state = inspect(row)
                state.dict["version"] = row.version + 1
                # as the ORM leaves a row it flushed: nothing pending, not in the session's dirty set
                state._commit_all(state.dict, self.session.identity_map)  # noqa: SLF001

    def once_written(self, key: str, items: set[Any], work: Callable[[set[Any]], Any]) -> None:
        """Run `work` on `items` once the change is written: at once outside a batch; in a batch once for all the
        items every change of it named under `key`, when its changes are written (`write_audit`): the budgets of
        the categories a grid save or an import moved a thousand items between, refreshed once, not per item."""
        if not self.batch:
            work(items)
            return
        held, _ = self._when_written.get(key, (set(), work))
        self._when_written[key] = (held | items, work)

    def write_audit(self) -> None:
        """Flush held updates, run what waits for them (`once_written`) and insert the audit rows collected so far,
        in one statement, without committing (a job commits them with its own status)."""
        self.flush()
        while self._when_written:
            _, (items, work) = self._when_written.popitem()
            work(items)
        write_audit_rows(self.session, self._audit_rows)
        self._audit_rows = []

    def commit(self) -> None:
        """Commit the transaction (rows and their audit rows together)."""
        self.write_audit()
        try:
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise ValidationFailed([CellError("id", t("duplicate", value=""))]) from exc

    # -- parsing --------------------------------------------------------------------------------

    def _writable_model(self, model_key: str, action: str) -> ModelSpec:
        model = self.registry.model(model_key)
        if model.kind == "ledger":
            raise Forbidden(t("ledger_readonly"))
        if model.is_line:
            raise Forbidden(t("lines_via_document"))
        self.access.require(model.key, action)
        return model

    def _parse_payload(
        self,
        model: ModelSpec,
        payload: dict[str, Any],
        row: Any,
        row_ref: Any,
        prefix: str = "",
        typed: bool = False,
        shown: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None, list[CellError]]:
        """The payload's values as stored, its lines, and every cell error. `typed`: the values are already as
        `parse_value` returns them (see create_many); `shown`: the cells as the user typed them, quoted in a
        message instead of the parsed value (a user's id)."""
        if not isinstance(payload, dict):
            return {}, None, [CellError(prefix.rstrip(".") or "_record", t("not_object"), row_ref)]
        if typed and self._kept_as_typed(model, tuple(payload), row is None):
            return dict(payload), None, []  # what the loop below makes of them, its checks made once per field
        values: dict[str, Any] = {}
        errors: list[CellError] = []
        lines: list[dict[str, Any]] | None = None
        for name, raw in payload.items():
            if name in CONTROL_KEYS:
                continue
            where = f"{prefix}{name}"
            spec, verdict = self._field_verdict(model, name, row is None)
            if spec is None:
                errors.append(CellError(where, t("unknown_field"), row_ref))
                continue
            if verdict == "masked":  # its label is no secret (every 进销存 has a 单价), its value is: none is shown
                errors.append(CellError(where, t("field_not_writable", label=field_label(model, name)), row_ref))
                continue
            if verdict == "lines":
                if not isinstance(raw, list):
                    errors.append(CellError(where, t("not_list"), row_ref))
                    continue
                lines = []
                line_model = self.registry.model(model.lines_model or "")
                for index, line_payload in enumerate(raw):
                    line_values, _, line_errors = self._parse_payload(
                        line_model, line_payload, None, row_ref, prefix=f"{where}.{index}."
                    )
                    errors.extend(line_errors)
                    if isinstance(line_payload, dict):
                        line_values["id"] = line_payload.get("id")
                        errors.extend(
                            self._check_required(
                                line_model,
                                line_values,
                                row_ref,
                                prefix=f"{where}.{index}.",
                                skip={e.field for e in line_errors},
                            )
                        )
                    lines.append(line_values)
                continue
            if verdict == "readonly":
                current = None if row is None else FIELD_TYPES[spec.type].to_json(spec, getattr(row, spec.column))
                if row is not None and self._same(spec, raw, getattr(row, spec.column), current):
                    continue  # echoing back an unchanged read-only value is harmless
                errors.append(CellError(where, t("readonly_field"), row_ref))
                continue
            if typed:
                values[name] = raw
            else:
                try:
                    values[name] = self.parse_value(spec, raw)
                except ValueProblem as exc:
                    errors.append(CellError(where, self.refusal(model, spec, raw, exc), row_ref))
                    continue
            if values[name] is None and row is None and name in self._own_scope_fields(model):
                continue  # left empty on a new row: `_fill_own_scope` makes it the writer's own
            if spec.type == "user" and not self.access.may_assign_user(self.session, model, spec, values[name]):
                cell = shown.get(name, raw) if shown is not None else raw
                errors.append(CellError(where, self._only_own_user(model, spec, cell) or "", row_ref))
        return values, lines, errors

    def _only_own_user(self, model: ModelSpec, spec: FieldSpec, raw: Any) -> str | None:
        """Why a user field refuses a user, when the writer may name only themselves there (`only_own_user`)."""
        return only_own_user(self.session, self.access, model, spec, raw)

    def refusal(self, model: ModelSpec, spec: FieldSpec, raw: Any, problem: ValueProblem) -> str:
        """What a value the field type cannot parse is refused with (`value_refusal`): a form's, the grid's and an
        import's cells alike."""
        return value_refusal(self.session, self.access, model, spec, raw, problem)

    def _kept_as_typed(self, model: ModelSpec, names: tuple[str, ...], creating: bool) -> bool:
        """Whether typed values of these fields are stored as they are, with no error: the user may write each
        of them, and none is a control key, lines, or a user field (whose user is checked value by value).
        Worked out once per model and set of fields (an import's rows fill the same columns)."""
        key = (model.key, names, creating)
        found = self._typed_kept.get(key)
        if found is None:
            found = self._typed_kept[key] = all(
                name not in CONTROL_KEYS
                and (verdict := self._field_verdict(model, name, creating))[1] == "write"
                and verdict[0] is not None
                and verdict[0].type != "user"
                for name in names
            )
        return found

    def _field_verdict(self, model: ModelSpec, name: str, creating: bool) -> tuple[FieldSpec | None, str]:
        """What a payload may do with a field, worked out once per model and field (not per cell): (None, "")
        when it does not exist for anyone (none of the model's, or `hidden: true`, kept for code), "masked" when
        the user may not see it (a role's mask, a kind of figure hidden from them), else its spec and "lines",
        "write" or "readonly". A new document's number may be typed."""
        key = (model.key, name, creating)
        found = self._verdicts.get(key)
        if found is None:
            spec = model.field(name)
            if spec is None or spec.hidden:
                found = (None, "")
            elif not self.access.can_see(model, spec):
                found = (spec, "masked")
            elif spec.type == "lines":
                found = (spec, "lines")
            elif self.access.can_write(model, spec) or (
                creating and spec.name == "number" and model.kind == "document"
            ):
                found = (spec, "write")
            else:
                found = (spec, "readonly")
            self._verdicts[key] = found
        return found

    def parse_value(self, spec: FieldSpec, raw: Any, remember: bool = True) -> Any:
        """A typed value as stored (codes normalised); ValueProblem when it does not parse. In a batch the
        outcome for a plain value (text, number) is remembered per field: imports and pastes repeat the same
        categories, units and prices over many rows (`remember=False`: a caller that knows the value does not
        repeat, an import's codes and names, neither looks it up nor keeps it)."""
        memo = (
            self._parsed
            if remember and (self.batch or self._memo) and type(raw) in MEMO_TYPES and not spec.is_link
            else None
        )
        if memo is not None:
            found = memo.get((id(spec), type(raw), raw))
            if found is not None:
                if isinstance(found, str):
                    raise ValueProblem(found)
                return found[0]
        try:
            value = FIELD_TYPES[spec.type].parse(spec, raw, self.resolver)
            if spec.is_code and value is not None:
                value = normalise_code(value) or None
        except ValueProblem as exc:
            if memo is not None:
                memo[id(spec), type(raw), raw] = str(exc)
            raise
        if memo is not None:
            if len(memo) > MEMO_SIZE:
                memo.clear()
            memo[id(spec), type(raw), raw] = (value,)
        return value

    def _same(self, spec: FieldSpec, raw: Any, stored: Any, stored_json: Any) -> bool:
        if spec.is_link:
            return raw == stored or (isinstance(raw, dict) and raw.get("id") == stored)
        return raw in (stored_json, stored)

    def _apply_defaults(self, model: ModelSpec, values: dict[str, Any]) -> None:
        for spec in model.data_fields:
            if spec.name in values:
                continue
            default = field_default(self.session, self.registry, spec)
            if default is not None:
                values[spec.name] = self.resolver.resolve(spec.to or "", default) if spec.is_link else default

    def _check_required(
        self,
        model: ModelSpec,
        values: dict[str, Any],
        row_ref: Any,
        prefix: str = "",
        only: dict[str, Any] | None = None,
        skip: set[str] = frozenset(),
    ) -> list[CellError]:
        """Required fields that are empty (on update: only those the payload sets)."""
        errors = []
        for spec in model.required_fields:
            if (only is not None and spec.name not in only) or (skip and f"{prefix}{spec.name}" in skip):
                continue
            if values.get(spec.name) is None:
                errors.append(CellError(f"{prefix}{spec.name}", t("required"), row_ref))
        return errors

    def _check_unique(self, model: ModelSpec, values: dict[str, Any], pk: int | None, row_ref: Any) -> list[CellError]:
        cls = self.registry.cls(model.key)
        errors = []
        for spec in model.data_fields:
            value = values.get(spec.name)
            if not spec.unique or value is None:
                continue
            column = getattr(cls, spec.column)
            stmt = select(cls.id).where(same_code(column, value) if spec.is_code else column == value)
            if pk is not None:
                stmt = stmt.where(cls.id != pk)
            if self.session.execute(stmt.limit(1)).first() is not None:
                errors.append(
                    CellError(spec.name, t("duplicate", value=FIELD_TYPES[spec.type].to_json(spec, value)), row_ref)
                )
        return errors

    def _taken(self, model: ModelSpec, number: str) -> bool:
        """Does a row of the model already have this number (chosen by hand)? Automatic numbers are upper case, so
        the indexed exact comparison finds them."""
        cls = self.registry.cls(model.key)
        stmt = select(cls.id).where(getattr(cls, model.field("number").column) == number)  # type: ignore[union-attr]
        return self.session.execute(stmt.limit(1)).first() is not None

    def check_version(self, model: ModelSpec, row: Any, version: Any) -> None:
        """Conflict (该记录已被他人修改（当前版本 m）) when `version` is given and the row was saved since."""
        if version is None:
            return
        try:
            expected = int(version)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed([CellError("version", t("not_integer"))]) from exc
        if expected != row.version:
            raise Conflict(t("version_conflict", current=row.version), current={"id": row.id, "version": row.version})

    def _check_editable(self, model: ModelSpec, row: Any, row_ref: Any) -> None:
        if model.kind == "document" and row.status != Status.DRAFT:
            raise ValidationFailed([CellError("status", t("not_draft", status=Status(row.status).text()), row_ref)])

    def _own_scope_fields(self, model: ModelSpec) -> tuple[str, ...]:
        """The user fields the writer's roles scope `me` on this model (a salesperson's order's 销售员)."""
        own = self._own_fields.get(model.key)
        if own is None:
            own = self._own_fields[model.key] = tuple(
                {
                    name: None
                    for role in self.access.roles
                    for name, token in role.row_scope.get(model.key, {}).items()
                    if token == "me"
                }
            )
        return own

    def _fill_own_scope(self, model: ModelSpec, values: dict[str, Any]) -> None:
        """A salesperson's new order is theirs: fill empty `me`-scoped user fields with the user (also when
        a setting lets the role see more: the row stays theirs when it is narrowed again); and a row of a model kept
        by sides is on the writer's side when its sides field is left blank (`Access.own_side`: a salesperson's new
        往来单位 is a 客户)."""
        for field_name in self._own_scope_fields(model):
            if values.get(field_name) is None:
                values[field_name] = self.access.user_id
        side = self.access.own_side(model) if model.sides is not None else None
        if side is not None and model.sides is not None and values.get(model.sides.field) in (None, ""):
            values[model.sides.field] = side

    def _check_in_scope(self, model: ModelSpec, rows: list[tuple[Any, Any]]) -> None:
        """Refuse writes that would put rows (row, row_ref) outside what the user may see."""
        scope = self.access.scope(model)
        if scope is None:
            return
        cls = self.registry.cls(model.key)
        ids = [row.id for row, _ in rows]
        seen = set(self.session.execute(select(cls.id).where(cls.id.in_(ids), scope)).scalars())
        outside = [
            ({spec.name: getattr(row, spec.column) for spec in self._scoped_fields(model)}, row_ref)
            for row, row_ref in rows
            if row.id not in seen
        ]
        if outside:
            errors = self._scope_errors(model, outside)
            self.session.rollback()
            raise ValidationFailed(errors)

    def _scoped_fields(self, model: ModelSpec) -> list[FieldSpec]:
        """The fields the user's row scope on `model` reads: those its roles' rules name, and the sides' field."""
        names = [name for role in self.access.roles_on(model) for name in role.row_scope.get(model.key, {})]
        if model.sides is not None:
            names.append(model.sides.field)
        return [spec for name in dict.fromkeys(names) if (spec := model.field(name)) is not None]

    def _scope_errors(self, model: ModelSpec, rows: list[tuple[dict[str, Any], Any]]) -> list[CellError]:
        """Why rows (their stored values of `_scoped_fields`, row_ref) are outside the user's row scope: each field
        whose value puts one there, named with that value as the user may see it (盘点仓库 WH02 不在您的数据范围内;
        a linked row they may not see is not named, an empty field is said to be empty), or the record."""
        errors = []
        for values, row_ref in rows:
            names = self.access.outside_fields(self.session, model, values)
            for name in names:
                field, value = field_label(model, name), values.get(name)
                shown = self._shown_value(model.field(name), value)  # type: ignore[arg-type]
                key = "out_of_scope_value" if shown else "out_of_scope_blank" if value is None else "out_of_scope_field"
                errors.append(CellError(name, t(key, field=field, value=shown), row_ref))
            if not names:
                errors.append(CellError("_record", t("out_of_scope"), row_ref))
        return errors

    def _shown_value(self, spec: FieldSpec, value: Any) -> str:
        """A stored value as the user reads it: a linked row's code (empty when they may not see the row), an
        option's label, else its text."""
        if value is None:
            return ""
        if spec.is_link:
            found = value_to_json(self.session, self.access, spec, value)
            return str(found["key"]) if found else ""
        return FIELD_TYPES[spec.type].to_text(spec, value)

    @staticmethod
    def _raise(errors: list[CellError]) -> None:
        if errors:
            raise ValidationFailed(errors)

    # -- writing --------------------------------------------------------------------------------

    def _unchanged(
        self, model: ModelSpec, row: Any, values: dict[str, Any], lines: list[dict[str, Any]] | None
    ) -> bool:
        """Whether a save stores nothing new: every value as the row holds it and, when lines are sent, the same
        lines in the same order, each with the values it holds (a form sends every field, changed or not)."""
        if not _holds(model, row, values):
            return False
        if lines is None:
            return True
        held = sorted(row.lines, key=lambda line: line.line_no)
        if [line_values.get("id") for line_values in lines] != [line.id for line in held]:
            return False
        line_model = self.registry.model(model.lines_model or "")
        return all(_holds(line_model, line, values) for line, values in zip(held, lines, strict=True))

    def _assign(self, model: ModelSpec, row: Any, values: dict[str, Any]) -> None:
        for name, value in values.items():
            spec = model.field(name)
            if spec is not None and spec.type != "lines":
                setattr(row, spec.column, value)

    def _replace_lines(self, model: ModelSpec, row: Any, lines: list[dict[str, Any]], row_ref: Any) -> None:
        line_model = self.registry.model(model.lines_model or "")
        line_cls = self.registry.cls(line_model.key)
        behaviour = self.registry.behaviour(model.key)
        existing = {line.id: line for line in row.lines}
        # no flush until every line is in place: rules compare lines with what they were (stocktake books)
        with self.session.no_autoflush:
            kept = []
            new: list[bool] = []
            now = utcnow()
            for index, values in enumerate(lines, start=1):
                line_id = values.pop("id", None)
                line = existing.get(line_id) if line_id is not None else None
                new.append(line is None)
                if line is None:
                    line = line_cls(created_at=now, created_by_id=self.access.user_id)
                    self._apply_defaults(line_model, values)
                    behaviour.new_line_values(self.session, self.registry, model, row, values)
                values.update(updated_at=now, updated_by=self.access.user_id)
                self._assign(line_model, line, values)
                line.line_no = index
                kept.append(line)
            # every line as saved, new or changed: tax rates, unit ratios (a refused unit is a cell error)
            self._raise(behaviour.prepare_lines(self.session, self.registry, row, line_model, kept, row_ref, new))
            self._number_new_lines(line_cls, kept)
        row.lines = kept

    def _number_new_lines(self, line_cls: Any, lines: list[Any]) -> None:
        """Many new lines (a stocktake's uploaded counts) on PostgreSQL get their ids from the sequence in one
        query, so the flush inserts them with executemany: with RETURNING it writes statements of a thousand
        rows each, which the driver parses in Python every time (most of the time of a 20,000-line upload)."""
        new = [line for line in lines if line.id is None]
        if len(new) < NUMBERED_LINES or self.session.get_bind().dialect.name != "postgresql":
            return
        for line, pk in zip(new, new_ids(self.session, line_cls.__table__, len(new)), strict=True):
            line.id = pk

    def _compute(self, model: ModelSpec, row: Any, changed: set[str] | None = None) -> None:
        """Set the row's computed fields; on an update that `changed` none of what they read (`@reads`), the
        stored values stand (a price edit does not spell the name's pinyin again)."""
        if changed is not None and not model.lines_model:
            inputs = self._compute_inputs(model)
            if inputs is not None and not inputs & changed:
                return
        apply_computed(self.registry, model, row)

    def _compute_inputs(self, model: ModelSpec) -> frozenset[str] | None:
        """The fields of its own row that a model's computed fields read (None: one of them does not say);
        worked out once per metadata version (the registry's cache), not per row."""
        return self.registry.kept(("compute_inputs", model.key), lambda: self._find_compute_inputs(model))

    def _find_compute_inputs(self, model: ModelSpec) -> frozenset[str] | None:
        inputs: set[str] = set()
        for spec in model.data_fields:
            if spec.compute:
                reads = getattr(self.registry.compute(model.key, spec.name), "reads", None)
                if reads is None:
                    return None
                inputs.update(reads)
        return frozenset(inputs)

    def _flush(self, model: ModelSpec, row_ref: Any) -> None:
        with self._flush_errors(model, row_ref):
            self.session.flush()

    @contextmanager
    def _flush_errors(self, model: ModelSpec, row_ref: Any) -> Iterator[None]:
        """A failed flush (or autoflush) as the user sees it: a Conflict, or a cell error."""
        try:
            yield
        except StaleDataError as exc:
            self.session.rollback()
            raise Conflict(t("version_conflict", current="?")) from exc
        except IntegrityError as exc:
            self.session.rollback()
            raise ValidationFailed([_integrity_error(model, exc, row_ref)]) from exc

    def _audit_update(self, held: _Held) -> None:
        """Audit an update unless it changed nothing but its timestamp and version. A row `_write_held` wrote
        is snapshotted again only in the columns it wrote."""
        if held.columns is None:
            after = self._snapshot(held.model, held.row)
            changed = _meaningful(after) != _meaningful(held.before)
        else:
            written = snapshot_columns(held.model, held.row, held.columns)
            after = held.before | written
            changed = any(k not in BOOKKEEPING and held.before.get(k) != v for k, v in written.items())
        if changed:
            self._audit(held.model.key, held.row.id, "update", held.before, after)
            after_update(self, held.model, held.row, held.before, after)

    def _audit(
        self,
        model_key: str,
        record_id: int,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | Encoded | None,
    ) -> None:
        if self.batch:
            self._audit_rows.append(change_row(self.access, model_key, record_id, action, before, after))
        else:
            audit_change(self.session, self.access, model_key, record_id, action, before, after)

    def _snapshot(self, model: ModelSpec, row: Any) -> dict[str, Any]:
        line_model = self.registry.model(model.lines_model) if model.lines_model else None
        return snapshot(model, row, line_model)


BOOKKEEPING = ("updated_at", "version")  # what every write of a row changes


def _meaningful(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A row's snapshot without its bookkeeping, nor its lines' (a document saved unchanged rewrites its lines'
    versions: no change to audit, 「2 行明细 → 2 行明细」 in the history)."""
    kept = {k: v for k, v in snapshot.items() if k not in BOOKKEEPING}
    if isinstance(kept.get("lines"), list):
        kept["lines"] = [_meaningful(line) if isinstance(line, dict) else line for line in kept["lines"]]
    return kept


def _integrity_error(model: ModelSpec, exc: IntegrityError, row_ref: Any) -> CellError:
    text = str(exc.orig)
    for spec in model.data_fields:
        if re.search(rf"\b{re.escape(model.key)}\.{re.escape(spec.column)}\b|uq_{model.key}_{spec.column}\b", text):
            return CellError(spec.name, t("duplicate", value=""), row_ref)
    return CellError("_record", t("in_use") if "FOREIGN KEY" in text.upper() else t("duplicate", value=""), row_ref)


def _holds(model: ModelSpec, row: Any, values: dict[str, Any]) -> bool:
    """Whether the row already holds each of these stored values (lines and an id are not values)."""
    for name, value in values.items():
        spec = model.field(name)
        if spec is not None and spec.type != "lines" and getattr(row, spec.column) != value:
            return False
    return True
