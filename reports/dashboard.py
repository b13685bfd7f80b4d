"""The home page's dashboard: the numbers a boss asks for first, each from the report (or service) that owns it,
run as the reader, so a tile follows their permissions, scope and masks (a tile they may not see is absent).

Month to date against the same days of last month, today's sales, stock value, items below their reorder
point, overdue receivables, documents waiting for the reader's approval, a 12-month sales trend and the top
customers and items. A business with no documents yet gets the first steps instead of empty tiles.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, or_, select, type_coerce
from sqlalchemy.orm import Session

from app.clock import business_today
from app.errors import ServiceError
from app.i18n import t
from app.ledger.compute import CENT
from app.meta.status import Status
from app.meta.types import format_decimal
from app.services.access.rights import Access
from app.services.money.reorder import counts
from app.services.posting.inbox import approves_anything, waiting_for
from reports.params import Period, month_start, preset
from reports.runner import Result, run_with
from reports.views import overdue_customers

# what a business with no documents does first: (model the step writes, page, text), each shown to who may
FIRST_STEPS = (
    ("item", "/m/item/", "dash.step_items"),
    ("opening_balance", "/m/opening_balance/new", "dash.step_opening"),
    ("purchase_receipt", "/m/purchase_receipt/new", "dash.step_purchase"),
    ("sales_delivery", "/m/sales_delivery/new", "dash.step_sale"),
)

ZERO = Decimal(0)
TOP = 5


def _money(value: Decimal | None) -> str | None:
    """A tile's money to the cent: stock values and costs are kept to 4 places (a profit of 1371.6148, a stock of
    29452.6964 were shown so, beside tiles of 2); the sums and the change are worked out on the exact figures."""
    return None if value is None else format_decimal(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP), 2)


def same_days_last_month(today: dt.date) -> tuple[Period, Period]:
    """(1st of this month .. today, 1st of last month .. the same day of it, or its last day)."""
    this_month = preset("this_month", today)
    last = preset("last_month", today)
    end = min(last.start + dt.timedelta(days=today.day - 1), last.end)
    return Period(this_month.start, today), Period(last.start, end)


def _run(session: Session, access: Access, name: str, **values: Any) -> Result | None:
    """A report's answer with these parameter values (others empty), or None when the reader may not run it."""
    report = access.registry.meta.reports.get(name)
    if report is None or not access.may_run(report):
        return None
    params = {p.name: values.get(p.name, p.default if p.type == "select" else None) for p in report.params}
    return run_with(session, access, report, params)


def _total(result: Result | None, column: str) -> Decimal | None:
    """A total of a report, None when the reader may not see it."""
    if result is None or column not in result.totals:
        return None
    return Decimal(result.totals[column] or 0)


def _top(result: Result | None, column: str) -> list[dict[str, Any]]:
    if result is None or column not in {c.name for c in result.columns}:
        return []
    rows = sorted(result.rows, key=lambda r: r.get(column) or ZERO, reverse=True)[:TOP]
    group = next(c for c in result.columns if c.name == "group")
    return [{"name": result.text(row, group), "value": _money(row[column])} for row in rows if row.get(column)]


def twelve_months(amounts: dict[str, Decimal], today: dt.date) -> list[dict[str, Any]]:
    """The amounts of each of the 12 months up to today's ("YYYY-MM" -> amount), a month without sales at zero
    (the chart's axis is the year, not only the months that sold)."""
    months = [month_start(today, back).strftime("%Y-%m") for back in range(11, -1, -1)]
    return [{"month": month, "amount": _money(amounts.get(month) or ZERO)} for month in months]


def _by_day(result: Result, column: str) -> dict[dt.date, Decimal]:
    """A report run by day as {day: the column's figure}."""
    return {dt.date.fromisoformat(str(row["group"])): row[column] or ZERO for row in result.rows}


def _sum_over(days: dict[dt.date, Decimal], period: Period) -> Decimal:
    return sum((amount for day, amount in days.items() if period.start <= day <= period.end), ZERO)


def _against(days: dict[dt.date, Decimal], today: dt.date) -> dict[str, Any]:
    """Month to date against the same days of last month: {value, previous, change (%)}, summed exactly."""
    now, before = same_days_last_month(today)
    current, previous = _sum_over(days, now), _sum_over(days, before)
    change = None if not previous else ((current - previous) * 100 / previous).quantize(Decimal("0.1"))
    return {"value": _money(current), "previous": _money(previous), "change": None if change is None else str(change)}


def _profit_tile(session: Session, access: Access, today: dt.date) -> dict[str, Any] | None:
    """Gross profit month to date against the same days of last month: one run of 毛利分析 by day over both
    (the days summed here, exactly), not one run per period."""
    now, before = same_days_last_month(today)
    result = _run(session, access, "gross_profit", period=Period(before.start, now.end), by="day")
    if result is None or "profit" not in result.totals:
        return None
    return _against(_by_day(result, "profit"), today)


