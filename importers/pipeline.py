"""The master-data import: read -> match -> validate every row -> apply through RecordService.

Validation parses every cell with the field types the grid and the API use (app/meta/types.py), with
every linked column resolved in one query (`Resolver.preload`), and collects every error at once as
`row N, column C: message`. Apply goes through `RecordService` (permissions, masks, scope, rules,
computed fields): new rows set-based with `create_many` (a bulk insert, COPY on PostgreSQL, one scope query
and one audit insert per chunk) where the model allows it, others row by row in batch mode; the caller's
transaction decides whether it stands (a job commits it with its status, a dry run rolls it back).

Modes: `all` (default: one error refuses the whole file) or `valid` (bad rows skipped, the rest
applied). Actions: `create`, `update` (rows found by the business key), `upsert`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.errors import CellError, Forbidden, ValidationFailed
from app.i18n import current_locale, join_list, label, t
from app.meta.headers import importable_fields
from app.meta.spec import with_unit
from app.meta.types import FIELD_TYPES, ValueProblem, bare_number, normalise_text
from app.services.records.bulk import among
from app.services.records.query import base_select, field_label
from app.services.records.resolver import Resolver
from app.services.records.write import RecordService
from importers.matcher import Match, column_letter, match_columns
from importers.reader import FileRefused, Table, read_table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.meta.spec import FieldSpec, ModelSpec
    from app.services.access.rights import Access

MODES = ("all", "valid")
ACTIONS = ("create", "update", "upsert")
CHUNK = 2000
SHOWN_ISSUES = 1000  # refused cells an import's outcome names (the page marks them; the error report has them all)
_LEFT_OUT = object()  # a blank or bad cell in validation's parsed columns
SEEN_CELLS = 5000  # distinct cells of a column whose parsed value validation keeps (codes and names are all new)
EXCEL_EPOCH = dt.date(1899, 12, 30)

Progress = Callable[[int, int], None]
Layouts = Callable[[str], "dict[str, str] | None"]  # a layout's signature -> its remembered mapping


@dataclass
class Issue:
    """One refused cell (or row, when `field` is empty) with the sheet row and the file's column."""

    row: int
    column: str  # the header as the file has it (or the column letter)
    field: str
    message: str
    col_index: int | None = None

    def line(self, locale: str | None = None) -> str:
        """`row N, column C: message`, its words in the reader's language (第 N 行，「C」列：…)."""
        return t("imports.cell_line", locale, row=self.row, column=self.column, message=self.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "col_index": self.col_index,
        }


@dataclass
class Outcome:
    """What an import found and did."""

    model: str
    action: str
    mode: str
    dry_run: bool
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # rows found with every value the file gives already stored: nothing written for them
    skipped: int = 0
    applied: bool = False
    refused: str = ""  # why nothing was applied (file problems, or errors in mode `all`)
    problems: list[str] = field(default_factory=list)  # file-level problems
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)  # header -> field
    signature: str = ""
    created_ids: list[tuple[int, int]] = field(default_factory=list)  # (id, version)
    updated_rows: list[dict[str, Any]] = field(default_factory=list)  # {id, before, version}
    # rows the model's rules changed because of a created row (a new price closes the one before it)
    followed_rows: list[dict[str, Any]] = field(default_factory=list)  # {id, before, version}
    import_id: int | None = None  # the recorded import (undo), once applied
    table: Table | None = None  # the rows as read, and where the header is (the errors workbook)
    header_index: int = 0

    @property
    def wrote_rows(self) -> bool:
        """Did the import create or change a row? One that skipped every row (只导入正确的行, each refused) or found
        each unchanged wrote nothing: it is not recorded, so the same file, its rows fixed where they pointed (a unit
        added), is not refused as imported before, nor is an undo offered for it."""
        return bool(self.created_ids or self.updated_rows or self.followed_rows)

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "action": self.action,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": len(self.issues),
            "issues": [issue.as_dict() for issue in self.issues[:SHOWN_ISSUES]],
            "applied": self.applied,
            "refused": self.refused,
            "problems": self.problems,
            "notes": self.notes,
            "unknown_columns": self.unknown_columns,
            "mapping": self.mapping,
            "signature": self.signature,
            "import_id": self.import_id,
        }


