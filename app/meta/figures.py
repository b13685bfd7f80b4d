"""What each field reveals: the kinds of figures it is (declared) and those it is computed from (derived).

A money field declares what figure it is (`figure: purchase`); a computed field reveals, besides its own,
every figure of the values its handler reads (`@reads("qty", "price")` in app/ledger/compute.py), through
lines (`lines.amount`) and the document header (`document.prices_include_tax`) too. So a line's tax or a
document's total with tax is hidden wherever its price is, without a second list to keep in step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from app.meta.common import Collector, hint
from app.meta.spec import FIGURES, SIDE_FIGURE, SIDES, FieldSpec, MetaError, ModelSpec, RoleSpec, SidesSpec

READS = "reads"  # the attribute a compute handler declares its inputs in


def load_sides(raw: Any, fields: list[FieldSpec], where: str, out: Collector) -> SidesSpec | None:
    """A model's `sides: {field: kind, values: {customer: [sale], supplier: [purchase], both: [sale, purchase]}}`."""
    if raw is None:
        return None
    example = "sides: {field: kind, values: {customer: [sale], supplier: [purchase]}}"
    if not isinstance(raw, dict) or not isinstance(raw.get("field"), str) or not isinstance(raw.get("values"), dict):
        out.add(where, "sides needs a select field and its values' sides", example)
        return None
    spec = next((f for f in fields if f.name == raw["field"]), None)
    if spec is None or spec.type != "select":
        out.add(where, f"sides: '{raw['field']}' is not a select field of the model", example)
        return None
    values: dict[str, tuple[str, ...]] = {}
    for option in spec.options:
        on = raw["values"].get(option.value)
        if not isinstance(on, list) or not on or any(side not in SIDES for side in on):
            out.add(
                where, f"sides: value '{option.value}' needs a list of sides", "one or more of: " + ", ".join(SIDES)
            )
            continue
        values[option.value] = tuple(on)
    for extra in set(raw["values"]) - {o.value for o in spec.options}:
        out.add(
            where, f"sides: '{extra}' is not an option of '{spec.name}'", hint(extra, [o.value for o in spec.options])
        )
    return SidesSpec(field=spec.name, values=values)


def model_sides(models: dict[str, ModelSpec], model: ModelSpec) -> SidesSpec | None:
    """The sides of a model's rows (a line's are its document's)."""
    if model.parent is not None:
        return models[model.parent].sides if model.parent in models else None
    return model.sides


def _inputs(models: dict[str, ModelSpec], model: ModelSpec, names: tuple[str, ...]) -> list[tuple[ModelSpec, str]]:
    """The (model, field) pairs a handler's `reads` names: 'x', 'lines.x' or 'document.x'."""
    found = []
    for name in names:
        scope, _, field_name = name.rpartition(".")
        target: ModelSpec | None = model
        if scope == "lines":
            target = models.get(model.lines_model or "")
        elif scope == "document":
            target = models.get(model.parent or "")
        elif scope:
            target = None
        if target is not None and target.field(field_name) is not None:
            found.append((target, field_name))
    return found


