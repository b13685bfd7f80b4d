"""Alerts: what needs someone's attention, as each user may see it, rung in their bell by the `digest`
schedule kind and sent to them as a digest by e-mail or robot when they chose one (/notifications/settings).

Kinds (`ALERT_KINDS`): low stock (projected below the reorder point) and overstock (on hand above max stock),
batches near expiry (临期: in stock, expiring within `expiry_days`, default 30, or expired; the expiry date
is the one the receipt set from the item's shelf life), payables due within `payable_days` (default 7) or
past due, a month's purchase budget at 80% and over, overdue receivables, and documents waiting for the
user's approval (`waiting_for`). Each alert carries a key: `notify(..., dedupe=key)` rings it once while it
is unread, so a second run does not repeat it; once read, a condition that still holds rings again.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import business_time
from app.errors import Forbidden
from app.i18n import t
from app.jobs import JobContext
from app.mail import Email, RobotMessage
from app.meta.status import Status
from app.meta.types import format_decimal, is_no_address
from app.schedules import store
from app.schedules.deliver import Outgoing, base_url, no_address_for
from app.schedules.kinds import builder
from app.schedules.notify import notify
from app.schedules.prefs import get_pref
from app.schedules.tables import notification
from app.services.access.rights import Access
from app.services.money.budgets import month_usage
from app.services.money.receivables import PAYABLE, RECEIVABLE, may_read_side, open_invoices, overdue_customers
from app.services.money.reorder import positions
from app.services.posting.inbox import waiting_for
from app.services.users.access import access_for


@dataclass(frozen=True)
class Alert:
    kind: str  # one of prefs.ALERT_KINDS
    key: str  # the dedupe key: the same alert is rung once while unread
    text: str
    link: str


def _qty(value: Decimal | None) -> str:
    return format_decimal(value or Decimal(0), 0)


def stock_alerts(session: Session, access: Access) -> list[Alert]:
    """Low stock and overstock over the warehouses the user may see; each leads to the reorder suggestions for
    who may run them (they show both), else to the item's stock (a warehouse keeper, a salesperson)."""
    if not (access.can("item", "read") and access.can("stock_balance", "read")):
        return []
    reorder = access.registry.meta.reports.get("reorder")
    orders = reorder is not None and access.may_run(reorder)
    found = []
    for p in positions(session, access):
        link = "/reorder/" if orders else f"/phone/stock?{urlencode({'q': p.sku})}"
        if p.suggested_qty > 0:
            text = t(
                "alerts.low_stock", item=p.sku, name=p.name, projected=_qty(p.projected), point=_qty(p.reorder_point)
            )
            found.append(Alert("low_stock", f"low_stock:{p.item_id}", text, link))
        if p.max_stock and p.on_hand > p.max_stock:
            text = t("alerts.overstock", item=p.sku, name=p.name, on_hand=_qty(p.on_hand), most=_qty(p.max_stock))
            found.append(Alert("overstock", f"overstock:{p.item_id}", text, link))
    return found


def expiry_alerts(session: Session, access: Access, today: dt.date, days: int) -> list[Alert]:
    """Batches in stock expiring within `days` (or expired), from the receipts' expiry dates."""
    if not (access.can("stock_balance", "read") and access.can("item", "read")):
        return []
    reg = access.registry
    balance, item, warehouse = reg.cls("stock_balance"), reg.cls("item"), reg.cls("warehouse")
    receipt = reg.model("purchase_receipt")
    doc, line = reg.cls(receipt.key), reg.cls(receipt.lines_model)
    expiries = (
        select(line.item_id, line.batch, func.min(line.expiry_date).label("expiry_date"))
        .join(doc, doc.id == line.parent_id)
        .where(doc.status == Status.SUBMITTED, line.expiry_date.is_not(None))
        .group_by(line.item_id, line.batch)
        .subquery()
    )
    query = (
        select(item.id, item.sku, item.name, warehouse.code, balance.batch, balance.qty, expiries.c.expiry_date)
        .join(expiries, (expiries.c.item_id == balance.item_id) & (expiries.c.batch == balance.batch))
        .join(item, item.id == balance.item_id)
        .join(warehouse, warehouse.id == balance.warehouse_id)
        .where(balance.qty > 0, balance.batch != "", expiries.c.expiry_date <= today + dt.timedelta(days=days))
        .order_by(expiries.c.expiry_date, item.sku)
    )
    scope = access.scope(reg.model("stock_balance"))
    if scope is not None:
        query = query.where(scope)
    found = []
    for item_id, sku, name, wh, batch, qty, expiry in session.execute(query):
        expired = expiry < today
        words = {"item": sku, "name": name, "batch": batch, "warehouse": wh, "qty": _qty(qty), "date": expiry}
        text = t("alerts.expired" if expired else "alerts.expiry", **words)
        key = f"expiry:{item_id}:{wh}:{batch}:{'expired' if expired else 'near'}"
        found.append(Alert("expiry", key, text, f"/m/item/{item_id}"))
    return found


