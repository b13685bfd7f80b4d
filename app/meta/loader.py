"""Load metadata/ into typed specs, collecting every error with file:line and a hint."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from app.i18n import LOCALES, t, texts_for
from app.meta.accounts import account_scope_problems
from app.meta.approvals import check_added_levels, load_approvals, mark_valued_at_posting
from app.meta.common import Collector, hint, texts
from app.meta.figures import derive_figures, load_sides, required_fillable
from app.meta.handlers import Handlers, resolve_handlers
from app.meta.reports import load_reports
from app.meta.roles import load_menus, load_roles, load_settings
from app.meta.row_scopes import scope_fillable
from app.meta.spec import (
    FIGURES,
    MEASURES,
    MODEL_KINDS,
    SCALAR_OPTIONS,
    SIDE_FIGURE,
    SYSTEM_FIELDS,
    TODAY,
    FieldSpec,
    Metadata,
    MetaError,
    ModelSpec,
    Option,
    RoleSpec,
    with_unit,
)
from app.meta.status import Status
from app.meta.types import FIELD_TYPES, MoneyType, ValueProblem
from app.meta.yamlload import line_of, load_yaml

_Spec = TypeVar("_Spec", FieldSpec, ModelSpec)

FIELD_OPTIONS = {"type", "label", "unit", "grid", "read_roles", "write_roles", "options", "fields", *SCALAR_OPTIONS}
MODEL_OPTIONS = {
    "label",
    "kind",
    "business_key",
    "display",
    "number_prefix",
    "help",
    "fields",
    "unique_together",
    "natural_key",
    "indexes",
    "sides",
    "fillfactor",
    "lines_fillfactor",
}
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
# system fields, line plumbing, and names SQLAlchemy's declarative classes already use
RESERVED = set(SYSTEM_FIELDS) | {
    "parent",
    "parent_id",
    "line_no",
    "key",
    "q",
    "metadata",
    "registry",
    "query",
    "query_class",
}


def system_fields(kind: str) -> list[FieldSpec]:
    """The fields every model gets, plus number and status for documents."""
    ro: dict[str, Any] = {"readonly": True, "system": True, "section": "system"}
    fields = [
        FieldSpec(
            "version",
            "integer",
            texts_for("field.version"),
            texts_for("field.version.help"),
            **ro,
        ),
        FieldSpec(
            "created_at",
            "datetime",
            texts_for("field.created_at"),
            texts_for("field.created_at.help"),
            **ro,
        ),
        FieldSpec(
            "created_by",
            "user",
            texts_for("field.created_by"),
            texts_for("field.created_by.help"),
            **ro,
        ),
        FieldSpec(
            "updated_at",
            "datetime",
            texts_for("field.updated_at"),
            texts_for("field.updated_at.help"),
            **ro,
        ),
        FieldSpec(
            "updated_by",
            "user",
            texts_for("field.updated_by"),
            texts_for("field.updated_by.help"),
            **ro,
        ),
    ]
    return fields


def parent_field(document: str) -> FieldSpec:
    """A line's document, by its number (单据编号): the column every line has (`parent_id`), read as a link, so a
    grid of lines shows which document each belongs to, sorted, filtered and exported as any link is. Set by the
    document's save only (system, read-only)."""
    return FieldSpec(
        "parent",
        "link",
        texts_for("field.parent"),
        texts_for("field.parent.help"),
        to=document,
        readonly=True,
        system=True,
        section="system",
        grid_frozen=True,
        grid_width=150,
    )


def document_fields() -> list[FieldSpec]:
    """number and status, which every document has."""
    return [
        FieldSpec(
            "number",
            "text",
            texts_for("field.number"),
            texts_for("field.number.help"),
            unique=True,
            max_length=40,
            grid_frozen=True,
            grid_width=150,
            index=True,
        ),
        FieldSpec(
            "status",
            "select",
            texts_for("field.status"),
            texts_for("field.status.help"),
            readonly=True,
            default=Status.DRAFT.value,
            index=True,
            options=tuple(Option(status.value, status.label) for status in Status),
        ),
        FieldSpec(
            "approval_step",
            "integer",
            texts_for("field.approval_step"),
            texts_for("field.approval_step.help"),
            readonly=True,
            default=0,
        ),
    ]