@dataclass
class Prepared:
    """A validated file: per sheet row, the payload RecordService gets, the row's target id and the values
    as RecordService parsed them (`records`, whose `create_many` takes them without parsing them again)."""

    table: Table
    match: Match
    fields: dict[str, FieldSpec]
    # (sheet row, payload, existing id or None, its values as parsed)
    rows: list[tuple[int, dict[str, Any], int | None, dict[str, Any]]]
    bad_rows: set[int]
    records: RecordService | None = None


def may_import(access: Access, model: ModelSpec) -> bool:
    """Whether the import buttons show: a master-data model the user may import into and write."""
    return _importable(model) and access.can(model.key, "import") and access.can(model.key, "write")


def _importable(model: ModelSpec) -> bool:
    """Master data, or a document that keeps the file's number (importers/documents.py)."""
    if model.kind == "document":
        return model.lines_model is not None and model.field("external_ref") is not None
    return model.kind != "ledger" and not model.is_line


def importable_model(access: Access, model_key: str) -> ModelSpec:
    """The model if the user may import into it (a master-data model, `import` and `write` granted)."""
    try:
        model = access.registry.model(model_key)
    except KeyError as exc:
        raise Forbidden(t("imports.unknown_model", model=model_key)) from exc
    if not _importable(model):
        raise Forbidden(t("imports.not_importable", model=label(model.label, model.key)))
    access.require(model.key, "import")
    access.require(model.key, "write")
    return model


def run_import(
    session: Session,
    access: Access,
    model_key: str,
    data: bytes,
    filename: str = "",
    *,
    mode: str = "all",
    action: str = "create",
    dry_run: bool = False,
    remembered: dict[str, str] | None = None,
    layouts: Layouts | None = None,
    progress: Progress | None = None,
    post: bool = False,
) -> Outcome:
    """Import `data` into `model_key` as `access`'s user; nothing is committed here. Documents are created
    (action `create` only) as drafts, or posted with `post` (the user needs `submit`)."""
    if mode not in MODES or action not in ACTIONS:
        raise ValidationFailed([CellError("mode" if mode not in MODES else "action", t("imports.bad_option"))])
    model = importable_model(access, model_key)
    document = model.kind == "document"
    if document and action != "create":
        raise ValidationFailed([CellError("action", t("imports.documents_create_only"))])
    if post:
        access.require(model.key, "submit")
    outcome = Outcome(model.key, action, mode, dry_run)
    try:
        table = read_table(data, filename)
    except FileRefused as exc:
        outcome.refused = str(exc)
        outcome.problems.append(str(exc))
        return outcome
    outcome.notes.extend(table.notes)
    outcome.table = table
    from importers.documents import apply_documents, validate_documents  # documents build on this module

    prepared: Any = (
        validate_documents(session, access, model, table, outcome, remembered, layouts)
        if document
        else validate(session, access, model, table, action, outcome, remembered, layouts)
    )
    if outcome.problems:
        outcome.refused = outcome.problems[0]
        return outcome
    # a dry run (the import page's 检查文件, `POST /api/v1/imports/check`) writes the rows without a bad cell through
    # the one write path, whatever the mode, so that what only writing finds (a model's rule, the row scope) is
    # reported with the cells' problems, then rolls it all back. An import in mode `all` with bad cells is refused
    # already, but goes on the same way (its writes rolled back below), so that it names every error of the file
    # at once, as the check does, not the cells' alone and the rest only once those are put right
    refusing = bool(outcome.issues) and mode == "all"
    savepoint = session.begin_nested() if dry_run else None
    if document:
        apply_documents(session, access, model, prepared, outcome, post, progress, checking=dry_run or refusing)
    else:
        apply_rows(session, access, model, prepared, outcome, progress)
    outcome.issues.sort(key=lambda i: (i.row, i.col_index if i.col_index is not None else -1))
    if savepoint is not None:
        savepoint.rollback()
        if outcome.issues and mode == "all":
            outcome.refused = t("imports.refused_errors", count=len(outcome.issues))
        return outcome
    if outcome.issues and mode == "all":  # the cells' problems, or rules and constraints checked only at the write
        outcome.refused = t("imports.refused_errors", count=len(outcome.issues))
        outcome.created = outcome.updated = outcome.unchanged = outcome.skipped = 0  # the file refused whole
        outcome.created_ids, outcome.updated_rows, outcome.followed_rows = [], [], []
        session.rollback()
        return outcome
    outcome.applied = True
    return outcome


