"""利润表 and 资产负债表 over the documents and the stock ledger, so that equity's change over a period is that
period's profit, to the cent.

Income statement (per month of the period): revenue (deliveries less returns, before tax), cost of goods
sold (the ledger entries the sales documents posted), stocktake gains and losses (the stocktakes' entries),
other stock in and out (其他出入库 and any other entry that has no document on the other side), the purchase
return difference (what a return to a supplier takes off what we owe, before tax, less the cost it took out
of stock), other income and expense (before tax). Receipts and stock transfers change no profit: a receipt's
stock is what we owe for it, a transfer's value out is its value in.

Balance sheet (at the end of a date): cash and bank (app/services/money/cash.py), receivables and advances
received, payables and advances paid (per partner, app/services/money/receivables.py), inventory at cost (the
ledger), VAT (output tax of sales and other income less input tax of purchases and other expenses: payable
when positive, to carry forward when not); equity is assets less liabilities. Every document and ledger
entry dated up to the date counts, and a cancelled document's entries net to nothing on its own date.
Opening balances (the accounts' opening balances, 期初单's stock and partner lines) count whatever the date:
they are the equity the business started with, so no period's change includes them and none is profit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, type_coerce

from app.meta.status import Status
from app.services.money.cash import account_flows
from app.services.money.receivables import PAYABLE, RECEIVABLE, balances_as_of, may_read_side
from reports.context import ReportContext
from reports.params import Period
from reports.query import bucket_of
from reports.sales import margin
from reports.stock import _inbound

ZERO = Decimal(0)
SALES = {"sales_delivery": 1, "sales_return": -1}  # revenue and cost of goods sold, a return netting a sale
PURCHASES = {"purchase_receipt": 1, "purchase_return": -1}  # input tax, a return taking it back
OPENING = "opening_balance"  # 期初单: what the business had when JXC started, equity from the start
# stock against what we owe / against the other warehouse / brought in at the start
NO_PROFIT = ("purchase_receipt", "stock_transfer", OPENING)
MONTHS_MAX = 60  # a longer period goes by year
FIGURES = (
    "revenue",
    "cogs",
    "stocktake_gain",
    "stocktake_loss",
    "other_stock",
    "return_difference",
    "other_income",
    "other_expense",
)


def _sum(column: Any) -> Any:
    return type_coerce(func.coalesce(func.sum(column), 0), column.type)


def _buckets(period: Period) -> tuple[str, list[str]]:
    """The rows of a period: its months (or its years when it is long), as text."""
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
    if months > MONTHS_MAX:
        return "year", [str(year) for year in range(period.start.year, period.end.year + 1)]
    index = period.start.year * 12 + period.start.month - 1
    return "month", [f"{(index + i) // 12:04d}-{(index + i) % 12 + 1:02d}" for i in range(months)]


def _bucket(ctx: ReportContext, column: Any, by: str) -> Any:
    month = bucket_of(ctx, column, "month")
    return func.substr(month, 1, 4) if by == "year" else month


def income_statement(ctx: ReportContext) -> list[dict[str, Any]]:
    """利润表: one row per month of the period (per year for a long one); the totals are the period's."""
    period: Period = ctx.params["period"]
    by, names = _buckets(period)
    rows = {name: {"month": name, **dict.fromkeys(FIGURES, ZERO)} for name in names}

    def dated(cls: Any) -> list[Any]:
        return [cls.date >= period.start, cls.date <= period.end]

    def add(bucket: str, name: str, amount: Any) -> None:
        rows[str(bucket)][name] += Decimal(amount or 0)

    for model, sign in SALES.items():
        cls = ctx.registry.cls(model)
        when = _bucket(ctx, cls.date, by)
        stmt = select(when, _sum(cls.total_amount)).where(cls.status == Status.SUBMITTED, *dated(cls)).group_by(when)
        for bucket, amount in ctx.session.execute(ctx.scoped(stmt, model)):
            add(bucket, "revenue", sign * Decimal(amount))
    returned = ctx.registry.cls("purchase_return")
    when = _bucket(ctx, returned.date, by)
    stmt = (
        select(when, _sum(returned.total_amount))
        .where(returned.status == Status.SUBMITTED, *dated(returned))
        .group_by(when)
    )
    for bucket, amount in ctx.session.execute(ctx.scoped(stmt, "purchase_return")):
        add(bucket, "return_difference", amount)  # less the cost the returns took out of stock, below
    move = ctx.registry.cls("stock_move")
    when = _bucket(ctx, move.date, by)
    inbound = _inbound(move)
    stmt = (
        select(when, move.document_model, inbound.label("inbound"), _sum(move.value))
        .where(*dated(move), move.document_model.notin_(NO_PROFIT))
        .group_by(when, move.document_model, inbound)
    )
    for bucket, model, is_in, value in ctx.session.execute(ctx.scoped(stmt, "stock_move")):
        value = Decimal(value)
        if model in SALES:
            add(bucket, "cogs", -value)
        elif model == "purchase_return":
            add(bucket, "return_difference", value)  # the returns' entries are out: negative
        elif model == "stocktake":
            add(bucket, "stocktake_gain" if is_in else "stocktake_loss", value if is_in else -value)
        else:
            add(bucket, "other_stock", value)
    other = ctx.registry.cls("other_income_expense")
    when = _bucket(ctx, other.date, by)
    stmt = (
        select(when, other.direction, _sum(other.net_amount))
        .where(other.status == Status.SUBMITTED, *dated(other))
        .group_by(when, other.direction)
    )
    for bucket, direction, amount in ctx.session.execute(ctx.scoped(stmt, "other_income_expense")):
        add(bucket, "other_income" if direction == "income" else "other_expense", amount)
    for row in rows.values():
        row["gross_profit"] = row["revenue"] - row["cogs"]
        row["gross_margin"] = margin(row["gross_profit"], row["revenue"])
        row["profit"] = (
            row["gross_profit"]
            + row["stocktake_gain"]
            - row["stocktake_loss"]
            + row["other_stock"]
            + row["return_difference"]
            + row["other_income"]
            - row["other_expense"]
        )
    revenue = sum((r["revenue"] for r in rows.values()), ZERO)
    ctx.totals["gross_margin"] = margin(sum((r["gross_profit"] for r in rows.values()), ZERO), revenue)
    return list(rows.values())


