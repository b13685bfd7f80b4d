"""ABC analysis: items ranked by sales value or by gross margin over a period, classed A / B / C by their
cumulative share (thresholds in settings: abc_a_percent, abc_b_percent; C is the rest), and the job kind
`abc_classify` that writes each item's class onto the item (`abc_class`) so grids and reorder show it.

An item is A while the items ranked before it hold less than the A share of the total, B while they hold
less than A + B, else C; an item with nothing (or a loss) to show is C. Ties rank by SKU.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from app.clock import business_today
from app.errors import Forbidden
from app.i18n import t, texts_for
from app.jobs import JobContext, job_kind
from app.services.records.audit import change_row, write_audit_rows
from app.services.records.settings import policy_values
from reports.context import ReportContext
from reports.params import month_start
from reports.sales import gross_profit

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
CLASSES = ("A", "B", "C")
SETTINGS = ("abc_a_percent", "abc_b_percent")


def thresholds(session: Any, registry: Any) -> tuple[Decimal, Decimal]:
    """The cumulative shares (percent) up to which items are A, and A or B (80 and 95 by default)."""
    values = policy_values(session, registry, SETTINGS)
    a = Decimal(str(values["abc_a_percent"] if values["abc_a_percent"] is not None else 80))
    b = Decimal(str(values["abc_b_percent"] if values["abc_b_percent"] is not None else 15))
    return a, a + b


def abc(ctx: ReportContext) -> list[dict[str, Any]]:
    """Per item: quantity, revenue, cost and margin (returns netted, as the gross profit report counts them),
    its share of the chosen measure, the cumulative share and its class; and the class stored on the item."""
    rows = gross_profit(ctx)
    by = ctx.params.get("by") or "value"
    measure = "revenue" if by == "value" else "profit"
    if by == "margin" and not ctx.sees("cost"):
        for row in rows:  # no cost was worked out: the margin columns are not the reader's to see
            row.pop("profit", None)
    item = ctx.registry.cls("item")
    ids = [row["group"] for row in rows]
    skus: dict[int, str] = {}
    stored: dict[int, str | None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for pk, sku, klass in ctx.session.execute(select(item.id, item.sku, item.abc_class).where(item.id.in_(chunk))):
            skus[pk], stored[pk] = sku, klass
    rows.sort(key=lambda r: (-(r.get(measure) or ZERO), skus.get(r["group"], "")))
    total = sum((r.get(measure) or ZERO for r in rows if (r.get(measure) or ZERO) > 0), ZERO)
    a, ab = thresholds(ctx.session, ctx.registry)
    before = ZERO
    out = []
    for row in rows:
        value = row.get(measure) or ZERO
        share = (value * HUNDRED / total) if total and value > 0 else ZERO
        klass = "A" if value > 0 and before < a else "B" if value > 0 and before < ab else "C"
        before += share
        out.append(
            {
                "item": row["group"],
                "qty": row["qty"],
                "revenue": row["revenue"],
                "cost": row.get("cost"),
                "profit": row.get("profit"),
                "margin": row.get("margin"),
                "share": share.quantize(CENT),
                "cumulative": before.quantize(CENT),
                "abc_class": klass,
                "stored_class": stored.get(row["group"]),
            }
        )
    return out


def last_twelve_months(today: dt.date | None = None) -> str:
    """The twelve whole months before this one, as a period parameter."""
    today = today or business_today()
    return f"{month_start(today, 12).isoformat()}..{(month_start(today) - dt.timedelta(days=1)).isoformat()}"


def _may_classify(access: Any, args: Any) -> bool:
    report = access.registry.meta.reports.get("abc")
    return report is not None and access.may_run(report) and access.can("item", "write")


@job_kind("abc_classify", label=texts_for("report.kind.abc_classify"), allowed=_may_classify, over_api=True)
def abc_classify(ctx: JobContext) -> dict[str, Any]:
    """Run `abc` by sales value as the job's user (over a period, the last twelve whole months by default) and
    write each item's class onto it; items without sales in the period become C. Audited per item.

    By value only: the item's class is declared a sale figure (hidden where selling figures are), which a
    class by margin, revealing cost as well, would not be."""
    from reports.runner import run_report

    by = "value"
    period = str(ctx.args.get("period") or last_twelve_months())
    result = run_report(ctx.session, ctx.access, "abc", {"period": period, "by": by})
    if "abc_class" not in {c.name for c in result.columns}:
        raise Forbidden(t("report.abc_hidden"))
    classes = {row["item"]: row["abc_class"] for row in result.rows}
    item = ctx.access.registry.cls("item")
    current = dict(ctx.session.execute(select(item.id, item.abc_class)).all())
    ctx.total(len(current))
    audit = []
    counts = dict.fromkeys(CLASSES, 0)
    for done, (pk, before) in enumerate(sorted(current.items()), 1):
        klass = classes.get(pk, "C")
        counts[klass] += 1
        if klass != before:
            ctx.session.execute(update(item).where(item.id == pk).values(abc_class=klass))
            audit.append(change_row(ctx.access, "item", pk, "update", {"abc_class": before}, {"abc_class": klass}))
        ctx.progress(done)
    write_audit_rows(ctx.session, audit)
    ctx.session.commit()
    return {"period": period, "by": by, "changed": len(audit), **counts}