def preview(
    session: Session,
    access: Access,
    model_key: str,
    data: bytes,
    filename: str = "",
    *,
    action: str = "create",
    remembered: dict[str, str] | None = None,
    layouts: Layouts | None = None,
) -> dict[str, Any]:
    """What the import page shows before applying: the columns matched, every row as text, every issue."""
    if action not in ACTIONS:
        raise ValidationFailed([CellError("action", t("imports.bad_option"))])
    model = importable_model(access, model_key)
    outcome = Outcome(model.key, action, "all", True)
    try:
        table = read_table(data, filename)
    except FileRefused as exc:
        return {"problems": [str(exc)], "headers": [], "columns": [], "rows": [], "issues": [], "fields": []}
    from importers.documents import validate_documents  # documents build on this module

    prepared: Any = (
        validate_documents(session, access, model, table, outcome, remembered, layouts)
        if model.kind == "document"
        else validate(session, access, model, table, action, outcome, remembered, layouts)
    )
    fields = prepared.fields
    mapping = prepared.match.mapping
    rows = []
    start = prepared.match.header_index + 1
    data_rows = list(zip(table.row_numbers[start:], table.rows[start:], strict=True))
    percents = percent_cells(table, fields, mapping, data_rows)  # shown as Excel shows them, and so sent back (13%)
    for number, cells in data_rows:
        texts = [_text(fields.get(mapping.get(col, "")), value) for col, value in enumerate(cells)]
        for col, numbers in percents.items():
            if number in numbers:
                texts[col] = percent_text(cells[col])
        rows.append({"row": number, "cells": texts})
    return {
        "model": model.key,
        "headers": prepared.match.headers,
        "columns": [
            {"index": c, "header": h, "field": mapping.get(c, "")} for c, h in enumerate(prepared.match.headers)
        ],
        "fields": [{"name": s.name, "label": label(s.label, s.name), "required": s.required} for s in fields.values()],
        "rows": rows,
        "issues": [i.as_dict() for i in outcome.issues],
        "problems": outcome.problems,
        "notes": [*table.notes, *outcome.notes],
        "unknown_columns": outcome.unknown_columns,
        "signature": outcome.signature,
        "total": outcome.total,
    }


def _text(spec: FieldSpec | None, value: Any) -> str:
    """A cell as the page shows and sends it back (a date serial as the date, 12.0 as 12)."""
    if spec is not None:
        value = coerce(spec, value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bool):
        return t("bool.yes") if value else t("bool.no")
    return str(value)


# -- validation ----------------------------------------------------------------------------------


def coerce(spec: FieldSpec, value: Any) -> Any:
    """A spreadsheet value as the field type's parser takes it (None: the cell is empty)."""
    if value.__class__ is str:  # most cells: text trimmed (long text kept as typed), blank as empty
        stripped = value.strip()
        return None if not stripped else value if spec.type == "long_text" else stripped
    if value is None:
        return None
    ftype = FIELD_TYPES[spec.type]
    if isinstance(value, float) and spec.type in ("date", "datetime") and 0 < value < 2958466:
        day = EXCEL_EPOCH + dt.timedelta(days=int(value))  # a date kept as an Excel serial number
        return day if spec.type == "date" else dt.datetime.combine(day, dt.time()) + dt.timedelta(days=value % 1)
    if isinstance(value, float):
        if value.is_integer():
            return int(value) if ftype.numeric or spec.is_link else str(int(value))
        return str(Decimal(repr(value)))  # 12.3, never 12.300000000000000710542735760100185871124267578125
    if isinstance(value, int) and not isinstance(value, bool) and (spec.is_link or not ftype.numeric):
        return str(value)
    if isinstance(value, dt.datetime) and spec.type == "date":
        return value.date()
    if isinstance(value, str) and spec.type not in ("long_text",):
        return value.strip()
    return value


