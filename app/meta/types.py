"""Field types: each owns every projection of its values.

Column, parsing and validation, JSON form, schema and filters; the form input, the grid's editor and
formatter (`GridLook`), the Excel cell; sample and bad values for tests. One parser serves forms, the
REST API, the grid and the Excel importer, so a value means the same thing whichever way it arrives
(full-width digits, `1,234.50`, `¥1,200`, `2026年11月25日` ...).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

import re2  # type: ignore[import-untyped]
from sqlalchemy import Boolean, Date, DateTime, Integer, String, Text
from sqlalchemy.types import TypeEngine

from app.clock import business_time, business_times, business_zone
from app.i18n import label, t
from app.meta.sqltypes import ExactDecimal

if TYPE_CHECKING:
    from app.meta.spec import FieldSpec


class ValueProblem(Exception):
    """A value that a field refuses; the message is ready to show the user."""


class LinkResolver(Protocol):
    """Turns what a user typed for a link (id, business key) into a row id."""

    def resolve(self, model: str, raw: Any) -> int | None: ...

    def resolve_user(self, raw: Any) -> int | None: ...


class SampleRows(Protocol):
    """Rows that the sample value of a link may point at (the tests' factories)."""

    def existing_key(self, model: str) -> Any: ...


@dataclass(frozen=True)
class GridLook:
    """How the grid draws, edits, copies and filters a type's cells, in the words its script knows
    (app/static/jxc/values.js and grid/columns.js); a new type picks from them, no script changes."""

    editor: str = "text"  # text, textarea, date, tick, list (the options), link (looked up as typed)
    format: str = "text"  # text, number, tick, option, link, datetime
    filter: str = "like"  # like (contains), compare (">100", "<=2026-01-31"), options, yesno
    align: str = "left"  # left, right, center
    width: int | None = None  # when the field declares none
    card: bool = True  # shown on a phone's card


EMPTY = (None, "")

TEXT_OPS = ("eq", "neq", "ct", "nct", "sw", "ew", "in", "null")
ORDERED_OPS = ("eq", "neq", "gt", "ge", "lt", "le", "in", "null")


def normalise_text(raw: Any) -> str:
    """NFKC-normalise (full-width digits and signs become ASCII) and strip."""
    return unicodedata.normalize("NFKC", str(raw)).strip()


class FieldType:
    """Base class: a field type and all of its projections."""

    name = ""
    filter_ops: tuple[str, ...] = ORDERED_OPS
    json_type: dict[str, Any] = {"type": "string"}
    input_type = "text"  # the form's input (app/templates/jxc/_input.html)
    sortable = True
    numeric = False  # a number: right-aligned in lists, compared in filters
    measure: str | None = None  # what a field of the type is unless it says (`measure:`, spec.MEASURES)
    grid = GridLook()
    example: Any = None  # a valid value for tests (None: the type cannot make one up)
    refused: tuple[Any, ...] = ()  # values that tests expect every field of the type to refuse
    structured = False  # takes a list or an object (lines; a link given as {"id": ...})

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:
        """The SQLAlchemy column type."""
        raise NotImplementedError

    def check_spec(self, spec: FieldSpec) -> list[str]:
        """Problems with the field declaration itself (options, default)."""
        return []

    def parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None = None) -> Any:
        """Turn user input into the stored value; None for empty; raise ValueProblem if bad."""
        if isinstance(raw, (list, dict)) and not self.structured:
            raise ValueProblem(t("not_scalar"))
        if raw in EMPTY or (isinstance(raw, str) and not raw.strip()):
            return None
        value = self._parse(spec, raw, resolver)
        self._check_bounds(spec, value)
        return value

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> Any:
        raise NotImplementedError

    def _check_bounds(self, spec: FieldSpec, value: Any) -> None:
        if spec.min is not None and value < self._bound(spec.min):
            raise ValueProblem(t("min", min=spec.min))
        if spec.max is not None and value > self._bound(spec.max):
            raise ValueProblem(t("max", max=spec.max))

    def _bound(self, bound: Any) -> Any:
        return self._parse_bound(bound)

    def _parse_bound(self, bound: Any) -> Any:
        return bound

    def to_json(self, spec: FieldSpec, value: Any) -> Any:
        """The value as JSON (exact decimals as strings)."""
        return value

    def to_text(self, spec: FieldSpec, value: Any) -> str:
        """The value as a person reads it (forms, lists, audit)."""
        return "" if value is None else str(self.to_json(spec, value))

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        """OpenAPI / JSON schema of the field."""
        out = dict(self.json_type)
        if spec.label:
            out["title"] = spec.label.get("en") or spec.name
        if spec.help:
            out["description"] = spec.help.get("en", "")
        if spec.readonly:
            out["readOnly"] = True
        out["nullable"] = True
        return out

    def input_schema(self, spec: FieldSpec) -> dict[str, Any]:
        """JSON schema of what a write accepts for the field: the checks `parse` makes, for the OpenAPI
        document (app/api/schema.py). A required field takes no null; the canonical form is described
        (`parse` also takes what a person types, such as `1,234.50` or `2026年11月25日`)."""
        out = {key: value for key, value in self.schema(spec).items() if key != "readOnly"}
        out.update(self.input_constraints(spec))
        if spec.required:
            out.pop("nullable", None)
            if "enum" in out:
                out["enum"] = [value for value in out["enum"] if value is not None]
        return out

    def input_constraints(self, spec: FieldSpec) -> dict[str, Any]:
        """The type's own limits as JSON schema keywords (lengths, bounds, patterns)."""
        return {}

    # -- projections for people: forms, lists, the grid, spreadsheets ------------------------------

    def scale(self, spec: FieldSpec) -> int | None:
        """Digits after the point that the field stores (None: not a decimal)."""
        return None

    def lookup_url(self, spec: FieldSpec) -> str | None:
        """Where the form's and the grid's editors of the field look up what may be typed, asked with
        `q` (the text) and `for` (model.field: only what the field may name); None: no lookup."""
        return None

    def form_value(self, spec: FieldSpec, value: Any, readonly: bool) -> Any:
        """What a form input shows for a JSON (or re-shown typed) value; read-only inputs show text."""
        if readonly:
            return self.cell_text(spec, value)
        return "" if value is None else value

    def form_raw(self, spec: FieldSpec, form: Mapping[str, str], name: str) -> Any:
        """What a submitted form holds for the input `name` (None when it sent none)."""
        return self.typed(spec, form.get(name))

    def typed(self, spec: FieldSpec, raw: Any) -> Any:
        """What a person typed into the field's cell (a form's input, an import's cell typed as a person types it),
        as the parser takes it; the grid's editor and paste do the same in the browser (values.js `typedValue`)."""
        return raw

    def cell_text(self, spec: FieldSpec, value: Any) -> str:
        """A JSON value as lists, cards and spreadsheets show it."""
        return "" if value is None else str(value)

    def read_text(self, spec: FieldSpec, value: Any) -> str:
        """A JSON value as a page or a print shows it to be read (not typed back: a csv keeps `cell_text`)."""
        return self.cell_text(spec, value)

    def read_places(self, spec: FieldSpec) -> int | None:
        """The places a person reads the field's numbers to, rounded half up (None: every digit a value has). The
        value itself stays exact (the API, a csv, an Excel cell): only what is shown is rounded."""
        return None

    def measure_of(self, spec: FieldSpec) -> str | None:
        """What the field's numbers are (spec.MEASURES): as it declares, else its type's default."""
        return (spec.measure or self.measure) if self.numeric else None

    def summed(self, spec: FieldSpec) -> bool:
        """Do the field's values add up over rows (the grid's sums row, a listing's totals)? Only an amount's."""
        return self.measure_of(spec) == "amount"

    def grid_look(self, spec: FieldSpec) -> dict[str, Any]:
        """The grid column's editor, formatter and filter as the browser receives them."""
        look = asdict(self.grid)
        look.update(
            width=spec.grid_width or self.grid.width, numeric=self.numeric, summed=self.summed(spec), decimals=0
        )
        return look

    def excel_format(self, spec: FieldSpec) -> dict[str, Any] | None:
        """xlsxwriter format properties of the type's cells (None: none)."""
        return None

    def excel_cell(self, spec: FieldSpec) -> Callable[[Any], Any] | None:
        """A function from a stored value of the field (a link: its {id, key, name} as the reader may see it)
        to what its spreadsheet cell holds, made once per column of an export so that per-cell work stays
        small; None when the stored value is the cell as it is. Text is always a str (a string cell, never a
        formula: `app.services.grid.export.new_workbook`), numbers int or float, dates date or datetime,
        None an empty cell."""
        cell_text, to_json = self.cell_text, self.to_json
        return lambda value: None if value is None else cell_text(spec, to_json(spec, value))

    def excel_read(self, spec: FieldSpec, column: Any, dialect: str) -> tuple[Any, Callable[[Any], Any] | None]:
        """What an export reads of the field's table column on this database (`dialect`: sqlite, postgresql)
        and the function from that to the cell (None: the cell as it is read): the column as the ORM reads it
        and `excel_cell`, unless the type makes its cells sooner from what the database holds."""
        return column, self.excel_cell(spec)

    def excel_value(self, spec: FieldSpec, value: Any) -> Any:
        """What the spreadsheet cell of one stored value holds (`excel_cell` for a single value)."""
        cell = self.excel_cell(spec)
        return value if cell is None else cell(value)

    # -- projections for tests ---------------------------------------------------------------------

    def sample(self, spec: FieldSpec, tag: str, rows: SampleRows) -> Any:
        """A valid value for the field (None when the type cannot make one up)."""
        return self.example

    def bad_values(self, spec: FieldSpec) -> tuple[Any, ...]:
        """Values that the field must refuse (none when it accepts every value of its type)."""
        return self.refused


