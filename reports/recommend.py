"""Recommendations for one customer, from posted deliveries the reader may read (the last N days):

- due again: items the customer bought on at least MIN_TIMES days, whose usual interval since the last purchase
  has passed (or passes within DUE_AHEAD days);
- bought together: items the customer has not bought, counted over the deliveries (anyone's) that hold one
  of the items the customer buys; the most frequent first, with the item they went with most often.

The customer's page shows them, and a new sales order asks for them once its customer is chosen (the
report's API, as the reader: a salesperson counts only the deliveries of their own customers).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.clock import business_today
from app.i18n import t
from app.meta.status import Status
from reports.context import ReportContext

MIN_TIMES = 3  # purchases (days) before an interval is a habit
DUE_AHEAD = 7  # days: an item due within them is due now
TOGETHER = 10  # items bought together, at most


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def recommendations(ctx: ReportContext) -> list[dict[str, Any]]:
    """Due-again items (soonest first), then items bought together (most often first), numbered."""
    customer = ctx.params["customer"]
    today: dt.date = ctx.params.get("date") or business_today()
    days = int(ctx.params.get("days") or 365)
    doc, line = ctx.registry.cls("sales_delivery"), ctx.registry.cls("sales_delivery_line")
    window = (doc.status == Status.SUBMITTED.value, doc.date > today - dt.timedelta(days=days), doc.date <= today)
    theirs = (
        select(doc.date, line.item_id, line.base_qty, line.qty)
        .join(doc, doc.id == line.parent_id)
        .where(*window, doc.partner_id == customer)
    )
    bought: dict[int, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for date, item, base_qty, qty in ctx.session.execute(ctx.scoped(theirs, "sales_delivery_line")):
        bought[item][_day(date)] += Decimal(base_qty if base_qty is not None else qty or 0)
    baskets: dict[int, set[int]] = defaultdict(set)
    mine = sorted(bought)
    for start in range(0, len(mine), 500):  # only the deliveries holding one of the customer's items
        holding = select(line.parent_id).where(line.item_id.in_(mine[start : start + 500]))
        stmt = (
            select(line.parent_id, line.item_id)
            .join(doc, doc.id == line.parent_id)
            .where(*window, line.parent_id.in_(holding))
        )
        for doc_id, item in ctx.session.execute(ctx.scoped(stmt, "sales_delivery_line")):
            baskets[doc_id].add(item)
    rows = _due(bought, today) + _together(baskets, set(bought))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def _due(bought: dict[int, dict[dt.date, Decimal]], today: dt.date) -> list[dict[str, Any]]:
    """Items bought on MIN_TIMES days or more whose usual interval has run out (or will within DUE_AHEAD)."""
    out = []
    for item, by_day in bought.items():
        dates = sorted(by_day)
        if len(dates) < MIN_TIMES:
            continue
        interval = round((dates[-1] - dates[0]).days / (len(dates) - 1))
        due = dates[-1] + dt.timedelta(days=interval)
        if interval <= 0 or due > today + dt.timedelta(days=DUE_AHEAD):
            continue
        usual = sum(by_day.values(), Decimal(0)) / len(dates)
        out.append(
            {
                "kind": t("report.recommend.due"),
                "item": item,
                "times": len(dates),
                "last_date": dates[-1],
                "interval_days": interval,
                "due_date": due,
                "usual_qty": usual.quantize(Decimal("1")) if usual == usual.to_integral() else usual,
                "with_item": None,
            }
        )
    out.sort(key=lambda r: (r["due_date"], r["item"]))
    return out


def _together(baskets: dict[int, set[int]], mine: set[int]) -> list[dict[str, Any]]:
    """Items the customer does not buy, by how many deliveries hold them with one of the customer's items."""
    if not mine:
        return []
    count: Counter[int] = Counter()
    pairs: dict[int, Counter[int]] = defaultdict(Counter)
    for items in baskets.values():
        theirs = items & mine
        if not theirs:
            continue
        for other in items - mine:
            count[other] += 1
            pairs[other].update(theirs)
    ranked = sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))[:TOGETHER]
    return [
        {
            "kind": t("report.recommend.together"),
            "item": item,
            "times": times,
            "last_date": None,
            "interval_days": None,
            "due_date": None,
            "usual_qty": None,
            "with_item": min(pairs[item].items(), key=lambda kv: (-kv[1], kv[0]))[0],
        }
        for item, times in ranked
    ]
