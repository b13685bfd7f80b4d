"""The `jxc` command: init, serve, worker, jobs, backup, restore, meta check / export, user add, report run."""

# ruff: noqa: E402 - the imports after the first two are made with Ctrl-C held back (below)

from __future__ import annotations

import signal
import sys

# Ctrl-C while the command is still loading (before click reads the command line) is kept until the module is
# loaded, then answered as one later: 已取消, not a traceback of the import it broke into (_end_of_loading)
_INTERRUPTED: list[int] = []
_LOADING_SIGINT = signal.getsignal(signal.SIGINT)
if _LOADING_SIGINT is signal.default_int_handler:
    signal.signal(signal.SIGINT, lambda signum, _frame: _INTERRUPTED.append(signum))

import logging
import os
import re
import shutil
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types
import yaml
from click.exceptions import NoSuchCommand

from app.config import ROOT
from app.i18n import (
    CATALOGUES,
    DEFAULT_LOCALE,
    LOCALES,
    MESSAGES,
    chosen_locale,
    current_locale,
    join_list,
    t,
    use_locale,
)

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
    for noisy in ("flask_appbuilder.models.filters", "flask_appbuilder.security.manager"):  # FAB's notes in English,
        logging.getLogger(noisy).setLevel(logging.ERROR)  # not the user's (No user yet created, use flask fab …)
    try:
        return create_app(dict(overrides))
    except MetadataInvalid as exc:
        _fail(t("cli.metadata_invalid") + "\n" + "\n".join(f"  {e}" for e in exc.errors))


HELP = "cli.help."  # the catalogue's help texts: cli.help.jxc.<command ...>, cli.help.jxc.<command>.<option>


def _help_locale(ctx: click.Context) -> str | None:
    """The language `--help` answers in: the one every other line of the command is in. `--help` answers while the
    command line is read, before `main` runs: `--lang` (eager, so read first when it comes before `--help`), then
    JXC_LANG, then the shell's locale."""
    given = ctx.params.get("lang") or ctx.find_root().params.get("lang")
    chosen = os.environ.get("JXC_LANG")
    return given or (chosen if chosen in LOCALES else None) or environment_locale()


def _name_help(command: click.Command, key: str) -> None:
    """Give `command`, its options and its subcommands their help texts from the catalogue, in the current
    language (`key`: the command's path, jxc.user.add)."""
    command.help = t(HELP + key)
    command.short_help = None
    for param in command.params:
        if isinstance(param, click.Option) and HELP + f"{key}.{param.name}" in MESSAGES:
            param.help = t(HELP + f"{key}.{param.name}")
    for name, sub in getattr(command, "commands", {}).items():
        _name_help(sub, f"{key}.{name}")


def _option_record(param: click.Parameter, ctx: click.Context) -> tuple[str, str] | None:
    """An option's line in the help, as click makes it ([default: …], [required]) in the current language."""
    if not isinstance(param, click.Option) or param.hidden:
        return None
    extra = param.get_help_extra(ctx)
    said = [t(HELP + "default", value=extra["default"])] if "default" in extra else []
    said += [t(HELP + "required")] if "required" in extra else []
    text = param.help or ""
    if said:
        text = f"{text}  [{'; '.join(said)}]" if text else f"[{'; '.join(said)}]"
    return param.get_help_spec(ctx), text


def _section(formatter: click.HelpFormatter, heading: str, rows: list[tuple[str, str]]) -> None:
    """A titled list in the help (click's own adds an ASCII colon to the heading: 选项： is the catalogue's)."""
    if rows:
        formatter.write_paragraph()
        formatter.write(f"{'':>{formatter.current_indent}}{heading}\n")
        with formatter.indentation():
            formatter.write_dl(rows)


def _short_help(text: str, limit: int) -> str:
    """A command's first sentence (。 or ". "), cut to `limit` columns (a Chinese character takes two)."""
    first = text.split("。")[0].split(". ")[0].rstrip(".")
    width = 0
    for at, char in enumerate(first):
        width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if width > limit - 1:
            return first[:at] + "…"
    return first


