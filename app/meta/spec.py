"""Typed metadata specs: what a model, a field and a role are, independent of any framework."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

ACTIONS = ("read", "write", "delete", "submit", "approve", "import", "export", "close", "start", "resolve", "invoice")
MODEL_KINDS = ("master", "document", "ledger")
SYSTEM_FIELDS = ("id", "version", "created_at", "created_by", "updated_at", "updated_by")
TODAY = "today"  # `default: today` on a date field: the business's date when the row is created
# What a figure is (a field's `figure:`): roles and the 价格屏蔽 setting hide kinds of figures, never field names.
FIGURES = ("purchase", "sale", "cost", "cash")
# The sides of the business a partner, a price list row or a payment belongs to (named after the figures they
# carry); `figure: side` says the figure is of the row's own side (a supplier's price is a purchase figure).
SIDES = ("purchase", "sale")
SIDE_FIGURE = "side"
# What a number is (a field's `measure:`): only an `amount` (a quantity or a sum of money) adds up over rows, so
# only it gets a sum (the grid's sums row, a listing's totals). A `price` is money per unit (单价, 零售价, 平均成本),
# a `rate` a ratio, percent or share (税率, 折扣率, 换算率), a `number` anything else that adds up to nothing (days,
# an approval step, an ordinal, an internal id, a balance after a move). Each numeric type has a default
# (FieldType.measure): money and quantity `amount`, integer and decimal `number`.
MEASURES = ("amount", "price", "rate", "number")
# field options that are plain values (the YAML keys of FieldSpec attributes of the same name)
SCALAR_OPTIONS = (
    "help",
    "required",
    "unique",
    "default",
    "default_setting",
    "backfill",
    "min",
    "max",
    "max_length",
    "pattern",
    "readonly",
    "hidden",
    "section",
    "index",
    "search_index",
    "compute",
    "figure",
    "measure",
    "to",
    "precision",
    "scale",
)


@dataclass(frozen=True)
class Option:
    """One choice of a select field."""

    value: str
    label: dict[str, str]


@dataclass(frozen=True)
class FieldSpec:
    """A declared field of a model."""

    name: str
    type: str
    label: dict[str, str]
    help: dict[str, str] = field(default_factory=dict)
    required: bool = False
    unique: bool = False
    default: Any = None
    default_setting: str | None = None  # a policy switch whose value in force is the default (new rows)
    backfill: Any = None  # rows already there when the column is added: another field's value, or this one
    min: Any = None
    max: Any = None
    max_length: int | None = None
    pattern: str | None = None
    readonly: bool = False
    hidden: bool = False
    grid_width: int | None = None
    grid_frozen: bool = False
    section: str = "basic"
    index: bool = False
    search_index: bool = False  # PostgreSQL: a trigram index, so "contains" filters stay fast at volume
    read_roles: tuple[str, ...] = ()
    write_roles: tuple[str, ...] = ()
    compute: str | None = None
    figure: str | None = None  # the kind of figure the field is (FIGURES or SIDE_FIGURE), as declared
    measure: str | None = None  # what a number is (MEASURES), as declared; None: its type's default
    # every kind the field reveals: its own and, for a computed field, those of what it is computed from
    figures: frozenset[str] = frozenset()
    options: tuple[Option, ...] = ()
    # the unit the field's numbers are in, per language ({zh: 天, en: days}; "%": 13 is 13 %), which its label is
    # built with (账期 + 天: 账期（天）, Payment terms (days)): a header may leave it out (docs/imports.md)
    unit: dict[str, str] = field(default_factory=dict)
    to: str | None = None
    precision: int | None = None
    scale: int | None = None
    source: str = ""
    origin: str = "yaml"
    system: bool = False

    @cached_property
    def column(self) -> str:
        """The database column that stores the field (read for every cell a bulk write touches)."""
        return f"{self.name}_id" if self.type in ("link", "user") else self.name

    @property
    def is_row_id(self) -> bool:
        """An integer named `*_id` holds another row's internal id (a line's source_id): not for paper."""
        return self.type == "integer" and self.name.endswith("_id")

    @property
    def is_fraction(self) -> bool:
        """A plain decimal bounded to 0..1 is a share (折扣率 0.075): people read it as a percent (7.5%)."""
        return self.type == "decimal" and _number(self.min) == 0 and _number(self.max) == 1

    @property
    def in_percent(self) -> bool:
        """Numbers a person reads and types as percents: a share (折扣率 0.075, read 7.5%) or a rate whose unit is %
        (税率(%): 13 is 13 %)."""
        return self.is_fraction or "%" in self.unit.values()

    @property
    def in_grid(self) -> bool:
        """A column of the grid and its export: every field but lines and the system's bookkeeping (the times stay,
        and a line's document, 单据编号)."""
        return self.type != "lines" and (not self.system or self.name in ("created_at", "updated_at", "parent"))

    @property
    def is_link(self) -> bool:
        """True for references to another row (link or user)."""
        return self.type in ("link", "user")

    @property
    def is_code(self) -> bool:
        """A unique text field: a business key or any other code, compared whatever its case."""
        return self.unique and self.type in ("text", "barcode")

    def to_dict(self) -> dict[str, Any]:
        """The field in the YAML / API shape (for export and the meta API)."""
        out: dict[str, Any] = {"type": self.type, "label": dict(self.label)}
        defaults = FieldSpec(name=self.name, type=self.type, label={})
        for key in SCALAR_OPTIONS:
            value = getattr(self, key)
            if value != getattr(defaults, key):
                out[key] = value
        if self.grid_width or self.grid_frozen:
            out["grid"] = {"width": self.grid_width, "frozen": self.grid_frozen}
        if self.read_roles:
            out["read_roles"] = list(self.read_roles)
        if self.write_roles:
            out["write_roles"] = list(self.write_roles)
        if self.options:
            out["options"] = [{"value": o.value, "label": dict(o.label)} for o in self.options]
        if self.unit:
            out["unit"] = dict(self.unit)  # the label is the built one: building it again keeps it (with_unit)
        return out


