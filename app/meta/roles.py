"""Loading roles.yaml, menus.yaml and settings.yaml (every error collected with file:line)."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

from app.meta.common import Collector, hint, texts
from app.meta.spec import ACTIONS, FIGURES, SIDES, MenuLink, MenuSpec, ModelSpec, RoleSpec
from app.meta.yamlload import line_of, load_yaml

ROLE_OPTIONS = {
    "label",
    "permissions",
    "hidden_figures",
    "sides",
    "hidden_fields",
    "readonly_fields",
    "row_scope",
    "reports",
}
REQUIRED_ROLES = ("admin", "manager", "clerk", "purchaser", "salesperson", "warehouse", "finance")
# me: a user field is the reader; my_warehouses: a warehouse link is one of theirs; visible: a link to a row
# the reader may see (payments of the salesperson's own customers)
SCOPE_VALUES = {"me": "user", "my_warehouses": "link", "visible": "link"}


def load_roles(root: Path, models: dict[str, ModelSpec], out: Collector) -> dict[str, RoleSpec]:
    """roles.yaml: actions per model (globs), hidden and read-only fields, row scope."""
    path = root / "roles.yaml"
    rel = f"{root.name}/roles.yaml"
    if not path.exists():
        out.add(rel, "roles.yaml is missing")
        return {}
    data, problems = load_yaml(path)
    for problem in problems:
        out.add(f"{rel}:{problem.line}", problem.message)
    if not isinstance(data, dict) or not isinstance(data.get("roles"), dict):
        out.add(f"{rel}:1", "roles.yaml needs a 'roles' mapping")
        return {}
    roles: dict[str, RoleSpec] = {}
    raw_roles = data["roles"]
    for key in REQUIRED_ROLES:
        if key not in raw_roles:
            out.add(f"{rel}:{line_of(raw_roles)}", f"role '{key}' is missing")
    for key, raw in raw_roles.items():
        where = f"{rel}:{line_of(raw_roles, key)}"
        if not isinstance(raw, dict):
            out.add(where, f"role '{key}' must be a mapping")
            continue
        for option in raw:
            if option not in ROLE_OPTIONS:
                out.add(
                    f"{rel}:{line_of(raw, option)}",
                    f"role '{key}': unknown option '{option}'",
                    hint(option, ROLE_OPTIONS),
                )
        permissions: dict[str, tuple[str, ...]] = {}
        for section in ("permissions", "hidden_fields", "readonly_fields", "row_scope"):
            if raw.get(section) is not None and not isinstance(raw[section], dict):
                out.add(f"{rel}:{line_of(raw, section)}", f"role '{key}': {section} must be a mapping of model -> ...")
                raw = {k: v for k, v in raw.items() if k != section}
        for pattern, actions in (raw.get("permissions") or {}).items():
            pwhere = f"{rel}:{line_of(raw.get('permissions'), pattern)}"
            if not fnmatch.filter(models, pattern):
                out.add(pwhere, f"role '{key}': '{pattern}' matches no model", hint(pattern, models))
            actions_list = list(ACTIONS) if actions == "all" else actions
            if not isinstance(actions_list, list):
                out.add(pwhere, f"role '{key}': actions for '{pattern}' must be a list or 'all'")
                continue
            for action in actions_list:
                if not isinstance(action, str) or action not in ACTIONS:
                    out.add(pwhere, f"role '{key}': unknown action '{action}'", hint(action, ACTIONS))
            permissions[pattern] = tuple(a for a in actions_list if isinstance(a, str) and a in ACTIONS)
        masks: dict[str, dict[str, tuple[str, ...]]] = {}
        for section in ("hidden_fields", "readonly_fields"):
            masks[section] = {}
            for model_key, field_names in (raw.get(section) or {}).items():
                mwhere = f"{rel}:{line_of(raw.get(section), model_key)}"
                if model_key not in models:
                    out.add(
                        mwhere, f"role '{key}': {section} names missing model '{model_key}'", hint(model_key, models)
                    )
                    continue
                names = {f.name for f in models[model_key].fields}
                if not isinstance(field_names, list):
                    out.add(mwhere, f"role '{key}': {section} of {model_key} must be a list, e.g. [purchase_price]")
                    continue
                for fname in field_names:
                    if fname not in names:
                        out.add(mwhere, f"role '{key}': {model_key} has no field '{fname}'", hint(fname, names))
                    elif section == "hidden_fields" and _is_figure(models[model_key], fname):
                        out.add(
                            mwhere,
                            f"role '{key}': {model_key}.{fname} is a figure; hide its kind instead",
                            "hidden_figures: [" + ", ".join(FIGURES) + "]",
                        )
                masks[section][model_key] = tuple(field_names or ())
        scopes: dict[str, dict[str, str]] = {}
        for model_key, rule in (raw.get("row_scope") or {}).items():
            swhere = f"{rel}:{line_of(raw.get('row_scope'), model_key)}"
            if model_key not in models or not isinstance(rule, dict):
                out.add(swhere, f"role '{key}': row_scope needs an existing model and {{field: me|my_warehouses}}")
                continue
            for fname, token in rule.items():
                fspec = models[model_key].field(fname)
                if not isinstance(token, str) or token not in SCOPE_VALUES:
                    out.add(swhere, f"role '{key}': unknown scope value '{token}'", hint(token, SCOPE_VALUES))
                elif fspec is None:
                    out.add(swhere, f"role '{key}': {model_key} has no field '{fname}'")
                elif token == "me" and fspec.type != "user":
                    out.add(swhere, f"role '{key}': '{fname}' must be a user field for 'me'")
                elif token == "my_warehouses" and not (fspec.type == "link" and fspec.to == "warehouse"):
                    out.add(swhere, f"role '{key}': '{fname}' must link to warehouse for 'my_warehouses'")
                elif token == "visible" and fspec.type != "link":
                    out.add(swhere, f"role '{key}': '{fname}' must be a link for 'visible'")
            scopes[model_key] = dict(rule)
        roles[key] = RoleSpec(
            key=key,
            label=texts(raw.get("label")) or {"zh": key, "en": key},
            permissions=permissions,
            hidden_fields=masks["hidden_fields"],
            readonly_fields=masks["readonly_fields"],
            row_scope=scopes,
            hidden_figures=_kinds(raw, "hidden_figures", FIGURES, f"{rel}:{line_of(raw, 'hidden_figures')}", key, out),
            sides=_kinds(raw, "sides", SIDES, f"{rel}:{line_of(raw, 'sides')}", key, out)
            if "sides" in raw
            else frozenset(SIDES),
            reports=_report_patterns(raw, f"{rel}:{line_of(raw, 'reports')}", key, out),
        )
    return roles


def _report_patterns(raw: dict[str, Any], where: str, role: str, out: Collector) -> tuple[str, ...]:
    """A role's `reports:` list of report names or globs ('all' for every report); names are checked later
    against metadata/reports/ (app/meta/reports.py)."""
    value = raw.get("reports") or []
    if value == "all":
        return ("*",)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        out.add(where, f"role '{role}': reports must be a list of report names or 'all'", "reports: [sales_*]")
        return ()
    return tuple(value)


def _is_figure(model: ModelSpec, name: str) -> bool:
    spec = model.field(name)
    return spec is not None and (spec.figure is not None or spec.type == "money")


def _kinds(
    raw: dict[str, Any], option: str, allowed: tuple[str, ...], where: str, role: str, out: Collector
) -> frozenset[str]:
    """A role's list of figure kinds or sides, each checked against the vocabulary."""
    values = raw.get(option) or []
    if not isinstance(values, list):
        out.add(where, f"role '{role}': {option} must be a list", "one or more of: " + ", ".join(allowed))
        return frozenset()
    for value in values:
        if value not in allowed:
            out.add(where, f"role '{role}': unknown {option} value '{value}'", hint(str(value), allowed))
    return frozenset(v for v in values if v in allowed)


