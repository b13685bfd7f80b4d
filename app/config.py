"""Configuration from the environment (see README: Configuration)."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

from app.clock import business_zone

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        owner_only_folder(instance)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    path.chmod(0o600)
    return path.read_text().strip()


def owner_only_folder(folder: Path) -> None:
    """Create the instance folder (database, keys) readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    status = folder.stat()
    if status.st_mode & 0o077 and status.st_uid == os.getuid():
        folder.chmod(0o700)


def normalise_database_url(url: str) -> str:
    """postgresql:// URLs use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


DEFAULT_PASSWORD_HASH = "scrypt"  # werkzeug's scrypt:32768:8:1, about 0.1 s of CPU per sign-in


def password_hashing() -> dict[str, str]:
    """How new passwords are hashed (werkzeug's method string; `JXC_PASSWORD_HASH`, default scrypt), and the hash
    an unknown user's password is checked against, of the same cost so that both take the same time (FAB's own
    stand-in is a default scrypt hash). The test suite signs in thousands of times: it uses a cheaper scrypt."""
    method = os.environ.get("JXC_PASSWORD_HASH") or DEFAULT_PASSWORD_HASH
    if method == DEFAULT_PASSWORD_HASH:
        return {"FAB_PASSWORD_HASH_METHOD": method}
    from werkzeug.security import generate_password_hash

    stand_in = generate_password_hash(secrets.token_urlsafe(12), method=method)  # a bad method fails start-up here
    return {"FAB_PASSWORD_HASH_METHOD": method, "AUTH_DB_FAKE_PASSWORD_HASH_CHECK": stand_in}


def build_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The app's configuration: defaults, then environment, then explicit overrides."""
    overrides = dict(overrides or {})
    instance = Path(overrides.get("INSTANCE_PATH") or os.environ.get("JXC_INSTANCE") or ROOT / "instance")
    database_url = overrides.pop("DATABASE_URL", None) or os.environ.get("DATABASE_URL")
    if not database_url:
        owner_only_folder(instance)
        database_url = f"sqlite:///{instance / 'jxc.db'}"
    database_url = normalise_database_url(database_url)
    engine_options: dict[str, Any] = {}  # rested connections are pinged (app.extensions.install_idle_ping)
    if database_url.startswith("sqlite"):
        engine_options["connect_args"] = {"timeout": 30, "check_same_thread": False}
    business_zone()  # a JXC_TIMEZONE that is not a zone stops start-up with its name
    redis_url = os.environ.get("REDIS_URL", "")
    https = os.environ.get("JXC_HTTPS", "").lower() in ("1", "true", "yes", "on")
    config: dict[str, Any] = {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "REDIS_URL": redis_url,
        "JXC_QUEUE": os.environ.get("JXC_QUEUE", "jxc"),  # the RQ queue's name
        # with Redis: how long a queued job waits for a live worker before a web process runs it (docs/jobs.md)
        "JXC_JOB_WAIT_SECONDS": float(os.environ.get("JXC_JOB_WAIT_SECONDS") or 10),
        # how often `jxc worker` beats; one more than two beats late no longer counts as live (docs/jobs.md)
        "JXC_WORKER_BEAT_SECONDS": max(1, int(os.environ.get("JXC_WORKER_BEAT_SECONDS") or 5)),
        "JXC_METADATA_DIR": str(ROOT / "metadata"),
        # SQLite: the disk an import's check must leave free after copying the database (docs/imports.md)
        "JXC_CHECK_KEEP_FREE_MB": int(os.environ.get("JXC_CHECK_KEEP_FREE_MB") or 200),
        "APP_NAME": "JXC 进销存",
        "APP_THEME": "",
        "AUTH_TYPE": 1,  # AUTH_DB
        "AUTH_ROLE_ADMIN": "admin",
        "AUTH_ROLE_PUBLIC": "Public",
        "FAB_ADD_SECURITY_API": True,
        "FAB_UPDATE_PERMS": False,
        "FAB_CREATE_DB": False,
        "FAB_API_SWAGGER_UI": True,
        # FAB's raw permission tables (base permissions, views/menus, permissions on views) list internal
        # names only; roles.yaml sets what each role may do and the role pages show it in words
        "FAB_ADD_SECURITY_PERMISSION_VIEW": False,
        "FAB_ADD_SECURITY_VIEW_MENU_VIEW": False,
        "FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW": False,
        "FAB_API_MAX_PAGE_SIZE": 1000,
        "FAB_INDEX_VIEW": "app.views.home.HomeView",
        "FAB_BASE_TEMPLATE": "jxc/baselayout.html",
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "app" / "translations"),
        "LANGUAGES": {"zh": {"flag": "cn", "name": "简体中文"}, "en": {"flag": "gb", "name": "English"}},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "JWT_ACCESS_TOKEN_EXPIRES": 8 * 3600,
        # JXC's security manager: sessions ended by logout / a new password / deactivation, throttled logins,
        # the password policy and audit on FAB's user pages and API (app/views/security_manager.py)
        "FAB_SECURITY_MANAGER_CLASS": "app.views.security_manager.JxcSecurityManager",
        **password_hashing(),
        # Flask-Limiter's counters for sign-in attempts: Redis when configured, else the database (every
        # worker process counts the same attempts); apart per instance, since several may share a Redis
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url or "jxcdb://",
        "RATELIMIT_KEY_PREFIX": "jxc-login:" + hashlib.sha256(str(instance).encode()).hexdigest()[:12],
        "RATELIMIT_SWALLOW_ERRORS": True,  # a store that is down lets sign-ins through rather than lock all out
        "RATELIMIT_HEADERS_ENABLED": False,
        # behind the TLS proxy of docker/compose.yaml: cookies only over HTTPS, HSTS, the proxy's X-Forwarded-*
        # request bodies: JSON and forms up to JXC_MAX_JSON_BYTES, file uploads (multipart) up to
        # MAX_CONTENT_LENGTH; a larger request is refused with 413 before it is read (docs/inputs.md)
        "JXC_MAX_JSON_BYTES": int(os.environ.get("JXC_MAX_JSON_BYTES", 2 * 1024 * 1024)),
        "MAX_CONTENT_LENGTH": int(os.environ.get("JXC_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)),
        "MAX_FORM_MEMORY_SIZE": 2 * 1024 * 1024,  # one form field (a remark) in a multipart body
        "JXC_HTTPS": https,
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        # mail (app/mail): STARTTLS when the server offers it, TLS from the first byte on port 465 or with
        # SMTP_SECURITY=tls; SMTP_SECURITY=none for a relay on this machine
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT") or 0),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_SECURITY": os.environ.get("SMTP_SECURITY", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", ""),
        "SMTP_TIMEOUT": float(os.environ.get("SMTP_TIMEOUT") or 20),
        "SMTP_RETRIES": int(os.environ.get("SMTP_RETRIES") or 3),
        "SMTP_BACKOFF": float(os.environ.get("SMTP_BACKOFF") or 2),  # seconds, doubled after each failure
        # links in mail and robot messages point back here
        "JXC_BASE_URL": os.environ.get("JXC_BASE_URL", "").rstrip("/"),
        # the in-process scheduler: `jxc serve` turns it on unless JXC_EMBEDDED_CRON=0 (a `jxc cron` runs them)
        "JXC_EMBEDDED_CRON": os.environ.get("JXC_EMBEDDED_CRON", "0") not in ("0", "false", "no", "off", ""),
        # how often each open page asks for the bell's unread count (GET /api/v1/notifications/count)
        "JXC_BELL_POLL_SECONDS": float(os.environ.get("JXC_BELL_POLL_SECONDS") or 60),
    }
    config.update(overrides)
    return config