@dataclass(frozen=True)
class SidesSpec:
    """Which side(s) of the business each row of a model belongs to, read from one select field."""

    field: str
    values: dict[str, tuple[str, ...]]  # option value -> sides (a partner that is both is on both)

    def options_on(self, sides: frozenset[str]) -> list[str]:
        """The field's values whose rows are on one of these sides."""
        return [value for value, on in self.values.items() if set(on) & sides]


@dataclass(frozen=True)
class ModelSpec:
    """A declared model (master data, document, document lines or ledger)."""

    key: str
    label: dict[str, str]
    kind: str
    fields: tuple[FieldSpec, ...]
    business_key: str
    display: str | None = None
    number_prefix: str | None = None
    help: dict[str, str] = field(default_factory=dict)
    parent: str | None = None
    source: str = ""
    unique_together: tuple[tuple[str, ...], ...] = ()
    # the fields that together name a row when the business key is the id (an item and a unit: one of its units);
    # an import's 更新 finds rows by them as by a business key (`import_key`)
    natural_key: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()  # (field, ...) sort / filter paths; id is appended
    sides: SidesSpec | None = None  # rows per side (partners, price lists, payments); lines follow their document
    fillfactor: int | None = None  # PostgreSQL: how full inserts leave a page (room for updates in place: HOT)

    @property
    def class_name(self) -> str:
        """CamelCase name used for the mapped class and the permission resource."""
        return "".join(part.capitalize() for part in self.key.split("_"))

    @property
    def permission_model(self) -> str:
        """The model whose permissions apply (a line model follows its document)."""
        return self.parent or self.key

    @property
    def import_key(self) -> tuple[str, ...]:
        """The fields an import's 更新 / 新增或更新 finds a row by: the business key, or the natural key of a model
        keyed by its id (() when it has neither: such rows are only created by an import)."""
        if self.business_key != "id":
            return (self.business_key,)
        return self.natural_key

    @property
    def is_line(self) -> bool:
        """True for a document's line table."""
        return self.parent is not None

    @cached_property
    def lines_model(self) -> str | None:
        """Key of the line model when this is a document with lines (asked for every row a write touches)."""
        return f"{self.key}_line" if any(f.type == "lines" for f in self.fields) else None

    def field(self, name: str) -> FieldSpec | None:
        """The field called `name`, or None."""
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, FieldSpec]:
        found: dict[str, FieldSpec] = {}
        for spec in self.fields:
            found.setdefault(spec.name, spec)  # the first of a name, as a scan would find it
        return found

    @cached_property
    def data_fields(self) -> tuple[FieldSpec, ...]:
        """Fields stored in columns of this model's table (no system fields, no lines)."""
        return tuple(f for f in self.fields if not f.system and f.type != "lines")

    @cached_property
    def required_fields(self) -> tuple[FieldSpec, ...]:
        """Data fields a saved row must fill."""
        return tuple(f for f in self.data_fields if f.required)

    @cached_property
    def computed_fields(self) -> tuple[FieldSpec, ...]:
        """Data fields filled by a `compute:` handler."""
        return tuple(f for f in self.data_fields if f.compute)

    @cached_property
    def figure_inputs(self) -> tuple[FieldSpec, ...]:
        """Data fields a person enters that carry a figure (a line's price, an allocated amount): not computed, not
        read-only. A user who may not see one did not choose its value (app/documents/base.py)."""
        return tuple(f for f in self.data_fields if f.figures and not f.compute and not f.readonly)

    @cached_property
    def stored_fields(self) -> tuple[FieldSpec, ...]:
        """Fields stored in columns of this model's table, system fields too (what an audit snapshot shows); a line's
        document (`parent`) is its plumbing, written with the line and in the document's own audit row, not a value
        of the line's."""
        return tuple(f for f in self.fields if f.type != "lines" and not (self.is_line and f.name == "parent"))