class JxcCommand(click.Command):
    """A `jxc` command whose help is in the language the command speaks (texts: the catalogue's cli.help.*)."""

    def get_help(self, ctx: click.Context) -> str:
        """The help in the command's language, every command's texts from the catalogue."""
        with use_locale(_help_locale(ctx)):
            _name_help(ctx.find_root().command, "jxc")
            return super().get_help(ctx)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """`--help`, described in the command's language."""
        option = super().get_help_option(ctx)
        if option is not None:
            with use_locale(_help_locale(ctx)):
                option.help = t(HELP + "help")
        return option

    def get_usage(self, ctx: click.Context) -> str:
        """The usage line (shown with a usage error too) in the command's language."""
        with use_locale(_help_locale(ctx)):
            return super().get_usage(ctx)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The usage line, 用法： / Usage:."""
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), t(HELP + "usage"))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The options, under 选项 / Options."""
        rows = [row for row in (_option_record(p, ctx) for p in self.get_params(ctx)) if row is not None]
        _section(formatter, t(HELP + "options"), rows)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


def _param_name(param: click.Parameter | None) -> str:
    """An option as typed (--role), an argument by its name (USERNAME)."""
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return param.human_readable_name if param is not None else ""


def _usage_error_text(exc: click.UsageError) -> str:
    """A usage error in the command's language: what is missing, unknown or not allowed (click's own English for a
    kind it has no words for here)."""
    if isinstance(exc, click.MissingParameter):
        kind = "argument" if isinstance(exc.param, click.Argument) else "option"
        return t(HELP + f"missing_{kind}", name=_param_name(exc.param))
    if isinstance(exc, click.NoSuchOption):
        near = join_list(sorted(exc.possibilities or []))
        return t(HELP + "no_such_option", name=exc.option_name) + (t(HELP + "did_you_mean", names=near) if near else "")
    if isinstance(exc, NoSuchCommand):
        return t(HELP + "no_such_command", name=exc.command_name)
    if isinstance(exc, click.BadParameter) and exc.param is not None:
        name, typed = _param_name(exc.param), exc.param.type
        if isinstance(typed, click.Choice):
            return t(HELP + "bad_choice", name=name, choices=join_list(map(str, typed.choices)))
        if isinstance(typed, (click.types.IntParamType, click.types.FloatParamType)):
            return t(HELP + "not_a_number", name=name, value=_given(exc))
        return t(HELP + "bad_value", name=name, message=exc.message)
    return exc.format_message()


def _given(exc: click.BadParameter) -> str:
    """The value typed for the parameter a BadParameter is about (as click quotes it in its own message)."""
    found = re.search(r"'([^']*)' is not", exc.message)
    return found.group(1) if found else ""


def _show_usage_error(exc: click.UsageError) -> None:
    """What click's `UsageError.show` prints (usage, where help is, the error) in the command's language."""
    with use_locale(_help_locale(exc.ctx) if exc.ctx is not None else _help_locale_outside()):
        if exc.ctx is not None:
            hint = t(HELP + "try_help", command=exc.ctx.command_path)
            click.echo(f"{exc.ctx.get_usage()}\n{hint}\n", err=True)
        click.echo(t(HELP + "error", message=_usage_error_text(exc)), err=True)


def _help_locale_outside() -> str | None:
    """The language before any command line was read: JXC_LANG, else the shell's."""
    chosen = os.environ.get("JXC_LANG")
    return chosen if chosen in LOCALES else environment_locale()


