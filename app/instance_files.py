"""Owner-only folders under the instance folder (<instance>/files/<name>): job results, uploads waiting for
their import, attachments. Nothing here is under the static folder; files are served only through the pages
and APIs that check who may read them."""

from __future__ import annotations

from pathlib import Path

from flask import current_app


def private_folder(name: str) -> Path:
    """<instance>/files/<name>, created with mode 0700 (and its parent) when missing."""
    root = Path(current_app.config["INSTANCE_PATH"]) / "files" / name
    if not root.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        for folder in (root.parent, root):
            folder.chmod(0o700)
    return root
