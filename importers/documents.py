"""Documents from one sheet: one row per line, the header's columns repeated on every row of a document,
the rows of a document grouped by the file's document number.

The file's number is kept as the document's external reference (`external_ref`; JXC numbers the document
itself); a model is importable this way when it declares that field. Columns name header fields, or line
fields (a line field whose label a header field has too is named with the lines' prefix: 明细备注, or
`lines.remark`). Every cell is parsed as for master data; the rows of one document must agree on its
header cells. Each document is written through RecordService as a draft, and posted through the posting
service when the import asks for it (`post`) and the user may submit: a document that does not pass
(a cell the write or the posting refuses) is reported on its rows and cells, like any row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.errors import CellError, ServiceError, ValidationFailed
from app.i18n import label, t, texts_for
from app.meta.headers import importable_fields
from app.meta.status import Status
from app.meta.types import FIELD_TYPES, ValueProblem
from app.services.posting.service import PostingService
from app.services.records.query import field_label
from app.services.records.write import RecordService, value_refusal
from app.services.stock.writer import carrying
from importers.matcher import Match, match_columns, normalise_header
from importers.pipeline import Issue, Outcome, Progress, _column_name, _fold, _needed, masked_issues, parse_rows

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.meta.spec import FieldSpec, ModelSpec
    from app.services.access.rights import Access
    from importers.reader import Table

LINES = "lines."
REFERENCE = "external_ref"  # where the file's document number is kept
NUMBER_FIELDS = ("number", REFERENCE)  # columns that give the file's document number


def importable_document(model: ModelSpec) -> bool:
    """A document model may be imported when it keeps the file's number (an `external_ref` field)."""
    return model.kind == "document" and model.lines_model is not None and model.field(REFERENCE) is not None


@dataclass
class Group:
    """One document of the file: its sheet rows and their parsed cells (raw, for RecordService)."""

    number: str
    rows: list[tuple[int, dict[str, Any]]]
    header: dict[str, Any]


@dataclass
class PreparedDocuments:
    table: Table
    match: Match
    fields: dict[str, FieldSpec]
    groups: list[Group]
    bad_rows: set[int]


def document_fields(access: Access, model: ModelSpec, masked: bool = False) -> dict[str, FieldSpec]:
    """The file's fields: the number, the header's, then the lines' as `lines.<name>` (relabelled with the
    lines' prefix when a header field has the same label). `masked`: those of the fields hidden from the user
    instead (a column naming one is refused cell by cell, never unknown)."""
    fields_of = access.masked_fields if masked else access.visible_fields
    visible = fields_of(model)
    number = [s for s in visible if s.name in NUMBER_FIELDS]
    header = [s for s in importable_fields(model, visible) if s.name not in NUMBER_FIELDS]
    taken = {normalise_header(text) for s in number + header for text in s.label.values()}
    line_model = access.registry.model(model.lines_model or "")
    lines = []
    for spec in importable_fields(line_model, fields_of(line_model)):
        labels = spec.label
        if {normalise_header(text) for text in spec.label.values()} & taken:
            prefix = texts_for("imports.line_prefix")
            labels = {lang: f"{prefix.get(lang, '')}{text}" for lang, text in spec.label.items()}
        lines.append(replace(spec, name=LINES + spec.name, label=labels))
    return {s.name: s for s in number + header + lines}


def template_fields(access: Access, model: ModelSpec) -> list[FieldSpec]:
    """The columns of the model's import template: the file's number first, marked required and told what it does
    (it groups the rows into documents; a blank one is refused on its row), then the header's and the lines'. The
    number field's own help (留空则自动生成) is a form's, and read in a template it made a clerk leave every row's
    number blank: each row was then refused, 「单据编号」：必填."""
    fields = [spec for spec in document_fields(access, model).values() if spec.name != REFERENCE]
    return [
        replace(spec, required=True, help=texts_for("imports.number_help")) if spec.name in NUMBER_FIELDS else spec
        for spec in fields
    ]


