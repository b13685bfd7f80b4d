"""The older accounts, overdue, reorder and scorecard pages and APIs as views of the report runner.

Each runs the report behind it through `run_typed` (who may run it, the columns a role's masks drop, the rows of
its scope: all the runner's) and only reshapes the answer into what those URLs have always given:

- a partner's account (`/accounts/<id>`, `/api/v1/accounts/<id>`): `partner_statement` per side for the balance
  and the statement, `ar_ageing` / `ap_ageing` for the ageing;
- overdue customers (`/accounts/overdue`, `/api/v1/accounts/overdue`): `overdue`;
- reorder suggestions (`/reorder/`, `/api/v1/reorder/suggestions`): `reorder`;
- a supplier's scorecard (`/accounts/<id>`, `/api/v1/accounts/<id>/scorecard`): `supplier_ranking` for the
  rates, `purchase_lines` for the price history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import CellError, Forbidden, ValidationFailed
from app.i18n import t
from app.jobs import submit
from app.services.access.rights import Access
from app.services.money.receivables import PAYABLE, RECEIVABLE, readable_sides, require_side
from app.services.money.reorder import create_purchase_orders
from reports.accounts import COLUMNS
from reports.context import Page
from reports.params import Period, parse_params
from reports.runner import Result, find, run_report, run_typed
from reports.stock import reorder_filters

ALL_TIME = Period(dt.date(1, 1, 1), dt.date(9999, 12, 31))
BUCKETS = ("current", "1_30", "31_60", "61_90", "over_90")  # the ageing's keys in these answers
AGEING = {RECEIVABLE: "ar_ageing", PAYABLE: "ap_ageing"}
REORDER_INLINE = 500  # drafting orders for more suggestions than this is a job (reorder_orders)


def _cells(result: Result, row: dict[str, Any]) -> dict[str, Any]:
    """A row as the report answers it (the columns the reader sees; links as {id, key, name})."""
    return {column.name: result.cell(row, column) for column in result.columns}


def _link(value: Any) -> tuple[Any, Any]:
    """(key, name) of a link cell (empty when the reader may not see the linked row)."""
    return (value["key"], value["name"]) if isinstance(value, dict) else (None, None)


def _ageing(cells: dict[str, Any] | None) -> dict[str, Any]:
    """{current, 1_30, 31_60, 61_90, over_90} from a row of an ageing report (zeros for no row)."""
    return {name: (cells or {}).get(COLUMNS.get(name, name), "0.00") if cells else "0.00" for name in BUCKETS}


def overdue_customers(session: Session, access: Access, today: dt.date) -> list[dict[str, Any]]:
    """Customers past their payment terms, most overdue first, from the `overdue` report: {id, partner (code),
    name, contact, phone, terms_days, ageing, overdue}."""
    result = run_typed(session, access, "overdue", {"date": today})
    out = []
    for row in result.rows:
        cells = _cells(result, row)
        code, name = _link(cells.get("partner"))
        out.append(
            {
                "id": row["partner"],
                "partner": code,
                "name": name,
                "contact": cells.get("contact"),
                "phone": cells.get("phone"),
                "terms_days": cells.get("terms_days"),
                "ageing": _ageing(cells),
                "overdue": cells.get("overdue"),
            }
        )
    return out


def statement(session: Session, access: Access, partner_id: int, side: str) -> tuple[Decimal, list[dict[str, Any]]]:
    """(balance, 对账单) of one side of a partner's account over all time, from `partner_statement`: each
    document {model, number, date, amount, balance[, due_date]} oldest first."""
    require_side(access, side)  # a side the reader may not read is refused as a whole, never shown partial
    result = run_typed(session, access, "partner_statement", {"partner": partner_id, "side": side, "period": ALL_TIME})
    rows = []
    balance = Decimal(0)
    for row in result.rows:
        if row.get("number") is None:
            continue  # the opening line: nothing lies before all time
        cells = _cells(result, row)
        line = {
            "model": row["document_model"],
            "number": row["number"],
            "date": row["date"],
            "amount": cells.get("amount"),
            "balance": cells.get("balance"),
        }
        if row.get("due_date"):
            line["due_date"] = row["due_date"]
        rows.append(line)
        balance = row["balance"]
    return balance, rows


def ageing(session: Session, access: Access, partner_id: int, side: str, today: dt.date) -> dict[str, Any]:
    """One partner's open amount by days past due on one side, from `ar_ageing` / `ap_ageing`."""
    result = run_typed(session, access, AGEING[side], {"partner": partner_id, "date": today})
    found = next((row for row in result.rows if row["partner"] == partner_id), None)
    return _ageing(None if found is None else _cells(result, found))


