"""Stock reports over the ledger (stock_move): 进销存汇总表, stock as of a date, the ledger with running balances.

Every figure is a sum of ledger entries, so opening + in - out = closing exactly, and the closing of a period
reaching today is the stock balance. A cancelled document's reversing entries net its kind (a cancelled
receipt takes its quantity back out of "purchase in", it is not an "other out"). An opening balance's
entries are opening stock whatever the period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, not_, or_, select, type_coerce

from app.clock import business_today
from app.i18n import label, t
from app.services.money.reorder import Filters, suggestions, suggestions_page
from reports.context import ReportContext
from reports.params import Period
from reports.query import add_grouped
from reports.sales import document_lines

ZERO = Decimal(0)
IN_KINDS = {"purchase_receipt": "purchase", "sales_return": "return", "stock_transfer": "transfer", "stocktake": "gain"}
OUT_KINDS = {"sales_delivery": "sales", "purchase_return": "return", "stock_transfer": "transfer", "stocktake": "loss"}
OPENING = "opening_balance"
KINDS_IN = ("purchase", "return", "transfer", "gain", "other")
KINDS_OUT = ("sales", "return", "transfer", "loss", "other")


def _moves(ctx: ReportContext) -> Any:
    """The stock_move class and the filters of the parameters (warehouse, item, category) on it."""
    move = ctx.registry.cls("stock_move")
    conditions = []
    if ctx.params.get("warehouse") is not None:
        conditions.append(move.warehouse_id == ctx.params["warehouse"])
    if ctx.params.get("item") is not None:
        conditions.append(move.item_id == ctx.params["item"])
    if ctx.params.get("category") is not None:
        item = ctx.registry.cls("item")
        conditions.append(move.item_id.in_(select(item.id).where(item.category_id == ctx.params["category"])))
    return move, conditions


def _inbound(move: Any) -> Any:
    """Is the entry on the "in" side: an inbound entry, or the reversal of an outbound one."""
    return or_(
        and_(move.reverses.is_(None), or_(move.qty > 0, and_(move.qty == 0, move.value >= 0))),
        and_(move.reverses.isnot(None), or_(move.qty < 0, and_(move.qty == 0, move.value < 0))),
    )


def _sum(column: Any) -> Any:
    return type_coerce(func.coalesce(func.sum(column), 0), column.type)


def inventory_summary(ctx: ReportContext) -> list[dict[str, Any]]:
    """进销存汇总表 per item and warehouse: opening, in by kind, out by kind, closing (quantity and value), summed
    in one grouped query (one row per item and warehouse, each figure a conditional sum)."""
    period: Period = ctx.params["period"]
    move, conditions = _moves(ctx)
    # an opening balance (期初单) inside the period is opening stock too, never "other in"
    before = or_(move.date < period.start, move.document_model == OPENING)
    inbound = and_(not_(before), _inbound(move))
    outbound = and_(not_(before), not_(_inbound(move)))

    def total(column: Any, when: Any, sign: int = 1) -> Any:  # the column's type: SQLite's scaled integers
        # FILTER, not sum(CASE ... ELSE 0): PostgreSQL then adds only the rows that count, not a zero for each
        # of the others in each of the 16 sums (numeric additions: a third of the query's time)
        summed = func.coalesce(func.sum(column).filter(when), 0)
        return type_coerce(summed if sign > 0 else -summed, column.type)

    figures = {
        "opening_qty": total(move.qty, before),
        "opening_value": total(move.value, before),
        "in_qty": total(move.qty, inbound),
        "in_value": total(move.value, inbound),
        "out_qty": total(move.qty, outbound, -1),
        "out_value": total(move.value, outbound, -1),
    }
    for kinds, side, when, sign in ((IN_KINDS, "in", inbound, 1), (OUT_KINDS, "out", outbound, -1)):
        for model, kind in kinds.items():
            figures[f"{side}_{kind}_qty"] = total(move.qty, and_(when, move.document_model == model), sign)
        other = and_(when, move.document_model.not_in(list(kinds)))
        figures[f"{side}_other_qty"] = total(move.qty, other, sign)
    stmt = (
        select(move.item_id, move.warehouse_id, *(c.label(name) for name, c in figures.items()))
        .where(move.date <= period.end, *conditions)
        .group_by(move.item_id, move.warehouse_id)
    )
    rows = []
    for found in ctx.session.execute(ctx.scoped(stmt, "stock_move")).mappings():
        row = _empty(found["item_id"], found["warehouse_id"])
        row.update({name: Decimal(found[name]) for name in figures})
        row["closing_qty"] = row["opening_qty"] + row["in_qty"] - row["out_qty"]
        row["closing_value"] = row["opening_value"] + row["in_value"] - row["out_value"]
        if any(row[k] for k in ("opening_qty", "in_qty", "out_qty", "closing_value")):
            rows.append(row)
    return rows


def _empty(item_id: int, warehouse_id: int) -> dict[str, Any]:
    names = [f"in_{k}_qty" for k in KINDS_IN] + [f"out_{k}_qty" for k in KINDS_OUT]
    names += ["opening_qty", "opening_value", "in_qty", "in_value", "out_qty", "out_value"]
    return {"item": item_id, "warehouse": warehouse_id, **dict.fromkeys(names, ZERO)}


def stock_as_of(ctx: ReportContext) -> list[dict[str, Any]]:
    """Stock and its value per item and warehouse at the end of a date (the ledger summed up to it)."""
    day: dt.date = ctx.params["date"]
    move, conditions = _moves(ctx)
    stmt = (
        select(move.item_id, move.warehouse_id, _sum(move.qty), _sum(move.value))
        .where(move.date <= day, *conditions)
        .group_by(move.item_id, move.warehouse_id)
    )
    out = []
    for item_id, warehouse_id, qty, value in ctx.session.execute(ctx.scoped(stmt, "stock_move")):
        qty, value = Decimal(qty), Decimal(value)
        if qty or value:
            average = (value / qty).quantize(Decimal("0.0001")) if qty else None
            out.append({"item": item_id, "warehouse": warehouse_id, "qty": qty, "value": value, "avg_cost": average})
    return out


def stock_ledger(ctx: ReportContext) -> list[dict[str, Any]]:
    """Every ledger entry of the period in order, with the running balance of its item in its warehouse."""
    period: Period = ctx.params["period"]
    move, conditions = _moves(ctx)
    opening_q = (
        select(move.item_id, move.warehouse_id, _sum(move.qty), _sum(move.value))
        .where(move.date < period.start, *conditions)
        .group_by(move.item_id, move.warehouse_id)
    )
    balance: dict[tuple[int, int], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for item_id, warehouse_id, qty, value in ctx.session.execute(ctx.scoped(opening_q, "stock_move")):
        balance[(item_id, warehouse_id)] = [Decimal(qty), Decimal(value)]
    stmt = (
        select(move).where(move.date >= period.start, move.date <= period.end, *conditions).order_by(move.date, move.id)
    )
    models = ctx.registry.meta.models
    out = []
    for entry in ctx.session.execute(ctx.scoped(stmt, "stock_move")).scalars():
        running = balance[(entry.item_id, entry.warehouse_id)]
        running[0] += entry.qty
        running[1] += entry.value or ZERO
        document = models.get(entry.document_model)
        inbound = entry.qty > 0
        out.append(
            {
                "date": entry.date,
                "document_type": label(document.label, entry.document_model) if document else entry.document_model,
                "document_model": entry.document_model,
                "document_number": entry.document_number,
                "item": entry.item_id,
                "warehouse": entry.warehouse_id,
                "in_qty": entry.qty if inbound else ZERO,
                "out_qty": ZERO if inbound else -entry.qty,
                "value": entry.value or ZERO,
                "balance_qty": running[0],
                "balance_value": running[1],
            }
        )
    return out


def slow_moving(ctx: ReportContext) -> list[dict[str, Any]]:
    """Stock with no outgoing movement in N days (value tied up), and overstock by days of cover against the
    last N days' sales, each with a suggested action."""
    days = int(ctx.params.get("days") or 90)
    today = ctx.params.get("date") or business_today()
    since = today - dt.timedelta(days=days)
    move, conditions = _moves(ctx)
    balance = ctx.registry.cls("stock_balance")
    held = (
        select(balance.item_id, balance.warehouse_id, _sum(balance.qty), _sum(balance.value))
        .group_by(balance.item_id, balance.warehouse_id)
        .having(func.sum(balance.qty) > 0)
    )
    if ctx.params.get("warehouse") is not None:
        held = held.where(balance.warehouse_id == ctx.params["warehouse"])
    outbound = and_(move.qty < 0, move.reverses.is_(None))
    last_out = dict(
        ((i, w), d)
        for i, w, d in ctx.session.execute(
            ctx.scoped(
                select(move.item_id, move.warehouse_id, func.max(move.date))
                .where(outbound, move.date <= today, *conditions)
                .group_by(move.item_id, move.warehouse_id),
                "stock_move",
            )
        )
    )
    sold = {
        (i, w): -Decimal(q)
        for i, w, q in ctx.session.execute(
            ctx.scoped(
                select(move.item_id, move.warehouse_id, _sum(move.qty))
                .where(move.document_model == "sales_delivery", move.date > since, move.date <= today, *conditions)
                .group_by(move.item_id, move.warehouse_id),
                "stock_move",
            )
        )
    }
    out = []
    for item_id, warehouse_id, qty, value in ctx.session.execute(ctx.scoped(held, "stock_balance")):
        if conditions and not _item_matches(ctx, item_id):
            continue
        qty, value = Decimal(qty), Decimal(value)
        last = last_out.get((item_id, warehouse_id))
        if isinstance(last, str):
            last = dt.date.fromisoformat(last)
        daily = sold.get((item_id, warehouse_id), ZERO) / days
        cover = (qty / daily).quantize(Decimal("1")) if daily > 0 else None
        idle = (today - last).days if last else None
        if last is not None and last > since and (cover is None or cover <= 2 * days):
            continue
        action = "report.action.clear" if daily <= 0 else "report.action.promote"
        recent = sold.get((item_id, warehouse_id), ZERO)
        out.append(
            {
                "item": item_id,
                "warehouse": warehouse_id,
                "qty": qty,
                "value": value,
                "last_out": last,
                "days_idle": idle,
                "sold_qty": recent,
                "days_of_cover": cover,
                "excess_qty": max(qty - recent, ZERO),  # more than the last N days sold: what to promote
                "action": t(action),
            }
        )
    return out