def _partners(session: Session, access: Access, kinds: tuple[str, ...]) -> list[Any]:
    cls = access.registry.cls("partner")
    stmt = select(cls).where(cls.kind.in_(kinds)).order_by(cls.code)
    scope = access.scope(access.registry.model("partner"))
    if scope is not None:
        stmt = stmt.where(scope)
    return list(session.execute(stmt).scalars())


def payable_alerts(session: Session, access: Access, today: dt.date, days: int) -> list[Alert]:
    """Supplier invoices (purchase receipts) still open and due within `days`, or past due."""
    if not may_read_side(access, PAYABLE) or not access.may_use("partner", "payment_terms_days"):
        return []
    found = []
    for partner in _partners(session, access, ("supplier", "both")):
        terms = dt.timedelta(days=int(partner.payment_terms_days or 0))
        for doc in open_invoices(session, access.registry, partner.id, PAYABLE, access):
            due = doc.get("due") or doc["date"] + terms  # an opening balance's line has its own due date
            if due > today + dt.timedelta(days=days):
                continue
            words = {"partner": partner.name, "number": doc["number"], "amount": f"{doc['open']:,.2f}", "date": due}
            text = t("alerts.payable_overdue" if due < today else "alerts.payable_due", **words)
            found.append(Alert("payable_due", f"payable:{doc['number']}", text, f"/accounts/{partner.id}?side=payable"))
    return found


def budget_alerts(session: Session, access: Access, today: dt.date) -> list[Alert]:
    """This month's purchase budgets at 80% and over (the second alert when past 100%)."""
    if not (access.can("budget", "read") and access.can("purchase_order", "read")):
        return []
    # the budget and what orders spent are purchase figures: named only to who sees them (as an order's warning)
    figures = access.may_use("budget", "amount") and access.may_use("purchase_order_line", "amount")
    found = []
    for name, amount, spent in month_usage(session, access.registry, today):
        if amount <= 0 or spent < amount * Decimal("0.8"):
            continue
        over = spent > amount
        words = ("budget_over" if over else "budget_near") + ("" if figures else "_hidden")
        text = t(words, category=name, spent=f"{spent:,.2f}", budget=f"{amount:,.2f}")
        key = f"budget:{today:%Y-%m}:{name}:{'over' if over else 'near'}"
        found.append(Alert("budget", key, text, "/m/budget/"))
    return found


def overdue_alerts(session: Session, access: Access, today: dt.date) -> list[Alert]:
    """Customers past their payment terms (the 催款 list)."""
    if not may_read_side(access, RECEIVABLE) or not access.may_use("partner", "payment_terms_days"):
        return []
    return [
        Alert(
            "overdue",
            f"overdue:{row['id']}",
            t("alerts.overdue", partner=row["name"], amount=row["overdue"]),
            f"/accounts/{row['id']}",
        )
        for row in overdue_customers(session, access, today)
    ]


def approval_alerts(session: Session, access: Access) -> list[Alert]:
    """Documents waiting for the user's approval step."""
    found = []
    for doc in waiting_for(session, access):
        text = t("alerts.approval", model=doc["model_label"], number=doc["number"], amount=doc["amount"] or "-")
        key = f"approval:{doc['model']}:{doc['id']}:{doc['level']}"
        found.append(Alert("approval", key, text, f"/m/{doc['model']}/{doc['id']}"))
    return found