def parse_rows(
    session: Session,
    access: Access,
    fields: dict[str, FieldSpec],
    match: Match,
    table: Table,
    data_rows: list[tuple[int, list[Any]]],
    issue: Callable[[int, str, str], None],
    resolver: Resolver | None = None,
) -> tuple[Resolver, list[tuple[int, dict[str, Any]]]]:
    """Each data row as a payload of its parsed cells (blank cells left out), and a resolver (this one, or a
    new one) with every linked column's keys loaded in one query per column. A cell whose meaning the file does not
    say (0.5 under 税率: 0.5 % or 50 %?) is left out and told to `issue` (row, field, message)."""
    resolver = resolver or Resolver(session, access)
    payloads: list[tuple[int, dict[str, Any]]] = []
    # `coerce` with its text cells done here, without a call each; row by row, each row's dict built whole (filled
    # column by column, every dict grown midway, the peak RSS of a 100,000-row import was 5 MB higher)
    columns = [(col, name, fields[name], fields[name].type == "long_text") for col, name in match.mapping.items()]
    for row_no, cells in data_rows:
        payload = {}
        width = len(cells)
        for col, name, spec, long_text in columns:
            value = cells[col] if col < width else None
            if value.__class__ is str:
                stripped = value.strip()
                if stripped:
                    payload[name] = value if long_text else stripped
            elif value is not None:
                value = coerce(spec, value)
                if value is not None:
                    payload[name] = value
        payloads.append((row_no, payload))
    for col, rows in percent_cells(table, fields, match.mapping, data_rows).items():
        _read_percents(fields[match.mapping[col]], col in match.percent, rows, payloads, issue)
    _read_times([fields[name] for name in match.mapping.values() if fields[name].type == "datetime"], payloads)
    mapped = set(match.mapping.values())
    for name, spec in fields.items():
        if spec.type == "link" and name in mapped:
            resolver.preload(spec.to or "", {p[name] for _, p in payloads if isinstance(p.get(name), str)})
    return resolver, payloads


def percent_cells(
    table: Table, fields: dict[str, FieldSpec], mapping: dict[int, str], data_rows: list[tuple[int, list[Any]]]
) -> dict[int, set[int]]:
    """{column of a field read in percents: the sheet rows whose cell in it is a number Excel formats as a percent}
    (the share it keeps: 13% is the cell 0.13)."""
    found = table.percent_rows([col for col, name in mapping.items() if name in fields and fields[name].in_percent])
    for col, rows in found.items():
        if rows:
            found[col] = {row_no for row_no, cells in data_rows if row_no in rows and _is_number(cells, col)}
    return found


def percent_text(number: Any) -> str:
    """A percent cell's number as Excel shows it: 0.13 -> '13%', 0.005 -> '0.5%'."""
    return _plain(Decimal(repr(number) if isinstance(number, float) else str(number)).scaleb(2)) + "%"


def _is_number(cells: list[Any], col: int) -> bool:
    value = cells[col] if col < len(cells) else None
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _read_percents(
    spec: FieldSpec,
    says_percent: bool,
    percent_cells: set[int],
    payloads: list[tuple[int, dict[str, Any]]],
    issue: Callable[[int, str, str], None],
) -> None:
    """The cells of a field read in percents (折扣率, a share stored 0.075; 税率(%), 13) as the clerk sees them
    (docs/imports.md "Percents"): a number in a cell Excel formats as a percent (`percent_cells`, sheet rows) is the
    share Excel keeps, 13% is the cell 0.13, under any header; any other bare number is the percent typed
    (`FieldType.typed`, the grid's and the forms' rule: 7.5 is 7.5 %), except one between 0 and 1 under a header
    that does not say % (税率, 折扣率): 0.5 is 0.5 %, or 50 % kept as Excel keeps it; which, the cell does not say,
    so it is refused, saying how to write it. Text with its sign (0.5%) goes to the field's parser."""
    name, typed = spec.name, FIELD_TYPES[spec.type].typed
    for row_no, payload in payloads:
        value = payload.get(name)
        number = bare_number(value)
        if number is None:
            continue
        if row_no in percent_cells:
            payload[name] = percent_text(number)  # the field's parser reads 13% as a share (0.13) or as 13
        elif says_percent or not 0 < number < 1:
            payload[name] = typed(spec, value)
        else:
            del payload[name]
            header = with_unit(label(spec.label, name), "%", current_locale())
            written, share = _plain(number), _plain(number.scaleb(2))
            issue(row_no, name, t("imports.percent_unclear", number=written, share=share, header=header))


def _read_times(specs: list[FieldSpec], payloads: list[tuple[int, dict[str, Any]]]) -> None:
    """A time in a sheet without a zone is the business's wall time, as exports write it (`FieldType.typed`)."""
    for spec in specs:
        typed, name = FIELD_TYPES[spec.type].typed, spec.name
        for _, payload in payloads:
            if name in payload:
                payload[name] = typed(spec, payload[name])


