"""Computed fields (`compute:` in metadata): one function fills them for a save, a posting and a draft.

A document computes its lines first (a line's handler sees the header's values as `values["document"]`,
e.g. whether its prices include tax), then its own fields from its lines. The handlers themselves are
`app.ledger.compute`; this module only feeds them values and rounds what they return.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import suppress
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select

from app.errors import CellError, ValidationFailed
from app.i18n import join_list, t
from app.ledger.compute import ZERO, total_amount, total_qty, total_tax, total_with_tax
from app.meta.registry import Registry
from app.meta.spec import FieldSpec, ModelSpec
from app.meta.types import FIELD_TYPES, ValueProblem, format_decimal, grouped_text
from app.services.access.rights import Access
from app.services.records.resolver import Resolver

MAX_DRAFT_LINES = 1000


def compute_fields(
    registry: Registry,
    model: ModelSpec,
    values: dict[str, Any],
    lines: list[dict[str, Any]] | None = None,
    document: dict[str, Any] | None = None,
) -> None:
    """Fill the computed fields into `values` (and first into each of `lines`, a document's)."""
    line_model = registry.model(model.lines_model) if model.lines_model else None
    if line_model is not None and lines is not None:
        header = dict(values)
        for line in lines:
            compute_fields(registry, line_model, line, document=header)
    copied = None if line_model is None else [dict(line) for line in lines or []]
    compute_own_fields(registry, model, values, copied, document)


def compute_own_fields(
    registry: Registry,
    model: ModelSpec,
    values: dict[str, Any],
    lines: Sequence[dict[str, Any]] | None = None,
    document: dict[str, Any] | None = None,
) -> None:
    """Fill the model's own computed fields into `values`, a document's from `lines` as given (handlers only
    read them: a document written in chunks passes its lines streamed from the table, `streamed_lines`)."""
    handlers = [(spec, registry.compute(model.key, spec.name)) for spec in model.computed_fields]
    summed: dict[str, Any] = {}
    if isinstance(lines, StreamedLines | RowsAsValues):  # the plain sums of line fields, added up once each
        summed = lines.sums([handler.sums for _, handler in handlers if getattr(handler, "sums", None)])
    for spec, handler in handlers:
        total = getattr(handler, "sums", None)
        if total in summed:
            values[spec.name] = _rounded(spec, Decimal(summed[total] or 0))
            continue
        given = dict(values)
        if document is not None:
            given["document"] = document
        if lines is not None:
            given["lines"] = lines
        values[spec.name] = _rounded(spec, handler(given))


def compute_columns(registry: Registry, model: ModelSpec, columns: dict[str, list[Any]]) -> None:
    """`compute_fields` for many rows of a model without lines held as columns ({field: its values}, every
    data field): each computed field's column filled in turn. A handler that says what it reads (`@reads`) is
    given those fields only, else every data field of the row."""
    count = len(next(iter(columns.values()), []))
    for spec in model.computed_fields:
        handler = registry.compute(model.key, spec.name)
        reads = getattr(handler, "reads", None)
        names = list(columns) if reads is None or not set(reads) <= set(columns) else list(reads)
        rows = (
            (dict(zip(names, row, strict=True)) for row in zip(*(columns[name] for name in names), strict=True))
            if names
            else ({} for _ in range(count))
        )
        if FIELD_TYPES[spec.type].scale(spec) is None:  # text, dates: nothing to round
            columns[spec.name] = [handler(row) for row in rows]
        else:
            columns[spec.name] = [_rounded(spec, handler(row)) for row in rows]


def line_inputs(registry: Registry, model: ModelSpec) -> tuple[str, ...] | None:
    """The line fields a document's computed fields read (`lines.<field>` in their `@reads`); None when
    one of them does not say (every line field then)."""
    names: list[str] = []
    for spec in model.computed_fields:
        reads = getattr(registry.compute(model.key, spec.name), "reads", None)
        if reads is None:
            return None
        names += [name.split(".", 1)[1] for name in reads if name.startswith("lines.")]
    return tuple(dict.fromkeys(names))


def own_inputs(registry: Registry, model: ModelSpec) -> frozenset[str] | None:
    """The columns of its own row a model's computed fields read (their `@reads`, a document's `lines.` and a
    line's `document.` fields left out); None when one of them does not say."""
    columns: set[str] = set()
    for spec in model.computed_fields:
        reads = getattr(registry.compute(model.key, spec.name), "reads", None)
        if reads is None:
            return None
        fields = [model.field(name) for name in reads if "." not in name]
        columns.update(field.column for field in fields if field is not None)
    return frozenset(columns)


class StreamedLines(Sequence[dict[str, Any]]):
    """A document's lines as {field: value} dicts, read from the table chunk by chunk each time they are
    iterated (a document's totals over 100,000 lines without holding them); indexing reads them all once."""

    def __init__(self, session: Any, stmt: Any, names: Sequence[str], size: int = 5000) -> None:
        self._session, self._stmt, self._names, self._size = session, stmt, tuple(names), size
        self._all: list[dict[str, Any]] | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._all is not None:
            yield from self._all
            return
        result = self._session.execute(self._stmt.execution_options(yield_per=self._size))
        for row in result:
            yield dict(zip(self._names, row, strict=True))

    def sums(self, names: Sequence[str]) -> dict[str, Any]:
        """{name: the sum of that field over the lines (None when none has a value)} for these of the fields, in one
        query (a stocktake's four totals over 100,000 lines read them once, in the database, not four times here)."""
        wanted = [name for name in dict.fromkeys(names) if name in self._names]
        if not wanted:
            return {}
        columns = dict(zip(self._names, self._stmt.selected_columns, strict=True))
        stmt = self._stmt.with_only_columns(*[func.sum(columns[name]) for name in wanted]).order_by(None)
        return dict(zip(wanted, self._session.execute(stmt).one(), strict=True))

    def _rows(self) -> list[dict[str, Any]]:
        if self._all is None:
            self._all = list(iter(self))
        return self._all

    def __len__(self) -> int:
        return len(self._rows())

    def __getitem__(self, index: Any) -> Any:
        return self._rows()[index]


def apply_computed(
    registry: Registry, model: ModelSpec, row: Any, lines: Sequence[Any] | None = None, whole: bool = True
) -> None:
    """Set a row's computed fields (and first its lines', one line at a time) from its values, as saved. The
    document's own fields read its lines' values as they are asked for (`RowsAsValues`): a posting of 100,000
    lines holds no list of their values (nor a copy of it per total).

    `lines`: the document's lines to compute (`row.lines` when None). When they are not the `whole` document
    (a posting in chunks), only they are set; its own fields come at the end from the table (`apply_own_computed`)."""
    line_model = registry.model(model.lines_model) if model.lines_model else None
    values = _values(model, row)
    if line_model is None:
        compute_fields(registry, model, values)
    else:
        header = dict(values)
        lines = row.lines if lines is None else lines
        apply_lines_computed(registry, line_model, lines, header)
        if not whole:
            return
        compute_own_fields(registry, model, values, RowsAsValues(line_model, lines))
    _assign_computed(model, row, values)


def apply_own_computed(session: Any, registry: Registry, model: ModelSpec, row: Any) -> None:
    """Set a document's own computed fields from its lines as the table has them now, streamed (only the line
    fields they read): its totals over 100,000 lines without holding them."""
    if not model.computed_fields or not model.lines_model:
        return
    line_model = registry.model(model.lines_model)
    line_cls = registry.cls(line_model.key)
    names = line_inputs(registry, model)
    names = tuple(spec.name for spec in line_model.data_fields) if names is None else names
    columns = [getattr(line_cls, line_model.field(name).column) for name in names]  # type: ignore[union-attr]
    stmt = select(*columns).where(line_cls.parent_id == row.id).order_by(line_cls.line_no)
    values = _values(model, row)
    compute_own_fields(registry, model, values, StreamedLines(session, stmt, names))
    _assign_computed(model, row, values)


class RowsAsValues(Sequence[dict[str, Any]]):
    """Rows (a document's line objects) seen as their {field: value} dicts, each made when it is read."""

    def __init__(self, model: ModelSpec, rows: Sequence[Any]) -> None:
        self._model, self._rows = model, rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (_values(self._model, row) for row in self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [_values(self._model, row) for row in self._rows[index]]
        return _values(self._model, self._rows[index])

    def sums(self, names: Sequence[str]) -> dict[str, Any]:
        """{name: the sum of that field over the rows, an empty value counting as 0} for these of the fields, read
        from each row's column (no dict of every field of every row per total: what `ledger.compute`'s sums add)."""
        found: dict[str, Any] = {}
        columns = {spec.name: spec.column for spec in self._model.data_fields}
        for name in dict.fromkeys(names):
            column = columns.get(name)
            if column is None:
                continue
            total = ZERO
            for row in self._rows:
                loaded = getattr(row, "__dict__", {})
                value = loaded[column] if column in loaded else getattr(row, column)
                total += Decimal(value or 0)
            found[name] = total
        return found


def apply_line_computed(registry: Registry, line_model: ModelSpec, line: Any, header: dict[str, Any]) -> None:
    """Set one line's computed fields, its document's values as given (`header`)."""
    values = _values(line_model, line)
    compute_fields(registry, line_model, values, document=header)
    _assign_computed(line_model, line, values)


def apply_lines_computed(
    registry: Registry, line_model: ModelSpec, lines: Sequence[Any], header: dict[str, Any]
) -> None:
    """`apply_line_computed` of each of these lines (of one document, its values `header`), a computed field at a
    time over all of them when each handler says what it reads (`@reads`): it is given those fields only, read
    from the line's own dict, not a dict of every field of the line per handler (a posting or an upload of
    100,000 lines computed each line's every field twice over). A field computed before another is set on
    the line first, so the next handler reads it as `compute_fields` gives it; a value that does not change
    is not set again."""
    plan = registry.kept(("lines_computed", line_model.key), lambda: _lines_plan(registry, line_model))
    if plan is None:
        for line in lines:
            apply_line_computed(registry, line_model, line, header)
        return
    for column, handler, reads, document, quantum in plan:
        for line in lines:
            loaded = getattr(line, "__dict__", {})
            given = {name: loaded[col] if col in loaded else getattr(line, col) for name, col in reads}
            if document:
                given["document"] = header
            value = handler(given)
            if value is not None and quantum is not None:
                value = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
            if column not in loaded or not _same(loaded[column], value):
                setattr(line, column, value)


def _lines_plan(
    registry: Registry, line_model: ModelSpec
) -> list[tuple[str, Any, tuple[tuple[str, str], ...], bool, Any]] | None:
    """(column, handler, (field, column) it reads, whether it reads the document, the quantum it is rounded to)
    of each computed field of a line model, in their order; None when a handler does not say what it reads. A field
    it reads that the model does not have is left out of what it is given, as `compute_fields` gives it the model's
    fields only (an opening balance's line amount: no discount, tax rate or carried amount)."""
    plan = []
    for spec in line_model.computed_fields:
        handler = registry.compute(line_model.key, spec.name)
        reads = getattr(handler, "reads", None)
        if reads is None:
            return None
        fields = [line_model.field(name) for name in reads if "." not in name]
        scale = FIELD_TYPES[spec.type].scale(spec)
        quantum = None if scale is None else Decimal(1).scaleb(-scale)
        document = any(name.startswith("document.") for name in reads)
        plan.append(
            (spec.column, handler, tuple((f.name, f.column) for f in fields if f is not None), document, quantum)
        )
    return plan


def draft_totals(session: Any, access: Access, model: ModelSpec, payload: Any) -> dict[str, Any]:
    """What a document being typed comes to, before it is saved: each line's computed fields, the
    document's, and the total line the form shows. Values that do not parse count as empty (the save
    reports them). Lines naming an item are prepared as a save prepares them (the document's `prepare_lines`:
    a blank tax rate takes the item's, the unit its ratio); the header's links are not looked up (no handler
    reads them). Only fields the user may see."""
    registry = access.registry
    line_model = registry.model(model.lines_model or "")
    raw_lines = payload.get("lines") if isinstance(payload, dict) else None
    if not isinstance(raw_lines, list):
        raise ValidationFailed([CellError("lines", t("not_list"))])
    if len(raw_lines) > MAX_DRAFT_LINES:
        raise ValidationFailed([CellError("lines", t("batch_too_big", max=MAX_DRAFT_LINES))])
    values = _draft_values(access, model, payload)
    resolver = Resolver(session, access)
    lines = [_draft_values(access, line_model, line, resolver) for line in raw_lines]
    _prepare_draft_lines(session, access, model, line_model, values, lines)
    refused = {index for index, raw in enumerate(raw_lines) if _refused_line(access, line_model, raw, lines[index])}
    counted = [line for index, line in enumerate(lines) if index not in refused]
    compute_fields(registry, model, values, counted)  # a refused line is not saved: it adds up to nothing
    summary = _summary(access, line_model, counted)
    if refused:
        summary += t("lines.refused", rows=join_list(str(index + 1) for index in sorted(refused)))
    return {
        "lines": [_computed_json(access, line_model, line, prepared=True) for line in lines],
        "totals": _computed_json(access, model, values),
        "summary": summary,
        "refused": sorted(refused),
    }


def _refused_line(access: Access, line_model: ModelSpec, raw: Any, values: dict[str, Any]) -> bool:
    """Whether a save would refuse the line as typed: a value of a field the user writes that does not parse (an
    item code nobody has, 数量 abc, a negative price) or a required field left empty (a quantity without an item).
    A line with nothing typed in it is no line (the form leaves it out) and is not refused."""
    raw = raw if isinstance(raw, dict) else {}
    writable = [
        spec
        for spec in line_model.data_fields
        if not spec.compute and access.can_see(line_model, spec) and access.can_write(line_model, spec)
    ]
    typed = [spec for spec in writable if _typed(raw.get(spec.name))]
    if not typed:
        return False
    if any(values.get(spec.name) is None for spec in typed):
        return True  # typed, and read as empty: it did not parse
    return any(values.get(spec.name) is None for spec in line_model.required_fields)


def _typed(raw: Any) -> bool:
    """Something typed into a cell: not nothing, blanks or an unticked box."""
    return not (raw is None or raw is False or (isinstance(raw, str) and not raw.strip()))


def _draft_values(access: Access, model: ModelSpec, raw: Any, resolver: Resolver | None = None) -> dict[str, Any]:
    """The values of one draft row as a save would parse them; a value that does not parse is None. Links are
    looked up only with a `resolver` (a line's item and unit)."""
    raw = raw if isinstance(raw, dict) else {}
    values: dict[str, Any] = {}
    for spec in model.data_fields:
        values[spec.name] = None
        if spec.compute or (spec.is_link and resolver is None) or not access.can_see(model, spec):
            continue
        with suppress(ValueProblem):
            values[spec.name] = FIELD_TYPES[spec.type].parse(spec, raw.get(spec.name), resolver)
    return values


def _prepare_draft_lines(
    session: Any, access: Access, model: ModelSpec, line_model: ModelSpec, header: dict[str, Any], lines: list[Any]
) -> None:
    """The lines naming an item, as the save prepares them (one code path: the document's `prepare_lines`), read
    back into their values. Nothing is written: the objects are plain, and a refused unit is the save's to say."""
    named = [values for values in lines if values.get("item") is not None]
    if not named:
        return
    specs = [spec for spec in line_model.data_fields if not spec.compute]
    rows = [SimpleNamespace(**{spec.column: values.get(spec.name) for spec in specs}) for values in named]
    doc = SimpleNamespace(**{spec.column: header.get(spec.name) for spec in model.data_fields})
    behaviour = access.registry.behaviour(model.key)
    behaviour.prepare_lines(session, access.registry, doc, line_model, rows, None, [True] * len(rows))
    for values, row in zip(named, rows, strict=True):
        for spec in specs:
            if access.can_see(line_model, spec):
                values[spec.name] = getattr(row, spec.column)


def _computed_json(access: Access, model: ModelSpec, values: dict[str, Any], prepared: bool = False) -> dict[str, Any]:
    """The computed fields the reader may see; with `prepared`, also the read-only ones the save fills in and
    did (a line's 换算率 from its unit: a form sent back with an error shows it again, as it shows the amounts)."""
    return {
        spec.name: FIELD_TYPES[spec.type].to_json(spec, values[spec.name])
        for spec in model.data_fields
        if (spec.compute or (prepared and spec.readonly and values[spec.name] is not None))
        and access.can_see(model, spec)
    }


def _summary(access: Access, line_model: ModelSpec, lines: list[dict[str, Any]]) -> str:
    """合计：n 行，数量 q (and the money when the user sees the lines' prices and tax); lines of money without a
    quantity (收付款单, 付款申请单) 合计：n 行，金额 a."""
    if line_model.field("qty") is None:
        return _money_summary(access, line_model, lines)
    given = {"lines": lines}
    counted = sum(1 for line in lines if line.get("qty") is not None)
    text = t("lines.total", count=counted, qty=_grouped(total_qty(given), 0))
    if _visible(access, line_model, "price"):
        text += t("lines.total_amount", amount=_grouped(total_amount(given), 2))
    if _visible(access, line_model, "tax_amount"):
        text += t("lines.total_tax", tax=_grouped(total_tax(given), 2), with_tax=_grouped(total_with_tax(given), 2))
    return text


def _money_summary(access: Access, line_model: ModelSpec, lines: list[dict[str, Any]]) -> str:
    """The lines holding an amount, and the sum of the first amount the user may see (they said 0 行，数量 0)."""
    amounts = [f for f in line_model.data_fields if f.type == "money" and FIELD_TYPES[f.type].summed(f)]
    filled = [line for line in lines if any(line.get(f.name) is not None for f in amounts)]
    text = t("lines.total_rows", count=len(filled))
    seen = [f for f in amounts if access.can_see(line_model, f)]
    if seen:
        total = sum((Decimal(line.get(seen[0].name) or 0) for line in filled), ZERO)
        text += t("lines.total_amount", amount=_grouped(total, 2))
    return text


def _visible(access: Access, model: ModelSpec, name: str) -> bool:
    spec = model.field(name)
    return spec is not None and access.can_see(model, spec)


def _grouped(value: Decimal, min_scale: int) -> str:
    """An exact decimal with thousands separators (1234.5 -> 1,234.50 with min_scale 2)."""
    return grouped_text(format_decimal(value, min_scale))


def _values(model: ModelSpec, row: Any) -> dict[str, Any]:
    """The row's field values; a loaded column from the row's own dict, not through the ORM's attribute (a
    posting reads every field of 100,000 lines), an expired or deferred one through the attribute."""
    loaded = getattr(row, "__dict__", {})
    return {f.name: loaded[f.column] if f.column in loaded else getattr(row, f.column) for f in model.data_fields}


def _assign_computed(model: ModelSpec, row: Any, values: dict[str, Any]) -> None:
    """Set the computed fields that changed: an unchanged one is not set again, so the ORM (and posting's
    set-based write of the lines) has nothing to compare or write for it."""
    loaded = getattr(row, "__dict__", {})
    for spec in model.computed_fields:
        value = values[spec.name]
        if spec.column not in loaded or not _same(loaded[spec.column], value):
            setattr(row, spec.column, value)


def _same(stored: Any, value: Any) -> bool:
    """The same value, of the same type (1 and 1.00 as decimals are the same amount; None only equals None)."""
    return type(stored) is type(value) and stored == value


def _rounded(spec: FieldSpec, value: Any) -> Any:
    """Computed decimals are rounded half-up to the field's scale (typed input never is)."""
    scale = FIELD_TYPES[spec.type].scale(spec)
    if value is None or scale is None:
        return value
    return Decimal(value).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
