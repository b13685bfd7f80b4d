"""The `jxc` command: init, serve, worker, jobs, meta check / export, user add."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click
import yaml

from app.config import ROOT


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _app(**overrides: object):  # type: ignore[no-untyped-def]
    from app import create_app
    from app.meta.spec import MetadataInvalid

    # a command exits when done: it must not pick up in-process jobs left queued (the web does that)
    overrides.setdefault("JXC_RUNS_JOBS", False)
    try:
        return create_app(dict(overrides))
    except MetadataInvalid as exc:
        _fail("Metadata is invalid; JXC will not start:\n" + "\n".join(f"  {e}" for e in exc.errors))


@click.group()
def main() -> None:
    """JXC 进销存 command line."""


@main.command()
@click.option("--demo", is_flag=True, help="Load demo data (items, partners, warehouses).")
def init(demo: bool) -> None:
    """Create or upgrade the database, permissions, roles and the admin user."""
    from app.setup import init_database

    app = _app()
    result = init_database(app, demo=demo)
    for change in result.schema_changes:
        click.echo(f"  {change}")
    click.echo(f"Database ready: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    if result.admin_password:
        click.echo(f"Created user admin with password: {result.admin_password}")
    if result.demo_rows:
        click.echo(f"Loaded {result.demo_rows} demo rows")
    for found in result.code_collisions:  # listed for people to fix: never merged
        codes = ", ".join(f"{code!r} (id {pk})" for code, pk in zip(found.codes, found.ids, strict=True))
        click.echo(f"Codes that are one code once normalised: {found.model}.{found.field}: {codes}", err=True)


def _admin_login_hint(instance: Path) -> str:
    if os.environ.get("JXC_ADMIN_PASSWORD"):
        return "admin / (the password in JXC_ADMIN_PASSWORD)"
    path = instance / "admin_password"
    if path.exists():
        return f"admin / {path.read_text().strip()}"
    return "admin / (password chosen at first init)"


@main.command()
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes")
def serve(workers: int) -> None:
    """Serve the app with gunicorn on 127.0.0.1:$PORT (default 5000); run `jxc init` first."""
    app = _app()
    port = int(os.environ.get("PORT", "5000"))
    host = os.environ.get("HOST", "127.0.0.1")
    click.echo(f"JXC is running at http://{host}:{port}/")
    click.echo(f"Log in as {_admin_login_hint(Path(app.config['INSTANCE_PATH']))}")
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).parent / "gunicorn")
    os.execv(
        gunicorn,
        [
            gunicorn,
            "-w",
            str(workers),
            "--threads",
            "4",
            "-b",
            f"{host}:{port}",
            "--access-logfile",
            "-",
            "--no-control-socket",
            "app:create_app()",
        ],
    )


@main.command()
@click.option("--burst", is_flag=True, help="Run the jobs queued now, then exit.")
@click.option("--queue", "queues", multiple=True, help="queue name (default: $JXC_QUEUE or jxc; repeatable)")
@click.option("--name", default=None, help="worker name shown by RQ")
def worker(burst: bool, queues: tuple[str, ...], name: str | None) -> None:
    """Run background jobs from Redis (REDIS_URL): the app is booted once, each job in a forked work-horse."""
    from app.jobs.worker import make_worker

    app = _app(JXC_RUNS_JOBS=True)
    if not app.config.get("REDIS_URL"):
        _fail("REDIS_URL is not set: without Redis, jobs run inside the web processes (`jxc serve`).")
    try:
        runner = make_worker(app, list(queues) or None, name)
    except Exception as exc:  # noqa: BLE001 - say why and exit non-zero
        _fail(f"Cannot start the worker: {exc}")
    click.echo(f"JXC worker on {', '.join(q.name for q in runner.queues)} ({app.config['REDIS_URL'].split('@')[-1]})")
    runner.work(burst=burst, logging_level="INFO")


@main.command()
@click.option("--status", default=None, help="only jobs in this status (queued, running, done, failed, cancelled)")
@click.option("--limit", default=20, show_default=True)
def jobs(status: str | None, limit: int) -> None:
    """List the newest background jobs and how many are in each status."""
    from app.extensions import db
    from app.jobs import store

    app = _app()
    with app.app_context():
        rows = [r for r in store.list_jobs(db.session, None, True, 1000) if status in (None, r.status)][:limit]
        counts = store.count_by_status(db.session)
        shown = [store.as_json(row) for row in rows]
    click.echo("  ".join(f"{s}: {counts.get(s, 0)}" for s in store.STATUSES))
    for job in shown:
        progress = f"{job['done']}/{job['total']}" if job["total"] is not None else str(job["done"])
        when = job["created_at"][:19].replace("T", " ") if job["created_at"] else ""
        note = f"  {job['message']}" if job["message"] else ""
        who = job["user"] or "-"
        click.echo(f"#{job['id']:<6} {job['status']:<9} {job['kind']:<24} {who:<12} {progress:>9}  {when}{note}")


@main.group()
def meta() -> None:
    """Metadata tools."""


@meta.command("check")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=ROOT / "metadata")
def meta_check(directory: Path) -> None:
    """Validate metadata/ and print every error with file:line and a hint."""
    from app.meta.loader import load_metadata

    meta_data, errors = load_metadata(directory)
    if errors:
        for error in errors:
            click.echo(str(error), err=True)
        _fail(f"{len(errors)} error(s) in {directory}")
    assert meta_data is not None
    click.echo(f"OK: {len(meta_data.models)} models, {len(meta_data.roles)} roles")


@meta.command("export")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="file (default: stdout)")
def meta_export(output: Path | None) -> None:
    """Write the fields added from the admin page as YAML (same shape as metadata/models)."""
    from app.extensions import db
    from app.meta.registry import read_runtime_fields

    app = _app()
    with app.app_context(), db.engine.connect() as conn:
        rows = read_runtime_fields(conn)
    grouped: dict[str, dict[str, object]] = {}
    for row in rows:
        grouped.setdefault(row["model"], {})[row["name"]] = row["spec"]
    text = yaml.safe_dump({m: {"fields": f} for m, f in grouped.items()}, allow_unicode=True, sort_keys=False)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {len(rows)} field(s) to {output}")
    else:
        click.echo(text, nl=False)


@main.group()
def user() -> None:
    """User accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, help="admin, manager, clerk, purchaser, salesperson, warehouse, finance")