class TextType(FieldType):
    """Single-line text."""

    name = "text"
    filter_ops = TEXT_OPS

    def excel_cell(self, spec: FieldSpec) -> Callable[[Any], Any] | None:
        return None  # the stored str: a string cell as it is

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:
        return String(spec.max_length or 255)

    def check_spec(self, spec: FieldSpec) -> list[str]:
        if spec.pattern:
            try:
                compiled_pattern(spec.pattern)
            except re2.error as exc:
                return [_re2_reason(exc)]
        return []

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> str:
        if isinstance(raw, (bool, dict, list)):
            raise ValueProblem(t("not_text"))
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)  # Excel hands codes like 123 over as 123.0
        value = str(raw).strip()
        if "\x00" in value:  # no database keeps a NUL in text (PostgreSQL refuses it)
            raise ValueProblem(t("text_nul"))
        limit = spec.max_length or 255
        if len(value) > limit:
            raise ValueProblem(t("too_long", max=limit))
        if spec.pattern and not compiled_pattern(spec.pattern).fullmatch(value):
            raise ValueProblem(t("pattern"))
        return value

    def _check_bounds(self, spec: FieldSpec, value: Any) -> None:
        return None

    def sample(self, spec: FieldSpec, tag: str, rows: SampleRows) -> Any:
        if spec.pattern:
            pattern = compiled_pattern(spec.pattern)
            return next((sample for sample in PATTERN_SAMPLES if pattern.fullmatch(sample)), None)
        return f"{tag}-{spec.name}"[: spec.max_length or 255]

    def bad_values(self, spec: FieldSpec) -> tuple[Any, ...]:
        return () if spec.max_length is None else ("x" * (spec.max_length + 1),)

    def input_constraints(self, spec: FieldSpec) -> dict[str, Any]:
        out: dict[str, Any] = {"maxLength": spec.max_length or 255}
        if spec.pattern:
            out["pattern"] = f"^(?:{spec.pattern})$"
        return out


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is reported to the admin, not logged by the engine