def load_menus(root: Path, models: dict[str, ModelSpec], out: Collector) -> tuple[MenuSpec, ...]:
    """menus.yaml: categories, their models and their other pages (links)."""
    path = root / "menus.yaml"
    rel = f"{root.name}/menus.yaml"
    if not path.exists():
        return ()
    data, problems = load_yaml(path)
    for problem in problems:
        out.add(f"{rel}:{problem.line}", problem.message)
    menus = []
    for entry in data or []:
        where = f"{rel}:{line_of(entry)}"
        if not isinstance(entry, dict) or not entry.get("key") or texts(entry.get("label")) is None:
            out.add(where, "a menu needs key, label {zh, en} and models or links")
            continue
        for model_key in entry.get("models") or []:
            if model_key not in models:
                out.add(where, f"menu '{entry['key']}' names missing model '{model_key}'", hint(model_key, models))
        links = tuple(_menu_link(entry["key"], raw, rel, models, out) for raw in entry.get("links") or [])
        menus.append(
            MenuSpec(
                entry["key"],
                texts(entry["label"]) or {},
                tuple(entry.get("models") or ()),
                tuple(link for link in links if link is not None),
            )
        )
    return tuple(menus)


def _menu_link(menu: str, raw: Any, rel: str, models: dict[str, ModelSpec], out: Collector) -> MenuLink | None:
    where = f"{rel}:{line_of(raw)}"
    if not isinstance(raw, dict) or not raw.get("key") or not str(raw.get("href", "")).startswith("/"):
        out.add(where, f"menu '{menu}': a link needs key, href (a path) and label {{zh, en}}")
        return None
    label = texts(raw.get("label"))
    if label is None:
        out.add(where, f"menu '{menu}': link '{raw['key']}' needs label {{zh, en}}")
        return None
    model = raw.get("model")
    if model is not None and model not in models:
        out.add(where, f"menu '{menu}': link '{raw['key']}' names missing model '{model}'", hint(model, models))
    roles = raw.get("roles") or []
    if not isinstance(roles, list):
        out.add(where, f"menu '{menu}': roles of link '{raw['key']}' must be a list")
        roles = []
    report = raw.get("report")
    if report is not None and not isinstance(report, str):
        out.add(where, f"menu '{menu}': report of link '{raw['key']}' must be a report's name")
        report = None
    return MenuLink(raw["key"], raw["href"], label, model, tuple(roles), report)


def load_settings(root: Path, out: Collector) -> dict[str, Any]:
    """settings.yaml as a mapping."""
    path = root / "settings.yaml"
    if not path.exists():
        return {}
    data, problems = load_yaml(path)
    for problem in problems:
        out.add(f"{root.name}/settings.yaml:{problem.line}", problem.message)
    if data is not None and not isinstance(data, dict):
        out.add(f"{root.name}/settings.yaml:1", "settings.yaml must be a mapping")
        return {}
    return dict(data or {})
