"""Layers are enforced: the import graph, read with `ast`, never runs the code.

Every module of app/, importers/ and reports/ belongs to a layer (LAYERS, lowest first) and imports only
modules of its own layer or below, at module level and inside functions alike; imports under
`if TYPE_CHECKING:` are not run and so are allowed. app/meta and app/ledger (with app.i18n, app.errors,
app.clock) are pure: no Flask, at import time. importers/ and reports/ never import each other.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE_PACKAGES = ("app/meta", "app/ledger")
FORBIDDEN = (
    "flask",
    "flask_appbuilder",
    "flask_sqlalchemy",
    "flask_babel",
    "flask_wtf",
    "flask_login",
    "werkzeug",
    "app.services",
    "app.api",
    "app.views",
    "app.extensions",
    "app.web.security",
    "app.setup",
    "app.cli",
    "app.documents",
    "app.grid",
    "app.jobs",
    "app.mail",
)


def module_name(path: Path) -> str:
    """'app.meta.types' for app/meta/types.py, 'app.meta' for app/meta/__init__.py."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_path(name: str) -> Path | None:
    """The file of an in-project module, or None for a third-party or missing one."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_nodes(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run at import: the module body, into if/try/with blocks, not into defs or classes."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            if not _is_type_checking(node):
                yield from _top_level_nodes(node.body)
            yield from _top_level_nodes(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *[h.body for h in node.handlers]):
                yield from _top_level_nodes(block)
        elif isinstance(node, ast.With):
            yield from _top_level_nodes(node.body)


def imported_names(path: Path, top_level_only: bool) -> set[str]:
    """Absolute names of the modules `path` imports (`from a import b` gives 'a' and 'a.b')."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = _top_level_nodes(tree.body) if top_level_only else ast.walk(tree)
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def forbidden(name: str) -> bool:
    """True when `name` is, or is inside, a module the pure layers must not import."""
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def pure_modules() -> list[Path]:
    """Every module of app/meta and app/ledger."""
    found = sorted(p for pkg in PURE_PACKAGES for p in (ROOT / pkg).rglob("*.py"))
    assert any(p.name == "types.py" for p in found), "app/meta not found"
    return found


