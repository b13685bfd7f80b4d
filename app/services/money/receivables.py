"""Receivables and payables per partner, from submitted documents (应收 / 应付).

Read for a person (an `Access`), an account uses only what they may read: each side needs read on every
document model it sums and sight of the figure it sums (`SOURCES`, refused as a whole otherwise, so a
balance is never silently partial), and counts only the documents in their row scope. Without an Access
(posting's credit check) every submitted document counts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Forbidden
from app.i18n import t
from app.meta.registry import Registry
from app.meta.status import Status
from app.services.access.rights import Access

ZERO = Decimal(0)
OWED = "total_with_tax"  # the document total a partner owes or is owed (价税合计)
RECEIVABLE, PAYABLE = "receivable", "payable"
# per side of an account: (document model, the figure it adds, its sign, the payments' direction)
SOURCES: dict[str, tuple[tuple[str, str, int, str | None], ...]] = {
    RECEIVABLE: (
        ("sales_delivery", OWED, 1, None),
        ("sales_return", OWED, -1, None),
        ("payment", "amount", -1, "receipt"),
    ),
    PAYABLE: (
        ("purchase_receipt", OWED, 1, None),
        ("purchase_return", OWED, -1, None),
        ("payment", "amount", -1, "payment"),
    ),
}
INVOICES = {RECEIVABLE: "sales_delivery", PAYABLE: "purchase_receipt"}
# opening balances (期初单): each partner line is an open item of its side, counted for whoever may read the
# side (it is part of what the partner owes, whoever typed it); payments settle it by the document's number
OPENING = "opening_balance"
OPENING_FIGURES = {RECEIVABLE: "receivable_amount", PAYABLE: "payable_amount"}


def may_read_side(access: Access, side: str) -> bool:
    """May the reader see this side of accounts: every model it sums, with its figure and the allocations?"""
    return all(access.may_use(model, "partner", "date", figure) for model, figure, _, _ in SOURCES[side]) and (
        access.may_use("payment_line", "allocated_amount", "source_number")
    )


def require_side(access: Access | None, side: str) -> None:
    """Forbidden unless the reader may read the side (nothing to check for the system)."""
    if access is not None and not may_read_side(access, side):
        raise Forbidden(t("forbidden"))


def _scoped(stmt: Any, access: Access | None, model_key: str) -> Any:
    """The statement limited to the reader's rows of the model (all rows for the system)."""
    if access is None:
        return stmt
    scope = access.scope(access.registry.model(model_key))
    return stmt if scope is None else stmt.where(scope)


def _sum(
    session: Session, registry: Registry, model: str, column: str, partner_id: int, access: Access | None, **where: Any
) -> Decimal:
    cls = registry.cls(model)
    stmt = select(func.sum(getattr(cls, column))).where(cls.partner_id == partner_id, cls.status == Status.SUBMITTED)
    for name, value in where.items():
        stmt = stmt.where(getattr(cls, name) == value)
    return Decimal(session.execute(_scoped(stmt, access, model)).scalar() or ZERO)


def balance(session: Session, registry: Registry, partner_id: int, side: str, access: Access | None = None) -> Decimal:
    """What is owed on one side: invoices less returns less money paid (the reader's documents only)."""
    require_side(access, side)
    total = sum((item["amount"] for item in _opening_items(session, registry, partner_id, side)), ZERO)
    for model, figure, sign, direction in SOURCES[side]:
        where = {"direction": direction} if direction else {}
        total += sign * _sum(session, registry, model, figure, partner_id, access, **where)
    return total


def _opening_items(session: Session, registry: Registry, partner_id: int, side: str) -> list[dict[str, Any]]:
    """The partner's open items of one side on submitted opening balances, one per line."""
    doc, line = registry.cls(OPENING), registry.cls(f"{OPENING}_line")
    amount = getattr(line, OPENING_FIGURES[side])
    rows = session.execute(
        select(doc.number, doc.date, amount, line.due_date, doc.created_at)
        .join(doc, doc.id == line.parent_id)
        .where(line.partner_id == partner_id, doc.status == Status.SUBMITTED, amount > 0)
        .order_by(doc.id, line.line_no)
    )
    return [
        {"model": OPENING, "number": number, "date": day, "amount": Decimal(value), "created": created, "due": due}
        for number, day, value, due, created in rows
    ]