def validate_documents(
    session: Session,
    access: Access,
    model: ModelSpec,
    table: Table,
    outcome: Outcome,
    remembered: dict[str, str] | None = None,
    layouts: Any = None,
) -> PreparedDocuments:
    """Match the columns, parse every cell, group the rows by the file's number and check each document's
    header cells agree; file problems and cell issues go into `outcome`."""
    fields = document_fields(access, model)
    masked = list(document_fields(access, model, masked=True).values())
    match = match_columns(table.rows, list(fields.values()), remembered, masked)
    if remembered is None and layouts is not None:
        stored = layouts(match.signature)
        if stored is not None:
            match = match_columns(table.rows, list(fields.values()), stored, masked)
            outcome.notes.append(t("imports.layout_remembered"))
    outcome.signature, outcome.header_index = match.signature, match.header_index
    outcome.mapping = {_column_name(match, c): f for c, f in match.mapping.items()}
    outcome.unknown_columns = [_column_name(match, c) for c in match.unknown]
    header_specs = [s for s in fields.values() if not s.name.startswith(LINES) and s.name not in NUMBER_FIELDS]
    line_specs = [s for s in fields.values() if s.name.startswith(LINES)]
    outcome.problems.extend(match.problems(header_specs + line_specs, "create"))
    columns = {name: col for col, name in match.mapping.items()}
    number_field = next((name for name in NUMBER_FIELDS if name in columns), None)
    prepared = PreparedDocuments(table, match, fields, [], set())
    if number_field is None:
        names = "、".join(label(fields[n].label, n) for n in NUMBER_FIELDS if n in fields)
        outcome.problems.append(t("imports.number_column", columns=names))
    data_rows = list(
        zip(table.row_numbers[match.header_index + 1 :], table.rows[match.header_index + 1 :], strict=True)
    )
    outcome.total = len(data_rows)
    if not outcome.problems and not data_rows:
        outcome.problems.append(t("imports.no_rows"))
    if outcome.problems or number_field is None:
        return prepared

    def issue(row_no: int, name: str, message: str) -> None:
        col = columns.get(name)
        column = (
            _column_name(match, col) if col is not None else label(fields[name].label, name) if name in fields else ""
        )
        outcome.issues.append(Issue(row_no, column, name, message, col))
        prepared.bad_rows.add(row_no)

    line_model = access.registry.model(model.lines_model or "")

    def label_of(name: str) -> str:  # as the write path names it: the line model's own label
        return field_label(line_model, name[len(LINES) :]) if name.startswith(LINES) else field_label(model, name)

    for refused in masked_issues(match, data_rows, label_of):
        outcome.issues.append(refused)
        prepared.bad_rows.add(refused.row)
    resolver, parsed = parse_rows(session, access, fields, match, table, data_rows, issue)
    groups: dict[str, Group] = {}
    for row_no, payload in parsed:
        for name, raw in payload.items():
            if name in NUMBER_FIELDS:
                continue
            try:
                FIELD_TYPES[fields[name].type].parse(fields[name], raw, resolver)
            except ValueProblem as exc:  # worded as a form's save words it (a header's field: the line's are prefixed)
                header = not name.startswith(LINES)
                issue(
                    row_no, name, value_refusal(session, access, model, fields[name], raw, exc) if header else str(exc)
                )
        number = str(payload.get(number_field) or "").strip()
        if not number:
            issue(row_no, number_field, t("imports.number_needed"))
            continue
        group = groups.setdefault(number, Group(number, [], {}))
        first = group.rows[0][0] if group.rows else row_no
        for spec in header_specs:
            if spec.name not in payload:
                continue
            if spec.name not in group.header:
                group.header[spec.name] = payload[spec.name]
            elif _fold(group.header[spec.name]) != _fold(payload[spec.name]):
                issue(row_no, spec.name, t("imports.header_differs", row=first))
        for spec in line_specs:
            if _needed(spec) and spec.name not in payload:
                issue(row_no, spec.name, t("required"))
        group.rows.append((row_no, payload))
    for group in groups.values():
        for spec in header_specs:
            if _needed(spec) and spec.name not in group.header:
                issue(group.rows[0][0], spec.name, t("required"))
    existing = _imported_before(session, access, model, set(groups))
    for number, group in groups.items():
        if number in existing:
            issue(group.rows[0][0], number_field, t("imports.document_exists", number=number, found=existing[number]))
    prepared.groups = list(groups.values())
    outcome.issues.sort(key=lambda i: (i.row, i.col_index if i.col_index is not None else -1))
    return prepared


