"""The `jxc` command: init, serve, worker, jobs, backup, restore, meta check / export, user add, report run."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from datetime import datetime
from pathlib import Path

import click
import yaml

from app.config import ROOT
from app.i18n import LOCALES, current_locale, join_list, t, use_locale

LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")  # the POSIX order: the first one set decides


def environment_locale() -> str | None:
    """The language the operator's shell asks for: zh or en from LC_ALL / LC_MESSAGES / LANG (the first set,
    as POSIX reads them: `en_US.UTF-8` is en, `zh_CN.UTF-8` zh); None for C, POSIX or any other (then zh)."""
    for name in LOCALE_VARIABLES:
        value = os.environ.get(name, "")
        if value:
            language = value.split(".")[0].split("_")[0].split("-")[0].lower()
            return language if language in LOCALES else None
    return None


def _speaking(lang: str | None):  # type: ignore[no-untyped-def]
    """A command's own `--lang` inside the block, else the language `jxc` was started in."""
    return use_locale(lang or current_locale())


def _root_lang() -> str | None:
    """`jxc --lang` or JXC_LANG when given (None when the language is only the shell's or the default)."""
    context = click.get_current_context(silent=True)
    return context.find_root().params.get("lang") if context is not None else None


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _app(**overrides: object):  # type: ignore[no-untyped-def]
    from app import create_app
    from app.meta.spec import MetadataInvalid

    # a command exits when done: it must not pick up in-process jobs left queued (the web does that)
    overrides.setdefault("JXC_RUNS_JOBS", False)
    logging.getLogger("flask_appbuilder.models.filters").setLevel(logging.ERROR)  # FAB's notes, not the user's
    try:
        return create_app(dict(overrides))
    except MetadataInvalid as exc:
        _fail(t("cli.metadata_invalid") + "\n" + "\n".join(f"  {e}" for e in exc.errors))


@click.group()
@click.option(
    "--lang",
    type=click.Choice(LOCALES),
    default=None,
    envvar="JXC_LANG",
    help="output language (default: JXC_LANG, else en when LC_ALL / LC_MESSAGES / LANG is English, else zh)",
)
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    """JXC 进销存 command line."""
    ctx.with_resource(use_locale(lang or environment_locale()))


@main.command()
@click.option("--demo", is_flag=True, help="Load demo data (items, partners, warehouses).")
@click.option(
    "--history", is_flag=True, help="With --demo: also post twelve weeks of demo documents (stock, sales, payments)."
)
def init(demo: bool, history: bool) -> None:
    """Create or upgrade the database, permissions, roles and the admin user."""
    from app.setup import init_database

    if history and not demo:
        raise click.UsageError(t("cli.history_needs_demo"))
    app = _app()
    result = init_database(app, demo=demo, history=history)
    for change in result.schema_changes:
        click.echo(f"  {change}")
    click.echo(t("cli.database_ready", database=app.config["SQLALCHEMY_DATABASE_URI"].split("@")[-1]))
    if result.admin_password:
        click.echo(t("cli.admin_created", password=result.admin_password))
    if result.demo_rows:
        click.echo(t("cli.demo_rows", count=result.demo_rows))
    if result.demo_documents:
        click.echo(t("cli.demo_documents", count=result.demo_documents))
    for found in result.code_collisions:  # listed for people to fix: never merged
        codes = join_list(t("cli.code_collision", code=c, id=pk) for c, pk in zip(found.codes, found.ids, strict=True))
        click.echo(t("cli.code_collisions", model=found.model, field=found.field, codes=codes), err=True)


def _admin_login_hint(instance: Path) -> str:
    if os.environ.get("JXC_ADMIN_PASSWORD"):
        return t("cli.login_env")
    path = instance / "admin_password"
    if path.exists():
        return f"admin / {path.read_text().strip()}"
    return t("cli.login_first")