@functools.lru_cache(maxsize=512)
def compiled_pattern(pattern: str) -> Any:
    """A field's `pattern`, compiled by RE2: matching takes time linear in the text, so a pattern an admin
    types (`(a+)+$`) cannot stall a save; what RE2 cannot run (back-references, look-arounds) is refused."""
    return re2.compile(pattern, options=_RE2_OPTIONS)


def _re2_reason(exc: Exception) -> str:
    reason = exc.args[0] if exc.args else exc
    return reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)


# One address and nothing else: a comma, semicolon, space or angle bracket would make the server read several
# recipients (or none) out of what a person typed as one.
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def is_address(text: str) -> bool:
    """Whether `text` is one e-mail address (local part, @, a domain with a dot)."""
    return bool(_ADDRESS.match(text))


# A user account needs a unique, non-empty e-mail (FAB's ab_user.email): a user without an address holds this
# marked non-address instead. `.invalid` is reserved (RFC 2606): no mail server ever delivers to it.
NO_ADDRESS_DOMAIN = "no-email.invalid"


def no_address(username: str) -> str:
    """What a user without an e-mail address holds in ab_user.email (unique, and never an address)."""
    return f"{username}@{NO_ADDRESS_DOMAIN}"


def is_no_address(text: str | None) -> bool:
    """Whether a user's stored e-mail says they have none: empty, or a marked non-address (any `.invalid`)."""
    return not text or str(text).strip().lower().rstrip(".").endswith(".invalid")


def has_address(text: str | None) -> bool:
    """Whether `text` is an address mail can go to: one address, not a marked non-address."""
    return not is_no_address(text) and is_address(str(text))


# Values that satisfy the patterns metadata uses (month, phone, mobile, email): samples for tests.
PATTERN_SAMPLES = ("2026-11", "021-88886666", "13800138000", "demo@example.com")


class LongTextType(TextType):
    """Multi-line text."""

    name = "long_text"
    input_type = "textarea"
    sortable = False
    grid = GridLook(editor="textarea", width=220, card=False)

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:
        return Text()

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> str:
        if isinstance(raw, (bool, dict, list)):
            raise ValueProblem(t("not_text"))
        value = str(raw).replace("\r\n", "\n").strip()
        if "\x00" in value:
            raise ValueProblem(t("text_nul"))
        if spec.max_length and len(value) > spec.max_length:
            raise ValueProblem(t("too_long", max=spec.max_length))
        return value

    def input_constraints(self, spec: FieldSpec) -> dict[str, Any]:
        return {"maxLength": spec.max_length} if spec.max_length else {}


class IntegerType(FieldType):
    """Whole numbers."""

    name = "integer"
    json_type = {"type": "integer"}
    input_type = "number"
    numeric = True
    measure = "number"  # days, steps, ordinals, ids: a count that adds up says `measure: amount`
    grid = GridLook(format="number", filter="compare", align="right")
    refused = ("1.5", "abc")

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:
        return Integer()

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> int:
        return parse_integer(raw)

    def input_constraints(self, spec: FieldSpec) -> dict[str, Any]:
        low = -MAX_INTEGER if spec.min is None else int(spec.min)
        high = MAX_INTEGER if spec.max is None else int(spec.max)
        return {"minimum": low, "maximum": high}

    def _parse_bound(self, bound: Any) -> Any:
        return int(bound)

    def excel_cell(self, spec: FieldSpec) -> Callable[[Any], Any] | None:
        return None  # the stored int

    def sample(self, spec: FieldSpec, tag: str, rows: SampleRows) -> Any:
        return max(int(spec.min or 0), 1) if spec.max is None or int(spec.max) >= 1 else int(spec.max)