@dataclass(frozen=True)
class RoleSpec:
    """A role: actions per model, hidden kinds of figures, sides, hidden and read-only fields, row scope."""

    key: str
    label: dict[str, str]
    permissions: dict[str, tuple[str, ...]]
    hidden_fields: dict[str, tuple[str, ...]]
    readonly_fields: dict[str, tuple[str, ...]]
    row_scope: dict[str, dict[str, str]]
    hidden_figures: frozenset[str] = frozenset()
    sides: frozenset[str] = frozenset(SIDES)
    reports: tuple[str, ...] = ()  # report names (globs) the role may run, besides reading their sources
    # a copy of a roles.yaml role (FAB's 「Copy Role」, app/services/access/origins.py): the key of the roles.yaml role
    # whose entry it takes, under its own name (`key`); empty for roles.yaml's own
    based_on: str = ""

    @property
    def origin(self) -> str:
        """The roles.yaml key this role is: its own, or the one a copy was made of (what a field's read_roles and
        write_roles, 价格屏蔽 and the data-scope settings name)."""
        return self.based_on or self.key

    def runs(self, report: str) -> bool:
        """Does roles.yaml's `reports:` list the report for this role?"""
        return any(fnmatch.fnmatchcase(report, pattern) for pattern in self.reports)

    def grants(self, model_key: str) -> set[str]:
        """The actions roles.yaml gives this role on a model (globs matched)."""
        return {
            action
            for pattern, actions in self.permissions.items()
            if fnmatch.fnmatchcase(model_key, pattern)
            for action in actions
        }


@dataclass(frozen=True)
class MenuLink:
    """A page in a menu that is not a model's list (补货建议, 系统设置 ...).

    Shown to the roles that may read `model` (of those, only the listed `roles` when it lists any, and only
    those whose `reports:` list `report` when it names the report the page runs), or, without a model, to the
    listed `roles` (and admins)."""

    key: str
    href: str
    label: dict[str, str]
    model: str | None = None
    roles: tuple[str, ...] = ()
    report: str | None = None


