"""Schedules as rows: validate a schedule (from metadata/schedules.yaml or /admin/schedules/), save it,
read it back, and sync the YAML's schedules into the table by name."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from croniter import croniter
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import insert, select, true, update
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.errors import CellError, NotFound, ValidationFailed
from app.extensions import registry
from app.i18n import t
from app.mail.robots import ROBOT_TYPES
from app.meta.types import is_address, is_no_address
from app.schedules import frequency
from app.schedules.prefs import get_pref
from app.schedules.reporting import check_params, may_read, report_label
from app.schedules.tables import schedule

KINDS = ("report", "dunning", "digest", "backup")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass
class Schedule:
    """One schedule, its JSON columns decoded."""

    id: int | None
    name: str
    title: str
    kind: str
    cron: str
    params: dict[str, Any] = field(default_factory=dict)
    recipients: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    robots: list[dict[str, str]] = field(default_factory=list)
    external: bool = False
    run_as: str | None = None
    skip_empty: bool = True
    active: bool = True
    source: str = "admin"
    created_at: Any = None
    updated_at: Any = None
    owner: str | None = None  # the non-admin who scheduled a report to themselves (None: an admin's, the YAML's)

    def as_json(self) -> dict[str, Any]:
        """What the page and the API show (robot URLs carry their key: admins only see this)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for key in ("created_at", "updated_at"):
            out[key] = out[key].isoformat() if out[key] is not None else None
        return out


def from_row(row: Any) -> Schedule:
    return Schedule(
        id=row.id,
        name=row.name,
        title=row.title,
        kind=row.kind,
        cron=row.cron,
        params=json.loads(row.params or "{}"),
        recipients=json.loads(row.recipients or "[]"),
        addresses=json.loads(row.addresses or "[]"),
        robots=json.loads(row.robots or "[]"),
        external=bool(row.external),
        run_as=row.run_as,
        skip_empty=bool(row.skip_empty),
        active=bool(row.active),
        source=row.source,
        created_at=row.created_at,
        updated_at=row.updated_at,
        owner=row.owner,
    )


def _list(raw: Any) -> list[Any]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [part.strip() for part in re.split(r"[,;\s]+", raw) if part.strip()]
    return list(raw) if isinstance(raw, list | tuple) else [raw]


# what a schedule's answer says that is not set by writing it: sent back as read (a GET's body PUT again), ignored
READ_ONLY = frozenset({"id", "source", "created_at", "updated_at", "next_run", "no_address", "owner", "when"})
# what a schedule is written with besides its columns: how often in words, stored as its cron (`frequency.py`)
WRITTEN_AS = frozenset({"frequency"})