@main.command()
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes")
def serve(workers: int) -> None:
    """Serve the app with gunicorn on 127.0.0.1:$PORT (default 5000); run `jxc init` first."""
    app = _app()
    port = int(os.environ.get("PORT", "5000"))
    host = os.environ.get("HOST", "127.0.0.1")
    os.environ.setdefault("JXC_EMBEDDED_CRON", "1")  # schedules run in-process unless a `jxc cron` runs them
    click.echo(t("cli.serving", host=host, port=port))
    click.echo(t("cli.log_in_as", who=_admin_login_hint(Path(app.config["INSTANCE_PATH"]))))
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
@click.option("--once", is_flag=True, help="Claim what is due now, run it (without Redis), then exit.")
@click.option("--every", default=30.0, show_default=True, help="seconds between looks at the schedules")
def cron(once: bool, every: float) -> None:
    """Enqueue due schedule runs (each period claimed once in the database, whatever else runs `jxc cron`)."""
    import time

    from app.extensions import db
    from app.jobs import backends
    from app.schedules.cron import tick

    app = _app()
    runner = t("cli.runner_rq") if app.config.get("REDIS_URL") else t("cli.runner_in_process")
    click.echo(t("cli.cron_started", every=f"{every:g}", runner=runner))
    while True:
        with app.app_context():
            try:
                claimed = tick(db.session)
            finally:
                db.session.remove()
        if claimed:
            click.echo(t("cli.cron_claimed", ids=join_list(map(str, claimed))))
        if once:
            break
        time.sleep(every)
    if backends.backend_name(app) == backends.THREAD:
        backends.wait_for_pool()


@main.command()
@click.option("--burst", is_flag=True, help="Run the jobs queued now, then exit.")
@click.option("--queue", "queues", multiple=True, help="queue name (default: $JXC_QUEUE or jxc; repeatable)")
@click.option("--name", default=None, help="worker name shown by RQ")
def worker(burst: bool, queues: tuple[str, ...], name: str | None) -> None:
    """Run background jobs from Redis (REDIS_URL): the app is booted once, each job in a forked work-horse."""
    from app.jobs.worker import make_worker

    app = _app(JXC_RUNS_JOBS=True, JXC_WORKER=True)
    if not app.config.get("REDIS_URL"):
        _fail(t("cli.worker_no_redis"))
    try:
        runner = make_worker(app, list(queues) or None, name)
    except Exception as exc:  # noqa: BLE001 - say why and exit non-zero
        _fail(t("cli.worker_failed", error=exc))
    queues_named = join_list(q.name for q in runner.queues)
    click.echo(t("cli.worker_started", queues=queues_named, redis=app.config["REDIS_URL"].split("@")[-1]))
    runner.work(burst=burst, logging_level="INFO")


@main.command()
@click.option("--status", default=None, help="only jobs in this status (queued, running, done, failed, cancelled)")
@click.option("--limit", default=20, show_default=True)
def jobs(status: str | None, limit: int) -> None:
    """List the newest background jobs and how many are in each status."""
    from app.extensions import db
    from app.jobs import store
    from app.jobs.queue import worker_notice

    app = _app()
    with app.app_context():
        rows = [r for r in store.list_jobs(db.session, None, True, 1000) if status in (None, r.status)][:limit]
        counts = store.count_by_status(db.session)
        shown = [store.as_json(row) for row in rows]
        notice = worker_notice(app)
    click.echo("  ".join(f"{t(f'jobs.status.{s}')}: {counts.get(s, 0)}" for s in store.STATUSES))
    if notice:
        click.echo(notice)
    for job in shown:
        progress = f"{job['done']}/{job['total']}" if job["total"] is not None else str(job["done"])
        when = job["created_at"][:19].replace("T", " ") if job["created_at"] else ""
        note = f"  {job['message']}" if job["message"] else ""
        who = job["user"] or "-"
        said = t(f"jobs.status.{job['status']}")
        click.echo(f"#{job['id']:<6} {said:<9} {job['kind']:<24} {who:<12} {progress:>9}  {when}{note}")


LANG = click.option(
    "--lang", type=click.Choice(LOCALES), default=None, help="output language (default: `jxc --lang`, see there)"
)


