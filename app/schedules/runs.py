"""The delivery log: runs with their deliveries, newest first; retrying a run that did not deliver."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.clock import business_time
from app.errors import Conflict, NotFound
from app.i18n import t
from app.jobs import submit
from app.schedules.store import all_schedules, mine
from app.schedules.tables import delivery, schedule, schedule_run


def _when(moment: Any) -> str | None:
    return f"{business_time(moment):%Y-%m-%d %H:%M}" if moment is not None else None


def runs_json(
    session: Session, schedule_id: int | None = None, limit: int = 100, owner: str | None = None
) -> list[dict[str, Any]]:
    """Runs (with their schedule's name and every delivery), newest first; with `owner`, of their schedules only."""
    stmt = (
        select(schedule_run, schedule.c.name, schedule.c.title)
        .join(schedule, schedule.c.id == schedule_run.c.schedule_id)
        .order_by(schedule_run.c.id.desc())
        .limit(limit)
    )
    if schedule_id is not None:
        stmt = stmt.where(schedule_run.c.schedule_id == schedule_id)
    if owner is not None:
        stmt = stmt.where(schedule.c.owner == owner)
    runs = session.execute(stmt).all()
    by_run: dict[int, list[dict[str, Any]]] = {}
    if runs:
        rows = session.execute(
            select(delivery).where(delivery.c.run_id.in_([r.id for r in runs])).order_by(delivery.c.id)
        ).all()
        for row in rows:
            by_run.setdefault(row.run_id, []).append(
                {
                    "id": row.id,
                    "channel": row.channel,
                    "recipient": row.recipient
                    if row.channel in ("email", "bell", "phone", "backup")
                    else _robot_name(row.recipient),
                    "subject": row.subject,
                    "status": row.status,
                    "status_label": t(f"schedules.delivery.{row.status}"),
                    "attempts": row.attempts,
                    "error": row.error,
                    "message_id": row.message_id,
                    "sent_at": _when(row.sent_at),
                }
            )
    return [
        {
            "id": r.id,
            "schedule_id": r.schedule_id,
            "schedule": r.name,
            "title": r.title,
            "period": _when(r.period),
            "manual": bool(r.manual),
            "status": r.status,
            "status_label": t(f"schedules.run.{r.status}"),
            "job_id": r.job_id,
            "message": r.message,
            "finished_at": _when(r.finished_at),
            "deliveries": by_run.get(r.id, []),
        }
        for r in runs
    ]


def _robot_name(url: str) -> str:
    """A robot's URL without its key (the key is a secret: the log shows where, not how)."""
    return url.split("?")[0]


def runs_of(session: Session, access: Any, schedule_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The runs a user sees: every one for an admin, else those of their own schedules."""
    return runs_json(session, schedule_id, limit, owner=None if access.is_admin else access.username)


def retry(session: Session, access: Any, run_id: int) -> int:
    """Send again what a failed run did not deliver (a new job for the same run, as the schedule's run user);
    an admin any run, anyone else a run of their own schedule. The caller commits."""
    run = session.execute(select(schedule_run).where(schedule_run.c.id == run_id)).first()
    if run is None:
        raise NotFound(t("not_found"))
    mine(session, access, run.schedule_id)
    if run.status not in ("failed",):
        raise Conflict(t("schedules.retry_only_failed"))
    job_id = submit("schedule_run", {"run_id": run_id}, access)
    session.execute(update(schedule_run).where(schedule_run.c.id == run_id).values(status="queued", job_id=job_id))
    return job_id


__all__ = ["all_schedules", "retry", "runs_json", "runs_of"]
