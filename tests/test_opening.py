"""期初单: opening stock in at its stated cost (both costing methods) and shown as opening in the
inventory summary, never as "other in"; opening receivables and payables as open items that ageing counts
from their due date and payments settle; dated before the first business document."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from decimal import Decimal as D
from typing import Any

from sqlalchemy import func, select

from app.documents.opening_balance import OpeningBalance
from app.extensions import db, registry
from tests.ledger_helpers import (
    balance,
    document,
    ledger_problems,
    new_item,
    new_partner,
    post,
    refusal,
    serials_in_stock,
)

OPENING_DAY = "2001-01-01"  # before any document the suite posts
SALE_DAY = "2026-11-25"
PERIOD = f"{OPENING_DAY}..2026-11-30"


def opening(api: Any, lines: list[dict[str, Any]], **header: Any) -> dict[str, Any]:
    """A draft opening balance dated OPENING_DAY."""
    return document(api, "opening_balance", lines, **{"date": OPENING_DAY, **header})


def submit(api: Any, model: str, doc: dict[str, Any]) -> dict[str, Any]:
    response = api.post(f"/api/v1/{model}/{doc['id']}/submit")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["result"]


def report(api: Any, name: str, **params: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/reports/{name}", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_opening_stock_then_a_sale_agrees_with_the_summary_to_the_cent(app, admin_api):
    """Moving average and FIFO: the opening comes in at qty x cost, the summary shows it as opening (not other
    in), and after a sale the summary's closing value is the balance the ledger holds, to the cent."""
    average, fifo = new_item(admin_api), new_item(admin_api, costing="fifo")
    doc = opening(
        admin_api,
        [
            {"item": average, "qty": "10", "price": "3.3333"},  # 33.33 (not 33.333)
            {"item": fifo, "warehouse": "WH02", "qty": "4", "price": "1.50"},
            {"item": fifo, "qty": "6", "price": "2.25"},
        ],
        warehouse="WH01",  # the default for lines that name none
    )
    assert [line["warehouse"]["key"] for line in doc["lines"]] == ["WH01", "WH02", "WH01"]
    posted = submit(admin_api, "opening_balance", doc)
    assert posted["total_amount"] == "52.83"  # 33.33 + 6.00 + 13.50
    assert balance(app, average) == (Decimal(10), Decimal("33.33"))
    assert balance(app, fifo, "WH02") == (Decimal(4), Decimal("6.00"))
    post(
        admin_api,
        "sales_delivery",
        [{"item": average, "qty": "4", "price": "9"}, {"item": fifo, "qty": "5", "price": "9"}],
        warehouse="WH01",
        date=SALE_DAY,
    )
    for sku, warehouse, opening_qty, opening_value, sold in (
        (average, "WH01", "10", "33.33", "4"),
        (fifo, "WH01", "6", "13.50", "5"),
        (fifo, "WH02", "4", "6.00", "0"),
    ):
        qty, value = balance(app, sku, warehouse)
        (row,) = report(admin_api, "inventory_summary", period=PERIOD, item=sku, warehouse=warehouse)["rows"]
        assert Decimal(row["opening_qty"]) == Decimal(opening_qty)
        assert row["opening_value"] == opening_value
        assert Decimal(row["in_other_qty"]) == 0 and Decimal(row["in_qty"]) == 0
        assert Decimal(row["out_sales_qty"]) == Decimal(sold)
        assert Decimal(row["closing_qty"]) == qty and Decimal(row["closing_value"]) == value
        assert Decimal(row["opening_value"]) - Decimal(row["out_value"]) == value
    assert balance(app, fifo) == (Decimal(1), Decimal("2.25"))  # FIFO: the 5 sold at 2.25 each
    assert balance(app, average)[1] == Decimal("19.998")  # 33.33 - 4 x 3.333 (the average, kept to 4 places)
    assert ledger_problems(app) == []