class DecimalType(FieldType):
    """Exact decimal numbers; never rounded silently."""

    name = "decimal"
    json_type = {"type": "string", "format": "decimal"}
    input_type = "decimal"
    numeric = True
    measure = "number"  # a plain decimal is a rate or a figure of its own unless it says it is an amount
    grid = GridLook(format="number", filter="compare", align="right")
    default_scale = 4
    display_scale = 0  # digits after the point always shown (money: 2)

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:
        return ExactDecimal(spec.precision or 18, self.scale(spec))

    def scale(self, spec: FieldSpec) -> int:
        """Digits after the point that the field stores."""
        return self.default_scale if spec.scale is None else spec.scale

    def check_spec(self, spec: FieldSpec) -> list[str]:
        precision, scale = spec.precision or 18, self.scale(spec)
        # 18 digits is what a scaled 64-bit integer holds exactly on SQLite
        if not (0 <= scale <= 8 and scale < precision <= 18):
            return [f"precision {precision} / scale {scale} out of range (scale 0-8, precision up to 18)"]
        return []

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> Decimal:
        if isinstance(raw, bool):
            raise ValueProblem(t("not_number"))
        percent = percent_digits(raw) if self.measure_of(spec) == "rate" else None
        if percent is not None:  # "7.5%": a share (stored 0.075) or a rate kept in percent (税率 13)
            number = parse_number(percent, "not_number")
            number = number.scaleb(-2) if spec.is_fraction else number
        else:
            number = parse_number(raw, "not_number")
        scale = self.scale(spec)
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > scale:
            raise ValueProblem(t("too_many_decimals", scale=scale))
        if number.adjusted() >= (spec.precision or 18) - scale:
            raise ValueProblem(t("too_many_digits"))
        quantized = number.quantize(Decimal(1).scaleb(-scale))
        return quantized + 0  # + 0 turns -0 into 0, as the database would

    def _parse_bound(self, bound: Any) -> Any:
        return Decimal(str(bound))

    def to_json(self, spec: FieldSpec, value: Any) -> Any:
        return None if value is None else format_decimal(value, self.display_scale)

    def _check_bounds(self, spec: FieldSpec, value: Any) -> None:
        if spec.is_fraction and not 0 <= value <= 1:
            raise ValueProblem(t("share_range"))  # typed as a percent: "at most 1" would mislead
        super()._check_bounds(spec, value)

    def read_text(self, spec: FieldSpec, value: Any) -> str:
        if spec.is_fraction and value not in EMPTY:
            return share_text(value)
        places = self.read_places(spec)
        if places is not None and value not in EMPTY:
            return money_text(value, places)
        return self.cell_text(spec, value)

    def form_value(self, spec: FieldSpec, value: Any, readonly: bool) -> Any:
        if spec.is_fraction and isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value):
            return share_text(value)  # a person reads and types a share as a percent (7.5%); a typed value as typed
        return super().form_value(spec, value, readonly)

    def typed(self, spec: FieldSpec, raw: Any) -> Any:
        if not spec.is_fraction or isinstance(raw, bool):
            return raw
        if isinstance(raw, (int, float, Decimal)):
            raw = str(Decimal(repr(raw)) if isinstance(raw, float) else raw)  # a spreadsheet's 7.5, exactly
        if bare_number(raw) is not None:
            return normalise_text(raw) + "%"  # a bare number typed into a share's cell is a percent
        return raw

    def grid_look(self, spec: FieldSpec) -> dict[str, Any]:
        look = {"decimals": self.display_scale, "places": self.read_places(spec), "percent": spec.is_fraction}
        return super().grid_look(spec) | look

    def excel_format(self, spec: FieldSpec) -> dict[str, Any] | None:
        if spec.is_fraction:
            return {"num_format": "0.00%"}  # Excel keeps a percent as its fraction: 7.5% is the cell 0.075
        places = self.read_places(spec)
        scale = self.scale(spec) if places is None else places  # the cell exact, shown as the field is read
        return {"num_format": "#,##0." + "0" * scale if scale else "#,##0"}

    def excel_cell(self, spec: FieldSpec) -> Callable[[Any], Any] | None:
        to_json = self.to_json
        # a stored value has at most `scale` places: below `bound` it has at most EXACT_DIGITS digits (a
        # comparison, not a count of its digits per cell)
        bound = Decimal(10) ** (EXACT_DIGITS - self.scale(spec))
        low = -bound

        def cell(value: Any) -> Any:
            if value is None:
                return None
            if low < value < bound or len(value.normalize().as_tuple().digits) <= EXACT_DIGITS:
                return float(value)
            return to_json(spec, value)  # beyond a double's precision: every digit, as text

        return cell

    def excel_read(self, spec: FieldSpec, column: Any, dialect: str) -> tuple[Any, Callable[[Any], Any] | None]:
        exact = self.excel_cell(spec)
        stored = column.type if isinstance(column.type, ExactDecimal) else None
        scaled = stored.scaled_integers(column, dialect) if stored is not None else None
        if stored is None or scaled is None or exact is None:
            return column, exact
        scale = stored.scale
        unit, limit = 10**scale, 10**EXACT_DIGITS

        def cell(value: Any) -> Any:
            if value is None:
                return None
            if -limit < value < limit:  # at most EXACT_DIGITS digits
                return value / unit  # the nearest double, as float() of the Decimal gives
            return exact(Decimal(value).scaleb(-scale))

        return scaled, cell

    def sample(self, spec: FieldSpec, tag: str, rows: SampleRows) -> Any:
        low = float(spec.min) if spec.min is not None else 0
        high = float(spec.max) if spec.max is not None else 1000
        return str(min(max(low, 0.5), high))

    def bad_values(self, spec: FieldSpec) -> tuple[Any, ...]:
        return ("abc", "1." + "1" * (self.scale(spec) + 1), "NaN")

    def input_schema(self, spec: FieldSpec) -> dict[str, Any]:
        """A decimal is written as a string of digits (exact) or as a JSON number."""
        scale = self.scale(spec)
        whole = (spec.precision or 18) - scale
        pattern = rf"^[+-]?[0-9]{{1,{whole}}}" + (rf"(\.[0-9]{{1,{scale}}})?$" if scale else "$")
        limit = Decimal(10) ** whole - Decimal(1).scaleb(-scale)
        number: dict[str, Any] = {
            "type": "number",
            "minimum": float(self._parse_bound(spec.min)) if spec.min is not None else float(-limit),
            "maximum": float(self._parse_bound(spec.max)) if spec.max is not None else float(limit),
        }
        out: dict[str, Any] = {"oneOf": [{"type": "string", "pattern": pattern}, number]}
        base = super().input_schema(spec)
        out.update({key: value for key, value in base.items() if key in ("title", "description", "nullable")})
        return out