@dataclass(frozen=True)
class MenuSpec:
    """A menu category: the models under it, then its other pages."""

    key: str
    label: dict[str, str]
    models: tuple[str, ...]
    links: tuple[MenuLink, ...] = ()


@dataclass(frozen=True)
class ApprovalLevel:
    """One level of an approval chain: documents above `above` need a `role` to approve."""

    above: Decimal
    role: str


@dataclass(frozen=True)
class ApprovalChain:
    """Approval levels of one document model, by amount band, and who approves each level its behaviour adds when
    the document needs it (`added_levels`: name -> role, e.g. over_budget -> manager)."""

    model: str
    amount_field: str
    levels: tuple[ApprovalLevel, ...]
    added: tuple[tuple[str, str], ...] = ()
    # the amount is one posting values (a stocktake's 差异金额合计): submitting values it as posting would, writing
    # nothing (app/services/posting/service.py `_valued`); set at load (app/meta/approvals.py)
    valued_at_posting: bool = False

    def required(self, amount: Decimal | None) -> tuple[ApprovalLevel, ...]:
        """The levels a document of this amount must pass, in order; an amount is compared by its size (a
        stocktake's difference of -150.00, a loss, is above 100)."""
        value = abs(amount or Decimal(0))
        return tuple(level for level in self.levels if value > level.above)

    def added_level(self, name: str) -> ApprovalLevel:
        """The level the behaviour adds under `name` (any amount), with the role approvals.yaml names for it."""
        return ApprovalLevel(Decimal(0), dict(self.added)[name])

    @property
    def roles(self) -> frozenset[str]:
        """Every role that may ever approve a level of this chain: its amount bands and the levels added."""
        return frozenset(level.role for level in self.levels) | {role for _, role in self.added}


@dataclass(frozen=True)
class Metadata:
    """Everything loaded from metadata/ plus runtime fields from the database."""

    models: dict[str, ModelSpec]
    roles: dict[str, RoleSpec]
    menus: tuple[MenuSpec, ...]
    settings: dict[str, Any]
    approvals: dict[str, ApprovalChain] = field(default_factory=dict)
    actions: tuple[str, ...] = ACTIONS
    handlers: Any = None  # app.meta.handlers.Handlers: the code the metadata names, resolved at load
    reports: dict[str, Any] = field(default_factory=dict)  # name -> app.meta.reports.ReportSpec

    def model(self, key: str) -> ModelSpec:
        """The model called `key` (KeyError if unknown)."""
        return self.models[key]


@dataclass(frozen=True)
class MetaError:
    """One metadata problem: where, what, and a hint to fix it."""

    where: str
    message: str
    hint: str = ""
    code: str = ""  # a key of app.i18n.MESSAGES, so the admin page can say it in the reader's language
    params: tuple[tuple[str, str], ...] = ()
    option: str = ""  # the field option at fault (type, to, label, default ...)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" + (f" (hint: {self.hint})" if self.hint else "")


class MetadataInvalid(Exception):
    """Raised once, at the edge, when metadata has errors."""

    def __init__(self, errors: list[MetaError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def _number(bound: Any) -> Decimal | None:
    """A declared bound (YAML int, float or text) as a Decimal; None when there is none."""
    return None if bound is None else Decimal(str(bound))


def with_unit(text: str, unit: str, locale: str) -> str:
    """A label built with its unit: 账期 + 天 -> 账期（天）, 税率 + % -> 税率(%) (full-width brackets around Chinese,
    half-width around a sign), Payment terms + days -> Payment terms (days); a label that ends so already is kept."""
    built = f"{text} ({unit})" if locale != "zh" else f"{text}({unit})" if unit.isascii() else f"{text}（{unit}）"
    return text if text.endswith((f"({unit})", f"（{unit}）")) else built