def _item_matches(ctx: ReportContext, item_id: int) -> bool:
    """Does the item pass the item / category parameters?"""
    if ctx.params.get("item") is not None and item_id != ctx.params["item"]:
        return False
    if ctx.params.get("category") is not None:
        item = ctx.session.get(ctx.registry.cls("item"), item_id)
        return item is not None and item.category_id == ctx.params["category"]
    return True


def reorder(ctx: ReportContext) -> list[dict[str, Any]]:
    """补货建议: items below their reorder point with what to order (the reorder page's numbers), for a warehouse,
    a default supplier or a category when asked. Asked for a page, the database orders (A items first when the
    reader sees the class, then by SKU) and pages them, and counts and totals them all in one more statement."""
    filters = reorder_filters(ctx.params)
    by_class = any(column.name == "abc_class" for column, _ in ctx.order())
    if ctx.page is None:
        found = suggestions(ctx.session, ctx.access, filters, by_class=by_class)
    else:
        page = ctx.page
        found, ctx.row_count, totals = suggestions_page(
            ctx.session, ctx.access, filters, page.size, page.offset, by_class
        )
        ctx.totals.update(totals)
    return [
        {
            "item": p.item_id,
            "supplier": p.supplier_id,
            "on_hand": p.on_hand,
            "on_order": p.on_order,
            "reserved": p.reserved,
            "projected": p.projected,
            "reorder_point": p.reorder_point,
            "max_stock": p.max_stock,
            "suggested_qty": p.suggested_qty,
            "abc_class": p.abc_class,
        }
        for p in found
    ]