EXACT_DIGITS = 15  # a double keeps 15 significant digits; a longer number goes to Excel as text


class MoneyType(DecimalType):
    """Amounts and prices (scale 2 by default, 4 for unit prices)."""

    name = "money"
    measure = "amount"  # a unit price says `measure: price`
    default_scale = 2
    display_scale = 2

    def read_places(self, spec: FieldSpec) -> int | None:
        """Money is read to the cent (a ledger value kept to 4 places too: 结存金额), a unit price to every place it
        has (1.4286 a piece)."""
        return None if self.measure_of(spec) == "price" else self.display_scale


class QuantityType(DecimalType):
    """Quantities (scale 4 by default)."""

    name = "quantity"
    measure = "amount"  # a ratio (换算率) says `measure: rate`
    default_scale = 4
    display_scale = 0


class DateType(FieldType):
    """Calendar dates."""

    name = "date"
    json_type = {"type": "string", "format": "date"}
    input_type = "date"
    grid = GridLook(editor="date", filter="compare")
    example = "2026-11-25"
    refused = ("2026-02-30", "tomorrow")

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:
        return Date()

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> dt.date:
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        text = normalise_text(raw)
        match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
        if not match:
            match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
        if not match:
            raise ValueProblem(t("not_date"))
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError as exc:
            raise ValueProblem(t("not_date")) from exc

    def _parse_bound(self, bound: Any) -> Any:
        return self._parse(None, bound, None)  # type: ignore[arg-type]

    def to_json(self, spec: FieldSpec, value: Any) -> Any:
        return None if value is None else value.isoformat()

    def excel_format(self, spec: FieldSpec) -> dict[str, Any] | None:
        return {"num_format": "yyyy-mm-dd"}

    def excel_cell(self, spec: FieldSpec) -> Callable[[Any], Any] | None:
        return None  # the stored date


class DateTimeType(FieldType):
    """Timestamps, stored in UTC without zone. The API's JSON without a zone is UTC, as the API writes it; a time a
    person types (a form) or a spreadsheet holds (an import) without a zone is the business's wall time, as pages,
    cards and exports show it (`typed`), so what is exported and imported back, or shown and saved back, stays."""

    name = "datetime"
    json_type = {"type": "string", "format": "date-time"}
    input_type = "datetime"  # a text input taking yyyy-mm-dd hh:mm in the business's time (a browser's date-time
    # input follows its locale, mm/dd/yyyy under en-US, and its value has no zone)
    # a width, as every column should have: the grid measures the cells of a column without one (a layout)
    grid = GridLook(format="datetime", filter="compare", width=140, card=False)
    example = "2026-11-25T08:30:00"
    refused = ("yesterday",)

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:
        return DateTime()

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> dt.datetime:
        value = _moment(raw)
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def typed(self, spec: FieldSpec, raw: Any) -> Any:
        if raw is None or raw == "":
            return raw
        try:
            value = _moment(raw)
        except ValueProblem:
            return raw  # for the parser to refuse, saying why
        return value if value.tzinfo is not None else value.replace(tzinfo=business_zone())

    def form_value(self, spec: FieldSpec, value: Any, readonly: bool) -> Any:
        if readonly:
            return self.cell_text(spec, value)
        try:
            moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return "" if value is None else value  # typed text the parser refused, shown again as typed
        return _wall_text(moment, seconds=True)

    def _check_bounds(self, spec: FieldSpec, value: Any) -> None:
        return None

    def to_json(self, spec: FieldSpec, value: Any) -> Any:
        return None if value is None else value.isoformat(timespec="seconds")

    def cell_text(self, spec: FieldSpec, value: Any) -> str:
        return "" if value is None else _wall_text(dt.datetime.fromisoformat(value))

    def excel_format(self, spec: FieldSpec) -> dict[str, Any] | None:
        return {"num_format": "yyyy-mm-dd hh:mm"}

    def excel_cell(self, spec: FieldSpec) -> Callable[[Any], Any] | None:
        return business_times()  # stored in UTC, shown in the business's time


# as people type it: 2026-12-5 9:30, 2026.12.5 09:30:15 (ISO forms with a zone or fractions go to fromisoformat)
_TYPED_MOMENT = re.compile(r"(\d{4})[-.](\d{1,2})[-.](\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?")


def _moment(raw: Any) -> dt.datetime:
    """A timestamp as given (a datetime, a date, or text the usual ways: 2026-11-25 08:30, 2026/11/25 08:30,
    2026年11月25日 08:30, ISO with a zone), with its zone when it says one."""
    if isinstance(raw, dt.datetime):
        return raw
    if isinstance(raw, dt.date):
        return dt.datetime(raw.year, raw.month, raw.day)
    text = normalise_text(raw).replace("年", "-").replace("月", "-").replace("日", " ")
    text = re.sub(r"\s+", " ", text.replace("/", "-")).strip()
    try:
        typed = _TYPED_MOMENT.fullmatch(text)
        if typed:
            year, month, day, hour, minute, second = (int(part) for part in typed.groups(default="0"))
            return dt.datetime(year, month, day, hour, minute, second)
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueProblem(t("not_datetime")) from exc