def parse_field(
    name: str, raw: Any, where: str, out: Collector, *, origin: str = "yaml", allow_lines: bool = False
) -> FieldSpec | None:
    """Validate one field declaration; return its spec or None (errors go to `out`)."""
    before = len(out.errors)
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        out.add(
            where,
            f"field name '{name}' is not valid",
            "lower-case letters, digits and _ (max 40)",
            code="meta_bad_name",
            option="name",
            name=str(name),
        )
        return None
    if name in RESERVED:
        out.add(
            where,
            f"field name '{name}' is reserved",
            "reserved: " + ", ".join(sorted(RESERVED)),
            code="meta_reserved_name",
            option="name",
            name=name,
        )
        return None
    if not isinstance(raw, dict):
        out.add(where, f"field '{name}' must be a mapping", "e.g. {type: text, label: {zh: 名称, en: Name}}")
        return None
    for key in raw:
        if key not in FIELD_OPTIONS:
            out.add(where, f"field '{name}': unknown option '{key}'", hint(key, FIELD_OPTIONS))
    type_name = raw.get("type")
    if not isinstance(type_name, str) or type_name not in FIELD_TYPES:
        out.add(
            where,
            f"field '{name}': unknown type '{type_name}'",
            hint(str(type_name), FIELD_TYPES),
            code="meta_unknown_type",
            option="type",
            type=str(type_name),
        )
        return None
    if (type_name == "lines") != (name == "lines") or (type_name == "lines" and not allow_lines):
        out.add(where, f"field '{name}': lines are only allowed once, as 'lines', in a document")
        return None
    label = texts(raw.get("label"))
    if label is None:
        out.add(
            where,
            f"field '{name}': label needs zh and en",
            "label: {zh: 名称, en: Name}",
            code="meta_label",
            option="label",
        )
    unit_raw = raw.get("unit")
    unit = {"zh": unit_raw, "en": unit_raw} if isinstance(unit_raw, str) and unit_raw.strip() else texts(unit_raw)
    if unit_raw is not None and (unit is None or not FIELD_TYPES[type_name].numeric):
        example = 'unit: "%" or unit: {zh: 天, en: days}'
        out.add(where, f"field '{name}': unit is a number's, as text or {{zh, en}}", example)
    elif unit and label:
        label = {locale: with_unit(text, unit[locale], locale) for locale, text in label.items()}
    help_raw = raw.get("help")
    help_texts = texts(help_raw) if help_raw is not None else None
    if help_raw is not None and help_texts is None:
        out.add(where, f"field '{name}': help needs zh and en")
    options: list[Option] = []
    raw_options = raw.get("options") or []
    if not isinstance(raw_options, list):
        out.add(where, f"field '{name}': options must be a list of {{value, label: {{zh, en}}}}")
        raw_options = []
    for index, opt in enumerate(raw_options):
        opt_label = texts(opt.get("label")) if isinstance(opt, dict) else None
        if not isinstance(opt, dict) or not isinstance(opt.get("value"), str) or opt_label is None:
            out.add(where, f"field '{name}': option {index + 1} needs value and label {{zh, en}}")
            continue
        options.append(Option(opt["value"], opt_label))
    grid = raw.get("grid") or {}
    if not isinstance(grid, dict) or not isinstance(grid.get("width", 0), int):
        out.add(where, f"field '{name}': grid must be a mapping like {{width: 120, frozen: true}}")
        grid = {}
    if raw.get("section") is not None and not isinstance(raw["section"], str):
        out.add(where, f"field '{name}': section must be text")
    for key in ("to", "pattern", "compute", "default_setting"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            out.add(where, f"field '{name}': {key} must be text")
    figure = raw.get("figure")
    if figure is not None and figure not in (*FIGURES, SIDE_FIGURE):
        out.add(
            where,
            f"field '{name}': unknown figure '{figure}'",
            hint(str(figure), (*FIGURES, SIDE_FIGURE)),
            code="meta_bad_figure",
            option="figure",
            figure=str(figure),
        )
    measure = raw.get("measure")
    if measure is not None and (measure not in MEASURES or not FIELD_TYPES[type_name].numeric):
        out.add(
            where,
            f"field '{name}': measure '{measure}' is not one of a number's ({', '.join(MEASURES)})",
            hint(str(measure), MEASURES) if FIELD_TYPES[type_name].numeric else f"{type_name} is not a number",
            option="measure",
        )
    for key in ("read_roles", "write_roles"):
        if raw.get(key) is not None and not (isinstance(raw[key], list) and all(isinstance(r, str) for r in raw[key])):
            out.add(where, f"field '{name}': {key} must be a list of role keys")
    spec_kwargs: dict[str, Any] = {}
    for key, _kind in (("max_length", int), ("precision", int), ("scale", int)):
        if raw.get(key) is not None:
            if isinstance(raw[key], bool) or not isinstance(raw[key], int) or raw[key] < 0:
                out.add(where, f"field '{name}': {key} must be a non-negative integer")
            else:
                spec_kwargs[key] = raw[key]
    for key in ("required", "unique", "readonly", "hidden", "index", "search_index"):
        if key in raw and not isinstance(raw[key], bool):
            out.add(where, f"field '{name}': {key} must be true or false")
    if type_name in ("link",) and not raw.get("to"):
        out.add(where, f"field '{name}': a link needs 'to: <model>'", code="meta_link_needs_to", option="to")
    if len(out.errors) > before:
        return None
    spec = FieldSpec(
        name=name,
        type=type_name,
        label=label or {},
        help=help_texts or {},
        required=bool(raw.get("required", False)),
        unique=bool(raw.get("unique", False)),
        min=raw.get("min"),
        max=raw.get("max"),
        pattern=raw.get("pattern"),
        readonly=bool(raw.get("readonly", False)) or bool(raw.get("compute")),
        hidden=bool(raw.get("hidden", False)),
        grid_width=grid.get("width"),
        grid_frozen=bool(grid.get("frozen", False)),
        section=str(raw.get("section") or "basic"),
        index=bool(raw.get("index", False)),
        search_index=bool(raw.get("search_index", False)),
        read_roles=tuple(raw.get("read_roles") or ()),
        write_roles=tuple(raw.get("write_roles") or ()),
        compute=raw.get("compute"),
        figure=figure,
        measure=measure,
        default_setting=raw.get("default_setting"),
        backfill=raw.get("backfill"),
        options=tuple(options),
        unit=unit or {},
        to=raw.get("to"),
        source=where,
        origin=origin,
        **spec_kwargs,
    )
    ftype = FIELD_TYPES[type_name]
    for problem in ftype.check_spec(spec):
        option = {"select": "options", "text": "pattern", "barcode": "pattern"}.get(type_name, "precision")
        if option == "pattern":  # the engine's reason, in a sentence of the reader's language
            out.add(
                where,
                f"field '{name}': pattern refused ({problem})",
                code="meta_pattern",
                option=option,
                reason=problem,
            )
            continue
        out.add(
            where, f"field '{name}': {problem}", code="meta_options" if type_name == "select" else "", option=option
        )
    for problem in measure_problems(spec):
        out.add(where, f"field '{name}': {problem}", option="measure")
    for bound in ("min", "max"):
        value = getattr(spec, bound)
        if value is not None:
            try:
                ftype._parse_bound(value)
            except Exception:
                out.add(where, f"field '{name}': {bound} '{value}' is not valid for type {type_name}")
    if type_name == "date" and raw.get("default") == TODAY:
        spec = _replace(spec, default=TODAY)  # resolved to the business's date when a row is created
    elif "default" in raw and raw["default"] is not None and not spec.is_link:
        try:
            default = ftype.parse(spec, raw["default"])
        except (ValueProblem, Exception) as exc:  # noqa: BLE001 - any parse failure is a bad default
            out.add(
                where,
                f"field '{name}': bad default '{raw['default']}': {exc}",
                code="meta_bad_default",
                option="default",
                value=str(raw["default"]),
                reason=str(exc),
            )
        else:
            spec = _replace(spec, default=default)
    elif "default" in raw:
        spec = _replace(spec, default=raw["default"])
    return spec


def measure_problems(spec: FieldSpec) -> list[str]:
    """What a field's numbers are must fit the field: a price is money, a share (0..1) or a percent a rate, and money
    at a unit price's scale (above 2 places) says whether it is a price or an amount (the grid sums only amounts)."""
    ftype = FIELD_TYPES[spec.type]
    measure = ftype.measure_of(spec)
    if measure == "price" and spec.type != "money":
        return [f"measure 'price' is money per unit, not a {spec.type}"]
    if spec.is_fraction and measure != "rate":
        return ["a decimal bounded 0..1 is a share: measure: rate"]
    if spec.in_percent and measure != "rate":
        return ["a number whose unit is % is a rate: measure: rate"]
    places = ftype.scale(spec)
    if spec.type == "money" and spec.measure is None and not spec.compute and (places or 0) > MoneyType.default_scale:
        return [f"money with {places} decimals: say whether it is a unit price (measure: price) or an amount"]
    return []


def _check_summed_computes(models: dict[str, ModelSpec], handlers: Handlers) -> list[MetaError]:
    """A total that adds up its lines' field (`@sums`) is an amount, of a line field that is an amount too."""
    errors = []
    for model in models.values():
        lines = models.get(model.lines_model) if model.lines_model else None
        for spec in model.computed_fields:
            summed = getattr(handlers.computes.get((model.key, spec.name)), "sums", None)
            if summed is None or lines is None:
                continue
            line_field = lines.field(summed)
            if not FIELD_TYPES[spec.type].summed(spec) or (
                line_field is not None and not FIELD_TYPES[line_field.type].summed(line_field)
            ):
                errors.append(
                    MetaError(spec.source, f"field '{spec.name}': adds up the lines' '{summed}', so both are amounts")
                )
    return errors


def _replace(spec: _Spec, **changes: Any) -> _Spec:
    return replace(spec, **changes)


def _field_groups(
    data: dict[str, Any], option: str, names: set[str], out: Collector, rel: Path | str, example: str
) -> tuple[tuple[str, ...], ...]:
    """A model option listing groups of field names (unique_together, indexes)."""
    groups: list[tuple[str, ...]] = []
    for group in data.get(option) or []:
        if not isinstance(group, list) or not group or any(not isinstance(n, str) or n not in names for n in group):
            out.add(f"{rel}:{line_of(data, option)}", f"{option} entry {group} must list fields", example)
            continue
        groups.append(tuple(group))
    return tuple(groups)


def _natural_key(
    data: dict[str, Any], business_key: str, names: set[str], out: Collector, rel: Path | str
) -> tuple[str, ...]:
    """The fields that together name a row of a model whose business key is its id (an item and a unit name one
    of its units), as an import's 更新 finds the row to change; () when not given."""
    given = data.get("natural_key")
    if given is None:
        return ()
    where = f"{rel}:{line_of(data, 'natural_key')}"
    if business_key != "id":
        out.add(where, "natural_key is for a model whose business_key is id", "remove it: the business key names a row")
        return ()
    if not isinstance(given, list) or not given or any(not isinstance(n, str) or n not in names for n in given):
        out.add(where, f"natural_key {given} must list fields", "natural_key: [item, unit]")
        return ()
    if len(set(given)) != len(given):
        out.add(where, f"natural_key {given} names a field twice", "natural_key: [item, unit]")
        return ()
    return tuple(given)


def _fillfactor(data: dict[str, Any], option: str, out: Collector, rel: Path | str) -> int | None:
    """A table's fillfactor (PostgreSQL's range, 10-100 percent), or None when not given."""
    value = data.get(option)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 10 <= value <= 100:
        out.add(f"{rel}:{line_of(data, option)}", f"{option} must be a whole percent from 10 to 100", f"{option}: 90")
        return None
    return value


def _load_model(key: str, path: Path, root: Path, out: Collector) -> list[ModelSpec]:
    data, problems = load_yaml(path)
    rel = path.relative_to(root.parent) if root.parent in path.parents else path
    for problem in problems:
        out.add(f"{rel}:{problem.line}", problem.message)
    if problems and data is None:
        return []
    if not isinstance(data, dict):
        out.add(f"{rel}:1", "a model file must be a mapping", "label, kind, business_key, fields")
        return []
    where = f"{rel}:{line_of(data)}"
    if not NAME_RE.fullmatch(key):
        out.add(where, f"model key '{key}' is not valid", "file stem in lower_snake_case")
    for option in data:
        if option not in MODEL_OPTIONS:
            out.add(f"{rel}:{line_of(data, option)}", f"unknown model option '{option}'", hint(option, MODEL_OPTIONS))
    label = texts(data.get("label"))
    if label is None:
        out.add(where, "model label needs zh and en", "label: {zh: 商品, en: Item}")
    kind = data.get("kind", "master")
    if kind not in MODEL_KINDS:
        out.add(f"{rel}:{line_of(data, 'kind')}", f"unknown kind '{kind}'", hint(kind, MODEL_KINDS))
        kind = "master"
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        out.add(where, "a model needs a non-empty 'fields' mapping")
        raw_fields = {}
    fields: list[FieldSpec] = list(document_fields()) if kind == "document" else []
    line_fields: list[FieldSpec] = []
    for name, raw in raw_fields.items():
        fwhere = f"{rel}:{line_of(raw_fields, name)}"
        if kind == "document" and name in ("number", "status"):
            out.add(fwhere, f"'{name}' is added to every document automatically", "remove it")
            continue
        spec = parse_field(name, raw, fwhere, out, allow_lines=(kind == "document" and name == "lines"))
        if spec is None:
            continue
        if spec.type == "lines":
            nested = raw.get("fields")
            if not isinstance(nested, dict) or not nested:
                out.add(fwhere, "lines need a non-empty 'fields' mapping")
                continue
            for lname, lraw in nested.items():
                lspec = parse_field(lname, lraw, f"{rel}:{line_of(nested, lname)}", out)
                if lspec is not None:
                    line_fields.append(lspec)
        fields.append(spec)
    if kind == "ledger":
        fields = [_replace(f, readonly=True) for f in fields]
    names = {f.name for f in fields}
    business_key = data.get("business_key", "number" if kind == "document" else None)
    if business_key is not None and not isinstance(business_key, str):
        out.add(f"{rel}:{line_of(data, 'business_key')}", "business_key must be a field name")
        business_key = "id"
    if business_key is None:
        out.add(where, "business_key is missing", "the unique code field, e.g. business_key: sku (or id)")
        business_key = "id"
    elif business_key != "id" and business_key not in names:
        out.add(
            f"{rel}:{line_of(data, 'business_key')}",
            f"business_key '{business_key}' is not a field",
            hint(business_key, names),
        )
    display = data.get("display")
    if display is not None and not isinstance(display, str):
        out.add(f"{rel}:{line_of(data, 'display')}", "display must be a field name")
        display = None
    if display is not None and display not in names:
        out.add(f"{rel}:{line_of(data, 'display')}", f"display '{display}' is not a field", hint(display, names))
    prefix = data.get("number_prefix")
    if kind == "document" and not (isinstance(prefix, str) and re.fullmatch(r"[A-Z]{1,6}", prefix)):
        out.add(where, "a document needs number_prefix of 1-6 capital letters", "number_prefix: CG")
    unique_together = _field_groups(data, "unique_together", names, out, rel, "unique_together: [[item, warehouse]]")
    indexes = _field_groups(data, "indexes", names, out, rel, "indexes: [[category, name]]")
    natural_key = _natural_key(data, business_key, names, out, rel)
    sides = load_sides(data.get("sides"), fields, f"{rel}:{line_of(data, 'sides')}", out)
    fillfactor = _fillfactor(data, "fillfactor", out, rel)
    lines_fillfactor = _fillfactor(data, "lines_fillfactor", out, rel)
    if lines_fillfactor is not None and not line_fields:
        out.add(f"{rel}:{line_of(data, 'lines_fillfactor')}", "lines_fillfactor needs a document with lines")
    models = [
        ModelSpec(
            key=key,
            unique_together=unique_together,
            natural_key=natural_key,
            indexes=indexes,
            label=label or {"zh": key, "en": key},
            kind=kind,
            fields=tuple(fields + system_fields(kind)),
            business_key=business_key,
            display=display,
            number_prefix=prefix,
            help=texts(data.get("help")) or {},
            source=where,
            sides=sides,
            fillfactor=fillfactor,
        )
    ]
    if line_fields:
        doc_label = label or {"zh": key, "en": key}
        models.append(
            ModelSpec(
                key=f"{key}_line",
                label={locale: t("model.lines", locale, name=doc_label[locale]) for locale in LOCALES},
                kind="line",
                fields=(parent_field(key), *line_fields, *system_fields("line")),
                business_key="id",
                parent=key,
                source=where,
                fillfactor=lines_fillfactor,
            )
        )
    return models


def _check_links(models: dict[str, ModelSpec], out: Collector) -> None:
    for model in models.values():
        seen_columns: dict[str, str] = {}
        for spec in model.fields:
            if spec.type == "link" and spec.to not in models:
                out.add(
                    spec.source,
                    f"field '{spec.name}' links to missing model '{spec.to}'",
                    hint(str(spec.to), models),
                    code="meta_missing_model",
                    option="to",
                    model=str(spec.to),
                )
            if spec.column in seen_columns and seen_columns[spec.column] != spec.name:
                out.add(spec.source, f"field '{spec.name}' clashes with field '{seen_columns[spec.column]}'")
            seen_columns[spec.column] = spec.name


def add_runtime_fields(models: dict[str, ModelSpec], rows: Iterable[dict[str, Any]], out: Collector) -> None:
    """Merge fields stored in the database (added from the admin page) into the models."""
    for row in rows:
        model = models.get(row["model"])
        where = f"database field {row['model']}.{row['name']}"
        if model is None:
            out.add(where, f"model '{row['model']}' no longer exists")
            continue
        spec = parse_field(row["name"], row["spec"], where, out, origin="db")
        if spec is None:
            continue
        if model.field(spec.name) is not None:
            out.add(where, f"field '{spec.name}' is declared twice (YAML and database)")
            continue
        fields = list(model.fields)
        insert_at = next((i for i, f in enumerate(fields) if f.system), len(fields))
        fields.insert(insert_at, spec)
        models[model.key] = _replace(model, fields=tuple(fields))


def settings_measured(model: ModelSpec) -> ModelSpec:
    """A master record's quantity is a setting of that record (安全库存, 再订货点: a level per item), not something
    that adds up over records: `measure: number` unless the field says otherwise. Its rows are things, not moves."""
    if model.kind != "master":
        return model
    fields = tuple(
        _replace(spec, measure="number") if spec.type == "quantity" and spec.measure is None else spec
        for spec in model.fields
    )
    return _replace(model, fields=fields)


def load_metadata(root: Path, runtime_fields: Iterable[dict[str, Any]] = ()) -> tuple[Metadata | None, list[MetaError]]:
    """Read and validate metadata/; return (metadata, []) or (None, every error)."""
    out = Collector()
    models: dict[str, ModelSpec] = {}
    model_dir = root / "models"
    if not model_dir.is_dir():
        out.add(str(model_dir), "models/ folder is missing")
    for path in sorted(model_dir.glob("*.yaml")) if model_dir.is_dir() else []:
        for model in _load_model(path.stem, path, root, out):
            if model.key in models:
                out.add(model.source, f"model '{model.key}' is declared twice")
            models[model.key] = model
    add_runtime_fields(models, runtime_fields, out)
    models.update((key, settings_measured(model)) for key, model in list(models.items()))
    _check_links(models, out)
    roles = load_roles(root, models, out)
    menus = load_menus(root, models, out)
    settings = load_settings(root, out)
    approvals = load_approvals(root, models, roles, out.add)
    for model in models.values():
        for spec in model.fields:
            for role_key in spec.read_roles + spec.write_roles:
                if roles and role_key not in roles:
                    out.add(spec.source, f"field '{spec.name}': unknown role '{role_key}'", hint(role_key, roles))
    _check_default_settings(models, settings, out)
    _check_backfills(models, out)
    reports = load_reports(root, models, roles, out)
    for menu in menus:
        for link in menu.links:
            if link.report is not None and link.report not in reports:
                out.add(
                    f"{root.name}/menus.yaml",
                    f"menu link '{link.key}' names missing report '{link.report}'",
                    hint(link.report, reports),
                )
    _check_account_scopes(roles, root, out)
    if out.errors:
        return None, out.errors
    handlers, handler_errors = resolve_handlers(models)
    handler_errors = handler_errors or check_added_levels(approvals, handlers.behaviours)
    if handler_errors:
        return None, handler_errors
    approvals = mark_valued_at_posting(models, approvals, handlers)
    figure_errors = (derive_figures(models, handlers) + _check_summed_computes(models, handlers)) or (
        required_fillable(models, roles) + scope_fillable(models, roles)
    )
    if figure_errors:
        return None, figure_errors
    return (
        Metadata(
            models=models,
            roles=roles,
            menus=menus,
            settings=settings,
            approvals=approvals,
            handlers=handlers,
            reports=reports,
        ),
        [],
    )


def _check_account_scopes(roles: dict[str, RoleSpec], root: Path, out: Collector) -> None:
    """No role reads a partner's account through a row scope that leaves some of it out."""
    for problem in account_scope_problems(roles):
        out.add(f"{root.name}/roles.yaml", problem)


def _check_backfills(models: dict[str, ModelSpec], out: Collector) -> None:
    """A field's backfill names another field of its model of the same type, or is a valid value of its type."""
    for model in models.values():
        for spec in model.fields:
            source = model.field(spec.backfill) if isinstance(spec.backfill, str) else None
            if source is not None and source.type != spec.type:
                problem = f"backfill field '{source.name}' is a {source.type}, not a {spec.type}"
                out.add(spec.source, f"field '{spec.name}': {problem}")
                continue
            if spec.backfill is None or source is not None:
                continue
            try:
                FIELD_TYPES[spec.type].parse(spec, spec.backfill)
            except Exception as exc:  # noqa: BLE001 - any parse failure is a bad backfill
                out.add(
                    spec.source,
                    f"field '{spec.name}': backfill '{spec.backfill}' is neither a field nor a value: {exc}",
                    code="meta_bad_backfill",
                    option="backfill",
                    value=str(spec.backfill),
                    reason=str(exc),
                )


def _check_default_settings(models: dict[str, ModelSpec], settings: dict[str, Any], out: Collector) -> None:
    """A field's default_setting must name a policy switch of settings.yaml."""
    switches = settings.get("policy") or {}
    for model in models.values():
        for spec in model.fields:
            if spec.default_setting is not None and spec.default_setting not in switches:
                out.add(
                    spec.source,
                    f"field '{spec.name}': default_setting '{spec.default_setting}' is not a policy switch",
                    hint(spec.default_setting, switches),
                )