# click's own words a `jxc` command can show (its prompts, its errors, 「Aborted!」), by the catalogue's key: click asks
# gettext for each (`_`, `ngettext` in its modules), and gets them here in the command's language
CLICK_TEXTS = {
    "Aborted!": HELP + "aborted",
    "Error: {message}": HELP + "error",
    "Error: invalid input": "cli.click.invalid_input",
    "Error: The two entered values do not match.": "cli.click.values_differ",
    "Repeat for confirmation": "cli.click.repeat",
    "Missing command.": "cli.click.missing_command",
    "Invalid value for {param_hint}: {message}": "cli.click.invalid_value_for",
    "Invalid value: {message}": "cli.click.invalid_value",
    "Option {name!r} does not take a value.": "cli.click.option_takes_no_value",
    "file": "cli.click.file",
    "directory": "cli.click.directory",
    "path": "cli.click.path",
    "{name} {filename!r} does not exist.": "cli.click.not_found",
    "{name} {filename!r} is a directory.": "cli.click.is_directory",
    "{name} {filename!r} is a file.": "cli.click.is_file",
    "{name} {filename!r} is not readable.": "cli.click.not_readable",
    "{name} {filename!r} is not writable.": "cli.click.not_writable",
    "{name} {filename!r} is not executable.": "cli.click.not_executable",
    "Could not open file {filename!r}: {message}": "cli.click.cannot_open",
}
CLICK_PLURALS = {  # singular -> (key of one, key of several)
    "Got unexpected extra argument ({args})": ("cli.click.extra_argument", "cli.click.extra_arguments"),
    "Option {name!r} requires an argument.": ("cli.click.option_needs_value", "cli.click.option_needs_values"),
}


def _click_language() -> str:
    """The language click's words are in: the command's (`--lang`, JXC_LANG, the shell's), Chinese by default."""
    return chosen_locale() or _help_locale_outside() or DEFAULT_LOCALE


def _click_text(message: str) -> str:
    """click's `_`: one of its messages in the command's language (a template click fills in itself)."""
    key = CLICK_TEXTS.get(message)
    return CATALOGUES[_click_language()][key] if key is not None else message


def _click_plural(singular: str, plural: str, count: int) -> str:
    """click's `ngettext`, likewise."""
    keys = CLICK_PLURALS.get(singular)
    if keys is None:
        return singular if count == 1 else plural
    return CATALOGUES[_click_language()][keys[0] if count == 1 else keys[1]]


CLICK_MODULES = (
    click.core,
    click.decorators,
    click.exceptions,
    click.formatting,
    click.parser,
    click.termui,
    click.types,
)
for _module in CLICK_MODULES:
    if hasattr(_module, "_"):
        _module._ = _click_text  # type: ignore[attr-defined]
    if hasattr(_module, "ngettext"):
        _module.ngettext = _click_plural  # type: ignore[attr-defined]