def parse(session: Session, data: dict[str, Any], *, source: str = "admin", stored: str | None = None) -> Schedule:
    """A schedule from JSON / YAML / form values, every problem reported at once (ValidationFailed); `stored` is the
    cron of the schedule being changed (`cron_of`)."""
    errors: list[CellError] = []
    known = (set(Schedule.__dataclass_fields__) - READ_ONLY) | WRITTEN_AS
    for key in sorted(set(data) - known - READ_ONLY):
        errors.append(CellError(key, t("schedules.unknown_key", name=key)))
    name = str(data.get("name") or "").strip()
    if not _NAME.match(name):
        errors.append(CellError("name", t("schedules.bad_name")))
    kind = str(data.get("kind") or "")
    if kind not in KINDS:
        errors.append(CellError("kind", t("schedules.bad_kind", kinds=", ".join(KINDS))))
    cron, problems = cron_of(data, stored)
    errors.extend(problems)
    params = data.get("params") or {}
    if isinstance(params, str):
        try:
            params = json.loads(params) if params.strip() else {}
        except ValueError:
            params = None
    if not isinstance(params, dict):
        errors.append(CellError("params", t("schedules.bad_params")))
        params = {}
    report = str(params.get("report") or "").strip()
    if kind == "report" and not report:
        errors.append(CellError("params", t("schedules.report_missing")))
    elif kind == "report" and report not in registry().meta.reports and report not in registry().meta.models:
        errors.append(CellError("params", t("schedules.unknown_report", report=report)))
    recipients = [str(r) for r in _list(data.get("recipients"))]
    known_users = set(session.execute(select(User.username).where(User.username.in_(recipients))).scalars())
    for unknown in [r for r in recipients if r not in known_users]:
        errors.append(CellError("recipients", t("schedules.unknown_user", user=unknown)))
    external = bool(data.get("external"))
    run_as = str(data.get("run_as") or "").strip() or None
    addresses = [str(a) for a in _list(data.get("addresses"))]
    for bad in [a for a in addresses if not is_address(a)]:
        errors.append(CellError("addresses", t("schedules.bad_address", address=bad)))
    if addresses and not external:
        errors.append(CellError("addresses", t("schedules.addresses_need_external")))
    if external and not run_as:
        errors.append(CellError("run_as", t("schedules.external_needs_run_as")))
    if run_as and session.execute(select(User.id).where(User.username == run_as)).scalar() is None:
        errors.append(CellError("run_as", t("schedules.unknown_user", user=run_as)))
    robots = data.get("robots") or []
    if isinstance(robots, str):
        try:
            robots = json.loads(robots) if robots.strip() else []
        except ValueError:
            robots = None
    if not isinstance(robots, list) or not all(isinstance(r, dict) for r in robots):
        errors.append(CellError("robots", t("schedules.bad_robots")))
        robots = []
    for robot in robots:
        if robot.get("type") not in ROBOT_TYPES or not str(robot.get("url", "")).startswith(("http://", "https://")):
            errors.append(CellError("robots", t("schedules.bad_robots")))
    if kind == "report" and not (recipients or addresses or robots):  # a digest without users: everyone
        errors.append(CellError("recipients", t("schedules.nobody")))
    if errors:
        raise ValidationFailed(errors, summary=errors[0].message)
    return Schedule(
        id=None,
        name=name,
        title=str(data.get("title") or name),
        kind=kind,
        cron=cron,
        params=params,
        recipients=recipients,
        addresses=addresses,
        robots=[{k: str(v) for k, v in r.items() if k in ("type", "url", "secret")} for r in robots],
        external=external,
        run_as=run_as,
        skip_empty=bool(data.get("skip_empty", True)),
        active=bool(data.get("active", True)),
        source=source,
    )


def cron_of(data: dict[str, Any], stored: str | None = None) -> tuple[str, list[CellError]]:
    """The cron a schedule is written with: its `frequency` in words made one (每周一 08:00 is `0 8 * * 1`), else
    its `cron` as typed; the problems with either. A GET's answer carries both, so a body sent back may too: when they
    disagree, the one changed from the schedule as `stored` is taken (a cron edited beside the frequency it was read
    with, or a frequency picked beside the old cron); both changed, or a new schedule given two different ones, is
    refused rather than one of them silently dropped."""
    raw = data.get("frequency")
    typed = " ".join(str(data.get("cron") or "").split())
    valid = bool(typed) and croniter.is_valid(typed) and len(typed.split()) == 5
    if raw in (None, "", {}):
        return typed, [] if valid else [CellError("cron", t("schedules.bad_cron", cron=typed))]
    freq, problems = frequency.read(raw)
    if freq is None:
        return typed, problems
    if not typed or frequency.from_cron(typed) == freq or typed == stored:
        return (typed if typed and frequency.from_cron(typed) == freq else frequency.to_cron(freq)), []
    if stored is not None and frequency.from_cron(stored) == freq:  # the frequency as read, the cron changed
        return typed, [] if valid else [CellError("cron", t("schedules.bad_cron", cron=typed))]
    return typed, [CellError("frequency", t("schedules.freq_conflict", when=frequency.words(freq), cron=typed))]


def without_address(session: Session, item: Schedule) -> list[str]:
    """The named recipients a run would mail who have no e-mail address (无邮箱), by user name: every active
    recipient of a report, and of a digest those who chose e-mail for it (the others get the bell or a robot).
    Shown on the schedule and warned of when it is saved; a run logs them 「用户 X 没有邮箱地址，未发送」."""
    if item.kind not in ("report", "digest") or not item.recipients:
        return []
    users = select(User.id, User.username, User.email).where(User.username.in_(item.recipients), User.active.is_(True))
    return sorted(
        username
        for pk, username, email in session.execute(users)
        if is_no_address(email) and (item.kind == "report" or get_pref(session, pk).channel == "email")
    )


