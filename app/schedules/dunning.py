"""催款: a schedule of kind `dunning` reminds each customer of what they owe, one e-mail per customer per run.

Each open invoice (a submitted 销售出库 not yet settled, as `open_invoices` counts it) is at a cadence step
by its due date (the delivery's date plus the customer's payment terms): `before` (from `before_days`,
default 3, days ahead), `due` (on the due date), `plus7` and `plus30` (7 and 30 days after). A step of an
invoice is reminded once (jxc_dunning_step); a paid invoice has nothing open and is never reminded again.
The mail lists every invoice at a new step with its open amount, the customer's 对账单 (the report
runner's partner_statement, its xlsx) attached. A customer without an e-mail address is listed in the
run's log for a phone call (channel `phone`, status `call`), once per step like a mail. Every reminder is a
delivery row with the customer's id: the partner's account page lists them.

The run reads as the run's user (the schedule's run_as, else the first admin): their customers, their view.

催款 by hand (`send_now`: a customer's account page, `POST /api/v1/accounts/<id>/dunning`) is a run of the same
schedule, by the same builder and mail path, for one customer and as whoever asked (their customers only): every
invoice past its due date, whether or not its step was reminded, the steps it reaches recorded as reminded; the
asker's bell says when the mail went out. Refused, in words, when the customer has no address or nothing overdue.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.clock import business_time, business_today, utcnow
from app.errors import CellError, NotFound, ValidationFailed
from app.extensions import db
from app.i18n import t
from app.jobs import JobContext
from app.mail import Attachment, Email
from app.schedules import store
from app.schedules.cron import run_now
from app.schedules.deliver import XLSX, Outgoing
from app.schedules.kinds import builder
from app.schedules.notify import notify
from app.schedules.reporting import runner_report
from app.schedules.tables import delivery, dunning_step, schedule_run
from app.services.access.rights import Access
from app.services.money.receivables import INVOICES, RECEIVABLE, open_invoices, require_side
from app.services.records.query import get_row

STEPS = ("before", "due", "plus7", "plus30")
INVOICE = INVOICES[RECEIVABLE]


def step_of(days_past_due: int, before_days: int) -> str | None:
    """The cadence step of an invoice so many days past its due date (negative: before it)."""
    if days_past_due < -before_days:
        return None
    if days_past_due < 0:
        return "before"
    if days_past_due < 7:
        return "due"
    if days_past_due < 30:
        return "plus7"
    return "plus30"


@dataclass
class OpenItem:
    record_id: int
    number: str
    date: dt.date
    due: dt.date
    open: Decimal
    step: str


@dataclass
class Customer:
    id: int
    code: str
    name: str
    email: str
    phone: str
    contact: str
    items: list[OpenItem]


def reminded(session: Session, record_ids: list[int]) -> set[tuple[int, str]]:
    """(invoice id, step) already reminded."""
    if not record_ids:
        return set()
    rows = session.execute(
        select(dunning_step.c.record_id, dunning_step.c.step).where(
            dunning_step.c.model == INVOICE, dunning_step.c.record_id.in_(record_ids)
        )
    )
    return {(r.record_id, r.step) for r in rows}


def due_customers(
    session: Session,
    access: Access,
    today: dt.date,
    before_days: int,
    codes: list[str] | None = None,
    overdue_only: bool = False,
) -> list[Customer]:
    """Customers the reader may see (those of `codes` only, when given) with invoices at a step not yet
    reminded, by code; `overdue_only` (催款 by hand): every invoice past its due date, reminded or not."""
    registry = access.registry
    require_side(access, RECEIVABLE)
    partner, invoice = registry.cls("partner"), registry.cls(INVOICE)
    stmt = select(partner).where(partner.kind.in_(["customer", "both"]))
    scope = access.scope(registry.model("partner"))
    if scope is not None:
        stmt = stmt.where(scope)
    if codes:
        stmt = stmt.where(partner.code.in_(codes))
    found = []
    for row in session.execute(stmt.order_by(partner.code)).scalars().all():
        terms = dt.timedelta(days=int(row.payment_terms_days or 0))
        docs = open_invoices(session, registry, row.id, RECEIVABLE, access)
        if not docs:
            continue
        ids = dict(
            session.execute(
                select(invoice.number, invoice.id).where(invoice.number.in_([d["number"] for d in docs]))
            ).all()
        )
        done = set() if overdue_only else reminded(session, list(ids.values()))
        items = []
        for doc in docs:
            days_past_due = (today - (doc["date"] + terms)).days
            step = step_of(days_past_due, before_days)
            record_id = ids.get(doc["number"])
            if step is None or record_id is None or (record_id, step) in done or (overdue_only and days_past_due < 1):
                continue
            items.append(OpenItem(record_id, doc["number"], doc["date"], doc["date"] + terms, doc["open"], step))
        if items:
            found.append(
                Customer(
                    row.id,
                    row.code,
                    row.name,
                    (getattr(row, "email", None) or "").strip(),
                    getattr(row, "phone", None) or "",
                    getattr(row, "contact", None) or "",
                    items,
                )
            )
    return found


def _record_steps(customer: Customer, asker: int | None = None) -> Any:
    """After the reminder went out (or was listed for a call): each item's step counts as reminded; the bell of
    whoever asked for it by hand (`asker`) says it went out."""

    def record(delivery_id: int) -> None:
        if asker is not None:
            total = sum((i.open for i in customer.items), Decimal(0))
            text = t(
                "dunning.sent_note",
                code=customer.code,
                name=customer.name,
                email=customer.email,
                amount=f"{total:,.2f}",
            )
            with db.engine.begin() as conn:
                notify(conn, asker, "dunning", text, f"/accounts/{customer.id}")  # type: ignore[arg-type]
        for item in customer.items:
            try:
                with db.engine.begin() as conn:
                    conn.execute(
                        insert(dunning_step).values(
                            partner_id=customer.id,
                            model=INVOICE,
                            record_id=item.record_id,
                            step=item.step,
                            delivery_id=delivery_id,
                            created_at=utcnow(),
                        )
                    )
            except IntegrityError:  # the same step recorded by an earlier attempt of this run
                continue

    return record


def step_text(item: OpenItem, today: dt.date) -> str:
    """How the mail names an invoice's step: 今日到期 on its due date, 逾期 N 天 after it (a run by hand, or a day the
    daily run missed, finds it at `due` some days later), else the step's name."""
    late = (today - item.due).days
    if item.step == "due" and late > 0:
        return t("dunning.step.late", days=late)
    return t(f"dunning.step.{item.step}")