def test_an_opening_receivable_is_aged_from_its_due_date_and_settled_by_payments(admin_api):
    customer, _ = new_partner(admin_api, "customer", payment_terms_days=30)
    supplier, _ = new_partner(admin_api, "supplier")
    doc = submit(
        admin_api,
        "opening_balance",
        opening(
            admin_api,
            [
                {"partner": customer, "receivable_amount": "500", "due_date": "2026-11-20"},
                {"partner": supplier, "payable_amount": "120.50"},
            ],
        ),
    )
    assert (doc["total_receivable"], doc["total_payable"]) == ("500.00", "120.50")
    (row,) = report(admin_api, "ar_ageing", partner=customer, date="2026-11-30")["rows"]
    assert (row["d1_30"], row["total"]) == ("500.00", "500.00")  # 10 days past its own due date
    (row,) = report(admin_api, "ap_ageing", partner=supplier, date="2026-11-30")["rows"]
    assert row["over_90"] == "120.50"  # no due date: the opening date plus the terms (0)
    statement = report(admin_api, "partner_statement", partner=customer, period=PERIOD)["rows"]
    assert [(r["number"], r["balance"]) for r in statement[1:]] == [(doc["number"], "500.00")]

    def receipt(amount: str) -> dict[str, Any]:
        lines = [{"source_model": "opening_balance", "source_number": doc["number"], "allocated_amount": amount}]
        return document(
            admin_api, "payment", lines, direction="receipt", partner=customer, account="A001", amount=amount
        )

    assert "500.00" in refusal(admin_api, "payment", receipt("700"))["lines.0.allocated_amount"]  # over what is open
    first = submit(admin_api, "payment", receipt("200"))
    assert "300.00" in refusal(admin_api, "payment", receipt("301"))["lines.0.allocated_amount"]
    (row,) = report(admin_api, "ar_ageing", partner=customer, date="2026-11-30")["rows"]
    assert row["total"] == "300.00"
    assert first["number"] in refusal(admin_api, "opening_balance", doc, "cancel")["_record"]  # settled: not cancelled
    submit(admin_api, "payment", receipt("300"))
    assert report(admin_api, "ar_ageing", partner=customer, date="2026-11-30")["rows"] == []
    other, _ = new_partner(admin_api, "customer")  # an opening item of another customer is not theirs to settle
    stranger = document(
        admin_api,
        "payment",
        [{"source_model": "opening_balance", "source_number": doc["number"], "allocated_amount": "1"}],
        direction="receipt",
        partner=other,
        account="A001",
        amount="1",
    )
    assert doc["number"] in refusal(admin_api, "payment", stranger)["lines.0.source_number"]


def test_an_opening_balance_is_refused_after_trading_began_and_per_cell(admin_api):
    sku = new_item(admin_api)
    supplier, _ = new_partner(admin_api, "supplier")
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "1", "price": "1"}], warehouse="WH01", date=SALE_DAY)
    late = opening(admin_api, [{"item": sku, "warehouse": "WH01", "qty": "1", "price": "1"}], date=SALE_DAY)
    errors = refusal(admin_api, "opening_balance", late)
    assert "期初单的日期须早于第一张业务单据" in errors["date"]
    bad = opening(
        admin_api,
        [
            {"item": sku, "qty": "2"},  # no warehouse, no cost
            {"item": sku, "warehouse": "WH01", "qty": "1", "price": "1", "partner": supplier},
            {"partner": supplier, "receivable_amount": "10"},  # a supplier owes nothing
            {"partner": supplier},
        ],
    )
    errors = refusal(admin_api, "opening_balance", bad)
    assert set(errors) == {
        "lines.0.warehouse",
        "lines.0.price",
        "lines.1.partner",
        "lines.2.receivable_amount",
        "lines.3.receivable_amount",
    }
    assert supplier in errors["lines.2.receivable_amount"]