def balance_sheet(ctx: ReportContext) -> list[dict[str, Any]]:
    """资产负债表 at the end of the date (and of the date to compare with, when given): one row each."""
    days = sorted({d for d in (ctx.params.get("compare"), ctx.params["date"]) if d is not None})
    return [_position(ctx, day) for day in days]


def _position(ctx: ReportContext, day: dt.date) -> dict[str, Any]:
    """Assets, liabilities and equity at the end of a day; a side the reader may not read counts nothing
    (its columns, and those derived from it, are not shown to them)."""
    session, registry, access = ctx.session, ctx.registry, ctx.access
    account = registry.cls("account")
    opening = session.execute(ctx.scoped(select(_sum(account.opening_balance)), "account")).scalar()
    flows = account_flows(session, registry, access, as_of=day)
    cash = Decimal(opening or 0) + sum((f["receipt"] - f["payment"] for f in flows.values()), ZERO)
    owed = {
        side: balances_as_of(session, registry, side, day, access)
        for side in (RECEIVABLE, PAYABLE)
        if may_read_side(access, side)
    }
    receivable = owed.get(RECEIVABLE, {}).values()
    payable = owed.get(PAYABLE, {}).values()
    move = registry.cls("stock_move")
    counted = or_(move.date <= day, move.document_model == OPENING)  # opening stock whatever its date
    inventory = session.execute(ctx.scoped(select(_sum(move.value)).where(counted), "stock_move")).scalar()
    vat = _output_tax(ctx, day) - _input_tax(ctx, day)
    row = {
        "date": day,
        "cash": cash,
        "receivables": sum((v for v in receivable if v > 0), ZERO),
        "advances_paid": -sum((v for v in payable if v < 0), ZERO),
        "inventory": Decimal(inventory or 0),
        "vat_credit": max(-vat, ZERO),
        "payables": sum((v for v in payable if v > 0), ZERO),
        "advances_received": -sum((v for v in receivable if v < 0), ZERO),
        "vat_payable": max(vat, ZERO),
    }
    row["total_assets"] = sum(
        (row[k] for k in ("cash", "receivables", "advances_paid", "inventory", "vat_credit")), ZERO
    )
    row["total_liabilities"] = sum((row[k] for k in ("payables", "advances_received", "vat_payable")), ZERO)
    row["equity"] = row["total_assets"] - row["total_liabilities"]
    return row


def _tax(ctx: ReportContext, day: dt.date, signs: dict[str, int], direction: str) -> Decimal:
    """Tax of the priced documents (with their signs) and of other income or expense, dated up to the day."""
    total = ZERO
    for model, sign in signs.items():
        cls = ctx.registry.cls(model)
        stmt = select(_sum(cls.total_tax)).where(cls.status == Status.SUBMITTED, cls.date <= day)
        total += sign * Decimal(ctx.session.execute(ctx.scoped(stmt, model)).scalar() or 0)
    other = ctx.registry.cls("other_income_expense")
    stmt = select(_sum(other.tax_amount)).where(
        other.status == Status.SUBMITTED, other.date <= day, other.direction == direction
    )
    return total + Decimal(ctx.session.execute(ctx.scoped(stmt, "other_income_expense")).scalar() or 0)


def _output_tax(ctx: ReportContext, day: dt.date) -> Decimal:
    """销项税: sales less returns, and other income."""
    return _tax(ctx, day, SALES, "income")


def _input_tax(ctx: ReportContext, day: dt.date) -> Decimal:
    """进项税: purchases less returns to suppliers, and other expenses."""
    return _tax(ctx, day, PURCHASES, "expense")