def collect(session: Session, access: Access, today: dt.date, params: dict[str, Any] | None = None) -> list[Alert]:
    """Every alert the user of `access` may see today (what they may not read is left out, not refused)."""
    params = params or {}
    collectors = (
        lambda: stock_alerts(session, access),
        lambda: expiry_alerts(session, access, today, int(params.get("expiry_days", 30))),
        lambda: payable_alerts(session, access, today, int(params.get("payable_days", 7))),
        lambda: budget_alerts(session, access, today),
        lambda: overdue_alerts(session, access, today),
        lambda: approval_alerts(session, access),
    )
    found: list[Alert] = []
    for collector in collectors:
        try:
            found += collector()
        except Forbidden:
            continue
    return found


def ring(session: Session, user_id: int, alerts: list[Alert]) -> list[Alert]:
    """Ring each alert in the user's bell unless the same one is still unread there; the ones rung."""
    return [a for a in alerts if notify(session, user_id, "alert", a.text, a.link, dedupe=a.key) is not None]


def rung_since(session: Session, user_id: int, alerts: list[Alert], since: Any) -> list[Alert]:
    """The alerts rung in the user's bell at or after `since`: what one run rang, by this attempt or by an
    earlier attempt of the same run whose digest failed to send (a retry sends that digest, not an empty one)."""
    if not alerts:
        return []
    stmt = select(notification.c.dedupe).where(
        notification.c.user_id == user_id,
        notification.c.kind == "alert",
        notification.c.created_at >= since,
        notification.c.dedupe.in_([a.key for a in alerts]),
    )
    keys = set(session.execute(stmt).scalars())
    return [a for a in alerts if a.key in keys]


def digest_email(alerts: list[Alert], subject: str, to: str) -> Email:
    lines = [subject, ""] + [f"- {a.text}  {base_url()}{a.link}" for a in alerts]
    lines += ["", t("alerts.digest_footer", url=base_url() + "/notifications/settings")]
    items = "".join(f'<li><a href="{html.escape(base_url() + a.link)}">{html.escape(a.text)}</a></li>' for a in alerts)
    body = (
        f"<h3>{html.escape(subject)}</h3><ul>{items}</ul>"
        f"<p>{html.escape(t('alerts.digest_footer', url=base_url() + '/notifications/settings'))}</p>"
    )
    return Email(to=[to], subject=subject, text="\n".join(lines), html=body)


def digest_robot(alerts: list[Alert], subject: str) -> RobotMessage:
    lines = [f"- [{a.text}]({base_url()}{a.link})" for a in alerts]
    return RobotMessage(title=subject, markdown="\n".join(lines), link=base_url() + "/notifications/")


def _readers(session: Session, item: store.Schedule) -> list[Any]:
    """The schedule's users, or every active user when it names none."""
    stmt = select(User).where(User.active.is_(True)).order_by(User.username)
    if item.recipients:
        stmt = stmt.where(User.username.in_(item.recipients))
    return list(session.execute(stmt).scalars())


@builder("digest")
def digest_messages(ctx: JobContext, item: store.Schedule, run: Any) -> list[Outgoing]:
    """For each user: their alerts rung in the bell (new ones only), then the digest of what was new by the
    channel they chose (logged; a user with nothing new is logged as skipped)."""
    today = business_time(run.period).date()
    session = ctx.session
    messages: list[Outgoing] = []
    readers = [(u.id, u.username, u.email, access_for(u)) for u in _readers(session, item)]
    for user_id, username, address, access in readers:
        pref = get_pref(session, user_id)
        alerts = [a for a in collect(session, access, today, item.params) if a.kind in pref.kinds]
        new = ring(session, user_id, alerts)
        session.commit()
        this_run = rung_since(session, user_id, alerts, run.created_at)
        subject = t("alerts.subject", title=item.title, count=len(this_run), date=today.isoformat())
        messages.append(Outgoing("bell", username, subject, skipped=not new))
        if pref.channel == "email" and is_no_address(address):
            if this_run:  # something to mail, nowhere to mail it: said in the log, by name
                messages.append(no_address_for(username, subject))
        elif pref.channel == "email":
            mail = digest_email(this_run, subject, address) if this_run else None
            messages.append(Outgoing("email", address, subject, email=mail, skipped=not this_run))
        elif pref.channel in ("wecom", "dingtalk") and pref.robot_url:
            robot = digest_robot(this_run, subject)
            messages.append(
                Outgoing(
                    pref.channel, pref.robot_url, subject, robot=robot, secret=pref.robot_secret, skipped=not this_run
                )
            )
    return messages
