"""The job that carries out one schedule run: build each recipient's message, send, log, close the run."""

from __future__ import annotations

from typing import Any

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select, update

from app.clock import business_time, utcnow
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.i18n import t, texts_for
from app.jobs import JobContext, job_kind
from app.meta.types import is_no_address
from app.schedules import store
from app.schedules.deliver import (
    OUT_OF_SCOPE,
    Outcome,
    Outgoing,
    error_text,
    no_address_for,
    not_allowed_for,
    out_of_scope_for,
    report_email,
    report_robot,
    send_all,
)
from app.schedules.reporting import report_label, rows_beyond_scope, run_report
from app.schedules.tables import schedule_run
from app.services.users.access import access_for

# Kinds of schedule and what builds their messages (dunning and digests add theirs from their modules).
BUILDERS: dict[str, Any] = {}


def builder(kind: str) -> Any:
    def register(func: Any) -> Any:
        BUILDERS[kind] = func
        return func

    return register


def _finish(run_id: int, status: str, message: str | None) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            update(schedule_run)
            .where(schedule_run.c.id == run_id)
            .values(status=status, message=message, finished_at=utcnow())
        )


@job_kind("schedule_run", label=texts_for("schedules.job_label"), writes=False)
def schedule_run_job(ctx: JobContext) -> dict[str, Any]:
    """Run one claimed period of a schedule."""
    run_id = int(ctx.args["run_id"])
    run = ctx.session.execute(select(schedule_run).where(schedule_run.c.id == run_id)).first()
    if run is None:
        raise NotFound(t("not_found"))
    item = store.get(ctx.session, run.schedule_id)
    try:
        messages = BUILDERS[item.kind](ctx, item, run)
        outcome = send_all(run_id, messages)
    except Exception as exc:
        _finish(run_id, "failed", error_text(exc))
        raise
    status = "failed" if outcome.failed else _status_of(outcome)
    notes = outcome.unaddressed + outcome.refused + outcome.unseen
    _finish(run_id, status, "\n".join(outcome.failed + notes) or None)
    summary = {"sent": outcome.sent, "calls": outcome.calls, "skipped": outcome.skipped}
    ctx.log(t("schedules.run_summary", failed=len(outcome.failed), **summary))
    for note in notes:
        ctx.log(note)
    if outcome.failed:
        from app.mail import DeliveryFailed

        raise DeliveryFailed(outcome.failed[0])
    return summary


def _status_of(outcome: Outcome) -> str:
    """done when something went out; else no_address when a recipient had no address (the report was not
    empty: 无内容 would hide that nobody got it), not_allowed when a recipient may not read the report,
    out_of_scope when a report with rows had none in a recipient's row scope, skipped when every report was
    empty."""
    if outcome.sent or outcome.calls or not outcome.skipped:
        return "done"
    if outcome.unaddressed:
        return "no_address"
    if outcome.refused:
        return "not_allowed"
    return OUT_OF_SCOPE if outcome.unseen else "skipped"


def _subject(item: store.Schedule, run: Any) -> str:
    return f"{item.title} {business_time(run.period):%Y-%m-%d}"


@builder("report")
def report_messages(ctx: JobContext, item: store.Schedule, run: Any) -> list[Outgoing]:
    """The report run as each user recipient; outside addresses and robots get it as the run's user."""
    subject = _subject(item, run)
    messages: list[Outgoing] = []
    users = ctx.session.execute(select(User).where(User.username.in_(item.recipients))).scalars().all()
    mailable = []
    for user in sorted(users, key=lambda u: u.username):
        if user.active and is_no_address(user.email):
            messages.append(no_address_for(user.username, subject))
        elif user.active:
            mailable.append(user)
    # each reader's Access first: a report's export empties the session (its users with it)
    readers = [(u.username, u.email, access_for(u)) for u in mailable]
    for username, address, access in readers:
        try:
            result = run_report(ctx.session, access, item.params)
        except Forbidden:  # their role may not run it (now): the others still get theirs
            messages.append(not_allowed_for(username, subject, report_label(ctx.access.registry, item.params)))
            continue
        empty = item.skip_empty and not result.rows
        if empty and item.owner is None and rows_beyond_scope(ctx.session, access, item.params):
            # an admin's schedule: say that the rows are there, out of this reader's scope (an owner's own schedule
            # does not learn of rows they may not see)
            what = report_label(ctx.access.registry, item.params)
            messages.append(out_of_scope_for(username, address, subject, what))
            continue
        mail = None if empty else report_email(result, subject, [address], run.period)
        messages.append(Outgoing("email", address, subject, email=mail, skipped=empty))
    if item.addresses or item.robots:
        shared = run_report(ctx.session, ctx.access, item.params)
        empty = item.skip_empty and not shared.rows
        for address in item.addresses:
            mail = None if empty else report_email(shared, subject, [address], run.period)
            messages.append(Outgoing("email", address, subject, email=mail, skipped=empty))
        for robot in item.robots:
            messages.append(
                Outgoing(
                    robot["type"],
                    robot["url"],
                    subject,
                    robot=report_robot(shared, subject),
                    secret=robot.get("secret", ""),
                    skipped=empty,
                )
            )
    return messages


__all__ = ["Outcome", "schedule_run_job"]