def opening_open_amount(
    session: Session, registry: Registry, doc: Any, partner_id: int, side: str, exclude: int | None = None
) -> Decimal | None:
    """What is still owed on one opening balance's lines of a partner and side: their amounts less what
    submitted payments of that partner (but `exclude`) allocated to it; None when it has no such line."""
    line = registry.cls(f"{OPENING}_line")
    total = session.execute(
        select(func.sum(getattr(line, OPENING_FIGURES[side]))).where(
            line.parent_id == doc.id, line.partner_id == partner_id
        )
    ).scalar()
    if not total:
        return None
    return Decimal(total) - allocated_to(session, registry, OPENING, doc.number, exclude, partner_id=partner_id)


def receivable(session: Session, registry: Registry, partner_id: int, access: Access | None = None) -> Decimal:
    """What the customer owes: deliveries less returns less money received."""
    return balance(session, registry, partner_id, RECEIVABLE, access)


def payable(session: Session, registry: Registry, partner_id: int, access: Access | None = None) -> Decimal:
    """What we owe the supplier: receipts less returns less money paid."""
    return balance(session, registry, partner_id, PAYABLE, access)


def open_orders(session: Session, registry: Registry, partner_id: int, exclude: int | None = None) -> Decimal:
    """Value with tax of what submitted sales orders (but `exclude`) still have to deliver (less what was
    closed)."""
    order, line = registry.cls("sales_order"), registry.cls("sales_order_line")
    rows = session.execute(
        select(
            func.coalesce(line.base_qty, line.qty).label("qty"),
            line.delivered_qty,
            line.closed_qty,
            line.amount_with_tax,
        )
        .join(order, order.id == line.parent_id)
        .where(order.partner_id == partner_id, order.status == Status.SUBMITTED, order.id != (exclude or 0))
    )
    return sum(
        (
            (Decimal(r.qty) - Decimal(r.delivered_qty or 0) - Decimal(r.closed_qty or 0))
            / Decimal(r.qty)
            * Decimal(r.amount_with_tax or 0)
            for r in rows
            if r.qty
        ),
        ZERO,
    )


def allocated_to(
    session: Session,
    registry: Registry,
    model_key: str,
    number: str,
    exclude: int | None = None,
    access: Access | None = None,
    partner_id: int | None = None,
) -> Decimal:
    """What submitted payments (but `exclude`; of `partner_id` when given) have allocated to one document
    (the reader's payments only). A line naming no document type settles a delivery or receipt; an
    opening balance is named as such."""
    payment, line = registry.cls("payment"), registry.cls("payment_line")
    of_model = line.source_model == model_key
    stmt = (
        select(func.sum(line.allocated_amount))
        .join(payment, payment.id == line.parent_id)
        .where(
            payment.status == Status.SUBMITTED,
            payment.id != (exclude or 0),
            line.source_number == number,
            of_model if model_key == OPENING else of_model | line.source_model.is_(None),
        )
    )
    if partner_id is not None:
        stmt = stmt.where(payment.partner_id == partner_id)
    return Decimal(session.execute(_scoped(stmt, access, "payment")).scalar() or ZERO)


RETURNS = {"sales_delivery": "sales_return", "purchase_receipt": "purchase_return"}  # what names them


def returned_against(session: Session, registry: Registry, model_key: str, number: str) -> Decimal:
    """What submitted returns naming a delivery or receipt (their source_number) took off what is owed on it."""
    if model_key not in RETURNS:
        return ZERO
    cls = registry.cls(RETURNS[model_key])
    total = session.execute(
        select(func.sum(getattr(cls, OWED))).where(cls.source_number == number, cls.status == Status.SUBMITTED)
    ).scalar()
    return total or ZERO


def open_amount(session: Session, registry: Registry, model_key: str, doc: Any, exclude: int | None = None) -> Decimal:
    """What is still owed on a delivery or receipt: its total with tax, less the returns that name it, less
    what submitted payments (but `exclude`) allocated to it."""
    return (
        Decimal(getattr(doc, OWED) or 0)
        - returned_against(session, registry, model_key, doc.number)
        - allocated_to(session, registry, model_key, doc.number, exclude)
    )