def _sales_tiles(session: Session, access: Access, today: dt.date) -> dict[str, Any] | None:
    """Month to date against the same days of last month, today's sales and the 12-month trend, from one run of
    销售分析 by day over the twelve months (summed here, exactly), not one run per tile."""
    year = _run(session, access, "sales_analysis", period=Period(month_start(today, 11), today), by="day")
    if year is None or "amount" not in year.totals:
        return None
    days = _by_day(year, "amount")
    months: dict[str, Decimal] = {}
    for day, amount in days.items():
        month = f"{day.year:04d}-{day.month:02d}"  # strftime("%Y-%m"), without its cost a day
        months[month] = months.get(month, ZERO) + amount
    return {
        "sales_mtd": _against(days, today),
        "sales_today": _money(_sum_over(days, Period(today, today))),
        "trend": twelve_months(months, today),
    }


def stock_value(session: Session, access: Access) -> Decimal | None:
    """Value of the stock on hand the reader sees (None when they may not see stock cost)."""
    if not access.may_use("stock_balance", "value"):
        return None
    registry = access.registry
    balance = registry.cls("stock_balance")
    stmt = registry.kept(  # built once per metadata version
        "dashboard_stock_value",
        lambda: select(type_coerce(func.coalesce(func.sum(balance.value), 0), balance.value.type)),
    )
    scope = access.scope(registry.model("stock_balance"))
    if scope is not None:
        stmt = stmt.where(scope)
    return Decimal(session.execute(stmt).scalar() or 0)


def is_empty_business(session: Session, access: Access) -> bool:
    """No posted document of any kind yet (what the first steps are for), asked in one statement."""
    registry = access.registry

    def any_posted() -> Any:  # built once per metadata version (no reader's values in it)
        posted = [
            select(registry.cls(m.key).id).where(registry.cls(m.key).status == Status.SUBMITTED.value).exists()
            for m in registry.meta.models.values()
            if m.kind == "document"
        ]
        return select(or_(*posted)) if posted else None

    stmt = registry.kept("dashboard_any_posted", any_posted)
    return stmt is None or not session.execute(stmt).scalar()


def dashboard(
    session: Session,
    access: Access,
    today: dt.date | None = None,
    waiting: list[dict[str, Any]] | None = None,
    below_reorder: int | None = None,
) -> dict[str, Any]:
    """Every tile the reader may see, as JSON-ready values (money as exact text); `waiting`: the documents
    waiting for the reader's approval when the caller has them already (the page's menu counts them too);
    `below_reorder`: the items below their reorder point when the caller has counted them (`counts`, as the
    home page's stock alerts do)."""
    today = today or business_today()
    tiles: dict[str, Any] = {}
    sales = _sales_tiles(session, access, today)
    if sales is not None:
        tiles.update(sales)
        tiles["top_customers"] = _top(
            _run(session, access, "sales_analysis", period=preset("this_month", today), by="customer"), "amount"
        )
        tiles["top_items"] = _top(
            _run(session, access, "sales_analysis", period=preset("this_month", today), by="item"), "amount"
        )
    profit = _profit_tile(session, access, today)
    if profit is not None:
        tiles["profit_mtd"] = profit
    value = stock_value(session, access)
    if value is not None:
        tiles["stock_value"] = _money(value)
    reorder = access.registry.meta.reports.get("reorder")
    with contextlib.suppress(ServiceError):  # the reorder and overdue pages' answers: absent when not the reader's
        if reorder is not None and access.may_run(reorder):
            # the reorder report's rows, counted (once a page: the home page's alerts count them too)
            tiles["below_reorder"] = counts(session, access)[0] if below_reorder is None else below_reorder
    try:
        overdue = overdue_customers(session, access, today)
        total = sum((Decimal(row["overdue"]) for row in overdue if row["overdue"] is not None), ZERO)
        tiles["overdue"] = {"customers": len(overdue), "amount": _money(total)}
    except ServiceError:
        pass
    if approves_anything(access):  # nothing can ever wait for anyone else: no tile
        waiting = waiting_for(session, access) if waiting is None else waiting
        tiles["approvals"] = [{key: w[key] for key in ("model", "id", "number", "level", "levels")} for w in waiting]
    tiles["first_steps"] = first_steps(access) if is_empty_business(session, access) else []
    return tiles


def first_steps(access: Access) -> list[dict[str, str]]:
    """The steps of a new business the reader may take: items, opening balances (期初单), a first purchase and
    a first sale, each {href, text} when the reader may write that model."""
    models = access.registry.meta.models
    return [
        {"href": href, "text": t(text)}
        for model, href, text in FIRST_STEPS
        if model in models and access.can(model, "write")
    ]