class JxcGroup(JxcCommand, click.Group):
    """A `jxc` group: its help, and its subcommands', in the command's language."""

    command_class = JxcCommand
    group_class = type  # subgroups are JxcGroups too

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """click's standalone run, with its usage errors and 「Aborted!」 in the command's language."""
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        try:
            done = super().main(*args, **{**kwargs, "standalone_mode": False})
        except click.UsageError as exc:
            _show_usage_error(exc)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            with use_locale(_help_locale_outside()):
                click.echo(t(HELP + "aborted"), err=True)
            sys.exit(1)
        sys.exit(done if isinstance(done, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The subcommands with their short help, under 命令 / Commands."""
        commands = [(name, self.commands[name]) for name in self.list_commands(ctx) if not self.commands[name].hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            rows = [(name, _short_help(command.help or "", limit)) for name, command in commands]
            _section(formatter, t(HELP + "commands"), rows)


@click.group(cls=JxcGroup)
@click.option(
    "--lang",
    type=click.Choice(LOCALES),
    default=None,
    envvar="JXC_LANG",
    is_eager=True,  # read before --help, which answers in it
)
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    """JXC 进销存 command line."""
    ctx.with_resource(use_locale(lang or environment_locale()))


@main.command()
@click.option("--demo", is_flag=True)
@click.option("--history", is_flag=True)
def init(demo: bool, history: bool) -> None:
    """Create or upgrade the database, permissions, roles and the admin user."""
    from app.setup import init_database

    if history and not demo:
        raise click.UsageError(t("cli.history_needs_demo"))
    app = _app()
    result = init_database(app, demo=demo, history=history)
    with app.app_context():
        for change in result.schema_changes:
            click.echo(f"  {_schema_line(change)}")
    click.echo(t("cli.database_ready", database=app.config["SQLALCHEMY_DATABASE_URI"].split("@")[-1]))
    if result.admin_password:
        click.echo(t("cli.admin_created", password=result.admin_password))
    if result.demo_rows:
        click.echo(t("cli.demo_rows", count=result.demo_rows))
    if result.demo_documents:
        click.echo(t("cli.demo_documents", count=result.demo_documents))
    for found in result.code_collisions:  # listed for people to fix: never merged
        codes = join_list(t("cli.code_collision", code=c, id=pk) for c, pk in zip(found.codes, found.ids, strict=True))
        with app.app_context():
            model, field = _titles(found.model, found.field)
        click.echo(t("cli.code_collisions", model=model, field=field, codes=codes), err=True)


SCHEMA_CHANGES = ("create table", "add column", "backfill", "compute", "create index")  # app/meta/schema.py


def _titles(model: str, field: str | None = None) -> tuple[str, str]:
    """A model's and one of its fields' (by name or column) labels in the current language; the key where the
    metadata has none."""
    from app.extensions import registry
    from app.i18n import label

    spec = registry().meta.models.get(model)
    found = None
    if spec is not None and field:
        found = spec.field(field) or next((f for f in spec.fields if f.column == field), None)
    return label(spec.label, model) if spec else model, label(found.label, field or "") if found else field or ""


def _schema_line(change: str) -> str:
    """A line of `sync_schema` ("add column item.colour") in the current language, with the model's and field's
    labels: 新增字段 item.colour（商品 · 颜色）."""
    for kind in SCHEMA_CHANGES:
        if change.startswith(kind + " "):
            name = change[len(kind) + 1 :]
            text = t(f"cli.schema.{kind.replace(' ', '_')}", name=name)
            if kind == "create index":
                return text
            model, _, field = name.partition(".")
            about = " · ".join(x for x in _titles(model, field or None) if x and x not in (model, field))
            return text + (t("cli.schema_about", label=about) if about else "")
    return change


def _admin_login_hint(instance: Path) -> str:
    if os.environ.get("JXC_ADMIN_PASSWORD"):
        return t("cli.login_env")
    path = instance / "admin_password"
    if path.exists():
        return f"admin / {path.read_text().strip()}"
    return t("cli.login_first")


@main.command()
@click.option("--workers", default=2, show_default=True)
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
@click.option("--once", is_flag=True)
@click.option("--every", default=30.0, show_default=True)
def cron(once: bool, every: float) -> None:
    """Claim due schedule runs (each period once in the database, whatever else runs `jxc cron`) and run their jobs:
    on a live `jxc worker`, else in this process, as the web does; `--once`: one look, waiting for the jobs it ran."""
    import time

    from app.jobs import backends
    from app.schedules.cron import run_due

    app = _app(JXC_RUNS_JOBS=True)  # it runs what no live worker would: a scheduled mail goes out on time
    runner = t("cli.runner_rq") if app.config.get("REDIS_URL") else t("cli.runner_in_process")
    click.echo(t("cli.cron_started", every=f"{every:g}", runner=runner))
    while True:
        claimed = run_due(app)
        if claimed:
            click.echo(t("cli.cron_claimed", ids=join_list(map(str, claimed))))
        if once:
            break
        time.sleep(every)
    backends.wait_for_pool()


@main.command()
@click.option("--burst", is_flag=True)
@click.option("--queue", "queues", multiple=True)
@click.option("--name", default=None)
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
@click.option("--status", default=None)
@click.option("--limit", default=20, show_default=True)
def jobs(status: str | None, limit: int) -> None:
    """List the newest background jobs and how many are in each status."""
    from app.extensions import db
    from app.jobs import store
    from app.jobs.kinds import kind_label
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
        kind = kind_label(job["kind"])  # as the jobs page names it: 导入, not import
        click.echo(f"#{job['id']:<6} {said:<9} {kind:<24} {who:<12} {progress:>9}  {when}{note}")


LANG = click.option("--lang", type=click.Choice(LOCALES), default=None)


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
@click.option("--yes", is_flag=True)
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
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None)
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
@click.option("--dry-run", is_flag=True)
@click.option("--force", is_flag=True)
@click.option("--post", is_flag=True)
@click.option("--user", "username", default="admin", show_default=True)
@click.option("--lang", type=click.Choice(LOCALES), default=None)
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
@click.option("--filter", "filters", multiple=True)
@click.option("--encoding", type=click.Choice(["utf-8", "gbk"]), default="utf-8", show_default=True)
@click.option("--user", "username", default="admin", show_default=True)
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
@click.option("--role", required=True)
@click.option("--password", required=True)
@click.option("--email", default=None)
@click.option("--name", default=None)
@click.option("--warehouse", "warehouses", multiple=True)
def user_add(
    username: str, role: str, password: str, email: str | None, name: str | None, warehouses: tuple[str, ...]
) -> None:
    """Create a user with a role (and, for warehouse staff, their warehouses)."""
    from app import create_db_app
    from app.extensions import write_intent
    from app.services.users.accounts import UserError, create_user, role_title

    app = create_db_app()
    with app.app_context():
        write_intent.set(True)
        try:
            create_user(username, role, password, email=email, name=name, warehouses=list(warehouses))
        except UserError as exc:
            _fail(str(exc))
        title = role_title(role)  # as the role pages name it: 仓管员, not warehouse
    if email:
        click.echo(t("cli.user_created", user=username, role=title))
    else:  # no address: scheduled reports and alerts are not mailed to them, and the command says so
        click.echo(t("cli.user_created_no_email", user=username, role=title, note=t("user_no_address")))


@user.command("passwd")
@click.argument("username")
@click.option("--password", default=None)
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
    from app.i18n import label
    from app.services.users.accounts import UserError, set_role_origin

    app = _app()
    with app.app_context():
        write_intent.set(True)
        known = registry().meta.roles
        try:
            changed = set_role_origin(name, origin, known)
        except UserError as exc:
            _fail(str(exc))
    said = label(known[origin].label, origin)  # as the role pages name it: 销售员, not salesperson
    click.echo(t("cli.role_origin_set" if changed else "cli.role_origin_same", role=name, origin=said))


if __name__ == "__main__":  # pragma: no cover
    main()


@main.group()
def report() -> None:
    """Reports (metadata/reports/)."""


@report.command("run")
@click.argument("name")
@click.option("--param", "params", multiple=True)
@click.option("--user", "username", default="admin", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
)
def report_run(name: str, params: tuple[str, ...], username: str, output: Path | None) -> None:
    """Run a report as a user and write it to a file or stdout."""
    import json

    from app.errors import ServiceError
    from app.extensions import db
    from app.i18n import label
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
            known = access_for(user).registry.meta.reports.get(name)  # named as its page names it, when there is one
            _fail(t("cli.report_failed", name=label(known.label, name) if known else name, message=exc.message))
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


def _end_of_loading() -> None:
    """The module is loaded: Ctrl-C is Python's again (click answers it from here: 已取消); one pressed while it
    loaded is answered now, as click would have, instead of a traceback of the import it broke into."""
    if _LOADING_SIGINT is signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if _INTERRUPTED:
        click.echo(file=sys.stderr)
        click.echo(t(HELP + "aborted", _click_language()), err=True)
        sys.exit(1)


_end_of_loading()