def business_day_span(raw: Any) -> tuple[dt.datetime, dt.datetime] | None:
    """A day typed without a time (2026-12-05, 2026/12/5, 2026年12月5日) as the stored (UTC) span of that day in the
    business's time, [start, end); None for anything else."""
    try:
        day = DateType()._parse_bound(raw)
    except (ValueProblem, TypeError):
        return None
    zone = business_zone()

    def start_of(date: dt.date) -> dt.datetime:
        return dt.datetime.combine(date, dt.time(), zone).astimezone(dt.UTC).replace(tzinfo=None)

    return start_of(day), start_of(day + dt.timedelta(days=1))


def _wall_text(moment: dt.datetime, seconds: bool = False) -> str:
    """A timestamp (naive: stored UTC) as the business's wall time, yyyy-mm-dd hh:mm (with its seconds when it has
    some and `seconds`: a form saved back unchanged must not round it to the minute)."""
    wall = business_time(moment if moment.tzinfo is None else moment.astimezone(dt.UTC).replace(tzinfo=None))
    return f"{wall:%Y-%m-%d %H:%M:%S}" if seconds and wall.second else f"{wall:%Y-%m-%d %H:%M}"


TRUE_WORDS = {"1", "true", "yes", "y", "是", "√", "on", "t", "真"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "×", "off", "f", "假"}


class BooleanType(FieldType):
    """Yes / no."""

    name = "boolean"
    json_type = {"type": "boolean"}
    input_type = "checkbox"
    filter_ops = ("eq", "neq", "null")
    grid = GridLook(editor="tick", format="tick", filter="yesno", align="center")
    example = True
    refused = ("maybe", 2)

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:
        return Boolean()

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, (int, float)) and raw in (0, 1):
            return bool(raw)
        word = normalise_text(raw).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueProblem(t("not_boolean"))

    def _check_bounds(self, spec: FieldSpec, value: Any) -> None:
        return None

    def to_text(self, spec: FieldSpec, value: Any) -> str:
        if value is None:
            return ""
        return t("bool.yes") if value else t("bool.no")

    def form_value(self, spec: FieldSpec, value: Any, readonly: bool) -> Any:
        return self.cell_text(spec, value) if readonly else bool(value)

    def form_raw(self, spec: FieldSpec, form: Mapping[str, str], name: str) -> Any:
        return name in form  # an unticked box sends nothing

    def cell_text(self, spec: FieldSpec, value: Any) -> str:
        return self.to_text(spec, value)

    def excel_cell(self, spec: FieldSpec) -> Callable[[Any], Any] | None:
        yes, no = self.to_text(spec, True), self.to_text(spec, False)
        return lambda value: None if value is None else yes if value else no


class SelectType(FieldType):
    """One of a fixed list of options with zh/en labels."""

    name = "select"
    input_type = "select"
    filter_ops = ("eq", "neq", "in", "null")
    grid = GridLook(editor="list", format="option", filter="options")
    refused = ("no-such-option",)

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:
        return String(spec.max_length or 32)  # a field that held free text before keeps its column's width

    def check_spec(self, spec: FieldSpec) -> list[str]:
        if not spec.options:
            return ["select needs 'options: [{value, label: {zh, en}}]'"]
        values = [option.value for option in spec.options]
        if len(values) != len(set(values)):
            return ["option values must be unique"]
        return []

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> str:
        text = normalise_text(raw)
        for option in spec.options:
            if text == option.value or text in option.label.values():
                return option.value
        lowered = text.lower()
        for option in spec.options:
            if lowered == option.value.lower() or lowered in (v.lower() for v in option.label.values()):
                return option.value
        raise ValueProblem(t("not_option", options=", ".join(label(o.label, o.value) for o in spec.options)))

    def _check_bounds(self, spec: FieldSpec, value: Any) -> None:
        return None

    def to_text(self, spec: FieldSpec, value: Any) -> str:
        for option in spec.options:
            if option.value == value:
                return label(option.label, option.value)
        return "" if value is None else str(value)

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        out = super().schema(spec)
        out["enum"] = [option.value for option in spec.options] + [None]
        return out

    def cell_text(self, spec: FieldSpec, value: Any) -> str:
        return self.to_text(spec, value)

    def excel_cell(self, spec: FieldSpec) -> Callable[[Any], Any] | None:
        words = {option.value: self.to_text(spec, option.value) for option in spec.options}
        return lambda value: None if value is None else words.get(value) or self.to_text(spec, value)

    def sample(self, spec: FieldSpec, tag: str, rows: SampleRows) -> Any:
        return spec.options[0].value


