"""Sending what a run produced, one message per recipient and channel, each logged in jxc_delivery.

A delivery row is written ("sending", with its fixed Message-ID) and committed before the message goes
out, and marked "sent" or "failed" after, each on a short transaction of its own: a crash between the
server accepting and the mark leaves "sending" on the log page (and a retry sends the same Message-ID
again, at least once), never silence. A retried run sends only what was not sent.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update

from app.clock import business_time, utcnow
from app.errors import ServiceError
from app.extensions import db
from app.i18n import t
from app.mail import Attachment, DeliveryFailed, Email, InlineImage, RobotMessage, SmtpSettings, send_email, send_robot
from app.mail.chart import bar_png
from app.mail.message import domain_of, message_id
from app.schedules.reporting import ReportResult
from app.schedules.tables import delivery

log = logging.getLogger(__name__)

BODY_ROWS = 20  # rows shown in the mail body; the attachment has them all


@dataclass
class Outgoing:
    """One message to one recipient on one channel."""

    channel: str  # email | wecom | dingtalk | bell (rung already: logged only) | phone (a call to make)
    recipient: str  # an address, or the robot's URL
    subject: str
    email: Email | None = None
    robot: RobotMessage | None = None
    secret: str = ""
    skipped: bool = False  # nothing to send (skip when empty): logged as skipped
    skip_status: str = "skipped"  # how a message not sent is logged (dunning: "call", a phone call to make)
    note: str = ""  # why it was not sent, in words (the log's error column and the run's message)
    partner_id: int | None = None
    after_sent: Callable[[int], None] | None = None  # given the delivery id, in its own transaction


@dataclass
class Outcome:
    sent: int = 0
    skipped: int = 0
    calls: int = 0  # logged as a call to make (dunning without an address): work done, not skipped
    failed: list[str] = field(default_factory=list)
    unaddressed: list[str] = field(default_factory=list)  # recipients without an address: not sent, and why
    refused: list[str] = field(default_factory=list)  # recipients who may not read what is sent: not sent, and why
    unseen: list[str] = field(default_factory=list)  # recipients whose row scope holds none of a report with rows


NO_ADDRESS = "no_address"  # the status of a delivery to a user without an e-mail address


def no_address_for(username: str, subject: str) -> Outgoing:
    """The log line of a user who would get a mail but has no address: not sent, said so by name."""
    note = t("schedules.no_address", user=username)
    return Outgoing("email", username, subject, skipped=True, skip_status=NO_ADDRESS, note=note)


NOT_ALLOWED = "not_allowed"  # the status of a delivery to a user who may not read what the schedule sends


def not_allowed_for(username: str, subject: str, what: str) -> Outgoing:
    """The log line of a recipient who may not read the schedule's report `what`: not sent to them, said so by
    name; the other recipients still get theirs."""
    note = t("schedules.not_allowed", user=username, report=what)
    return Outgoing("email", username, subject, skipped=True, skip_status=NOT_ALLOWED, note=note)


OUT_OF_SCOPE = "out_of_scope"  # the status of a report skipped as empty for a reader whose row scope hides its rows


def out_of_scope_for(username: str, address: str, subject: str, what: str) -> Outgoing:
    """The log line of a recipient whose report `what` came out empty only because their row scope holds none of
    its rows (it has rows): skipped as an empty one is, but not read as 无内容."""
    note = t("schedules.out_of_scope", user=username, report=what)
    return Outgoing("email", address, subject, skipped=True, skip_status=OUT_OF_SCOPE, note=note)


def base_url() -> str:
    return str(current_app.config.get("JXC_BASE_URL") or "http://127.0.0.1:5000")


def _previous(run_id: int | None, channel: str, recipient: str) -> Any:
    if run_id is None:
        return None
    with db.engine.connect() as conn:
        return conn.execute(
            select(delivery).where(
                delivery.c.run_id == run_id, delivery.c.channel == channel, delivery.c.recipient == recipient
            )
        ).first()


def _write(values: dict[str, Any], pk: int | None = None) -> int:
    with db.engine.begin() as conn:
        if pk is None:
            return int(conn.execute(insert(delivery).values(**values)).inserted_primary_key[0])
        conn.execute(update(delivery).where(delivery.c.id == pk).values(**values))
        return pk


def send_all(run_id: int | None, messages: list[Outgoing]) -> Outcome:
    """Send each message once per run (what a previous attempt of the run sent is not sent again)."""
    outcome = Outcome()
    settings = SmtpSettings.from_config(current_app.config)
    for item in messages:
        before = _previous(run_id, item.channel, item.recipient)
        if before is not None and before.status in ("sent", "skipped", OUT_OF_SCOPE, "call"):
            continue
        stable_id = message_id(run_id, item.channel, item.recipient, domain=domain_of(settings.sender))
        values = {
            "run_id": run_id,
            "channel": item.channel,
            "recipient": item.recipient[:255],
            "subject": item.subject[:255],
            "message_id": stable_id if item.channel == "email" else None,
            "status": item.skip_status if item.skipped else "sending",
            "attempts": before.attempts if before is not None else 0,
            "error": item.note or None,
            "partner_id": item.partner_id,
            "created_at": utcnow(),
        }
        pk = _write(values, before.id if before is not None else None)
        if item.skipped and item.skip_status in ("skipped", NO_ADDRESS, NOT_ALLOWED, OUT_OF_SCOPE):
            outcome.skipped += 1
            if item.skip_status == NO_ADDRESS:
                outcome.unaddressed.append(item.note)
            elif item.skip_status == NOT_ALLOWED:
                outcome.refused.append(item.note)
            elif item.skip_status == OUT_OF_SCOPE:
                outcome.unseen.append(item.note)
            continue
        if item.skipped:
            outcome.calls += 1
            if item.after_sent is not None:
                item.after_sent(pk)
            continue
        tries: list[str] = []
        try:
            attempts = 1
            if item.email is not None:
                item.email.message_id = stable_id
                attempts = send_email(settings, item.email, tries=tries)
            elif item.robot is not None:
                send_robot(item.channel, item.recipient, item.robot, secret=item.secret)
        except DeliveryFailed as exc:
            _write({"status": "failed", "attempts": values["attempts"] + max(len(tries), 1), "error": exc.message}, pk)
            outcome.failed.append(f"{item.recipient}: {exc.message}")
            continue
        _write(
            {
                "status": "sent",
                "attempts": values["attempts"] + attempts,
                "error": "\n".join(tries) or None,
                "sent_at": utcnow(),
            },
            pk,
        )
        outcome.sent += 1
        if item.after_sent is not None:
            item.after_sent(pk)
    return outcome


def report_email(result: ReportResult, subject: str, to: list[str], moment: Any) -> Email:
    """The report as a mail: main figures and the first rows in the body, a chart inline, the xlsx attached."""
    link = base_url() + result.link
    labels = dict(result.columns)
    totals = [(labels.get(k, k), v) for k, v in result.totals.items()]
    lines = [
        result.title,
        t("mail.report_when", when=f"{business_time(moment):%Y-%m-%d %H:%M}"),
        t("mail.report_rows", rows=len(result.rows)),
    ]
    lines += [f"{name}: {value}" for name, value in totals]
    lines += ["", t("mail.open_in_jxc") + ": " + link]
    head = "".join(f"<th>{html.escape(text)}</th>" for _, text in result.columns)
    body_rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(row.get(key, ''))}</td>" for key, _ in result.columns) + "</tr>"
        for row in result.rows[:BODY_ROWS]
    )
    figures = "".join(f"<li>{html.escape(name)}: <b>{html.escape(value)}</b></li>" for name, value in totals)
    images: list[InlineImage] = []
    chart_html = ""
    if result.chart and result.rows:
        try:
            png = bar_png(result.title, *chart_bars(result))
        except Exception:  # noqa: BLE001 - a chart that cannot be drawn leaves the mail without it
            log.warning("chart not drawn", exc_info=True)
            png = None
        if png:
            images.append(InlineImage("chart", png))
            chart_html = '<p><img src="cid:chart" alt=""></p>'
    more = t("mail.more_rows", rows=len(result.rows) - BODY_ROWS) if len(result.rows) > BODY_ROWS else ""
    body = (
        f"<h3>{html.escape(result.title)}</h3><p>{html.escape(lines[1])} · {html.escape(lines[2])}</p>"
        f"<ul>{figures}</ul>{chart_html}"
        f'<table border="1" cellspacing="0" cellpadding="4"><tr>{head}</tr>{body_rows}</table>'
        f'<p>{html.escape(more)}</p><p><a href="{html.escape(link)}">{html.escape(t("mail.open_in_jxc"))}</a></p>'
    )
    attachments = [Attachment(f"{result.title}.xlsx", result.xlsx, XLSX)] if result.xlsx else []
    return Email(to=to, subject=subject, text="\n".join(lines), html=body, attachments=attachments, images=images)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chart_bars(result: ReportResult) -> tuple[list[str], list[Decimal]]:
    """The chart's bars: the first ten rows' labels and values, read from the rows as people read them (money
    grouped by thousands, 12,345.00: a value that does not read as a number is a bar of 0)."""
    text_key, value_key = result.chart or ("", "")
    top = result.rows[:10]
    return [row.get(text_key, "") for row in top], [_number(row.get(value_key)) for row in top]


def _number(text: Any) -> Decimal:
    try:
        return Decimal(str(text).replace(",", ""))
    except InvalidOperation:
        return Decimal(0)


def report_robot(result: ReportResult, subject: str) -> RobotMessage:
    """The report's main figures as robot markdown."""
    labels = dict(result.columns)
    lines = [t("mail.report_rows", rows=len(result.rows))]
    lines += [f"> {labels.get(k, k)}: **{v}**" for k, v in result.totals.items()]
    return RobotMessage(title=subject, markdown="\n".join(lines), link=base_url() + result.link)


def error_text(exc: BaseException) -> str:
    return exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
