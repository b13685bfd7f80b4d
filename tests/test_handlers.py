"""Names in metadata resolve when it loads: a typo or a broken import stops `jxc meta check` and start-up
with the name and the file, instead of turning a document into one that posts nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from app.meta.loader import load_metadata

ROOT = Path(__file__).resolve().parent.parent
BROKEN_IMPORT = "from app.services.stock.no_such_module import something\n"


def run_with_documents_overlay(overlay: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run Python code in a fresh process where `overlay` is searched before app/documents/."""
    prelude = f"import app.documents; app.documents.__path__.insert(0, {str(overlay)!r})\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def broken_delivery(tmp_path: Path) -> Path:
    """app/documents/sales_delivery.py as it is, with one import that fails, in a directory of its own."""
    overlay = tmp_path / "documents"
    overlay.mkdir()
    source = (ROOT / "app/documents/sales_delivery.py").read_text(encoding="utf-8")
    future = "from __future__ import annotations\n"
    assert future in source
    (overlay / "sales_delivery.py").write_text(source.replace(future, future + BROKEN_IMPORT, 1), encoding="utf-8")
    return overlay


def test_a_broken_import_in_a_document_module_fails_meta_check(tmp_path: Path) -> None:
    done = run_with_documents_overlay(broken_delivery(tmp_path), "from app.cli import main; main(['meta', 'check'])")
    assert done.returncode != 0
    assert "app/documents/sales_delivery.py" in done.stderr
    assert "no_such_module" in done.stderr


def test_a_broken_import_in_a_document_module_fails_start_up(tmp_path: Path) -> None:
    code = (
        "from app import create_app\n"
        f"create_app({{'DATABASE_URL': 'sqlite:///{tmp_path}/x.db', 'INSTANCE_PATH': '{tmp_path}',"
        " 'SECRET_KEY': 'k' * 40})\n"
    )
    done = run_with_documents_overlay(broken_delivery(tmp_path), code)
    assert done.returncode != 0
    assert "MetadataInvalid" in done.stderr
    assert "app/documents/sales_delivery.py" in done.stderr and "no_such_module" in done.stderr


def test_without_the_overlay_the_same_process_starts(tmp_path: Path) -> None:
    """The control: the overlay mechanism itself does not break start-up."""
    empty = tmp_path / "documents"
    empty.mkdir()
    done = run_with_documents_overlay(empty, "from app.cli import main; main(['meta', 'check'])")
    assert done.returncode == 0, done.stderr
    assert "元数据正常：" in done.stdout


def test_a_compute_typo_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", root)
    path = root / "models" / "purchase_receipt.yaml"
    text = path.read_text(encoding="utf-8")
    assert "app.ledger.compute.line_tax\n" in text
    path.write_text(text.replace("app.ledger.compute.line_tax\n", "app.ledger.compute.line_taks\n"), "utf-8")
    meta, errors = load_metadata(root)
    assert meta is None
    [error] = errors
    line = next(n for n, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "line_taks" in t)
    assert error.where.startswith("metadata/models/purchase_receipt.yaml:")
    assert abs(int(error.where.rsplit(":", 1)[1]) - line) <= 2, (error.where, line)
    assert "line_taks" in error.message


def test_every_document_has_its_behaviour_and_every_compute_its_function() -> None:
    meta, errors = load_metadata(ROOT / "metadata")
    assert errors == [] and meta is not None
    documents = [m for m in meta.models.values() if m.kind == "document"]
    assert set(meta.handlers.behaviours) == {m.key for m in documents}
    assert meta.handlers.behaviours["sales_delivery"].__name__ == "SalesDelivery"
    computed = {(m.key, f.name) for m in meta.models.values() for f in m.fields if f.compute}
    assert set(meta.handlers.computes) == computed and computed
    assert set(meta.handlers.rules) == {"item", "item_unit", "department", "complaint", "item_price", "budget"}