def recipients_offered(session: Session, access: Any) -> list[tuple[str, bool]]:
    """Whom the user may send a report to, (user name, 无邮箱) by name: every active user for an admin, else
    themselves (the list says who cannot be mailed before any run)."""
    return [
        (username, is_no_address(email))
        for username, email in session.execute(
            select(User.username, User.email)
            .where(User.active.is_(True), true() if access.is_admin else User.username == access.username)
            .order_by(User.username)
        )
    ]


def not_readable(session: Session, item: Schedule) -> list[str]:
    """The named active recipients of a report whose roles may not run it, by user name (a run logs each of them
    「用户 X 无权查看…，未发送」)."""
    if item.kind != "report" or not item.recipients:
        return []
    from app.services.users.access import access_for

    name = str(item.params.get("report") or "")
    users = select(User).where(User.username.in_(item.recipients), User.active.is_(True))
    readers = [(user.username, access_for(user)) for user in session.execute(users).scalars()]
    return sorted(username for username, access in readers if not may_read(access, name))


def save_warnings(session: Session, item: Schedule) -> list[str]:
    """What saving the schedule warns of: each recipient it cannot mail, and each who may not read its report. The
    save is not refused for either: the address may be filled in and the role given the report later, and the
    others (or the robots, the bell) still get theirs."""
    report = report_label(registry(), item.params) if item.kind == "report" else ""
    return [t("schedules.recipient_no_address", user=user) for user in without_address(session, item)] + [
        t("schedules.recipient_not_allowed", user=user, report=report) for user in not_readable(session, item)
    ]


def _values(item: Schedule) -> dict[str, Any]:
    return {
        "name": item.name,
        "title": item.title,
        "kind": item.kind,
        "cron": item.cron,
        "params": json.dumps(item.params, ensure_ascii=False),
        "recipients": json.dumps(item.recipients, ensure_ascii=False),
        "addresses": json.dumps(item.addresses),
        "robots": json.dumps(item.robots),
        "external": item.external,
        "run_as": item.run_as,
        "skip_empty": item.skip_empty,
        "active": item.active,
        "updated_at": utcnow(),
    }


def save(session: Session, access: Any, data: dict[str, Any], pk: int | None = None) -> Schedule:
    """Create (pk None) or change a schedule; the caller commits. An admin any schedule; anyone else a report
    to themselves only (`own_problems`), and only their own schedule: it runs as them, their scope and masks."""
    stored = mine(session, access, pk).cron if pk is not None else None
    item = parse(session, data, stored=stored)
    if not access.is_admin:
        problems = own_problems(access, item)
        if problems:
            raise ValidationFailed(problems, summary=problems[0].message)
    if item.kind == "report":
        check_params(session, access, item.params)
    clash = session.execute(select(schedule.c.id).where(schedule.c.name == item.name)).scalar()
    if clash is not None and clash != pk:
        raise ValidationFailed([CellError("name", t("schedules.name_taken", name=item.name))])
    owner = None if access.is_admin else access.username
    twin = _twin(session, item, owner, pk)
    if twin is not None:
        problem = CellError("cron", t("schedules.twin", title=twin.title or twin.name))
        raise ValidationFailed([problem], summary=problem.message)
    if pk is None:
        now = utcnow()
        pk = session.execute(
            insert(schedule).values(**_values(item), source="admin", created_at=now, owner=owner)
        ).inserted_primary_key[0]
    else:
        session.execute(update(schedule).where(schedule.c.id == pk).values(**_values(item)))
    return get(session, pk)


# what makes two schedules one: the same thing sent at the same times to the same people (a name and title differ
# freely; an active and a paused twin are still one, the pause only hides it)
_SAME = ("kind", "cron", "params", "recipients", "addresses", "robots", "external", "run_as")


def _twin(session: Session, item: Schedule, owner: str | None, pk: int | None) -> Schedule | None:
    """Another schedule of the same owner (None: the admins') that sends the same as `item`: a second would mail
    everyone twice. Checked here, so the API, the 定时任务 page and a report's 定时发送 refuse it alike (the 定时发送
    form changes the one with the same filters instead of adding one: `report_schedules`)."""
    same_owner = schedule.c.owner.is_(None) if owner is None else schedule.c.owner == owner
    stmt = select(schedule).where(same_owner, schedule.c.kind == item.kind, schedule.c.cron == item.cron)
    for other in map(from_row, session.execute(stmt)):
        if other.id != pk and all(getattr(other, key) == getattr(item, key) for key in _SAME):
            return other
    return None


