"""Purchasing analyses over posted receipts: supplier ranking and the purchase cost trend of items.

A receipt line's unit cost is its amount (before tax, in the document's prices) over its base quantity, so
receipts in other units or with tax-inclusive prices compare with the rest per base unit before tax.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.meta.status import Status
from reports.context import ReportContext
from reports.params import Period, month_start

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
PRICE = Decimal("0.0001")


@dataclass(frozen=True)
class ReceiptLine:
    """One posted receipt line as the analyses read it."""

    id: int
    date: dt.date
    partner: int
    item: int
    qty: Decimal  # base units
    amount: Decimal  # before tax
    source_model: str | None
    source_line: int | None
    rejected: Decimal = ZERO  # base units refused at the door

    @property
    def unit_cost(self) -> Decimal | None:
        """What one base unit cost before tax."""
        return (self.amount / self.qty).quantize(PRICE) if self.qty else None


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def receipt_lines(ctx: ReportContext, start: dt.date, end: dt.date) -> list[ReceiptLine]:
    """The posted receipt lines the reader may read, dated within [start, end], filtered by the item,
    category and partner parameters."""
    doc, line = ctx.registry.cls("purchase_receipt"), ctx.registry.cls("purchase_receipt_line")
    stmt = (
        select(
            line.id,
            doc.date,
            doc.partner_id,
            line.item_id,
            line.base_qty,
            line.qty,
            line.amount,
            line.source_model,
            line.source_line_id,
            line.rejected_qty,
            line.unit_ratio,
        )
        .join(doc, doc.id == line.parent_id)
        .where(doc.status == Status.SUBMITTED.value, doc.date >= start, doc.date <= end)
        .order_by(doc.date, line.id)
    )
    stmt = _filtered(ctx, stmt, doc, line)
    return [
        ReceiptLine(
            r.id,
            _day(r.date),
            r.partner_id,
            r.item_id,
            Decimal(r.base_qty if r.base_qty is not None else r.qty or 0),
            Decimal(r.amount or 0),
            r.source_model,
            r.source_line_id,
            Decimal(r.rejected_qty or 0) * Decimal(r.unit_ratio or 1),
        )
        for r in ctx.session.execute(ctx.scoped(stmt, "purchase_receipt_line"))
    ]


def _filtered(ctx: ReportContext, stmt: Any, doc: Any, line: Any) -> Any:
    """The statement limited by the item, category and partner parameters."""
    if ctx.params.get("item") is not None:
        stmt = stmt.where(line.item_id == ctx.params["item"])
    if ctx.params.get("partner") is not None:
        stmt = stmt.where(doc.partner_id == ctx.params["partner"])
    if ctx.params.get("category") is not None:
        item = ctx.registry.cls("item")
        stmt = stmt.where(line.item_id.in_(select(item.id).where(item.category_id == ctx.params["category"])))
    return stmt


def rate(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole as a percentage to two places (None without a whole)."""
    return (part * HUNDRED / whole).quantize(CENT) if whole else None


@dataclass
class _Supplier:
    lines: int = 0
    qty: Decimal = ZERO
    amount: Decimal = ZERO
    judged: int = 0
    on_time: int = 0
    returned: Decimal = ZERO
    rejected: Decimal = ZERO
    compared_amount: Decimal = ZERO  # what its receipts of items others also supplied cost
    at_others_prices: Decimal = ZERO  # what the same quantities cost at the other suppliers' average
    items: set[int] = field(default_factory=set)


def supplier_ranking(ctx: ReportContext) -> list[dict[str, Any]]:
    """Per supplier over the period: receipt lines, quantity and amount; the on-time rate (receipt lines
    received on or before the delivery date promised on the order line they came from); the returned rate
    (base units returned to the supplier in the period against base units received); and the price against
    other suppliers of the same items (what its receipts cost against the same quantities at the average unit
    cost of the other suppliers of each item, in percent: +5 is 5% dearer); the rejected rate (base units
    refused at the door against those received and refused)."""
    period: Period = ctx.params["period"]
    lines = receipt_lines(ctx, period.start, period.end)
    promised = _promised_dates(ctx, [r.source_line for r in lines if r.source_model == "purchase_order"])
    suppliers: dict[int, _Supplier] = defaultdict(_Supplier)
    per_item: dict[int, dict[int, list[Decimal]]] = defaultdict(lambda: defaultdict(lambda: [ZERO, ZERO]))
    for r in lines:
        s = suppliers[r.partner]
        s.lines += 1
        s.qty += r.qty
        s.amount += r.amount
        s.rejected += r.rejected
        s.items.add(r.item)
        due = promised.get(r.source_line) if r.source_model == "purchase_order" else None
        if due is not None:
            s.judged += 1
            s.on_time += r.date <= due
        totals = per_item[r.item][r.partner]
        totals[0] += r.qty
        totals[1] += r.amount
    for partner, qty in _returned(ctx, period).items():
        if partner in suppliers:
            suppliers[partner].returned += qty
    for by_partner in per_item.values():
        for partner, (qty, amount) in by_partner.items():
            others_qty = sum((q for p, (q, _) in by_partner.items() if p != partner), ZERO)
            others_amount = sum((a for p, (_, a) in by_partner.items() if p != partner), ZERO)
            if others_qty and qty:
                suppliers[partner].compared_amount += amount
                suppliers[partner].at_others_prices += qty * others_amount / others_qty
    out = []
    for partner, s in suppliers.items():
        dearer = rate(s.compared_amount - s.at_others_prices, s.at_others_prices) if s.at_others_prices else None
        out.append(
            {
                "partner": partner,
                "lines": s.lines,
                "items": len(s.items),
                "qty": s.qty,
                "amount": s.amount,
                "on_time_rate": rate(Decimal(s.on_time), Decimal(s.judged)),
                "returned_qty": s.returned,
                "returned_rate": rate(s.returned, s.qty),
                "rejected_qty": s.rejected,
                "rejected_rate": rate(s.rejected, s.qty + s.rejected),
                "price_vs_others": dearer,
            }
        )
    return out