class LinkType(FieldType):
    """A reference to a row of another model, typed as its id or its business key."""

    name = "link"
    json_type = {"type": "integer"}
    input_type = "link"
    filter_ops = ("eq", "neq", "in", "null", "rel_o_m", "ct")
    grid = GridLook(editor="link", format="link")
    structured = True  # {"id": ...} or {"key": ...}, as the API returns a link
    refused = ("NO-SUCH-KEY",)

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:
        return Integer()

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> int:
        if isinstance(raw, dict):
            raw = raw.get("id", raw.get("key"))
        if isinstance(raw, (list, dict)):
            raise ValueProblem(t("not_scalar"))
        if resolver is None:  # pragma: no cover - programming error
            raise RuntimeError("link parsing needs a resolver")
        found = resolver.resolve(spec.to or "", raw)
        if found is None:
            raise ValueProblem(t("link_missing", value=raw))
        return found

    def _check_bounds(self, spec: FieldSpec, value: Any) -> None:
        return None

    def schema(self, spec: FieldSpec) -> dict[str, Any]:
        out = super().schema(spec)
        out["description"] = (out.get("description", "") + f" (id or business key of {spec.to})").strip()
        return out

    def input_schema(self, spec: FieldSpec) -> dict[str, Any]:
        """A link is written as the row's id, its business key, or `{"id": ...}` / `{"key": ...}`."""
        ident = {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}
        key = {"type": "string", "minLength": 1, "maxLength": 255}
        out: dict[str, Any] = {
            "oneOf": [
                ident,
                key,
                {"type": "object", "properties": {"id": ident}, "required": ["id"], "additionalProperties": False},
                {"type": "object", "properties": {"key": key}, "required": ["key"], "additionalProperties": False},
            ]
        }
        base = super().input_schema(spec)
        out.update({k: v for k, v in base.items() if k in ("title", "description", "nullable")})
        return out

    def form_value(self, spec: FieldSpec, value: Any, readonly: bool) -> Any:
        if isinstance(value, dict):  # the JSON form {id, key, name}: the input shows the key
            return value.get("key", "")
        return super().form_value(spec, value, readonly)

    def lookup_url(self, spec: FieldSpec) -> str | None:
        return f"/api/v1/grid/lookup/{spec.to}"

    def cell_text(self, spec: FieldSpec, value: Any) -> str:
        if not isinstance(value, dict):
            return "" if value is None else str(value)
        key, name = value.get("key"), value.get("name")
        return f"{key} {name}".strip() if name and name != key else str(key)

    def sample(self, spec: FieldSpec, tag: str, rows: SampleRows) -> Any:
        return rows.existing_key(spec.to or "") if self.example is None else self.example


class UserType(LinkType):
    """A reference to a login user, typed as id or username."""

    name = "user"
    example = "admin"  # the one user every installation has
    refused = ("no-such-user",)

    def lookup_url(self, spec: FieldSpec) -> str | None:
        return "/api/v1/grid/user_lookup"  # the users the writer may name there (app.services.users.lookup)

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> int:
        if isinstance(raw, dict):
            raw = raw.get("id", raw.get("key"))
        if isinstance(raw, (list, dict)):
            raise ValueProblem(t("not_scalar"))
        found = resolver.resolve_user(raw) if resolver else None
        if found is None:
            raise ValueProblem(t("user_missing", value=raw))
        return found


class LinesType(FieldType):
    """A document's child table; stored in `<model>_line`, not as a column."""

    name = "lines"
    input_type = "lines"
    structured = True
    filter_ops = ()
    sortable = False
    json_type = {"type": "array"}

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:  # pragma: no cover
        raise TypeError("lines have no column")

    def _check_bounds(self, spec: FieldSpec, value: Any) -> None:
        return None


class BarcodeType(TextType):
    """Barcodes; GS1 codes (8, 12, 13 or 14 digits) must carry a valid check digit."""

    name = "barcode"
    grid = GridLook(card=False)

    def column_type(self, spec: FieldSpec) -> TypeEngine[Any]:
        return String(64)

    def _parse(self, spec: FieldSpec, raw: Any, resolver: LinkResolver | None) -> str:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        value = normalise_text(raw)
        if not re.fullmatch(r"[0-9A-Za-z-]{1,64}", value):
            raise ValueProblem(t("barcode_chars"))
        if value.isdigit() and len(value) in (8, 12, 13, 14) and not gs1_check_ok(value):
            raise ValueProblem(t("barcode_check"))
        return value

    def sample(self, spec: FieldSpec, tag: str, rows: SampleRows) -> Any:
        return None  # barcodes are unique: a test that needs one makes its own

    def input_constraints(self, spec: FieldSpec) -> dict[str, Any]:
        return {"maxLength": 64, "pattern": "^[0-9A-Za-z-]{1,64}$"}

    def bad_values(self, spec: FieldSpec) -> tuple[Any, ...]:
        return ("6901234567890", "690 123")  # a wrong check digit; a space


def gs1_check_ok(code: str) -> bool:
    """True when the last digit of a GS1 code (EAN-8/UPC-A/EAN-13/GTIN-14) is right."""
    digits = [int(c) for c in code]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


MAX_INTEGER = 2**31 - 1  # integer columns and ids are 32 bits on PostgreSQL
MAX_EXPONENT = 40  # decimal columns hold 18 digits: a number beyond 1e40 or below 1e-40 is refused at once


def parse_integer(raw: Any, bound: int = MAX_INTEGER) -> int:
    """A whole number within +-bound (ids, integer fields, filters); ValueProblem otherwise."""
    if isinstance(raw, bool):
        raise ValueProblem(t("not_integer"))
    if isinstance(raw, int):
        number = Decimal(raw)
    else:
        number = parse_number(raw, "not_integer")
        if number.adjusted() > 18:
            raise ValueProblem(t("out_of_range", bound=bound))
        if number != number.to_integral_value():
            raise ValueProblem(t("not_integer"))
    if abs(number) > bound:
        raise ValueProblem(t("out_of_range", bound=bound))
    return int(number)


_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?", re.ASCII)
# digits with a point (7.5, 7., .5), signed or not: what a typed number may be once its currency and grouping are read
_TYPED_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)", re.ASCII)