def own_problems(access: Any, item: Schedule) -> list[CellError]:
    """What a user who is not an admin may not schedule: anything but a report (催款 mails customers, a backup
    is an admin's), to anyone but themselves (no other user, outside address, robot or other user to run as)."""
    problems = []
    if item.kind != "report":
        problems.append(CellError("kind", t("schedules.own_reports_only")))
    if item.recipients != [access.username]:
        problems.append(CellError("recipients", t("schedules.own_recipient_only", user=access.username)))
    if item.addresses or item.external or item.run_as:
        problems.append(CellError("addresses", t("schedules.own_no_outside")))
    if item.robots:
        problems.append(CellError("robots", t("schedules.own_no_outside")))
    return problems


def get(session: Session, pk: int) -> Schedule:
    row = session.execute(select(schedule).where(schedule.c.id == pk)).first()
    if row is None:
        raise NotFound(t("not_found"))
    return from_row(row)


def mine(session: Session, access: Any, pk: int) -> Schedule:
    """A schedule the user may see, change, run and delete: any, for an admin; else one they own (another's is
    not found: its existence is nobody else's business)."""
    item = get(session, pk)
    if not access.is_admin and item.owner != access.username:
        raise NotFound(t("not_found"))
    return item


def delete(session: Session, access: Any, pk: int) -> None:
    """Delete a schedule the user may (`mine`); its runs and their deliveries stay in the tables (a 催款 sent is
    still on the customer's account page). The caller commits."""
    mine(session, access, pk)
    session.execute(schedule.delete().where(schedule.c.id == pk))


def all_schedules(session: Session, active_only: bool = False) -> list[Schedule]:
    stmt = select(schedule).order_by(schedule.c.name)
    if active_only:
        stmt = stmt.where(schedule.c.active.is_(True))
    return [from_row(row) for row in session.execute(stmt)]


def visible_schedules(session: Session, access: Any) -> list[Schedule]:
    """The schedules a user sees: every one for an admin, else their own."""
    if access.is_admin:
        return all_schedules(session)
    stmt = select(schedule).where(schedule.c.owner == access.username).order_by(schedule.c.name)
    return [from_row(row) for row in session.execute(stmt)]


def report_schedules(session: Session, access: Any, report: str) -> list[Schedule]:
    """The user's own schedules of `report` (a report page's 定时发送 lists them, and saving its filters again changes
    the one that has them): a non-admin's by owner; an admin's are the admins' (no owner) made on a page, not
    schedules.yaml's nor a user's own."""
    if access.is_admin:
        mine_only = schedule.c.owner.is_(None) & (schedule.c.source == "admin")
    else:
        mine_only = schedule.c.owner == access.username
    stmt = select(schedule).where(mine_only, schedule.c.kind == "report").order_by(schedule.c.id)
    return [item for item in map(from_row, session.execute(stmt)) if item.params.get("report") == report]


def declared(metadata_dir: Path) -> list[dict[str, Any]]:
    """The schedules of metadata/schedules.yaml (a list under `schedules:`), as written."""
    path = metadata_dir / "schedules.yaml"
    if not path.exists():
        return []
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return list(loaded.get("schedules") or [])


def sync_declared(session: Session, metadata_dir: Path) -> list[str]:
    """Insert the YAML's schedules missing from the table (by name); admins' later changes are kept.
    Returns the names added; a schedule the YAML gets wrong raises ValidationFailed naming it."""
    added = []
    existing = set(session.execute(select(schedule.c.name)).scalars())
    for data in declared(metadata_dir):
        try:
            item = parse(session, dict(data), source="yaml")
        except ValidationFailed as exc:
            raise ValidationFailed(exc.errors, summary=f"schedules.yaml {data.get('name')}: {exc.summary}") from exc
        if item.name in existing:
            continue
        now = utcnow()
        session.execute(insert(schedule).values(**_values(item), source="yaml", created_at=now))
        added.append(item.name)
    return added
