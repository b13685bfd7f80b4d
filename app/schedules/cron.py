"""When schedules run: `tick()` finds each active schedule's latest due period and claims it.

A period is the cron string's latest fire time at or before now, read in the business's time zone
(JXC_TIMEZONE). Claiming is inserting the row (schedule, period) into jxc_schedule_run, whose unique
constraint lets exactly one process win, whichever `jxc cron` (or embedded scheduler) gets there first;
the run's job is submitted in the same transaction. A schedule that missed several periods while
everything was down runs once, for the latest of them, when the scheduler returns. A new schedule starts
with the first period after it was made.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from typing import Any

from croniter import croniter
from flask import Flask
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import business_zone, utcnow
from app.extensions import db
from app.jobs import submit
from app.jobs.queue import take_stranded
from app.schedules.store import Schedule, all_schedules
from app.schedules.tables import schedule_run
from app.services.users.access import access_for

log = logging.getLogger(__name__)

RUN_KIND = "schedule_run"


def latest_period(cron: str, now: dt.datetime) -> dt.datetime:
    """The cron string's latest fire time at or before `now` (both naive UTC), read in the business's zone."""
    zone = business_zone()
    local = now.replace(tzinfo=dt.UTC).astimezone(zone) + dt.timedelta(seconds=1)
    fired = croniter(cron, local).get_prev(dt.datetime)
    return fired.astimezone(dt.UTC).replace(tzinfo=None)


def next_period(cron: str, now: dt.datetime) -> dt.datetime:
    """The next fire time after `now` (naive UTC), for the page."""
    local = now.replace(tzinfo=dt.UTC).astimezone(business_zone())
    return croniter(cron, local).get_next(dt.datetime).astimezone(dt.UTC).replace(tzinfo=None)


def last_claimed(session: Session, schedule_id: int) -> dt.datetime | None:
    return session.execute(
        select(func.max(schedule_run.c.period)).where(
            schedule_run.c.schedule_id == schedule_id, schedule_run.c.manual.is_(False)
        )
    ).scalar()


def due_period(session: Session, item: Schedule, now: dt.datetime) -> dt.datetime | None:
    """The period to run now, or None (already claimed, or nothing fired since the schedule was made)."""
    period = latest_period(item.cron, now)
    since = last_claimed(session, item.id or 0) or item.created_at
    return period if since is None or period > since else None


def run_user(session: Session, item: Schedule) -> Any:
    """Who the run's job belongs to: the schedule's run-as user, else its owner (a user's report to themselves),
    else the first admin."""
    if item.run_as or item.owner:
        return session.execute(select(User).where(User.username == (item.run_as or item.owner))).scalar_one()
    admins = select(User).where(User.roles.any(name="admin")).order_by(User.id)
    return session.execute(admins).scalars().first()


def claim(
    session: Session,
    item: Schedule,
    period: dt.datetime,
    *,
    manual: bool = False,
    by: Any = None,
    params: dict[str, Any] | None = None,
) -> int | None:
    """Claim (schedule, period) and submit its job in one transaction; None when another process has it. The job
    runs as `by` (an Access: who asked, for a run by hand) or the schedule's run user; `params` are the run's own
    over the schedule's."""
    try:
        run_id = session.execute(
            insert(schedule_run).values(
                schedule_id=item.id,
                period=period,
                manual=manual,
                status="queued",
                created_at=utcnow(),
                params=json.dumps(params, ensure_ascii=False) if params else None,
            )
        ).inserted_primary_key[0]
        job_id = submit(RUN_KIND, {"run_id": run_id}, by or access_for(run_user(session, item)))
        session.execute(schedule_run.update().where(schedule_run.c.id == run_id).values(job_id=job_id))
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return int(run_id)


def run_now(session: Session, item: Schedule, by: Any = None, params: dict[str, Any] | None = None) -> int:
    """A run asked for by hand (the page's 运行, a 催款 to one customer): its own period, the moment it was asked."""
    moment = utcnow()
    while True:
        run_id = claim(session, item, moment, manual=True, by=by, params=params)
        if run_id is not None:
            return run_id
        moment += dt.timedelta(microseconds=1)


def tick(session: Session, now: dt.datetime | None = None) -> list[int]:
    """Claim every due period; returns the runs this process claimed."""
    now = now or utcnow()
    claimed = []
    items = all_schedules(session, active_only=True)
    session.rollback()  # no transaction held while deciding: another process may claim meanwhile
    for item in items:
        period = due_period(session, item, now)
        session.rollback()
        if period is None:
            continue
        run_id = claim(session, item, period)
        if run_id is not None:
            log.info("schedule %s: period %s claimed as run %s", item.name, period, run_id)
            claimed.append(run_id)
    return claimed


def run_due(app: Flask) -> list[int]:
    """One look of a scheduler (`jxc cron`, or the thread of each `jxc serve` process): claim every due period, then
    take the jobs left waiting on a queue no live worker listens on (`take_stranded`). A claimed run's job goes to a
    live `jxc worker`, else runs on this process's pool (`queue.dispatch`), so a scheduled mail goes out on time
    with no worker running and nobody opening a page. Returns the runs this process claimed."""
    with app.app_context():
        try:
            claimed = tick(db.session)
            take_stranded(app)
        finally:
            db.session.remove()
    return claimed


class EmbeddedScheduler(threading.Thread):
    """`jxc serve` without a `jxc cron`: the same look (`run_due`) every `every` seconds in a daemon thread."""

    def __init__(self, app: Flask, every: float = 30.0) -> None:
        super().__init__(name="jxc-cron", daemon=True)
        self.app, self.every = app, every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                run_due(self.app)
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("scheduler tick failed")