BUCKETS = ((0, "current"), (30, "1_30"), (60, "31_60"), (90, "61_90"), (None, "over_90"))


def _documents(
    session: Session, registry: Registry, partner_id: int, side: str, access: Access | None
) -> list[dict[str, Any]]:
    """The partner's submitted documents that change what is owed, oldest first, with their sign (an
    opening balance once per line, with its due date)."""
    require_side(access, side)
    rows = _opening_items(session, registry, partner_id, side)
    for model, figure, sign, direction in SOURCES[side]:
        cls = registry.cls(model)
        stmt = select(cls.number, cls.date, getattr(cls, figure), cls.created_at).where(
            cls.partner_id == partner_id, cls.status == Status.SUBMITTED
        )
        if direction:
            stmt = stmt.where(cls.direction == direction)
        for number, date, amount, created in session.execute(_scoped(stmt, access, model)):
            rows.append(
                {
                    "model": model,
                    "number": number,
                    "date": date,
                    "amount": sign * (amount or ZERO),
                    "created": created,
                    "due": None,
                }
            )
    rows.sort(key=lambda r: (r["date"], r["created"], r["number"]))
    for row in rows:
        del row["created"]
    return rows


def statement(
    session: Session, registry: Registry, partner_id: int, side: str = RECEIVABLE, access: Access | None = None
) -> list[dict[str, Any]]:
    """对账单: every document with the running balance."""
    running = ZERO
    out = []
    for row in _documents(session, registry, partner_id, side, access):
        running += row["amount"]
        due = row.pop("due")
        out.append({**row, "date": row["date"].isoformat(), "amount": str(row["amount"]), "balance": str(running)})
        if due is not None:
            out[-1]["due_date"] = due.isoformat()
    return out


def open_invoices(
    session: Session, registry: Registry, partner_id: int, side: str = RECEIVABLE, access: Access | None = None
) -> list[dict[str, Any]]:
    """The partner's invoices (deliveries / receipts, and opening balances' lines) not yet settled, oldest
    first, with what is still open: payments allocated to an invoice (or an opening balance) and returns
    naming it settle that invoice (up to its amount); other credits settle the oldest invoices first."""
    docs = _documents(session, registry, partner_id, side, access)
    own_models = (INVOICES[side], OPENING)
    owed: dict[tuple[str, str], Decimal] = {}
    for d in docs:
        if d["model"] in own_models and d["amount"] > 0:
            owed[(d["model"], d["number"])] = owed.get((d["model"], d["number"]), ZERO) + d["amount"]
    settled_own = {
        key: min(
            total,
            allocated_to(
                session, registry, key[0], key[1], access=access, partner_id=partner_id if key[0] == OPENING else None
            )
            + returned_against(session, registry, key[0], key[1]),
        )
        for key, total in owed.items()
    }
    credit = -sum((d["amount"] for d in docs if d["amount"] < 0), ZERO) - sum(settled_own.values(), ZERO)
    found = []
    for doc in (d for d in docs if d["amount"] > 0):
        key = (doc["model"], doc["number"])
        own = min(settled_own.get(key, ZERO), doc["amount"])
        if key in settled_own:
            settled_own[key] -= own
        remaining = doc["amount"] - own
        settled = min(max(credit, ZERO), remaining)
        credit -= settled
        if remaining - settled > 0:
            found.append({**doc, "open": remaining - settled})
    return found


def ageing(
    session: Session,
    registry: Registry,
    partner_id: int,
    today: dt.date,
    terms_days: int,
    side: str = RECEIVABLE,
    access: Access | None = None,
) -> dict[str, str]:
    """Open amount by days past due (what `open_invoices` leaves open): an opening balance's line is due on
    its due date, an invoice `terms_days` after its date."""
    buckets = {name: ZERO for _, name in BUCKETS}
    for doc in open_invoices(session, registry, partner_id, side, access):
        due = doc["due"] or doc["date"] + dt.timedelta(days=terms_days)
        overdue = (today - due).days
        for limit, name in BUCKETS:
            if limit is None or overdue <= limit:
                buckets[name] += doc["open"]
                break
    return {name: f"{value:.2f}" for name, value in buckets.items()}