def bare_number(raw: Any) -> Decimal | None:
    """A number written without a sign of what it is: 7.5, "0.5", "１３" (a cell's number or its text); None for
    anything else (7.5%, ¥4, 1,234, a date, yes)."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        return None
    text = normalise_text(Decimal(repr(raw)) if isinstance(raw, float) else raw)
    return Decimal(text) if _PLAIN_NUMBER.fullmatch(text) else None


def percent_digits(raw: Any) -> str | None:
    """The number of a percent as typed ("7.5%", "7.5 ％"): its digits without the sign; None for anything else."""
    if not isinstance(raw, str):
        return None
    text = normalise_text(raw)  # the full-width ％ is %
    return text[:-1].strip() if text.endswith("%") else None


def rounded_text(value: Any, places: int) -> str:
    """An exact number (a Decimal, or its JSON text) as a person reads it to `places`, rounded half up: money to
    the cent (13.3333 -> 13.33; -0.001 -> 0.00, not -0.00). The value itself stays exact where it is kept."""
    return format_decimal(Decimal(str(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP) + 0, places)


def grouped_text(text: str) -> str:
    """A plain number's text with thousands separators (-1234567.5 -> -1,234,567.5); any other text as it is."""
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, point, frac = digits.partition(".")
    if not whole.isdigit():
        return text
    return f"{sign}{int(whole):,}{point}{frac}"


def money_text(value: Any, places: int = 2) -> str:
    """Money (a Decimal, or its JSON text) as a person reads it everywhere: to the cent, rounded half up, thousands
    separated (12345678.9 -> 12,345,678.90), as the grid shows it; '' for none. The `money` filter of templates."""
    if value is None or value == "":
        return ""
    try:
        return grouped_text(rounded_text(value, places))
    except InvalidOperation:  # not a number (a text already written for people): as it is
        return str(value)


def share_text(value: Any) -> str:
    """A share (0.075, stored or as JSON) as a person reads and types it: 7.5%."""
    return format_decimal(Decimal(str(value)).scaleb(2), 0) + "%"


def parse_number(raw: Any, problem: str) -> Decimal:
    """Parse `1,234.50`, `¥1,200`, full-width digits, floats and ints into an exact Decimal; ValueProblem with
    the text of message key `problem` (translated only when it is raised) when it is not a number."""
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, int):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(repr(raw))  # shortest repr: 0.1 stays 0.1
    elif isinstance(raw, str) and _PLAIN_NUMBER.fullmatch(raw):  # what the grid and the API send, as it is
        number = Decimal(raw)
    else:
        text = normalise_text(raw)
        text = re.sub(r"^[¥$€]|^CNY|^RMB|元$", "", text, flags=re.IGNORECASE).strip()
        if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", text):
            text = text.replace(",", "")
        if not _TYPED_NUMBER.fullmatch(text):  # Python's Decimal reads 1e3, 1_000, NaN: no clerk's number
            raise ValueProblem(t(problem))
        number = Decimal(text)
    if not number.is_finite():
        raise ValueProblem(t(problem))
    if not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:  # 1e1000000: no column holds it
        raise ValueProblem(t("number_out_of_range"))
    return number


def format_decimal(value: Decimal, min_scale: int) -> str:
    """Exact text of a decimal, with trailing zeros kept down to `min_scale` places (every decimal cell of a
    page or an audit snapshot passes here: written for speed)."""
    if type(value) is not Decimal:
        value = Decimal(value)
    text = str(value)  # format()'s digits but for a positive exponent or a tiny value (1E+3, 1E-7), quicker
    if "E" in text:
        text = value.__format__("f")
    return numeric_text(text, min_scale)


def numeric_text(text: str, min_scale: int) -> str:
    """A decimal's plain digits (no exponent: `str` of a Decimal, or PostgreSQL's own text of a NUMERIC, which
    `plain_rows(numeric_text=True)` reads without making a Decimal of it) with trailing zeros kept down to
    `min_scale` places."""
    whole, point, frac = text.partition(".")
    if point:
        frac = frac.rstrip("0")
        if len(frac) < min_scale:
            frac = frac.ljust(min_scale, "0")
        return whole + "." + frac if frac else whole
    return text + "." + "0" * min_scale if min_scale else text


def timestamp_text(text: str) -> str:
    """DateTimeType's JSON of a TIMESTAMP from PostgreSQL's text of it under DateStyle ISO (`plain_rows(
    temporal_text=True)`): `YYYY-MM-DD HH:MM:SS[.ffffff]` to `YYYY-MM-DDTHH:MM:SS`, cut to the second as
    `isoformat(timespec="seconds")` cuts it. A text of another shape (a year past 9999, BC, infinity: none that
    the app stores) goes through `datetime`, which refuses what psycopg's loader refused."""
    if len(text) >= 19 and text[4] == "-" and text[10] == " " and (len(text) == 19 or text[19] == "."):
        return text[:10] + "T" + text[11:19]
    return dt.datetime.fromisoformat(text).isoformat(timespec="seconds")


def date_text(text: str) -> str:
    """DateType's JSON of a DATE from PostgreSQL's text of it under DateStyle ISO (`YYYY-MM-DD`, as `isoformat`
    writes it); another shape goes through `date` as `timestamp_text`'s does."""
    if len(text) == 10 and text[4] == "-":
        return text
    return dt.date.fromisoformat(text).isoformat()


def plain_decimal(value: Decimal) -> str:
    """A decimal without trailing zeros, for messages (2.5000 -> 2.5, 3.0 -> 3)."""
    return format_decimal(value, 0)


FIELD_TYPES: dict[str, FieldType] = {
    cls.name: cls()
    for cls in (
        TextType,
        LongTextType,
        IntegerType,
        DecimalType,
        MoneyType,
        QuantityType,
        DateType,
        DateTimeType,
        BooleanType,
        SelectType,
        LinkType,
        UserType,
        LinesType,
        BarcodeType,
    )
}