def _imported_before(session: Session, access: Access, model: ModelSpec, numbers: set[str]) -> dict[str, str]:
    """{file number: JXC number} of documents of the model already holding these external references
    (cancelled ones do not count)."""
    if not numbers:
        return {}
    cls: Any = access.registry.cls(model.key)
    stmt = select(getattr(cls, REFERENCE), cls.number).where(
        getattr(cls, REFERENCE).in_(sorted(numbers)), cls.status != Status.CANCELLED
    )
    return {ref: number for ref, number in session.execute(stmt)}


def apply_documents(
    session: Session,
    access: Access,
    model: ModelSpec,
    prepared: PreparedDocuments,
    outcome: Outcome,
    post: bool = False,
    progress: Progress | None = None,
    checking: bool = False,
) -> None:
    """Write each document whose rows have no issue as a draft (and post it when asked), each in a
    savepoint: a document the write or the posting refuses is left out and reported on its cells.

    `checking` (a check, rolled back): on PostgreSQL the postings lock no balance row (nor a customer's credit)
    that others' postings wait for; what each leaves on a stock is kept in memory for the next (`StockCarry`). On
    SQLite the check runs on a copy of the database (app/services/records/snapshot.py) and posts as the import."""
    columns = {name: col for col, name in prepared.match.mapping.items()}
    todo = [g for g in prepared.groups if not any(row_no in prepared.bad_rows for row_no, _ in g.rows)]
    outcome.skipped = sum(len(g.rows) for g in prepared.groups) - sum(len(g.rows) for g in todo)
    with carrying(session, post and checking and session.get_bind().dialect.name == "postgresql") as carry:
        posting = PostingService(session, access, commit=False, carry=carry) if post else None
        for done, group in enumerate(todo, start=1):
            if carry is not None:
                carry.drop()  # what the document before posted, when its savepoint was rolled back
            payload = dict(group.header)
            payload[REFERENCE] = group.number
            payload["lines"] = [
                {name[len(LINES) :]: value for name, value in cells.items() if name.startswith(LINES)}
                for _, cells in group.rows
            ]
            first_row = group.rows[0][0]
            savepoint = session.begin_nested()
            try:
                records = RecordService(session, access)
                doc = records.create(model.key, payload, row_ref=first_row)
                records.write_audit()
                if posting is not None:
                    posting.submit(model.key, doc.id)
                savepoint.commit()
                if carry is not None:
                    carry.keep()
            except ValidationFailed as exc:
                savepoint.rollback()
                outcome.skipped += len(group.rows)
                for error in exc.errors:
                    outcome.issues.append(_issue(prepared, columns, group, error))
            except ServiceError as exc:  # refused by the posting as a whole (forbidden, changed meanwhile)
                savepoint.rollback()
                outcome.skipped += len(group.rows)
                outcome.issues.append(Issue(first_row, "", "_record", str(exc), None))
            else:
                outcome.created += 1
                outcome.created_ids.append((doc.id, doc.version))
            if progress is not None and (done % 50 == 0 or done == len(todo)):
                progress(done, len(todo))
    outcome.issues.sort(key=lambda i: (i.row, i.col_index if i.col_index is not None else -1))


def _issue(prepared: PreparedDocuments, columns: dict[str, int], group: Group, error: CellError) -> Issue:
    """A write or posting error on the sheet: `lines.N.field` on the document's N-th row, a header field
    on its first row, each in its column."""
    row_no, name = group.rows[0][0], error.field
    parts = error.field.split(".")
    if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(group.rows):
        row_no, name = group.rows[int(parts[1])][0], LINES + parts[2]
    col = columns.get(name)
    if col is not None:
        column = _column_name(prepared.match, col)
    else:
        spec = prepared.fields.get(name)
        column = label(spec.label, name) if spec is not None else ""
    return Issue(row_no, column, name, error.message, col)