def _plain(number: Decimal) -> str:
    """0.50 -> '0.5', 1E+2 -> '100'."""
    return format(number.normalize(), "f")


def _column_name(match: Match, col: int) -> str:
    header = match.headers[col] if col < len(match.headers) else ""
    return header or column_letter(col)


def validate(
    session: Session,
    access: Access,
    model: ModelSpec,
    table: Table,
    action: str,
    outcome: Outcome,
    remembered: dict[str, str] | None = None,
    layouts: Layouts | None = None,
) -> Prepared:
    """Match the columns and check every row; file problems and cell issues go into `outcome`.

    `remembered` is a mapping given for this file; without one, `layouts` may find the one stored for
    the file's layout."""
    fields = {s.name: s for s in importable_fields(model, access.visible_fields(model))}
    masked = importable_fields(model, access.masked_fields(model))
    match = match_columns(table.rows, list(fields.values()), remembered, masked)
    if remembered is None and layouts is not None:
        stored = layouts(match.signature)
        if stored is not None:
            match = match_columns(table.rows, list(fields.values()), stored, masked)
            outcome.notes.append(t("imports.layout_remembered"))
    outcome.signature = match.signature
    outcome.header_index = match.header_index
    outcome.mapping = {_column_name(match, c): f for c, f in match.mapping.items()}
    outcome.unknown_columns = [_column_name(match, c) for c in match.unknown]
    outcome.problems.extend(match.problems(list(fields.values()), action))
    if not match.mapping:
        outcome.problems.append(t("imports.no_columns"))
    keys = model.import_key  # the business key, or the natural key of a model keyed by its id (item + unit)
    key = keys[0] if keys else model.business_key  # the column a row's key problem is told on
    if action != "create":
        for name in keys or (key,):
            if name not in fields or name not in match.mapping.values():
                spec = fields.get(name)
                outcome.problems.append(t("imports.key_needed", column=label(spec.label, name) if spec else name))
    keys = keys if all(name in fields for name in keys) else ()  # a key field masked from a creating user: none
    data_rows = list(
        zip(table.row_numbers[match.header_index + 1 :], table.rows[match.header_index + 1 :], strict=True)
    )
    outcome.total = len(data_rows)
    prepared = Prepared(table, match, fields, [], set())
    if outcome.problems:
        return prepared
    if not data_rows:
        outcome.problems.append(t("imports.no_rows"))
        return prepared
    columns = {name: col for col, name in match.mapping.items()}
    for refused in masked_issues(match, data_rows, lambda name: field_label(model, name)):
        outcome.issues.append(refused)
        prepared.bad_rows.add(refused.row)
    # the cells are parsed once, by the service that writes them (its parsers, codes normalised, its link cache)
    records = prepared.records = RecordService(session, access, batch=True)

    def issue(row_no: int, name: str, message: str) -> None:
        col = columns.get(name)
        column = (
            _column_name(match, col) if col is not None else label(fields[name].label, name) if name in fields else ""
        )
        outcome.issues.append(Issue(row_no, column, name, message, col))
        prepared.bad_rows.add(row_no)

    _, payloads = parse_rows(session, access, fields, match, table, data_rows, issue, records.resolver)

    keys_seen: dict[Any, int] = {}
    twice: set[int] = set()  # rows told they share their key with a later row
    unique_seen: dict[str, dict[Any, int]] = {n: {} for n, s in fields.items() if s.unique and n not in keys}
    parsed_keys: dict[int, Any] = {}
    names = list(dict.fromkeys(match.mapping.values()))
    parsed_columns: list[list[Any]] = []  # per column, per row: its value, or _LEFT_OUT (a blank or bad cell)
    gaps: list[int] = []  # the rows' indices with a blank or bad cell (once per such cell)
    gapped = 0
    problems: list[tuple[str, list[tuple[int, str]]]] = []  # per column with bad cells: (row's index, problem)
    parse = records.parse_value
    for name in names:  # column by column: columns repeat their values
        spec = fields[name]
        seen: dict[tuple[type, Any], Any] = {}  # a cell -> (its value,) or its problem, each parsed once
        column: list[Any] = []
        bad: list[tuple[int, str]] = []
        for raw in [payload.get(name) for _, payload in payloads]:
            if raw is None:
                gaps.append(len(column))
                column.append(None)
                continue
            cell = (raw.__class__, raw)  # 1 and 1.0 and True are equal but not parsed alike
            found = seen.get(cell)
            if found is None:
                full = len(seen) >= SEEN_CELLS  # codes and names: every cell new, none remembered here or there
                try:
                    found = (parse(spec, raw, remember=not full),)
                except ValueProblem as exc:  # worded as a form's save words it
                    found = records.refusal(model, spec, raw, exc)
                if not full:
                    seen[cell] = found
            if found.__class__ is str:
                gaps.append(len(column))
                bad.append((len(column), found))
            column.append(found)
        if len(gaps) == gapped:  # every cell a value: taken out of its 1-tuple in C
            parsed_columns.append(list(map(itemgetter(0), column)))
        else:
            parsed_columns.append([found[0] if found.__class__ is tuple else _LEFT_OUT for found in column])
        gapped = len(gaps)
        if bad:
            problems.append((name, bad))
    # each row's values built whole, as the rows' payloads are, in C (a dict zipped from the names and the row's
    # values); a row with a blank or bad cell then without it
    rows = list(map(dict, map(zip, repeat(names), zip(*parsed_columns, strict=True))))
    for index in set(gaps):
        rows[index] = {name: value for name, value in rows[index].items() if value is not _LEFT_OUT}
    typed: dict[int, dict[str, Any]] = dict(zip([row_no for row_no, _ in payloads], rows, strict=True))
    del parsed_columns, rows
    for name, bad in problems:  # in the file's order once sorted below
        for index, message in bad:
            issue(payloads[index][0], name, message)
    needs_key = [name for name in keys if name == model.business_key or fields[name].required]
    for row_no, payload in payloads:
        values = typed[row_no]
        key_value = row_key(keys, needs_key, payload, values)
        if action != "create":  # (update and upsert have the key's columns)
            for name in needs_key:
                if name not in payload:
                    issue(row_no, name, t("required"))
        if key_value is not None:
            first = keys_seen.setdefault(tuple(map(_fold, key_value)), row_no)
            if first != row_no and action == "create":  # the first row makes the row
                issue(row_no, key, t("imports.duplicate_in_file", row=first))
            elif first != row_no:  # two changes of one row: which one is meant is the clerk's to say
                issue(row_no, key, t("imports.same_row_twice", row=first))
                if first not in twice:
                    twice.add(first)
                    issue(first, key, t("imports.same_row_twice", row=row_no))
            parsed_keys[row_no] = key_value
        for name, seen in unique_seen.items():
            if values.get(name) is not None:
                first = seen.setdefault(_fold(values[name]), row_no)
                if first != row_no:
                    issue(row_no, name, t("imports.duplicate_in_file", row=first))
    existing = _existing_ids(session, access, model, set(parsed_keys.values())) if action != "create" else {}
    # a key the table keeps unique (a business key, a natural key its unique_together holds) is refused as taken; a
    # price's is not (a new price of a list that has one without a start day starts today: its rules say so)
    unique = model.business_key != "id" or set(keys) in [set(group) for group in model.unique_together]
    taken = _taken_keys(session, access, model, set(parsed_keys.values())) if action == "create" and unique else set()
    needed = [spec.name for spec in fields.values() if _needed(spec)]
    for row_no, payload in payloads:
        key_value = parsed_keys.get(row_no)
        target = existing.get(key_value) if key_value is not None else None
        if target == _SEVERAL and key_value is not None:  # rows kept apart once, now alike (a natural key, not unique)
            issue(row_no, key, t("imports.key_several", value=key_text(fields, keys, payload, key_value)))
            target = None
        elif action == "create" and key_value is not None and key_value in taken:
            issue(row_no, key, t("imports.exists", value=key_text(fields, keys, payload, key_value)))
        elif action == "update" and key_value is not None and target is None:
            issue(row_no, key, t("imports.not_found", value=key_text(fields, keys, payload, key_value)))
        if action == "create" or (action == "upsert" and target is None and key_value is not None):
            for name in needed:
                if name not in payload:
                    issue(row_no, name, t("required"))
        prepared.rows.append((row_no, payload, target if action != "create" else None, typed[row_no]))
    outcome.issues.sort(key=lambda i: (i.row, i.col_index if i.col_index is not None else -1))
    return prepared


