"""Receivables and payables as reports: ageing per partner, a partner's statement (对账单), overdue customers.

The numbers come from app/services/money/receivables.py, the code the accounts pages use, read as the
reader (each side needs the documents it sums; only their documents in scope count).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.clock import business_today
from app.i18n import label, t
from app.services.money.receivables import PAYABLE, RECEIVABLE, ageing_of, overdue_customers, require_side, statement
from reports.context import ReportContext

KINDS = {RECEIVABLE: ("customer", "both"), PAYABLE: ("supplier", "both")}
COLUMNS = {"1_30": "d1_30", "31_60": "d31_60", "61_90": "d61_90"}  # the ageing buckets as column names


def _ageing(ctx: ReportContext, side: str) -> list[dict[str, Any]]:
    require_side(ctx.access, side)
    today = ctx.params.get("date") or business_today()
    partner = ctx.registry.cls("partner")
    stmt = select(partner).order_by(partner.code)
    if ctx.params.get("partner") is not None:  # one partner asked for: whatever its kind (a customer's payables)
        stmt = stmt.where(partner.id == ctx.params["partner"])
    else:
        stmt = stmt.where(partner.kind.in_(KINDS[side]))
    partners = list(ctx.session.execute(ctx.scoped(stmt, "partner")).scalars())
    ageings = ageing_of(
        ctx.session,
        ctx.registry,
        {row.id: int(row.payment_terms_days or 0) for row in partners},
        today,
        side,
        ctx.access,
    )
    out = []
    for row in partners:
        values = {COLUMNS.get(name, name): Decimal(value) for name, value in ageings[row.id].items()}
        total = sum(values.values(), Decimal(0))
        if total:
            out.append({"partner": row.id, **values, "total": total})
    return out


def ar_ageing(ctx: ReportContext) -> list[dict[str, Any]]:
    """应收账龄: what each customer owes by days past their terms."""
    return _ageing(ctx, RECEIVABLE)


def ap_ageing(ctx: ReportContext) -> list[dict[str, Any]]:
    """应付账龄: what is owed to each supplier by days past their terms."""
    return _ageing(ctx, PAYABLE)


def partner_statement(ctx: ReportContext) -> list[dict[str, Any]]:
    """对账单: a partner's documents in order with the running balance, after an opening line (期初余额) that is
    there whether or not a document falls in the period: a customer who owes from before read an empty statement."""
    side = ctx.params.get("side") or RECEIVABLE
    period = ctx.params["period"]
    rows = statement(ctx.session, ctx.registry, ctx.params["partner"], side, ctx.access)
    models = ctx.registry.meta.models
    opening = Decimal(0)
    out: list[dict[str, Any]] = []
    for row in rows:
        day = row["date"]
        if day < period.start.isoformat():
            opening = Decimal(row["balance"])
            continue
        if day > period.end.isoformat():
            break
        document = models[row["model"]]
        amount = Decimal(row["amount"])
        out.append(
            {
                "date": day,
                "document_type": label(document.label, row["model"]),
                "document_model": row["model"],
                "number": row["number"],
                "amount": amount,
                "balance": Decimal(row["balance"]),
                "due_date": row.get("due_date"),  # an opening balance's line: when it falls due
            }
        )
    first = {"date": None, "document_type": t("report.brought_forward"), "number": None, "amount": None}
    return [{**first, "balance": opening}, *out]


def overdue(ctx: ReportContext) -> list[dict[str, Any]]:
    """逾期应收: customers past their payment terms, most overdue first (催款)."""
    rows = overdue_customers(ctx.session, ctx.access, ctx.params.get("date") or business_today())
    return [
        {
            "partner": row["id"],
            "contact": row["contact"],
            "phone": row["phone"],
            "terms_days": row["terms_days"],
            **{COLUMNS.get(name, name): Decimal(value) for name, value in row["ageing"].items()},
            "overdue": Decimal(row["overdue"]),
        }
        for row in rows
    ]