@click.option("--password", required=True)
@click.option("--email", default=None)
@click.option("--name", default=None, help="display name")
@click.option("--warehouse", "warehouses", multiple=True, help="warehouse code the user works in (repeatable)")
def user_add(
    username: str, role: str, password: str, email: str | None, name: str | None, warehouses: tuple[str, ...]
) -> None:
    """Create a user with a role (and, for warehouse staff, their warehouses)."""
    from app import create_db_app
    from app.extensions import write_intent
    from app.services.users.accounts import UserError, create_user

    app = create_db_app()
    with app.app_context():
        write_intent.set(True)
        try:
            create_user(username, role, password, email=email, name=name, warehouses=list(warehouses))
        except UserError as exc:
            _fail(str(exc))
    click.echo(f"Created user {username} with role {role}")


@user.command("passwd")
@click.argument("username")
@click.option("--password", default=None, help="the new password (asked for, hidden, when left out)")
def user_passwd(username: str, password: str | None) -> None:
    """Give a user a new password; every session and token of theirs ends."""
    from app import create_db_app
    from app.extensions import write_intent
    from app.services.users.accounts import UserError, set_password

    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    app = create_db_app()
    with app.app_context():
        write_intent.set(True)
        try:
            set_password(username, password)
        except UserError as exc:
            _fail(str(exc))
    click.echo(f"Changed the password of {username}; their sessions have ended")


if __name__ == "__main__":  # pragma: no cover
    main()