def masked_issues(match: Match, data_rows: list[tuple[int, list[Any]]], label_of: Callable[[str], str]) -> list[Issue]:
    """Each filled cell of a column naming a field hidden from the user (a masked 单价), refused in the write path's
    words (「单价」没有修改权限: the label is no secret, the value is, and is never repeated); a blank cell gives no
    value and passes, and a column the user chose to skip is not matched."""
    found = []
    for col, name in match.masked.items():
        message, column = t("field_not_writable", label=label_of(name)), _column_name(match, col)
        for row_no, cells in data_rows:
            value = cells[col] if col < len(cells) else None
            if value is not None and (value.__class__ is not str or value.strip()):
                found.append(Issue(row_no, column, name, message, col))
    return found


def _needed(spec: FieldSpec) -> bool:
    """A field a new row must have from the file (required, with no default to fill it)."""
    return spec.required and spec.default is None and spec.default_setting is None


def _fold(value: Any) -> Any:
    return normalise_text(value).lower() if isinstance(value, str) else value


def row_key(
    keys: tuple[str, ...], needs: list[str], payload: dict[str, Any], values: dict[str, Any]
) -> tuple[Any, ...] | None:
    """A row's import key, its key fields' values in order (a blank cell of a natural key's optional field is None:
    a price with no partner); None when a field it needs is blank or a key cell is bad (told already)."""
    key = tuple(map(values.get, keys))
    if None not in key:  # the usual row: every key cell filled and read
        return key or None
    if any(name not in values for name in needs) or any(n in payload and n not in values for n in keys):
        return None
    return key


