"""A property over random streams of documents (both costing methods, sales and their returns, transfers,
other outs, cancels): the summing reports agree exactly with the documents and the ledger, and the inventory
summary closes at the stock balance."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ledger_helpers import balance, new_item, post

pytestmark = pytest.mark.slow  # run early: see tests/conftest.py

PERIOD = "2026-11-01..2026-11-30"
# what cancelling a document does to the stream's WH01 stock and to the quantity sold (per unit of its line)
CANCELLED = {
    "purchase_receipt": (-1, 0),
    "sales_delivery": (1, -1),
    "sales_return": (-1, 1),
    "stock_transfer": (1, 0),
    "stock_adjustment": (1, 0),
}
OPS = st.lists(
    st.tuples(
        st.sampled_from(["receive", "deliver", "return", "transfer", "other_out", "cancel"]),
        st.integers(min_value=1, max_value=5),
        st.sampled_from(["3", "4.5", "7.25"]),
    ),
    min_size=2,
    max_size=4,
)


def _report(api: Any, name: str, **params: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/reports/{name}", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, fifo=st.booleans())
def test_reports_agree_with_documents_and_ledger(app, admin_api, ops, fifo):
    api = admin_api
    sku = new_item(api, costing="fifo" if fifo else "moving_average")
    post(api, "purchase_receipt", [{"item": sku, "qty": "6", "price": "5"}], warehouse="WH01", date="2026-10-28")
    stock, sold, revenue = D(6), D(0), D(0)
    last: tuple[str, dict[str, Any], D] | None = None
    for day, (op, qty, price) in enumerate(ops, start=1):
        date = f"2026-11-{day:02d}"
        n = D(qty)
        if op == "receive":
            lines = [{"item": sku, "qty": qty, "price": price}]
            last = ("purchase_receipt", post(api, "purchase_receipt", lines, warehouse="WH01", date=date), n)
            stock += n
        elif op == "deliver" and n <= stock:
            doc = post(api, "sales_delivery", [{"item": sku, "qty": qty, "price": price}], warehouse="WH01", date=date)
            last = ("sales_delivery", doc, n)
            stock, sold, revenue = stock - n, sold + n, revenue + D(doc["total_amount"])
        elif op == "return" and n <= sold:
            doc = post(api, "sales_return", [{"item": sku, "qty": qty, "price": price}], warehouse="WH01", date=date)
            last = ("sales_return", doc, n)
            stock, sold, revenue = stock + n, sold - n, revenue - D(doc["total_amount"])
        elif op == "transfer" and n <= stock:
            lines = [{"item": sku, "qty": qty}]
            doc = post(api, "stock_transfer", lines, from_warehouse="WH01", to_warehouse="WH02", date=date)
            last = ("stock_transfer", doc, n)
            stock -= n
        elif op == "other_out" and n <= stock:
            lines = [{"item": sku, "qty": qty}]
            doc = post(api, "stock_adjustment", lines, direction="out", warehouse="WH01", reason="damage", date=date)
            last = ("stock_adjustment", doc, n)
            stock -= n
        elif op == "cancel" and last is not None:
            model, doc, n = last
            if api.post(f"/api/v1/{model}/{doc['id']}/cancel").status_code == 200:
                # what the document did to WH01's stock and to what was sold, undone
                stock_sign, sold_sign = CANCELLED[model]
                stock, sold = stock + stock_sign * n, sold + sold_sign * n
                revenue -= -sold_sign * D(doc["total_amount"]) if sold_sign else 0
            last = None  # refused when the stock it brought has gone: then nothing changed

    summary = _report(api, "inventory_summary", period=PERIOD, item=sku)
    for row in summary["rows"]:
        warehouse = row["warehouse"]["key"]
        assert D(row["opening_qty"]) + D(row["in_qty"]) - D(row["out_qty"]) == D(row["closing_qty"])
        assert D(row["opening_value"]) + D(row["in_value"]) - D(row["out_value"]) == D(row["closing_value"])
        assert (D(row["closing_qty"]), D(row["closing_value"])) == balance(app, sku, warehouse)
        kinds_in = sum(D(row[f"in_{k}_qty"]) for k in ("purchase", "return", "transfer", "gain", "other"))
        assert kinds_in == D(row["in_qty"])
    as_of = _report(api, "stock_as_of", date="2026-11-30", item=sku)
    assert D(as_of["totals"]["value"]) == D(summary["totals"]["closing_value"])
    sales = _report(api, "sales_analysis", period=PERIOD, by="item", item=sku)
    assert D(sales["totals"]["amount"]) == revenue
    profit = _report(api, "gross_profit", period=PERIOD, by="item", item=sku)
    ledger = _report(api, "stock_ledger", period=PERIOD, item=sku)["rows"]
    sales_values = [D(r["value"]) for r in ledger if r["document_type"] in ("销售出库单", "销售退货单")]
    assert D(profit["totals"]["cost"]) == -sum(sales_values, D(0))
    assert D(profit["totals"]["profit"]) == revenue + sum(sales_values, D(0))