def test_an_opening_of_hundreds_of_lines_posts_in_chunks_and_agrees_with_the_ledger(app, admin_api, monkeypatch):
    """300 lines posted 64 at a time (OpeningBalance.line_chunk; 5,000 in use): moving average and FIFO items in two
    warehouses, batches, serials and partner lines; each stock's balance is its lines' quantity and amounts to the
    cent, one move a stock line, FIFO layers in line order, the partner lines open items."""
    monkeypatch.setattr(OpeningBalance, "line_chunk", 64)
    plain = [new_item(admin_api) for _ in range(9)]
    fifo = [new_item(admin_api, costing="fifo") for _ in range(9)]
    batched, serial = new_item(admin_api, track_batch=True), new_item(admin_api, track_serial=True)
    customer, _ = new_partner(admin_api, "customer")
    supplier, _ = new_partner(admin_api, "supplier")
    lines: list[dict[str, Any]] = []
    expected: dict[tuple[str, str, str], tuple[D, D]] = {}
    for k in range(288):
        sku, warehouse = (plain + fifo)[k % 18], ("WH01", "WH02")[(k // 18) % 2]
        qty, price = D(k % 5 + 1) + D("0.5") * (k % 2), D("3.3333") + k % 7  # amounts rounded to the cent
        lines.append({"item": sku, "warehouse": warehouse, "qty": str(qty), "price": str(price)})
        add(expected, (sku, warehouse, ""), qty, price)
    for k in range(6):
        batch, warehouse = f"B{k % 3}", ("WH01", "WH02")[k % 2]
        lines.append({"item": batched, "warehouse": warehouse, "batch": batch, "qty": "2", "price": "1.1111"})
        add(expected, (batched, warehouse, batch), D(2), D("1.1111"))
    lines.append({"item": serial, "warehouse": "WH01", "qty": "2", "price": "5", "serials": f"{serial}-1\n{serial}-2"})
    add(expected, (serial, "WH01", ""), D(2), D(5))
    lines += [
        {"partner": customer, "receivable_amount": "100.10", "due_date": "2026-11-20"},
        {"partner": customer, "receivable_amount": "0.20", "due_date": "2026-11-20"},
        {"partner": supplier, "payable_amount": "70.05"},
    ]
    posted = submit(admin_api, "opening_balance", opening(admin_api, lines, warehouse="WH01"))
    assert posted["total_amount"] == str(sum((value for _, value in expected.values()), D(0)))
    assert (posted["total_receivable"], posted["total_payable"]) == ("100.30", "70.05")
    for (sku, warehouse, batch), held in expected.items():
        assert balance(app, sku, warehouse, batch or None) == held, (sku, warehouse, batch)
    with app.app_context():
        move = registry().cls("stock_move")
        moved = db.session.scalar(select(func.count()).where(move.document_number == posted["number"]))
        db.session.rollback()
    assert moved == 295  # one a stock line, none for the partner lines
    assert serials_in_stock(app, serial) == {f"{serial}-1", f"{serial}-2"}
    (row,) = report(admin_api, "ar_ageing", partner=customer, date="2026-11-30")["rows"]
    assert row["total"] == "100.30"
    # FIFO: a sale of the first line's quantity takes its layer, at its amount (line 10: 5.5 x 5.3333 = 29.33), not
    # the average of the item's eight lines in WH01
    first = fifo[0]
    before = balance(app, first)
    post(admin_api, "sales_delivery", [{"item": first, "qty": "5.5", "price": "9"}], warehouse="WH01", date=SALE_DAY)
    assert balance(app, first) == (before[0] - D("5.5"), before[1] - D("29.33"))
    assert ledger_problems(app) == []


def test_bad_cells_of_an_opening_in_chunks_are_named_by_their_line(app, admin_api, monkeypatch):
    """Every chunk is checked before a refusal, each bad cell named by its place in the document; nothing posts."""
    monkeypatch.setattr(OpeningBalance, "line_chunk", 2)
    plain, batched = new_item(admin_api), new_item(admin_api, track_batch=True)
    lines = [{"item": batched, "qty": "1", "price": "1"}] + [{"item": plain, "qty": "1", "price": "2"}] * 3
    lines.append({"item": batched, "qty": "2", "price": "1"})
    errors = refusal(admin_api, "opening_balance", opening(admin_api, lines, warehouse="WH01"))
    assert sorted(errors) == ["lines.0.batch", "lines.4.batch"]
    assert balance(app, plain) == (D(0), D(0))


def add(expected: dict[tuple[str, str, str], tuple[D, D]], key: tuple[str, str, str], qty: D, price: D) -> None:
    """A stock line's quantity and amount (qty x unit cost, to the cent) added to what its stock should hold."""
    held = expected.get(key, (D(0), D(0)))
    expected[key] = (held[0] + qty, held[1] + (qty * price).quantize(D("0.01"), rounding=ROUND_HALF_UP))