def key_text(fields: dict[str, FieldSpec], keys: tuple[str, ...], payload: dict[str, Any], key: tuple[Any, ...]) -> str:
    """A row's key as the clerk knows it: a link or a choice as typed (「SP0001 农夫山泉」, 零售价), another as stored
    (a code normalised, a day as 2026-01-01), blanks left out; never a value the file did not hold."""
    texts = []
    for name, value in zip(keys, key, strict=True):
        if value is not None:
            spec = fields[name]
            typed = spec.is_link or spec.type == "select"
            texts.append(str(payload[name] if typed else FIELD_TYPES[spec.type].to_json(spec, value)))
    return join_list(texts)


_SEVERAL = -1  # two rows or more the user may see have the key


def _key_rows(stmt: Any, model: ModelSpec, cls: Any, session: Session, keys: set[tuple[Any, ...]]) -> Any:
    """(key, id) of the rows of `stmt` whose import key is one of `keys`: found by the key's first field, a chunk
    of its values at a time (its index), the other fields compared here (a blank matches a blank)."""
    columns = [getattr(cls, model.field(name).column) for name in model.import_key]  # type: ignore[union-attr]
    stmt = stmt.with_only_columns(*columns, cls.id)
    firsts = sorted({key[0] for key in keys if key[0] is not None})
    wheres = [among(session, columns[0], firsts[start : start + CHUNK]) for start in range(0, len(firsts), CHUNK)]
    if any(key[0] is None for key in keys):
        wheres.append(columns[0].is_(None))
    for where in wheres:
        for *found, row_id in session.execute(stmt.where(where)):
            if tuple(found) in keys:
                yield tuple(found), row_id


def _existing_ids(session: Session, access: Access, model: ModelSpec, keys: set[Any]) -> dict[Any, int]:
    """Rows the user may see, by import key (one query per chunk); `_SEVERAL` for a key two of them have."""
    if not keys:
        return {}
    cls: Any = access.registry.cls(model.key)
    found: dict[Any, int] = {}
    for key, row_id in _key_rows(base_select(access, model), model, cls, session, keys):
        found[key] = _SEVERAL if key in found else row_id
    return found


def _taken_keys(session: Session, access: Access, model: ModelSpec, keys: set[Any]) -> set[Any]:
    """Import keys already used by any row (visible or not: a unique key names one row across the table)."""
    if not keys:
        return set()
    cls: Any = access.registry.cls(model.key)
    return {key for key, _ in _key_rows(select(cls.id), model, cls, session, keys)}


# -- apply -----------------------------------------------------------------------------------------


