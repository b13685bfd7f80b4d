"""metadata/approvals.yaml: approval chains per document (amount bands x roles, several levels)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from app.meta.spec import ApprovalChain, ApprovalLevel, MetaError, ModelSpec, RoleSpec
from app.meta.yamlload import line_of, load_yaml

WHERE = "metadata/approvals.yaml"


def load_approvals(
    root: Path, models: dict[str, ModelSpec], roles: dict[str, RoleSpec], add: Callable[..., None]
) -> dict[str, ApprovalChain]:
    """Read and check approvals.yaml (missing file: no approvals); errors go to `add(where, message)`."""
    path = root / "approvals.yaml"
    rel = f"{root.name}/approvals.yaml"
    if not path.exists():
        return {}
    data, problems = load_yaml(path)
    for problem in problems:
        add(f"{rel}:{problem.line}", problem.message)
    chains: dict[str, ApprovalChain] = {}
    if not isinstance(data, dict):
        if data is not None:
            add(f"{rel}:1", "approvals.yaml must map document model -> {amount_field, levels}")
        return chains
    for key, raw in data.items():
        where = f"{rel}:{line_of(data, key)}"
        model = models.get(key)
        if model is None or model.kind != "document":
            add(where, f"'{key}' is not a document model")
            continue
        if not isinstance(raw, dict) or not isinstance(raw.get("levels"), list):
            add(where, f"{key}: needs amount_field and a list of levels")
            continue
        amount_field = raw.get("amount_field")
        if not isinstance(amount_field, str) or model.field(amount_field) is None:
            add(where, f"{key}: amount_field '{amount_field}' is not a field of {key}")
            continue
        levels = []
        for level in raw["levels"]:
            try:
                above = Decimal(str(level.get("above", 0)))
            except (AttributeError, InvalidOperation):
                add(where, f"{key}: each level needs above: <amount> and role: <role>")
                continue
            role = level.get("role")
            if role not in roles:
                add(where, f"{key}: unknown role '{role}'")
                continue
            levels.append(ApprovalLevel(above, role))
        if [lv.above for lv in levels] != sorted(lv.above for lv in levels):
            add(where, f"{key}: levels must go up by amount")
        chains[key] = ApprovalChain(key, amount_field, tuple(levels), _added(key, raw, roles, where, add))
    return chains


def _added(
    key: str, raw: dict[str, Any], roles: dict[str, RoleSpec], where: str, add: Callable[..., None]
) -> tuple[tuple[str, str], ...]:
    """`added_levels: {name: role}`: who approves each level the document's behaviour adds (over budget)."""
    added = raw.get("added_levels") or {}
    if not isinstance(added, dict):
        add(where, f"{key}: added_levels must map a level's name to a role")
        return ()
    for name, role in added.items():
        if role not in roles:
            add(where, f"{key}: added level '{name}': unknown role '{role}'")
    return tuple((str(name), role) for name, role in added.items() if role in roles)


def check_added_levels(approvals: dict[str, ApprovalChain], behaviours: dict[str, Any]) -> list[MetaError]:
    """Each level a document's behaviour may add (`adds_levels`) has its role in approvals.yaml, and approvals.yaml
    names no added level that no behaviour adds (a typo would leave the level without its role)."""
    errors = []
    for key, behaviour in behaviours.items():
        chain = approvals.get(key)
        named = {name for name, _ in chain.added} if chain is not None else set()
        for name in behaviour.adds_levels:
            if name not in named:
                errors.append(MetaError(WHERE, f"{key}: added_levels needs a role for '{name}' ({key}'s own level)"))
    for key, chain in approvals.items():
        adds = getattr(behaviours.get(key), "adds_levels", ())
        for name, _ in chain.added:
            if name not in adds:
                known = ", ".join(adds) or "none"
                errors.append(MetaError(WHERE, f"{key}: '{name}' is not a level {key} adds (it adds: {known})"))
    return errors


def mark_valued_at_posting(
    models: dict[str, ModelSpec], approvals: dict[str, ApprovalChain], handlers: Any
) -> dict[str, ApprovalChain]:
    """The chains whose amount posting values, marked `valued_at_posting`: the field is one the document's behaviour
    values as it posts (`valued_at_posting`: a stocktake's lines' 差异金额, at the stock ledger's cost then), or is
    computed from such (through what its compute handler `@reads`, `lines.x` too: a stocktake's 差异金额合计).
    Submitting decides whether the document waits, before it posts: for these it first values the document as
    posting would, writing nothing, to read the amount as posting makes it (app/services/posting/service.py
    `_valued`)."""
    marked = dict(approvals)
    for key, chain in approvals.items():
        posted = set(getattr(handlers.behaviours.get(key), "valued_at_posting", ()))
        if posted and _reaches(models, models[key], chain.amount_field, posted, handlers, frozenset()):
            marked[key] = replace(chain, valued_at_posting=True)
    return marked


def _reaches(
    models: dict[str, ModelSpec],
    model: ModelSpec,
    name: str,
    posted: set[str],
    handlers: Any,
    seen: frozenset[tuple[str, str]],
    prefix: str = "",
) -> bool:
    """Is the field `name` of `model` (`prefix`: 'lines.' on the document's lines) one posting values, or computed
    from one?"""
    if f"{prefix}{name}" in posted or (model.key, name) in seen:
        return f"{prefix}{name}" in posted
    handler = handlers.computes.get((model.key, name))
    for read in getattr(handler, "reads", ()):
        scope, _, field_name = read.rpartition(".")
        if scope == "lines" and not prefix and model.lines_model in models:
            target, inner = models[model.lines_model], "lines."
        elif not scope:
            target, inner = model, prefix
        else:
            continue
        if _reaches(models, target, field_name, posted, handlers, seen | {(model.key, name)}, inner):
            return True
    return False
