"""Demo data (metadata/demo.yaml) loaded through the normal write service, as the admin."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from app.extensions import db, registry
from app.meta.yamlload import load_yaml
from app.services.records.write import RecordService
from app.services.users.access import access_for


def load_demo(app: Flask) -> int:
    """Create the demo rows unless items already exist; return how many rows were created."""
    reg = registry()
    if db.session.execute(select(func.count()).select_from(reg.cls("item"))).scalar_one():
        return 0
    data, problems = load_yaml(Path(app.config["JXC_METADATA_DIR"]) / "demo.yaml")
    if problems:
        raise ValueError("; ".join(p.message for p in problems))
    admin = app.appbuilder.sm.find_user(username="admin")
    service = RecordService(db.session, access_for(admin))
    created = 0
    for model_key, rows in (data or {}).items():
        for row in rows:
            service.create(model_key, dict(row))
            created += 1
        db.session.flush()
    service.commit()
    return created