def dunning_email(customer: Customer, subject: str, statement: bytes, today: dt.date) -> Email:
    """The reminder: each open invoice with its due date, open amount and step; the statement attached."""
    total = sum((i.open for i in customer.items), Decimal(0))
    lines = [t("dunning.greeting", name=customer.name), t("dunning.intro", date=today.isoformat()), ""]
    for item in customer.items:
        lines.append(
            t(
                "dunning.line",
                number=item.number,
                date=item.date.isoformat(),
                due=item.due.isoformat(),
                amount=f"{item.open:,.2f}",
                step=step_text(item, today),
            )
        )
    lines += ["", t("dunning.total", amount=f"{total:,.2f}"), t("dunning.attached"), t("dunning.paid_ignore")]
    head = "".join(
        f"<th>{html.escape(t(k))}</th>"
        for k in ("dunning.col.number", "dunning.col.date", "dunning.col.due", "dunning.col.open", "dunning.col.step")
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(v)}</td>"
            for v in (
                i.number,
                i.date.isoformat(),
                i.due.isoformat(),
                f"{i.open:,.2f}",
                step_text(i, today),
            )
        )
        + "</tr>"
        for i in customer.items
    )
    body = (
        f"<p>{html.escape(lines[0])}</p><p>{html.escape(lines[1])}</p>"
        f'<table border="1" cellspacing="0" cellpadding="4"><tr>{head}</tr>{rows}</table>'
        f"<p><b>{html.escape(t('dunning.total', amount=f'{total:,.2f}'))}</b></p>"
        f"<p>{html.escape(t('dunning.attached'))}</p><p>{html.escape(t('dunning.paid_ignore'))}</p>"
    )
    attachments = [Attachment(f"{t('dunning.statement_file', code=customer.code)}.xlsx", statement, XLSX)]
    return Email(to=[customer.email], subject=subject, text="\n".join(lines), html=body, attachments=attachments)


def statement_xlsx(session: Session, access: Access, customer: Customer, today: dt.date) -> bytes:
    """The customer's 对账单 from the oldest open invoice to today, through the report runner."""
    start = min(i.date for i in customer.items)
    start = min(start, today)
    raw = {"partner": customer.code, "side": RECEIVABLE, "period": f"{start.isoformat()}..{today.isoformat()}"}
    return runner_report(session, access, "partner_statement", raw).xlsx