def partner_account(
    session: Session, access: Access, partner: Any, requested: str | None, today: dt.date
) -> dict[str, Any]:
    """One partner's account as the reader may see it: the balance of each side they may read, and the ageing
    and statement of the requested side (by default the partner's own side). Forbidden when the reader may
    read no side, or asks for one they may not."""
    sides = readable_sides(access)
    default = PAYABLE if partner.kind == "supplier" else RECEIVABLE
    side = requested or (default if default in sides else (sides or [default])[0])
    require_side(access, side)
    balances, statements = {}, {}
    for name in sorted({*sides, side}):
        balances[name], statements[name] = statement(session, access, partner.id, name)
    return {
        "partner": partner.code,
        "side": side,
        **{name: balances[name] for name in sides},
        "ageing": ageing(session, access, partner.id, side, today),
        "statement": statements[side],
    }


def reorder_suggestions(
    session: Session, access: Access, filters: dict[str, str] | None = None, page: Page | None = None
) -> tuple[list[dict[str, Any]], int]:
    """(items below their reorder point, how many there are in all), from the `reorder` report with its filters
    as text (warehouse, supplier, category: business keys) and a page of it: {item (sku), name, supplier (id),
    supplier_name (code and name), on_hand, on_order, reserved, projected, reorder_point, max_stock,
    suggested_qty}."""
    result = run_report(session, access, "reorder", filters, page)
    out = []
    for row in result.rows:
        cells = _cells(result, row)
        sku, name = _link(cells.pop("item", None))
        supplier = cells.pop("supplier", None)
        cells.pop("abc_class", None)
        out.append(
            {
                "item": sku,
                "name": name,
                **cells,
                "supplier": None if supplier is None else supplier["id"],
                "supplier_name": "" if supplier is None else " ".join(_link(supplier)),
            }
        )
    return out, len(result.rows) if result.count is None else result.count


def order_suggestions(
    session: Session, access: Access, warehouse: str | None, items: list[str] | None, filters: dict[str, str]
) -> dict[str, Any]:
    """Draft purchase orders into `warehouse` (None: the filter's warehouse, else the first by code) for the
    items asked (each a current suggestion) or for every suggestion within the reorder report's filters (text,
    as the page and the API take them): at once, or past REORDER_INLINE suggestions as the job `reorder_orders`
    ({"job_id", "suggestions"}; the caller commits)."""
    warehouse = warehouse or filters.get("warehouse") or _first_warehouse(session, access)
    if items is None:
        count = run_report(session, access, "reorder", filters, Page(0, 0)).count or 0
        if count > REORDER_INLINE:
            return {
                "job_id": submit("reorder_orders", {"warehouse": warehouse, "filters": filters}, access),
                "suggestions": count,
            }
    report = find(access, "reorder")
    chosen = reorder_filters(parse_params(session, access, report, dict(filters)))
    return create_purchase_orders(session, access, warehouse, items, chosen)


def _first_warehouse(session: Session, access: Access) -> str:
    """The code of the first warehouse the reader may see; a field error on `warehouse` when there is none
    (a new business that has not set one up, or a reader whose scope holds none)."""
    cls = access.registry.cls("warehouse")
    stmt = select(cls.code).order_by(cls.code).limit(1)
    scope = access.scope(access.registry.model("warehouse"))
    code = session.execute(stmt if scope is None else stmt.where(scope)).scalar()
    if code is None:
        raise ValidationFailed([CellError("warehouse", t("reorder_no_warehouse"))])
    return str(code)


def _fraction(percent: Any) -> str | None:
    """A rate in percent ("33.33") as the scorecard has always answered it, a fraction ("0.3333")."""
    return None if percent is None else str((Decimal(percent) / 100).quantize(Decimal("0.0001")))


def supplier_scorecard(session: Session, access: Access, partner_id: int) -> dict[str, Any]:
    """A supplier's record over all time: {receipt_lines, on_time_rate, rejected_rate, price_history: {sku:
    [{date, price}]}}, rates as fractions, a price per base unit before tax per receipt and item. From
    `supplier_ranking` and `purchase_lines`; Forbidden when the reader may run neither or may not see
    purchase prices (a scorecard without its prices would be another page)."""
    ranking = run_typed(session, access, "supplier_ranking", {"partner": partner_id, "period": ALL_TIME})
    lines = run_typed(session, access, "purchase_lines", {"partner": partner_id, "period": ALL_TIME})
    if not {"amount", "item"} <= {column.name for column in lines.columns}:
        raise Forbidden(t("forbidden"))
    row = next((r for r in ranking.rows if r["partner"] == partner_id), None)
    cells = {} if row is None else _cells(ranking, row)
    history: dict[str, list[dict[str, str]]] = {}
    for line in lines.rows:
        if line["document_model"] != "purchase_receipt" or not line.get("qty"):
            continue
        sku, _ = _link(_cells(lines, line).get("item"))
        price = (Decimal(line["amount"]) / Decimal(line["qty"])).quantize(Decimal("0.0001"))
        history.setdefault(sku, []).append({"date": str(line["date"]), "price": str(price)})
    return {
        "receipt_lines": (row or {}).get("lines", 0),
        "on_time_rate": _fraction(cells.get("on_time_rate")),
        "rejected_rate": _fraction(cells.get("rejected_rate")),
        "price_history": history,
    }