def apply_rows(
    session: Session,
    access: Access,
    model: ModelSpec,
    prepared: Prepared,
    outcome: Outcome,
    progress: Progress | None = None,
) -> None:
    """Write the rows without issues through RecordService: new rows set-based (`create_many`, a chunk at
    a time) where the model allows it, else row by row; updates in batch mode; audit in bulk."""
    records = prepared.records or RecordService(session, access, batch=True)
    todo = [r for r in prepared.rows if r[0] not in prepared.bad_rows]
    outcome.skipped = len(prepared.rows) - len(todo)
    columns = {name: col for col, name in prepared.match.mapping.items()}
    targets = _load_rows(session, access, model, [r[2] for r in todo if r[2] is not None])
    created: set[int] = set()
    followed: dict[int, dict[str, Any]] = {}
    done, total = 0, len(todo)  # `todo` is cut to the row-by-row rows below; the bar counts every row

    def refused(row_no: int, errors: list[CellError]) -> None:
        outcome.skipped += 1
        for error in errors:
            col = columns.get(error.field)
            column = _column_name(prepared.match, col) if col is not None else error.field
            outcome.issues.append(Issue(row_no, column, error.field, error.message, col))

    def count(rows: int) -> None:
        nonlocal done
        before, done = done, done + rows
        if progress is not None and (done // 200 > before // 200 or done == total):
            progress(done, total)

    if records.creates_in_bulk(model):
        creates = [(row_no, values, payload) for row_no, payload, pk, values in todo if pk is None]
        todo = [r for r in todo if r[2] is not None]
        for start in range(0, len(creates), CHUNK):
            chunk = creates[start : start + CHUNK]
            results = records.create_many(
                model.key,
                [(values, row_no) for row_no, values, _ in chunk],
                parsed=True,
                cells=[payload for _, _, payload in chunk],  # a refused cell is quoted as typed, not as parsed
            )
            for (row_no, _, _), (pk, errors) in zip(chunk, results, strict=True):
                if pk is None:
                    refused(row_no, errors)
                    continue
                outcome.created += 1
                outcome.created_ids.append((pk, 1))
            count(len(chunk))
    for row_no, payload, pk, _ in todo:
        try:
            if pk is None:
                # each create flushes its row itself: no autoflush before every lookup, and the row leaves
                # the session once written, so a flush never walks the rows written before it
                with session.no_autoflush:
                    row = records.create(model.key, payload, row_ref=row_no)
                outcome.created += 1
                outcome.created_ids.append((row.id, row.version))
                session.expunge(row)
                created.add(row.id)
                for change in records.followed:  # a row this import created is only deleted by its undo
                    if change["id"] not in created:
                        followed.setdefault(change["id"], change)  # its state before the import
                records.followed.clear()
            else:
                row = targets[pk]
                before = {name: _stored(row, model.field(name)) for name in payload}
                kept = records.unchanged
                records.update(model.key, pk, payload, row_ref=row_no, row=row)
                if records.unchanged != kept:  # every value as stored: nothing written, nothing for the undo
                    outcome.unchanged += 1
                else:
                    outcome.updated += 1
                    outcome.updated_rows.append({"id": pk, "before": before})
        except ValidationFailed as exc:
            refused(row_no, exc.errors)
        count(1)
    records.write_audit()
    for change in outcome.updated_rows:
        change["version"] = targets[change["id"]].version
    outcome.followed_rows = [
        {"id": pk, "before": change["before"], "version": change["row"].version} for pk, change in followed.items()
    ]
    if outcome.created_ids and records.followed_any:  # rows created here and closed by later rows: their version now
        cls: Any = access.registry.cls(model.key)
        versions: dict[int, int] = {}
        ids = sorted(created)
        for start in range(0, len(ids), CHUNK):
            stmt = select(cls.id, cls.version).where(cls.id.in_(ids[start : start + CHUNK]))
            versions.update({pk: version for pk, version in session.execute(stmt)})
        outcome.created_ids = [(pk, versions.get(pk, version)) for pk, version in outcome.created_ids]


def _stored(row: Any, spec: FieldSpec | None) -> Any:
    if spec is None:
        return None
    return FIELD_TYPES[spec.type].to_json(spec, getattr(row, spec.column))


def _load_rows(session: Session, access: Access, model: ModelSpec, ids: list[int]) -> dict[int, Any]:
    """The rows an update will change, read FOR UPDATE in a few queries."""
    cls: Any = access.registry.cls(model.key)
    found: dict[int, Any] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        stmt = base_select(access, model).where(cls.id.in_(unique[start : start + CHUNK])).with_for_update()
        found.update({row.id: row for row in session.execute(stmt).scalars()})
    return found