@builder("dunning")
def dunning_messages(ctx: JobContext, item: store.Schedule, run: Any) -> list[Outgoing]:
    """One e-mail per customer with invoices at a new step (a phone-call entry when they have no address)."""
    today = business_time(run.period).date()
    params = {**item.params, **json.loads(run.params or "{}")}  # a run by hand: one customer, what is overdue
    before_days = int(params.get("before_days", 3))
    codes = [str(c) for c in params.get("customers") or []]
    overdue_only = bool(params.get("overdue_only"))
    customers = due_customers(ctx.session, ctx.access, today, before_days, codes, overdue_only)
    asker = ctx.access.user_id if run.manual and overdue_only else None
    messages = []
    for customer in customers:
        subject = t("dunning.subject", title=item.title, name=customer.name, date=today.isoformat())
        if customer.email:
            statement = statement_xlsx(ctx.session, ctx.access, customer, today)
            mail = dunning_email(customer, subject, statement, today)
            messages.append(
                Outgoing(
                    "email",
                    customer.email,
                    subject,
                    email=mail,
                    partner_id=customer.id,
                    after_sent=_record_steps(customer, asker),
                )
            )
        else:
            who = " ".join(p for p in (customer.code, customer.name, customer.contact, customer.phone) if p)
            total = sum((i.open for i in customer.items), Decimal(0))
            messages.append(
                Outgoing(
                    "phone",
                    who,
                    t("dunning.call", numbers="、".join(i.number for i in customer.items), amount=f"{total:,.2f}"),
                    skipped=True,
                    skip_status="call",
                    partner_id=customer.id,
                    after_sent=_record_steps(customer),
                )
            )
    return messages


def send_now(session: Session, access: Access, partner_id: int) -> tuple[int, str]:
    """催款 to one customer now, asked by hand: a run of the 催款 schedule (its builder, the mail queue, the
    delivery log) for this customer only, as the asker. Returns (run id, what to tell them); refuses, saying so,
    a customer they may not see (not found), one who owes nothing overdue or has no e-mail address."""
    registry = access.registry
    require_side(access, RECEIVABLE)
    row = get_row(session, access, registry.model("partner"), partner_id)
    if row.kind not in ("customer", "both"):
        message = t("dunning.not_customer", code=row.code, name=row.name)
        raise ValidationFailed([CellError("partner", message)], summary=message)
    today = business_today()
    found = due_customers(session, access, today, 0, [row.code], overdue_only=True)
    if not found:
        message = t("dunning.nothing_overdue", code=row.code, name=row.name)
        raise ValidationFailed([CellError("partner", message)], summary=message)
    (customer,) = found
    if not customer.email:
        phone = customer.phone or t("dunning.no_phone")
        message = t("dunning.no_email", code=row.code, name=row.name, phone=phone)
        raise ValidationFailed([CellError("email", message)], summary=message)
    run_id = run_now(
        session, dunning_schedule(session), by=access, params={"customers": [row.code], "overdue_only": True}
    )
    total = sum((i.open for i in customer.items), Decimal(0))
    queued = t("dunning.queued", code=row.code, name=row.name, email=customer.email, amount=f"{total:,.2f}")
    return run_id, queued


def dunning_schedule(session: Session) -> store.Schedule:
    """The 催款 schedule a run by hand belongs to: the one named `dunning` (metadata/schedules.yaml), else the first
    of kind dunning; runs by hand do not need it on."""
    items = [s for s in store.all_schedules(session) if s.kind == "dunning"]
    if not items:
        raise NotFound(t("dunning.no_schedule"))
    return next((s for s in items if s.name == "dunning"), items[0])


def reminders_of(session: Session, partner_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """Every reminder sent (or listed for a call) to one customer, newest first, for the partner's page."""
    rows = session.execute(
        select(delivery).where(delivery.c.partner_id == partner_id).order_by(delivery.c.id.desc()).limit(limit)
    ).all()
    steps: dict[int, list[str]] = {}
    by_hand: set[int] = set()  # the runs of 催款 by hand (a run's own parameters: one customer)
    if rows:
        runs = select(schedule_run.c.id).where(
            schedule_run.c.id.in_({r.run_id for r in rows if r.run_id is not None}),
            schedule_run.c.manual.is_(True),
            schedule_run.c.params.is_not(None),
        )
        by_hand = set(session.execute(runs).scalars())
        for step in session.execute(
            select(dunning_step).where(dunning_step.c.delivery_id.in_([r.id for r in rows])).order_by(dunning_step.c.id)
        ):
            steps.setdefault(step.delivery_id, []).append(t(f"dunning.step.{step.step}"))
    return [
        {
            "when": f"{business_time(r.sent_at or r.created_at):%Y-%m-%d %H:%M}",
            "channel": t(f"schedules.channel.{r.channel}"),
            "recipient": r.recipient,
            "subject": r.subject,
            "status": t(f"schedules.delivery.{r.status}"),
            "steps": "、".join(dict.fromkeys(steps.get(r.id, []))),
            "error": r.error,
            "by_hand": r.run_id in by_hand,
        }
        for r in rows
    ]
