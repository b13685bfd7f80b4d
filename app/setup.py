"""`jxc init`: create and upgrade the schema, permissions, roles, the admin user and demo data."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from werkzeug.security import check_password_hash

from app.config import ROOT
from app.demo import load_demo, load_demo_history
from app.extensions import db, registry_holder
from app.meta.registry import read_version
from app.meta.schema import sync_schema
from app.meta.types import no_address
from app.schedules.store import sync_declared
from app.services.access.roles_sync import PermissionViews, sync_roles
from app.services.money.budgets import refresh_usage
from app.services.records.codes import Collision, code_collisions
from app.services.records.runtime_fields import bump_version
from app.services.records.settings import move_settings_stamp
from app.services.users.access import move_security_stamp

ADMIN = "admin"


@dataclass
class InitResult:
    """What init did, for the CLI to print."""

    schema_changes: list[str] = field(default_factory=list)
    admin_password: str | None = None
    demo_rows: int = 0
    demo_documents: int = 0
    schedules_added: list[str] = field(default_factory=list)
    code_collisions: list[Collision] = field(default_factory=list)


def upgrade_core(conn: Any) -> None:
    """Run Alembic migrations of the core tables on this connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "app" / "migrations"))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def add_view_permissions(appbuilder: Any) -> PermissionViews:
    """Create the permission x view pairs of every registered view and menu (add-only).

    FAB's own add_permissions also deletes pairs a view no longer lists, which fights the role
    sync (can_submit on a master model granted by '*': all); JXC only ever adds here.
    """
    pairs = PermissionViews(appbuilder.sm)
    for view in appbuilder.baseviews:
        for permission in view.base_permissions or []:
            pairs.ensure(permission, view.class_permission_name)

    def menu_names(items: list[Any]) -> list[str]:
        names = []
        for item in items:
            names.append(item.name)
            names.extend(menu_names(item.childs or []))
        return names

    for name in menu_names(appbuilder.menu.get_list()):
        pairs.ensure("menu_access", name)
    return pairs


def password_file(app: Flask) -> Path:
    """Where a generated admin password is kept (readable by the owner only)."""
    return Path(app.config["INSTANCE_PATH"]) / "admin_password"


def ensure_admin(app: Flask) -> str | None:
    """Create the admin user (password from JXC_ADMIN_PASSWORD or generated); return a new password."""
    sm = app.appbuilder.sm
    wanted = os.environ.get("JXC_ADMIN_PASSWORD")
    user = sm.find_user(username=ADMIN)
    role = sm.find_role(ADMIN)
    if user is None:
        password = wanted or secrets.token_urlsafe(12)
        sm.add_user(ADMIN, "系统", "管理员", no_address(ADMIN), role, password=password)
        if not wanted:
            path = password_file(app)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.touch(mode=0o600)  # never readable by others, not even for a moment
            path.chmod(0o600)
            path.write_text(password + "\n")
        return password
    if wanted and not check_password_hash(user.password, wanted):
        sm.reset_password(user.id, wanted)
    return None


def init_database(app: Flask, demo: bool = False, history: bool = False) -> InitResult:
    """Bring a database (new or old) up to the code and metadata; safe to run again."""
    result = InitResult()
    with app.app_context():
        app.config["FAB_CREATE_DB"] = True
        app.appbuilder.sm.create_db()
        # End the session's transaction before other connections write: on SQLite (WAL) a read
        # transaction that later writes after someone else committed fails with "database is locked".
        db.session.commit()
        with db.engine.begin() as conn:
            upgrade_core(conn)
        holder = registry_holder()
        with db.engine.begin() as conn:
            holder.load(conn)
            result.schema_changes = sync_schema(conn, holder.current)
        db.session.commit()
        pairs = add_view_permissions(app.appbuilder)
        sync_roles(app.appbuilder.sm, holder.current, pairs)
        with db.engine.connect() as conn:
            version = read_version(conn)
        if version == 0:
            bump_version(db.session)
            db.session.commit()
            with db.engine.connect() as conn:
                holder.load(conn)
        move_settings_stamp(db.session, missing_only=True)  # settings cached per stamp from the first request
        move_security_stamp(db.session.connection(), missing_only=True)  # and the roles' permissions
        db.session.commit()
        result.admin_password = ensure_admin(app)
        result.schedules_added = sync_declared(db.session, Path(app.config["JXC_METADATA_DIR"]))
        db.session.commit()
        refresh_usage(db.session, holder.current)  # budgets' 已用 / 剩余 (new columns, or orders since)
        db.session.commit()
        if demo:
            result.demo_rows = load_demo(current_app)
            if history:
                result.demo_documents = load_demo_history(current_app)
        result.code_collisions = code_collisions(db.session, holder.current)
        db.session.rollback()
    return result
