"""Receivables and payables per partner, from submitted documents (应收 / 应付).

Read for a person (an `Access`), an account uses only what they may read: each side needs read on every
document model it sums and sight of the figure it sums (`SOURCES`, refused as a whole otherwise, so a
balance is never silently partial), and counts only the documents in their row scope. Without an Access
(posting's credit check) every submitted document counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, cast, func, literal, null, select, type_coerce, union_all
from sqlalchemy.orm import Session

from app.errors import Forbidden
from app.i18n import t
from app.meta.accounts import OWED, PAYABLE, RECEIVABLE, SOURCES
from app.meta.registry import Registry
from app.meta.sqltypes import ExactDecimal
from app.meta.status import Status
from app.services.access.rights import Access
from app.services.records.bulk import among_param

ZERO = Decimal(0)
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
    stmt = _open_statement(session, registry, side, access, "open_invoices", _listed)
    return [dict(row) for row in session.execute(stmt, {"partners": [partner_id]}).mappings()]


def _listed(rows: Any) -> Any:
    return select(rows.c.model, rows.c.number, rows.c.date, rows.c.amount, rows.c.due, rows.c.open).order_by(
        *_order(rows)
    )


def _aged(rows: Any) -> Any:
    return select(rows.c.partner_id, rows.c.date, rows.c.due, func.sum(rows.c.open)).group_by(
        rows.c.partner_id, rows.c.date, rows.c.due
    )


def _open_statement(
    session: Session, registry: Registry, side: str, access: Access | None, shape: str, outer: Callable[[Any], Any]
) -> Any:
    """`outer` (a select over `_open_rows`) of the partners given as the parameter `partners`. Built once per
    metadata version when the reader has no row scope on the side's documents or payments (the statement is then
    the same for every such reader: SQLAlchemy neither builds it nor works out its cache key again), else for this
    reader with their scope."""
    require_side(access, side)
    dialect = session.get_bind().dialect.name
    models = {model for model, _, _, _ in SOURCES[side]} | {"payment"}
    if access is not None and any(access.scope(registry.model(model)) is not None for model in models):
        return outer(_open_rows(registry, dialect, side, access))
    return registry.kept(("open_rows", shape, side, dialect), lambda: outer(_open_rows(registry, dialect, side, None)))


def _order(rows: Any) -> tuple[Any, ...]:
    """Oldest first: by date, time entered and number (then source and line, so the order is total)."""
    return rows.c.date, rows.c.created, rows.c.number, rows.c.src, rows.c.doc_id, rows.c.line_no


def _open_rows(registry: Registry, dialect: str, side: str, access: Access | None) -> Any:
    """What `open_invoices` leaves open, for the partners given as the parameter `partners`, as one SQL query (a
    subquery with partner_id, model, number, date, amount, due, open and the order columns), so the dashboard,
    ageing and overdue lists cost a few scans, not two queries per invoice.

    The documents of the side (`_documents`) in order; each own invoice (a delivery or receipt, an opening
    balance's lines of the partner) is first settled by what was allocated to it and returned against it (its
    own settlement, up to its total, spread over its lines in order); the rest of the credits (returns, payments,
    less the own settlements) settle the oldest invoices first, so an invoice's share is what the credit left
    after the older ones covers of it. Running sums (window functions) stand for the walk."""
    sqlite = dialect == "sqlite"
    invoice_model = INVOICES[side]
    doc, line = registry.cls(OPENING), registry.cls(f"{OPENING}_line")
    payment, allocation = registry.cls("payment"), registry.cls("payment_line")
    invoice, returns = registry.cls(invoice_model), registry.cls(RETURNS[invoice_model])
    figure = getattr(line, OPENING_FIGURES[side])
    columns = [figure, allocation.allocated_amount, getattr(returns, OWED)]
    columns += [getattr(registry.cls(m), f) for m, f, _, _ in SOURCES[side]]
    scale = max(c.type.scale for c in columns)

    def exact(column: Any) -> Any:  # SQLite keeps decimals as integers scaled by the column's scale
        shift = scale - column.type.scale
        return column * 10**shift if sqlite and shift else column

    def least(a: Any, b: Any) -> Any:
        return case((a < b, a), else_=b)

    def greatest(a: Any, b: Any) -> Any:
        return case((a > b, a), else_=b)

    parts = [
        select(
            line.partner_id.label("partner_id"),
            literal(OPENING).label("model"),
            doc.number.label("number"),
            doc.date.label("date"),
            exact(figure).label("amount"),
            line.due_date.label("due"),
            doc.created_at.label("created"),
            literal(0).label("src"),
            doc.id.label("doc_id"),
            line.line_no.label("line_no"),
        )
        .join(doc, doc.id == line.parent_id)
        .where(doc.status == Status.SUBMITTED, figure > 0, line.partner_id.is_not(None))
    ]
    for rank, (model, name, sign, direction) in enumerate(SOURCES[side], 1):
        cls = registry.cls(model)
        amount = func.coalesce(exact(getattr(cls, name)), 0)
        stmt = select(
            cls.partner_id,
            literal(model),
            cls.number,
            cls.date,
            amount if sign > 0 else -amount,
            cast(null(), line.due_date.type),
            cls.created_at,
            literal(rank),
            cls.id,
            literal(0),
        ).where(cls.status == Status.SUBMITTED)
        if direction:
            stmt = stmt.where(cls.direction == direction)
        parts.append(_scoped(stmt, access, model))
    parts[0] = parts[0].where(among_param(dialect, line.partner_id, "partners"))
    parts[1:] = [p.where(among_param(dialect, p.selected_columns[0], "partners")) for p in parts[1:]]
    docs = union_all(*parts).subquery("docs")

    # what was allocated to and returned against each invoice (by number), and allocated to opening balances
    # (by number and paying partner), as allocated_to and returned_against count them
    numbers = select(invoice.number).where(invoice.status == Status.SUBMITTED)
    numbers = numbers.where(among_param(dialect, invoice.partner_id, "partners"))
    paid = select(func.sum(exact(allocation.allocated_amount)).label("total")).join(
        payment, payment.id == allocation.parent_id
    )
    paid = paid.where(payment.status == Status.SUBMITTED)
    to_invoice = _scoped(
        paid.add_columns(allocation.source_number.label("number"))
        .where(
            (allocation.source_model == invoice_model) | allocation.source_model.is_(None),
            allocation.source_number.in_(numbers),
        )
        .group_by(allocation.source_number),
        access,
        "payment",
    ).subquery("to_invoice")
    to_opening = paid.add_columns(allocation.source_number.label("number"), payment.partner_id.label("partner_id"))
    to_opening = to_opening.where(allocation.source_model == OPENING)
    to_opening = to_opening.where(among_param(dialect, payment.partner_id, "partners"))
    to_opening = _scoped(to_opening.group_by(allocation.source_number, payment.partner_id), access, "payment").subquery(
        "to_opening"
    )
    returned = (
        select(returns.source_number.label("number"), func.sum(exact(getattr(returns, OWED))).label("total"))
        .where(returns.status == Status.SUBMITTED, returns.source_number.in_(numbers))
        .group_by(returns.source_number)
        .subquery("returned")
    )

    # each invoice's own settlement: an invoice's is what was allocated and returned, up to its amount; an
    # opening balance's (up to its lines' total) is spread over its lines in order
    d = docs.c
    key = (d.partner_id, d.number)
    total = func.sum(d.amount).over(partition_by=key)
    before = func.sum(d.amount).over(partition_by=key, order_by=_order(docs), rows=(None, 0)) - d.amount
    first = func.row_number().over(partition_by=key, order_by=_order(docs)) == 1
    settles = least(total, func.coalesce(to_opening.c.total, 0))
    lines = (
        select(*d, settles.label("own_total"), before.label("before"), first.label("first"))
        .select_from(docs)
        .outerjoin(to_opening, and_(to_opening.c.number == d.number, to_opening.c.partner_id == d.partner_id))
        .where(d.model == OPENING, d.amount > 0)
        .subquery("lines")
    )
    o = lines.c
    own = case(
        (o.own_total < 0, case((o.before == 0, o.own_total), else_=0)),
        else_=least(greatest(o.own_total - o.before, 0), o.amount),
    )
    opening_own = select(
        *(o[c.name] for c in d), own.label("own"), case((o.first, o.own_total), else_=0).label("own_key")
    )
    settles = least(d.amount, func.coalesce(to_invoice.c.total, 0) + func.coalesce(returned.c.total, 0))
    invoice_own = (
        select(*d, settles.label("own"), settles.label("own_key"))
        .select_from(docs)
        .outerjoin(to_invoice, to_invoice.c.number == d.number)
        .outerjoin(returned, returned.c.number == d.number)
        .where(d.model == invoice_model, d.amount > 0)
    )
    other = select(*d, literal(0), literal(0)).where(d.model.not_in((OPENING, invoice_model)), d.amount > 0)
    positives = union_all(opening_own, invoice_own, other).subquery("positives")
    p = positives.c
    credits = (
        select(d.partner_id, (-func.sum(d.amount)).label("total"))
        .where(d.amount < 0)
        .group_by(d.partner_id)
        .subquery("credits")
    )
    # the rest of the credit settles the oldest first: what this invoice gets is what is left of it after the
    # remainders before it (`through` is the running sum of remainders, this one's included)
    walk = (
        select(
            *(p[c.name] for c in d),
            (p.amount - p.own).label("remaining"),
            (func.coalesce(credits.c.total, 0) - func.sum(p.own_key).over(partition_by=p.partner_id)).label("credit"),
            func.sum(p.amount - p.own)
            .over(partition_by=p.partner_id, order_by=_order(positives), rows=(None, 0))
            .label("through"),
        )
        .select_from(positives)
        .outerjoin(credits, credits.c.partner_id == p.partner_id)
        .subquery("walk")
    )
    w = walk.c
    credit = greatest(w.credit, 0)
    settled = least(credit, w.through) - least(credit, w.through - w.remaining)  # the credit left for this one
    exact_type = ExactDecimal(18, scale)
    opened = (
        select(
            w.partner_id,
            w.model,
            w.number,
            w.date,
            type_coerce(w.amount, exact_type).label("amount"),
            w.due,
            type_coerce(w.remaining - settled, exact_type).label("open"),
            w.created,
            w.src,
            w.doc_id,
            w.line_no,
        )
        .select_from(walk)
        .subquery("opened")
    )
    return select(opened).where(opened.c.open > 0).subquery("open_rows")


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
    return ageing_of(session, registry, {partner_id: terms_days}, today, side, access)[partner_id]


def ageing_of(
    session: Session,
    registry: Registry,
    terms: dict[int, int],
    today: dt.date,
    side: str = RECEIVABLE,
    access: Access | None = None,
) -> dict[int, dict[str, str]]:
    """`ageing` of several partners (partner id -> payment terms in days) in one query: the open amounts summed
    by partner, date and due date in SQL, put into buckets here."""
    stmt = _open_statement(session, registry, side, access, "ageing", _aged)
    buckets = {partner_id: {name: ZERO for _, name in BUCKETS} for partner_id in terms}
    for partner_id, day, due, amount in session.execute(stmt, {"partners": list(terms)}):
        if isinstance(day, str):  # SQLite gives the dates of a union as text
            day = dt.date.fromisoformat(day)
        if isinstance(due, str):
            due = dt.date.fromisoformat(due)
        overdue = (today - (due or day + dt.timedelta(days=terms[partner_id]))).days
        for limit, name in BUCKETS:
            if limit is None or overdue <= limit:
                buckets[partner_id][name] += amount
                break
    return {partner_id: {name: f"{value:.2f}" for name, value in b.items()} for partner_id, b in buckets.items()}


def overdue_customers(session: Session, access: Access, today: dt.date) -> list[dict[str, Any]]:
    """Customers the user may see with receivables past their payment terms (催款), most overdue first."""
    registry = access.registry
    require_side(access, RECEIVABLE)
    model, cls = access.require_use("partner", "payment_terms_days"), registry.cls("partner")
    stmt = select(cls).where(cls.kind.in_(["customer", "both"]))
    scope = access.scope(model)
    if scope is not None:
        stmt = stmt.where(scope)
    partners = list(session.execute(stmt.order_by(cls.code)).scalars())
    terms = {partner.id: int(partner.payment_terms_days or 0) for partner in partners}
    ageings = ageing_of(session, registry, terms, today, RECEIVABLE, access)
    result = []
    for partner in partners:
        buckets = ageings[partner.id]
        overdue = sum((Decimal(v) for k, v in buckets.items() if k != "current"), ZERO)
        if overdue > 0:
            result.append(
                {
                    "id": partner.id,
                    "partner": partner.code,
                    "name": partner.name,
                    "contact": getattr(partner, "contact", None),
                    "phone": getattr(partner, "phone", None),
                    "terms_days": terms[partner.id],
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