def parents_of(name: str) -> list[str]:
    """Packages Python imports before `name`: 'app', 'app.meta' for 'app.meta.types'."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_chain(start: str) -> dict[str, list[str]]:
    """Every in-project module loaded at import of `start`, each with the chain that loads it."""
    chains: dict[str, list[str]] = {start: [start]}
    todo = [start]
    while todo:
        current = todo.pop()
        path = module_path(current)
        if path is None:
            continue
        loaded = set(parents_of(current)) | imported_names(path, top_level_only=True)
        for name in sorted(loaded):
            if name not in chains:
                chains[name] = [*chains[current], name]
                if module_path(name) is not None or forbidden(name):
                    todo.append(name)
    return chains


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_imports_no_framework_or_upper_layer(path):
    bad = sorted(name for name in imported_names(path, top_level_only=True) if forbidden(name))
    assert bad == [], f"{path.relative_to(ROOT)} imports {bad} at module level"


def test_i18n_reaches_flask_only_inside_functions():
    """app.meta.types imports app.i18n, so app.i18n may use Flask only inside its functions."""
    path = ROOT / "app" / "i18n" / "__init__.py"
    assert not [n for n in imported_names(path, top_level_only=True) if forbidden(n)]
    assert any(n.startswith("flask") for n in imported_names(path, top_level_only=False))


def test_pure_layers_do_not_pull_in_flask_through_what_they_import():
    """Following in-project imports (and the packages that hold them) never reaches a forbidden module."""
    bad: dict[str, str] = {}  # "<importer> imports <forbidden>" -> one chain that gets there
    for path in pure_modules():
        for name, chain in import_chain(module_name(path)).items():
            if forbidden(name) and not forbidden(chain[-2]):
                bad.setdefault(f"{chain[-2]} imports {name}", " -> ".join(chain))
    assert bad == {}


def test_importing_the_pure_layers_loads_no_flask():
    """The same check by running Python: import app.meta and app.ledger, then look at sys.modules."""
    modules = sorted({module_name(p) for p in pure_modules()})
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in "
        "('flask', 'flask_appbuilder', 'flask_sqlalchemy', 'flask_babel', 'werkzeug')}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(("package", "other"), [("importers", "reports"), ("reports", "importers")])
def test_importers_and_reports_never_import_each_other(package, other):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offending = {
        str(path.relative_to(ROOT)): sorted(
            n for n in imported_names(path, top_level_only=False) if n == other or n.startswith(other + ".")
        )
        for path in files
    }
    assert {k: v for k, v in offending.items() if v} == {}


def test_import_reader_sees_relative_and_guarded_imports(tmp_path):
    """The reader itself: relative imports resolve, TYPE_CHECKING and function imports are not top level."""
    sample = ROOT / "app" / "meta" / "types.py"
    top = imported_names(sample, top_level_only=True)
    assert {"app.i18n", "app.meta.sqltypes", "sqlalchemy"} <= top
    assert "app.meta.spec" not in top  # only under TYPE_CHECKING
    assert "app.meta.spec" in imported_names(sample, top_level_only=False)
    assert forbidden("flask.globals") and forbidden("app.services.records.write") and not forbidden("flask_x")


# Lowest first. A module may import its own layer and those below it. What each layer is:
LAYERS: tuple[tuple[str, ...], ...] = (
    ("app.i18n", "app.errors", "app.clock", "app.config", "app.processes"),  # texts, errors, clock, processes
    ("app.meta", "app.ledger"),  # the metadata engine and the ledger core: pure, no Flask
    ("app.extensions", "app.instance_files"),  # the Flask-bound objects (db, csrf, the registry); private folders
    ("app.services.access",),  # what one user may do (Access): actions, masks, row scope
    ("app.services.records",),  # the one write path, reads, audit, numbering, settings
    ("app.services.users", "app.services.stock"),  # user accounts; the stock side of posting
    ("app.services.money",),  # prices, receivables, cash, budgets, reorder
    ("app.rules", "app.documents"),  # per-model rules and per-document behaviour, found by name
    ("app.services.posting",),  # submit / approve / cancel through documents and the stock writer
    ("app.services.grid", "app.services.phone"),  # grid pages, batch saves, exports; the phone's counts, lookups
    ("app.jobs", "app.backups", "app.mail", "app.schedules", "app.collab", "importers", "reports"),  # background
    # work, backups, mail and robots, schedules and notifications, collaboration, spreadsheets in, reports out
    ("app.web",),  # request-bound glue: the request's user, security hooks, preferences
    ("app.api", "app.views"),  # REST APIs and pages
    ("app", "app.setup", "app.demo", "app.cli", "app.migrations"),  # the app factory and the commands
)
OWN_PROJECT = ("app", "importers", "reports")


def layer_of(name: str) -> tuple[int, str] | None:
    """(layer index, package) of the most specific LAYERS entry holding module `name`; None if none does."""
    best: tuple[int, str] | None = None
    for index, packages in enumerate(LAYERS):
        for package in packages:
            if (name == package or name.startswith(package + ".")) and (best is None or len(package) > len(best[1])):
                best = (index, package)
    return best


def project_modules() -> list[Path]:
    """Every Python module of app/, importers/ and reports/."""
    return sorted(p for top in OWN_PROJECT for p in (ROOT / top).rglob("*.py"))


def test_every_module_has_a_layer():
    missing = [module_name(p) for p in project_modules() if layer_of(module_name(p)) is None]
    assert missing == []


def test_every_module_imports_only_its_layer_and_below():
    """Function-level imports count too: a dependency is a dependency wherever it is written."""
    upward: dict[str, list[str]] = {}
    for path in project_modules():
        me = module_name(path)
        mine = layer_of(me)
        assert mine is not None
        for name in imported_names(path, top_level_only=False):
            if name.split(".")[0] not in OWN_PROJECT:
                continue
            theirs = layer_of(name)
            if theirs is not None and theirs[0] > mine[0]:
                upward.setdefault(me, []).append(f"{name} ({theirs[1]})")
    assert upward == {}


def test_the_layer_check_sees_an_upward_import():
    """The check itself: a records module importing the grid, or the ledger importing posting, is upward."""
    assert layer_of("app.services.grid.batch")[0] > layer_of("app.services.records.write")[0]
    assert layer_of("app.services.posting.service")[0] > layer_of("app.ledger.valuation")[0]
    assert layer_of("app.web.context")[0] > layer_of("app.services.users.access")[0]
    assert layer_of("importers") == layer_of("reports")[:1] + ("importers",)