@main.group(invoke_without_command=True)
@LANG
@click.pass_context
def backup(ctx: click.Context, lang: str | None) -> None:
    """Take an encrypted backup into every destination (JXC_BACKUP_DIR, JXC_BACKUP_MIRRORS, S3), verified;
    `jxc backup list`: the backups kept."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = lang  # `jxc backup --lang en list` as `jxc backup list --lang en`
        return
    from app.backups import BackupError
    from app.backups.archive import make_backup, summary
    from app.backups.settings import backup_settings
    from app.config import build_config

    config = build_config()  # no Flask app: a backup needs the configuration only
    with _speaking(lang):
        try:
            result = make_backup(backup_settings(config), config["SQLALCHEMY_DATABASE_URI"])
        except BackupError as exc:
            _fail(exc.message)
        except Exception as exc:  # noqa: BLE001 - say why, exit non-zero; no partial file is left counted
            _fail(t("backup.failed", error=exc))
        click.echo(summary(result))
        if result.failed:
            failed = "; ".join(f"{where}: {why}" for where, why in result.failed.items())
            _fail(t("backup.copies_failed", primary=backup_settings(config).directory, failed=failed))


@backup.command("list")
@LANG
@click.pass_context
def backup_list(ctx: click.Context, lang: str | None) -> None:
    """The backups kept in the first destination, newest first: file, time (the business's time zone), size, kind."""
    from app.backups import listed
    from app.backups.archive import list_folder
    from app.backups.settings import backup_settings
    from app.config import build_config

    with _speaking(lang or ctx.obj):
        folder = backup_settings(build_config()).directory
        rows = listed(list_folder(folder))
        if not rows:
            click.echo(t("backup.cli_none", folder=folder))
            return
        heads = [t(f"backup.col.{name}") for name in ("name", "time", "size", "reason", "status")]
        click.echo("\t".join(heads))
        for row in rows:
            click.echo("\t".join(str(row[k]) for k in ("name", "created", "size", "reason", "status_label")))


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@LANG
def restore(file: Path, yes: bool, lang: str | None) -> None:
    """Restore a backup FILE: checked first, current data backed up, restored beside it, then switched."""
    from app.backups import BackupError
    from app.backups.restore import restore_backup
    from app.backups.settings import backup_settings
    from app.clock import business_zone
    from app.config import build_config

    config = build_config()  # running web and job processes see the maintenance flag and reconnect after
    url = config["SQLALCHEMY_DATABASE_URI"]
    with _speaking(lang):
        if not yes:
            click.confirm(t("backup.cli_confirm", database=url.split("@")[-1], file=file), abort=True)
        try:
            result = restore_backup(backup_settings(config), url, file)
        except BackupError as exc:
            _fail(exc.message)
        except Exception as exc:  # noqa: BLE001 - the live database is switched only after a complete restore
            _fail(t("backup.cli_restore_failed", error=exc))
        before = result.safety_backup or t("backup.cli_no_safety")
        taken = datetime.fromisoformat(result.manifest["created"]).astimezone(business_zone())
        click.echo(t("backup.cli_restored", file=file, created=f"{taken:%Y-%m-%d %H:%M:%S}", before=before))


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
        _fail(t("cli.meta_errors", count=len(errors), directory=directory))
    assert meta_data is not None
    click.echo(t("cli.meta_ok", models=len(meta_data.models), roles=len(meta_data.roles)))


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
        click.echo(t("cli.fields_written", count=len(rows), file=output))
    else:
        click.echo(text, nl=False)


@main.command("import")
@click.argument("model")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mode", type=click.Choice(["all", "valid"]), default="all", show_default=True)
@click.option("--action", type=click.Choice(["create", "update", "upsert"]), default="create", show_default=True)
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--force", is_flag=True, help="Import content already imported (while that import stands).")
@click.option("--post", is_flag=True, help="Documents: post them (the user needs submit); drafts otherwise.")
@click.option("--user", "username", default="admin", show_default=True, help="import as this user")
@click.option(
    "--lang", type=click.Choice(LOCALES), default=None, help="output language (default: `jxc --lang`, else the user's)"
)
def import_command(
    model: str,
    file: Path,
    mode: str,
    action: str,
    dry_run: bool,
    force: bool,
    post: bool,
    username: str,
    lang: str | None,
) -> None:
    """Import an xlsx, xls or csv file into MODEL; prints the summary and every error once, as
    `第 N 行，「C」列：message` (`row N, column C: message` in English); exit 1 when nothing was applied."""
    from app.errors import ServiceError
    from app.extensions import db, write_intent
    from app.i18n import label
    from importers.service import import_file

    app = _app()
    with app.app_context():
        write_intent.set(not dry_run)  # a check writes a copy (SQLite) or rolls back: it takes no write lock
        access = _user_access(app, username)
        locale = lang or _root_lang() or _user_locale(access.user_id)
        with use_locale(locale):
            try:
                outcome = import_file(
                    db.session,
                    access,
                    model,
                    file.read_bytes(),
                    file.name,
                    mode=mode,
                    action=action,
                    dry_run=dry_run,
                    force=force,
                    post=post,
                )
            except ServiceError as exc:
                _fail(exc.message or str(exc))
            if outcome.applied:
                db.session.commit()
            else:
                db.session.rollback()
            lines = [*outcome.problems, *(issue.line() for issue in outcome.issues), *outcome.notes]
            if outcome.unknown_columns:
                lines.append(
                    t("cli.unknown_columns", columns=("、" if locale == "zh" else ", ").join(outcome.unknown_columns))
                )
            lines.append(
                t(
                    "cli.import_summary",
                    model=label(access.registry.model(model).label, model, locale),
                    total=outcome.total,
                    created=outcome.created,
                    updated=outcome.updated,
                    unchanged=outcome.unchanged,
                    skipped=outcome.skipped,
                    errors=len(outcome.issues),
                )
                + (t("cli.import_dry_run") if dry_run else "")
                + (t("cli.import_number", id=outcome.import_id) if outcome.import_id else "")
            )
    for line in lines:
        click.echo(line)
    if outcome.refused:
        if outcome.refused in outcome.problems:  # said once, above
            sys.exit(1)
        _fail(outcome.refused)


def _user_locale(user_id: int | None) -> str:
    """The language the user chose on the web (zh when none)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.i18n import DEFAULT_LOCALE, LOCALES
    from app.services.access.tables import user_pref

    chosen = db.session.execute(select(user_pref.c.locale).where(user_pref.c.user_id == user_id)).scalar()
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


@main.command("export")
@click.argument("model")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--filter", "filters", multiple=True, help="field=value (repeatable; links by code or name)")
@click.option("--encoding", type=click.Choice(["utf-8", "gbk"]), default="utf-8", show_default=True, help="csv only")
@click.option("--user", "username", default="admin", show_default=True, help="export as this user")
def export_command(model: str, file: Path, filters: tuple[str, ...], encoding: str, username: str) -> None:
    """Export MODEL's rows (masked and scoped as for the user) to FILE: .xlsx, or .csv (UTF-8 with BOM or GBK)."""
    from app.errors import ServiceError
    from app.extensions import db
    from app.i18n import label
    from app.services.grid.export import count_rows, export_columns, write_csv, write_xlsx
    from app.services.grid.rows import View
    from app.services.records.query import Filter

    conditions = []
    for text in filters:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            _fail(t("cli.filter_bad", text=text))
        conditions.append(Filter(name.strip(), "eq", value.strip(), typed=True))  # as the grid reads it
    app = _app()
    with app.app_context():
        access = _user_access(app, username)
        try:
            spec = access.registry.model(model)
        except KeyError:
            _fail(t("cli.no_model", model=model))
        view = View(filters=tuple(conditions))
        try:
            columns = export_columns(access, spec, "")
            rows = count_rows(db.session, access, spec, view)
            if file.suffix.lower() == ".csv":
                path = write_csv(db.session, access, spec, view, columns, encoding)
            else:
                path = write_xlsx(db.session, access, spec, view, columns)
        except ServiceError as exc:
            _fail(exc.message or str(exc))
    shutil.move(path, file)
    click.echo(t("cli.rows_exported", count=rows, model=label(spec.label, model), file=file))


def _user_access(app, username: str):  # type: ignore[no-untyped-def]
    from app.services.users.access import access_for

    found = app.appbuilder.sm.find_user(username=username)
    if found is None or not found.active:
        _fail(t("cli.no_user", user=username))
    return access_for(found)


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
    if email:
        click.echo(t("cli.user_created", user=username, role=role))
    else:  # no address: scheduled reports and alerts are not mailed to them, and the command says so
        click.echo(t("cli.user_created_no_email", user=username, role=role, note=t("user_no_address")))


@user.command("passwd")
@click.argument("username")
@click.option("--password", default=None, help="the new password (asked for, hidden, when left out)")
def user_passwd(username: str, password: str | None) -> None:
    """Give a user a new password; every session and token of theirs ends."""
    from app import create_db_app
    from app.extensions import write_intent
    from app.services.users.accounts import UserError, set_password

    if password is None:
        password = click.prompt(t("cli.new_password"), hide_input=True, confirmation_prompt=True)
    app = create_db_app()
    with app.app_context():
        write_intent.set(True)
        try:
            set_password(username, password)
        except UserError as exc:
            _fail(str(exc))
    click.echo(t("cli.password_changed", user=username))


@main.group()
def role() -> None:
    """Roles (FAB's role pages make and copy them)."""


@role.command("origin")
@click.argument("name")
@click.argument("origin")
def role_origin(name: str, origin: str) -> None:
    """Make the role NAME, a copy made before 「Copy Role」 linked copies, a copy of the roles.yaml role ORIGIN: its
    users then see and fill in what ORIGIN's do (never more: NAME may hold no permission ORIGIN does not)."""
    from app.extensions import registry, write_intent
    from app.services.users.accounts import UserError, set_role_origin

    app = _app()
    with app.app_context():
        write_intent.set(True)
        try:
            changed = set_role_origin(name, origin, registry().meta.roles)
        except UserError as exc:
            _fail(str(exc))
    click.echo(t("cli.role_origin_set" if changed else "cli.role_origin_same", role=name, origin=origin))


if __name__ == "__main__":  # pragma: no cover
    main()


@main.group()
def report() -> None:
    """Reports (metadata/reports/)."""


@report.command("run")
@click.argument("name")
@click.option("--param", "params", multiple=True, help="k=v, e.g. period=2026-11-01..2026-11-30 (repeatable)")
@click.option("--user", "username", default="admin", show_default=True, help="run as this user (scope and masks)")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help=".xlsx, .csv or .json (default: csv on stdout)",
)
def report_run(name: str, params: tuple[str, ...], username: str, output: Path | None) -> None:
    """Run a report as a user and write it to a file or stdout."""
    import json

    from app.errors import ServiceError
    from app.extensions import db
    from app.services.records.serialize import user_name
    from app.services.users.access import access_for
    from reports.output import to_csv, write_xlsx
    from reports.runner import as_json, run_report

    raw: dict[str, str] = {}
    for pair in params:
        key, sep, value = pair.partition("=")
        if not sep:
            _fail(t("cli.param_bad", pair=pair))
        raw[key.strip()] = value.strip()
    app = _app()
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        if user is None:
            _fail(t("cli.no_user", user=username))
        try:
            result = run_report(db.session, access_for(user), name, raw)
        except ServiceError as exc:
            _fail(t("cli.report_failed", name=name, message=exc.message))
        suffix = output.suffix.lower() if output else ".csv"
        if suffix == ".xlsx":
            write_xlsx(result, str(output), user_name(user))
        elif suffix == ".json":
            output.write_text(json.dumps(as_json(result), ensure_ascii=False, indent=1), encoding="utf-8")  # type: ignore[union-attr]
        elif output is not None:
            output.write_bytes(to_csv(result))
        else:
            click.echo(to_csv(result).decode("utf-8").lstrip("\ufeff"), nl=False)
        if output is not None:
            click.echo(t("cli.rows_written", count=len(result.rows), file=output))