def derive_figures(models: dict[str, ModelSpec], handlers: Any) -> list[MetaError]:
    """Set every field's `figures`; a money field revealing none, or a figure naming an unknown side, is an error."""
    errors: list[MetaError] = []
    done: dict[tuple[str, str], frozenset[str]] = {}
    busy: set[tuple[str, str]] = set()

    def figures_of(model: ModelSpec, name: str) -> frozenset[str]:
        key = (model.key, name)
        if key in done:
            return done[key]
        if key in busy:  # a handler reading itself, through lines and back: nothing more to find
            return frozenset()
        busy.add(key)
        spec = model.field(name)
        own = {spec.figure} if spec is not None and spec.figure else set()
        function = handlers.computes.get(key) if handlers is not None else None
        for target, field_name in _inputs(models, model, getattr(function, READS, ())):
            own |= figures_of(target, field_name)
        busy.discard(key)
        done[key] = frozenset(own)
        return done[key]

    for model in models.values():
        for spec in model.fields:
            if spec.compute and handlers is not None:
                function = handlers.computes.get((model.key, spec.name))
                if function is not None and not hasattr(function, READS):
                    errors.append(
                        MetaError(
                            spec.source,
                            f"field '{spec.name}': compute '{spec.compute}' does not say what it reads",
                            "decorate it with @reads('qty', 'price', ...) from app.ledger.compute",
                        )
                    )
            figures = figures_of(model, spec.name)
            if spec.type == "money" and not figures:
                errors.append(
                    MetaError(
                        spec.source,
                        f"field '{spec.name}': a money field must say what figure it is",
                        "figure: " + " | ".join((*FIGURES, SIDE_FIGURE)),
                        code="meta_figure_missing",
                        option="figure",
                    )
                )
            if SIDE_FIGURE in figures and model_sides(models, model) is None:
                errors.append(
                    MetaError(
                        spec.source,
                        f"field '{spec.name}': 'figure: side' needs the model (or its document) to declare sides",
                        "sides: {field: kind, values: {...}}",
                        code="meta_side_without_sides",
                        option="figure",
                    )
                )
    for model in list(models.values()):
        fields = tuple(replace(spec, figures=done.get((model.key, spec.name), frozenset())) for spec in model.fields)
        models[model.key] = replace(model, fields=fields)
    return errors


def kinds_shown(models: dict[str, ModelSpec], model: ModelSpec, spec: FieldSpec, sides: frozenset[str]) -> set[str]:
    """The kinds of figures the field shows a role reading rows of `sides` (`side` is the sides of those rows)."""
    kinds = set(spec.figures) - {SIDE_FIGURE}
    if SIDE_FIGURE in spec.figures:
        found = model_sides(models, model)
        on_model = {side for values in (found.values.values() if found else ()) for side in values}
        kinds |= on_model & sides
    return kinds


def required_fillable(models: dict[str, ModelSpec], roles: dict[str, RoleSpec]) -> list[MetaError]:
    """Every role that may write a model can fill its required fields (those without a default): one hidden from
    it (a kind of figure it hides, its hidden_fields, the field's read_roles) or read-only for it would keep it
    from saving any row of the model, and name to it a field it may not see."""
    return [
        MetaError(
            spec.source,
            f"field '{spec.name}': required, but role '{role.key}' writes {model.key} and may not see or set it",
            "drop required, give it a default, or let the role see it",
            code="meta_required_unfillable",
            params=(("field", spec.name), ("role", role.key)),
            option="required",
        )
        for model, spec, role in unfillable(models, roles)
    ]


def unfillable(
    models: dict[str, ModelSpec], roles: dict[str, RoleSpec]
) -> Iterator[tuple[ModelSpec, FieldSpec, RoleSpec]]:
    """(model, field, role) for each required field without a default that a role writing the model may not see or
    set: what `required_fillable` refuses at load, and app/services/access/locks.py of the roles in force (价格屏蔽,
    FAB's role pages)."""
    for model in models.values():
        writers = [role for role in roles.values() if "write" in role.grants(model.permission_model)]
        for spec in model.fields:
            if not spec.required or spec.default is not None or spec.default_setting or spec.readonly or spec.system:
                continue
            for role in writers:
                if not _fillable(models, model, spec, role):
                    yield model, spec, role


def _fillable(models: dict[str, ModelSpec], model: ModelSpec, spec: FieldSpec, role: RoleSpec) -> bool:
    if spec.name in role.hidden_fields.get(model.key, ()) or spec.name in role.readonly_fields.get(model.key, ()):
        return False
    if (spec.read_roles and role.origin not in spec.read_roles) or (
        spec.write_roles and role.origin not in spec.write_roles
    ):
        return False
    return not kinds_shown(models, model, spec, role.sides) & role.hidden_figures
