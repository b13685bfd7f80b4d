"""JXC: a metadata-driven 进销存 back office. `create_app()` builds one app; nothing happens on import."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing app.meta or app.ledger must not import Flask
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: load metadata (refusing to start if invalid), register generated APIs and pages."""
    from flask_appbuilder import AppBuilder
    from flask_appbuilder.security.sqla.models import User
    from werkzeug.middleware.proxy_fix import ProxyFix

    from app.api.rison_args import install_q_check
    from app.collab.forget import install_forget
    from app.collab.owner_bell import install_owner_bell
    from app.config import build_config
    from app.extensions import csrf, db, install_idle_ping, install_lazy_begin, install_sqlite_behaviour
    from app.jobs.startup import install_jobs
    from app.meta.registry import RegistryHolder
    from app.services.access.locks import warn_stored_role_locks
    from app.services.records.settings import check_stored_price_mask
    from app.services.records.with_commit import install_commit_with
    from app.services.users.access import STORED_MASK
    from app.views.error_pages import install_error_pages
    from app.views.health import install_health
    from app.views.registration import register_everything
    from app.views.templating import install_template_helpers
    from app.web.faults import install_fault_pages
    from app.web.flask_app import JxcFlask
    from app.web.inputs import install_converters, install_input_checks
    from app.web.limited_endpoints import install_limited_endpoints
    from app.web.maintenance import install_maintenance
    from app.web.prefs import install_language_memory
    from app.web.security import install_request_hooks
    from app.web.session_cookie import install_session_cookies
    from app.web.static_cache import install_static_cache

    settings = build_config(config)
    app = JxcFlask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    install_converters(app)  # before any route: FAB's and ours are built with them
    db.init_app(app)
    csrf.init_app(app)
    with app.app_context():
        install_sqlite_behaviour(db.engine)
        install_idle_ping(db.engine)
        install_commit_with(db.engine)
        app.extensions["jxc_lazy_begin"] = install_lazy_begin(db.engine)
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        holder = RegistryHolder(Path(app.config["JXC_METADATA_DIR"]), User.__table__)
        app.extensions["jxc_registry"] = holder
        with db.engine.connect() as conn:
            holder.load(conn)
            # 价格屏蔽 as stored, checked as the live switch is (a value from before the check: warned, left out)
            app.extensions[STORED_MASK] = check_stored_price_mask(conn, holder.current)
            # roles as stored, checked as a role page checks an edit (a write given before: warned, not in force)
            warn_stored_role_locks(conn, holder.current)
        register_everything(appbuilder, holder.current)
    if app.config.get("JXC_HTTPS"):  # behind one TLS proxy (docker/compose.yaml): its X-Forwarded-* are true
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    install_request_hooks(app)
    install_limited_endpoints(app, appbuilder.sm.limiter)
    install_session_cookies(app)
    install_maintenance(app)  # first of the hooks that may touch the database while a restore runs
    install_input_checks(app)  # before it, a body too large is refused before anything reads it
    install_q_check(app)
    install_language_memory(app)
    install_template_helpers(app)
    install_static_cache(app)
    install_error_pages(app)
    install_fault_pages(app)  # the database out of reach: 503, not the 500 of an unexpected error
    install_jobs(app)
    install_health(app)
    install_owner_bell()
    install_forget()
    if app.config.get("JXC_EMBEDDED_CRON"):
        from app.schedules.cron import EmbeddedScheduler

        EmbeddedScheduler(app).start()
    # What start-up built (FAB, the registry, ~400k objects) lives as long as the process: keep it out of
    # the garbage collector's full passes, which otherwise cost ~150 ms in the middle of a request.
    gc.collect()
    gc.freeze()
    return app


def create_db_app(config: dict[str, Any] | None = None) -> Flask:
    """A bare app: configuration and the database, no pages or APIs (user accounts from the command line).

    Building the whole app takes seconds (FAB's views, the generated APIs and pages); an account command needs
    none of it."""
    from flask import Flask

    from app.config import build_config
    from app.extensions import db, install_idle_ping, install_sqlite_behaviour

    settings = build_config(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    db.init_app(app)
    with app.app_context():
        install_sqlite_behaviour(db.engine)
        install_idle_ping(db.engine)
    return app
