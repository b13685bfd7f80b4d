"""Gross profit: revenue from the posted sales documents, cost of goods sold from the ledger entries they posted.

Both are grouped by the same dimension (item, customer, salesperson, month) through the YAML's query, so a
return nets its revenue and its cost alike.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam

from app.i18n import label
from reports.context import ReportContext
from reports.params import Period
from reports.query import add_grouped, add_sources, group_paths, run_query

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def margin(profit: Decimal, revenue: Decimal) -> Decimal | None:
    """Profit as a percentage of revenue, to two places (None without revenue)."""
    return (profit * HUNDRED / revenue).quantize(Decimal("0.01")) if revenue else None


def gross_profit(ctx: ReportContext) -> list[dict[str, Any]]:
    """Revenue, cost of goods sold, gross profit and margin per group."""
    rows = run_query(ctx)  # revenue and quantity per group, returns netted
    query = ctx.report.query
    assert query is not None
    merged = {tuple(row[name] for name in group_paths(ctx)): row for row in rows}
    if ctx.sees("cost"):
        move = ctx.registry.cls("stock_move")
        dated = any(isinstance(value, Period) for value in ctx.params.values())

        def join(paths: Any, stmt: Any) -> Any:
            document = paths.model.parent or paths.model.key
            on = and_(move.document_line_id == paths.cls.id, move.document_model == document)
            if dated:  # a ledger entry carries its document's date: the same period, said for the planner, which
                # otherwise may read every entry of the ledger by line id for a few returns
                on = and_(
                    on,
                    move.date >= bindparam("period_start", type_=move.date.type),
                    move.date <= bindparam("period_end", type_=move.date.type),
                )
            return stmt.join(move, on)

        sources = [(source.model, -1) for source in query.sources]  # the ledger's value is signed already
        add_sources(ctx, merged, sources, lambda paths: {"cost": move.value}, join, kind="cost")
    out = []
    for row in merged.values():
        row.setdefault("revenue", ZERO)
        row.setdefault("qty", ZERO)
        row.setdefault("cost", ZERO)
        row["profit"] = row["revenue"] - row["cost"]
        row["margin"] = margin(row["profit"], row["revenue"])
        out.append(row)
    revenue = sum((r["revenue"] for r in out), ZERO)
    profit = sum((r["profit"] for r in out), ZERO)
    ctx.totals["margin"] = margin(profit, revenue)
    return out


def document_lines(ctx: ReportContext) -> list[dict[str, Any]]:
    """明细: the posted lines behind a sales or purchase analysis, one row per document and item (the YAML's
    query groups by the document's date, number, partner and the item), returns negative; each row names its
    document so it opens it."""
    query = ctx.report.query
    assert query is not None
    models = ctx.registry.meta.models
    out: list[dict[str, Any]] = []
    for source in query.sources:
        merged: dict[tuple[Any, ...], dict[str, Any]] = {}
        add_grouped(
            ctx,
            merged,
            source.model,
            source.sign,
            lambda paths: {n: paths.field(p)[0] for n, p in query.sums.items()},
            kind="lines",
        )
        document = models[source.model].parent or source.model
        for row in merged.values():
            row["document_model"] = document
            row["document_type"] = label(models[document].label, document)
            out.append(row)
    return out
