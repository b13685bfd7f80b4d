"""Code that metadata names, resolved once when metadata loads: a typo or a broken import is an error
with the file it came from, at `jxc meta check` and at start-up, never a silent default at the first save.

Three kinds of names:
- `compute:` on a field: a dotted path to a function of the row's values (app.documents.compute.line_amount);
- a document's behaviour, found by name: app/documents/<model>.py's CamelCase class
  (sales_delivery -> SalesDelivery); a document without a module gets DocumentBehaviour from app/documents/base.py;
- a model's rules, found by name: app/rules/<model>.py with `check_change`, `check_delete`,
  `after_create` and / or `check_creates`.

Modules are imported by name (importlib), so this package still imports nothing above it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from app.meta.spec import MetaError, ModelSpec

DOCUMENTS = "app.documents"
DEFAULT_BEHAVIOUR = "app.documents.base.DocumentBehaviour"
RULES = "app.rules"
RULE_FUNCTIONS = ("check_change", "check_delete", "after_create", "after_update", "check_creates", "derived_values")


@dataclass(frozen=True)
class Handlers:
    """The code metadata names, looked up once per metadata version."""

    computes: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = field(default_factory=dict)
    behaviours: dict[str, type] = field(default_factory=dict)  # every document model -> its class
    rules: dict[str, dict[str, Callable[..., Any]]] = field(default_factory=dict)  # model -> {function name: fn}


def class_name(model_key: str) -> str:
    """sales_delivery -> SalesDelivery."""
    return "".join(part.capitalize() for part in model_key.split("_"))


def _module_file(module: str) -> str:
    return module.replace(".", "/") + ".py"


def _optional_module(module: str) -> ModuleType | None:
    """The module if its file exists (None when it does not); an error inside it propagates."""
    parent, _, _ = module.rpartition(".")
    importlib.import_module(parent)
    if importlib.util.find_spec(module) is None:
        return None
    return importlib.import_module(module)


def resolve_path(path: str) -> Any:
    """The object a dotted path names (module.attribute); ImportError / AttributeError when there is none."""
    module, _, name = path.rpartition(".")
    if not module:
        raise ImportError(f"'{path}' is not a dotted path (module.function)")
    return getattr(importlib.import_module(module), name)


def resolve_handlers(models: dict[str, ModelSpec]) -> tuple[Handlers, list[MetaError]]:
    """Look up every compute handler, document behaviour and rules module; every failure as an error."""
    errors: list[MetaError] = []
    handlers = Handlers()
    for model in models.values():
        for spec in model.fields:
            if not spec.compute:
                continue
            try:
                function = resolve_path(spec.compute)
            except Exception as exc:  # noqa: BLE001 - any failure to import is reported, with its cause
                errors.append(
                    MetaError(spec.source, f"field '{spec.name}': compute '{spec.compute}' cannot be loaded: {exc!r}")
                )
                continue
            if not callable(function):
                errors.append(
                    MetaError(spec.source, f"field '{spec.name}': compute '{spec.compute}' is not a function")
                )
                continue
            handlers.computes[model.key, spec.name] = function
        if model.kind == "document":
            _resolve_behaviour(model, handlers, errors)
        _resolve_rules(model, handlers, errors)
    return handlers, errors


def _resolve_behaviour(model: ModelSpec, handlers: Handlers, errors: list[MetaError]) -> None:
    module_name = f"{DOCUMENTS}.{model.key}"
    try:
        module = _optional_module(module_name)
        cls = resolve_path(DEFAULT_BEHAVIOUR) if module is None else getattr(module, class_name(model.key), None)
    except Exception as exc:  # noqa: BLE001 - a broken import inside the module must stop start-up
        errors.append(MetaError(_module_file(module_name), f"document '{model.key}': {exc!r}"))
        return
    if cls is None:
        errors.append(
            MetaError(_module_file(module_name), f"document '{model.key}': class {class_name(model.key)} is missing")
        )
        return
    handlers.behaviours[model.key] = cls


def _resolve_rules(model: ModelSpec, handlers: Handlers, errors: list[MetaError]) -> None:
    module_name = f"{RULES}.{model.key}"
    try:
        module = _optional_module(module_name)
    except Exception as exc:  # noqa: BLE001 - as above
        errors.append(MetaError(_module_file(module_name), f"rules of '{model.key}': {exc!r}"))
        return
    if module is None:
        return
    found = {name: getattr(module, name) for name in RULE_FUNCTIONS if callable(getattr(module, name, None))}
    if not found:
        errors.append(
            MetaError(_module_file(module_name), f"rules of '{model.key}': none of {', '.join(RULE_FUNCTIONS)}")
        )
        return
    handlers.rules[model.key] = found