def _promised_dates(ctx: ReportContext, line_ids: list[int | None]) -> dict[int, dt.date]:
    """The delivery date promised on each purchase order line (those the reader may read)."""
    wanted = sorted({i for i in line_ids if i is not None})
    if not wanted:
        return {}
    line = ctx.registry.cls("purchase_order_line")
    found: dict[int, dt.date] = {}
    for start in range(0, len(wanted), 500):
        stmt = select(line.id, line.delivery_date).where(
            line.id.in_(wanted[start : start + 500]), line.delivery_date.isnot(None)
        )
        for pk, due in ctx.session.execute(ctx.scoped(stmt, "purchase_order_line")):
            found[pk] = _day(due)
    return found


def _returned(ctx: ReportContext, period: Period) -> dict[int, Decimal]:
    """Base units returned to each supplier in the period (posted returns the reader may read)."""
    doc, line = ctx.registry.cls("purchase_return"), ctx.registry.cls("purchase_return_line")
    stmt = (
        select(doc.partner_id, line.base_qty, line.qty)
        .join(doc, doc.id == line.parent_id)
        .where(doc.status == Status.SUBMITTED.value, doc.date >= period.start, doc.date <= period.end)
    )
    stmt = _filtered(ctx, stmt, doc, line)
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for partner, base_qty, qty in ctx.session.execute(ctx.scoped(stmt, "purchase_return_line")):
        out[partner] += Decimal(base_qty if base_qty is not None else qty or 0)
    return out


def bucket(day: dt.date, by: str) -> str:
    """A date's month (2026-11) or ISO week (2026-W45), the same text on every database."""
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}"


def bucket_before(day: dt.date, by: str) -> dt.date:
    """The first day of the bucket before the one holding `day`."""
    if by == "week":
        return day - dt.timedelta(days=day.weekday() + 7)
    return month_start(day, 1)


def purchase_cost_trend(ctx: ReportContext) -> list[dict[str, Any]]:
    """Per item, supplier and month (or week): the quantity received, the lowest, average (amount over
    quantity) and highest unit cost, and the average's change against that supplier's previous period with
    receipts of the item (looking back as far as the period before the first)."""
    period: Period = ctx.params["period"]
    by = ctx.params.get("by") or "month"
    lines = receipt_lines(ctx, bucket_before(period.start, by), period.end)
    first = bucket(period.start, by)
    groups: dict[tuple[int, int, str], list[ReceiptLine]] = defaultdict(list)
    for r in lines:
        when = bucket(r.date, by)
        if r.qty and (r.date >= period.start or when < first):  # the period, and whole periods before it
            groups[(r.item, r.partner, when)].append(r)
    previous: dict[tuple[int, int], Decimal] = {}
    out = []
    for (item, partner, when), found in sorted(groups.items(), key=lambda kv: kv[0]):
        qty = sum((r.qty for r in found), ZERO)
        amount = sum((r.amount for r in found), ZERO)
        average = (amount / qty).quantize(PRICE)
        costs = [c for c in (r.unit_cost for r in found) if c is not None]
        before = previous.get((item, partner))
        previous[(item, partner)] = average
        if when < first:
            continue  # the period before: only what the first period is compared with
        out.append(
            {
                "item": item,
                "partner": partner,
                "period": when,
                "qty": qty,
                "amount": amount,
                "min_cost": min(costs),
                "avg_cost": average,
                "max_cost": max(costs),
                "change": rate(average - before, before) if before else None,
            }
        )
    return out
