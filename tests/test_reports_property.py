"""A property over random streams of documents (both costing methods, sales and their returns, returns to the
supplier, transfers, other outs, stocktakes, cancels, money in and out, other income and expense, transfers
between accounts, money documents backdated): the summing reports agree exactly with the documents and the
ledger, the inventory summary closes at the stock balance, the income statement's figures are the documents'
and the ledger's sums, and equity's change over the period is its profit.

Each example has a month of its own (no other test dates anything after 2034), so the income statement and
the balance sheet's change over the month are this stream's alone. PROPERTY_EXAMPLES=30 runs more examples
than the suite's 4 (about 3 s each)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections import defaultdict
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db, registry
from tests.conftest import unique
from tests.ledger_helpers import balance, new_item, post

pytestmark = pytest.mark.slow  # run early: see tests/conftest.py

MONTHS = itertools.count()  # the examples' months: 2035-01, 2035-02, ...
OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "receive",
                "deliver",
                "return",
                "return_out",
                "transfer",
                "other_out",
                "count",
                "income",
                "expense",
                "move_money",
                "collect",
                "pay",
                "cancel",
            ]
        ),
        st.integers(min_value=1, max_value=5),
        st.sampled_from(["3", "4.5", "7.25"]),
    ),
    min_size=3,
    max_size=5,
)
ZERO = D(0)


def _report(api: Any, name: str, **params: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/reports/{name}", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _money(api: Any, model: str, **body: Any) -> dict[str, Any]:
    made = api.post(f"/api/v1/{model}/", json=body)
    assert made.status_code == 201, made.get_json()
    posted = api.post(f"/api/v1/{model}/{made.get_json()['result']['id']}/submit")
    assert posted.status_code == 200, posted.get_json()
    return posted.get_json()["result"]


def _ledger(app: Any, sku: str) -> dict[str, D]:
    """The item's ledger entries summed by the document that posted them."""
    with app.app_context():
        reg = registry()
        move, item = reg.cls("stock_move"), reg.cls("item")
        rows = db.session.execute(
            select(move.document_model, func.sum(move.value))
            .join(item, item.id == move.item_id)
            .where(item.sku == sku)
            .group_by(move.document_model)
        ).all()
        db.session.rollback()
    return defaultdict(lambda: ZERO, {model: D(value) for model, value in rows})


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "4")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=OPS, fifo=st.booleans(), backdate=st.booleans())
def test_reports_agree_with_documents_and_ledger(app, admin_api, ops, fifo, backdate):
    api = admin_api
    index = next(MONTHS)
    month = f"{2035 + index // 12}-{index % 12 + 1:02d}"
    period = f"{month}-01..{month}-28"
    before = (dt.date.fromisoformat(f"{month}-01") - dt.timedelta(days=1)).isoformat()  # the balance sheet's start
    sku = new_item(api, costing="fifo" if fifo else "moving_average")
    accounts = [unique("PA"), unique("PB")]
    for code in accounts:
        assert (
            api.post("/api/v1/account/", json={"code": code, "name": code, "opening_balance": "100"}).status_code == 201
        )
    post(api, "purchase_receipt", [{"item": sku, "qty": "6", "price": "5"}], warehouse="WH01", date=f"{month}-01")
    # what the stream did so far, by the documents: each posted document's share, undone when it is cancelled
    done: dict[str, D] = defaultdict(lambda: ZERO)
    last: tuple[str, dict[str, Any], dict[str, D]] | None = None
    for day, (op, qty, price) in enumerate(ops, start=2):
        date = f"{month}-{day:02d}"
        n, stock = D(qty), done["stock"] + 6
        money_date = f"{month}-01" if backdate else date  # money documents may be dated before anything
        effect: dict[str, D] | None = None
        model, doc = "", {}
        line = [{"item": sku, "qty": qty, "price": price}]
        if op == "receive":
            model, doc = "purchase_receipt", post(api, "purchase_receipt", line, warehouse="WH01", date=date)
            effect = {"stock": n}
        elif op == "deliver" and n <= stock:
            model, doc = "sales_delivery", post(api, "sales_delivery", line, warehouse="WH01", date=date)
            effect = {"stock": -n, "sold": n, "revenue": D(doc["total_amount"])}
        elif op == "return" and n <= done["sold"]:
            model, doc = "sales_return", post(api, "sales_return", line, warehouse="WH01", date=date)
            effect = {"stock": n, "sold": -n, "revenue": -D(doc["total_amount"])}
        elif op == "return_out" and n <= stock:
            model, doc = "purchase_return", post(api, "purchase_return", line, warehouse="WH01", date=date)
            effect = {"stock": -n, "returned_out": D(doc["total_amount"])}
        elif op == "transfer" and n <= stock:
            lines = [{"item": sku, "qty": qty}]
            model = "stock_transfer"
            doc = post(api, model, lines, from_warehouse="WH01", to_warehouse="WH02", date=date)
            effect = {"stock": -n}
        elif op == "other_out" and n <= stock:
            lines = [{"item": sku, "qty": qty}]
            model = "stock_adjustment"
            doc = post(api, model, lines, direction="out", warehouse="WH01", reason="damage", date=date)
            effect = {"stock": -n}
        elif op == "count":
            counted = max(stock + qty - 3, ZERO)  # -2 .. +2 against the book
            model = "stocktake"
            line = {"item": sku, "counted_qty": str(counted), "reason": "miscount"}
            doc = post(api, model, [line], warehouse="WH01", date=date)
            effect = {"stock": counted - stock}
        elif op in ("income", "expense"):
            model = "other_income_expense"
            body = {"direction": op, "category": "other", "account": accounts[qty % 2], "amount": price}
            doc = _money(api, model, date=money_date, tax_rate=str(qty * 3), **body)
            sign = 1 if op == "income" else -1
            effect = {op: D(doc["net_amount"]), f"cash:{accounts[qty % 2]}": sign * D(price)}
        elif op == "move_money":
            model = "account_transfer"
            source, target = accounts[qty % 2], accounts[1 - qty % 2]
            doc = _money(api, model, date=money_date, from_account=source, to_account=target, amount=price)
            effect = {f"cash:{source}": -D(price), f"cash:{target}": D(price)}
        elif op in ("collect", "pay"):
            model, direction, partner = "payment", "receipt" if op == "collect" else "payment", "K001"
            partner = "K001" if op == "collect" else "S001"
            body = {"direction": direction, "partner": partner, "account": accounts[qty % 2], "amount": price}
            doc = _money(api, model, date=money_date, **body)
            effect = {f"cash:{accounts[qty % 2]}": D(price) if op == "collect" else -D(price)}
        elif op == "cancel" and last is not None:
            model, doc, undone = last
            if api.post(f"/api/v1/{model}/{doc['id']}/cancel").status_code == 200:
                for key, value in undone.items():
                    done[key] -= value
            last = None  # refused when the stock (FIFO layer) it brought has gone: then nothing changed
        if effect is not None:
            for key, value in effect.items():
                done[key] += value
            last = (model, doc, effect)

    summary = _report(api, "inventory_summary", period=period, item=sku)
    for row in summary["rows"]:
        warehouse = row["warehouse"]["key"]
        assert D(row["opening_qty"]) + D(row["in_qty"]) - D(row["out_qty"]) == D(row["closing_qty"])
        assert D(row["opening_value"]) + D(row["in_value"]) - D(row["out_value"]) == D(row["closing_value"])
        assert (D(row["closing_qty"]), D(row["closing_value"])) == balance(app, sku, warehouse)
        kinds_in = sum(D(row[f"in_{k}_qty"]) for k in ("purchase", "return", "transfer", "gain", "other"))
        assert kinds_in == D(row["in_qty"])
    assert balance(app, sku, "WH01")[0] == done["stock"] + 6
    as_of = _report(api, "stock_as_of", date=f"{month}-28", item=sku)
    assert D(as_of["totals"]["value"]) == D(summary["totals"]["closing_value"])
    sales = _report(api, "sales_analysis", period=period, by="item", item=sku)
    assert D(sales["totals"]["amount"]) == done["revenue"]
    ledger = _ledger(app, sku)
    sales_values = ledger["sales_delivery"] + ledger["sales_return"]
    profit = _report(api, "gross_profit", period=period, by="item", item=sku)
    assert D(profit["totals"]["cost"]) == -sales_values
    assert D(profit["totals"]["profit"]) == done["revenue"] + sales_values

    # the income statement: the documents' and the ledger's sums (the month is this stream's alone)
    statement = _report(api, "income_statement", period=period)["totals"]
    figures = {name: D(value) for name, value in statement.items() if name != "gross_margin"}
    assert figures["revenue"] == done["revenue"]
    assert figures["cogs"] == -sales_values
    assert figures["gross_profit"] == done["revenue"] + sales_values
    assert figures["stocktake_gain"] - figures["stocktake_loss"] == ledger["stocktake"]
    assert figures["stocktake_gain"] >= 0 and figures["stocktake_loss"] >= 0
    assert figures["other_stock"] == ledger["stock_adjustment"]
    assert figures["return_difference"] == done["returned_out"] + ledger["purchase_return"]
    assert (figures["other_income"], figures["other_expense"]) == (done["income"], done["expense"])
    parts = ("gross_profit", "stocktake_gain", "other_stock", "return_difference", "other_income")
    made = sum((figures[name] for name in parts), ZERO) - figures["stocktake_loss"] - figures["other_expense"]
    assert figures["profit"] == made

    # the balance sheet: cash moved as the money documents say, and equity by exactly the profit
    sheet = _report(api, "balance_sheet", date=f"{month}-28", compare=before)["rows"]
    start, end = ({k: D(v) for k, v in row.items() if k != "date"} for row in sheet)
    cash_moved = sum((value for key, value in done.items() if key.startswith("cash:")), ZERO)
    assert end["cash"] - start["cash"] == cash_moved
    assert end["equity"] - start["equity"] == figures["profit"]
    assert end["inventory"] - start["inventory"] == sum(ledger.values(), ZERO)
    balances = {row["code"]: D(row["balance"]) for row in api.get("/api/v1/cash/").get_json()["result"]}
    for code in accounts:
        assert balances[code] == 100 + done[f"cash:{code}"]