def overdue_customers(session: Session, access: Access, today: dt.date) -> list[dict[str, Any]]:
    """Customers the user may see with receivables past their payment terms (催款), most overdue first."""
    registry = access.registry
    require_side(access, RECEIVABLE)
    model, cls = access.require_use("partner", "payment_terms_days"), registry.cls("partner")
    stmt = select(cls).where(cls.kind.in_(["customer", "both"]))
    scope = access.scope(model)
    if scope is not None:
        stmt = stmt.where(scope)
    result = []
    for partner in session.execute(stmt.order_by(cls.code)).scalars():
        buckets = ageing(session, registry, partner.id, today, int(partner.payment_terms_days or 0), access=access)
        overdue = sum((Decimal(v) for k, v in buckets.items() if k != "current"), ZERO)
        if overdue > 0:
            result.append(
                {
                    "id": partner.id,
                    "partner": partner.code,
                    "name": partner.name,
                    "contact": getattr(partner, "contact", None),
                    "phone": getattr(partner, "phone", None),
                    "terms_days": int(partner.payment_terms_days or 0),
                    "ageing": buckets,
                    "overdue": f"{overdue:.2f}",
                }
            )
    return sorted(result, key=lambda r: -Decimal(r["overdue"]))


def readable_sides(access: Access) -> list[str]:
    """The sides of accounts (receivable, payable) the reader may see."""
    return [side for side in (RECEIVABLE, PAYABLE) if may_read_side(access, side)]


def partner_account(
    session: Session, access: Access, partner: Any, requested: str | None, today: dt.date
) -> dict[str, Any]:
    """One partner's account as the reader may see it: each side they may read (its balance over their own
    documents), and the ageing and statement of the requested side (by default the partner's own side).
    Forbidden when the reader may read no side, or asks for one they may not."""
    sides = readable_sides(access)
    default = PAYABLE if partner.kind == "supplier" else RECEIVABLE
    side = requested or (default if default in sides else (sides or [default])[0])
    require_side(access, side)
    registry = access.registry
    terms = int(partner.payment_terms_days or 0)
    return {
        "partner": partner.code,
        "side": side,
        **{name: balance(session, registry, partner.id, name, access) for name in sides},
        "ageing": ageing(session, registry, partner.id, today, terms, side, access),
        "statement": statement(session, registry, partner.id, side, access),
    }


def balances_as_of(
    session: Session, registry: Registry, side: str, as_of: dt.date, access: Access | None = None
) -> dict[int, Decimal]:
    """What is owed on one side per partner id at the end of a date: the documents dated up to it (one grouped
    query per source; the reader's documents only) and opening balances' partner lines whatever their date
    (what was owed when JXC started is there from the start, as an account's opening balance is). Positive:
    owed to us (receivable) / by us (payable)."""
    require_side(access, side)
    owed: dict[int, Decimal] = {}
    for model, figure, sign, direction in SOURCES[side]:
        cls = registry.cls(model)
        stmt = select(cls.partner_id, func.sum(getattr(cls, figure))).where(
            cls.status == Status.SUBMITTED, cls.date <= as_of
        )
        if direction:
            stmt = stmt.where(cls.direction == direction)
        for partner_id, amount in session.execute(_scoped(stmt.group_by(cls.partner_id), access, model)):
            owed[partner_id] = owed.get(partner_id, ZERO) + sign * Decimal(amount or 0)
    doc, line = registry.cls(OPENING), registry.cls(f"{OPENING}_line")  # opening balances' open items
    opening = (
        select(line.partner_id, func.sum(getattr(line, OPENING_FIGURES[side])))
        .join(doc, doc.id == line.parent_id)
        .where(doc.status == Status.SUBMITTED, line.partner_id.is_not(None))
        .group_by(line.partner_id)
    )
    for partner_id, amount in session.execute(opening):
        owed[partner_id] = owed.get(partner_id, ZERO) + Decimal(amount or 0)
    return owed