def reorder_filters(params: dict[str, Any]) -> Filters:
    """The reorder report's warehouse, supplier and category parameters (ids) as the suggestions' filters."""
    return Filters(params.get("warehouse"), params.get("supplier"), params.get("category"))


def stocktake_loss(ctx: ReportContext) -> list[dict[str, Any]]:
    """盘点损耗: what posted stocktakes found missing (and extra), in quantity and at cost, by reason, warehouse,
    month or item (the YAML's query groups and filters the lines)."""
    line = ctx.registry.cls("stocktake_line")
    lost = line.diff_qty < 0

    def measures(paths: Any) -> dict[str, Any]:
        return {
            "loss_qty": case((lost, -line.diff_qty), else_=0),
            "loss_value": case((lost, -line.amount), else_=0),
            "gain_qty": case((line.diff_qty > 0, line.diff_qty), else_=0),
            "gain_value": case((line.diff_qty > 0, line.amount), else_=0),
        }

    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    add_grouped(ctx, merged, "stocktake_line", 1, measures, kind="stocktake")
    out = []
    for row in merged.values():
        if not (row["loss_qty"] or row["gain_qty"]):
            continue  # lines counted as booked
        row["net_value"] = row["loss_value"] - row["gain_value"]
        out.append(row)
    return out


def stocktake_lines(ctx: ReportContext) -> list[dict[str, Any]]:
    """盘点差异明细: the posted stocktake lines behind a row of 盘点损耗, those whose count differs from the book."""
    return [row for row in document_lines(ctx) if row["diff_qty"]]
