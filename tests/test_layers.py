"""Layers are enforced (STYLE principle 7): the import graph, read with `ast`, never runs the code.

app/meta and app/ledger sit below Flask and the web layers; importers/ and reports/ never import
each other. Imports inside functions are allowed (that is how a pure module reaches the app when
it must); imports under `if TYPE_CHECKING:` are not run and so are allowed too.
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
    path = ROOT / "app" / "i18n.py"
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
