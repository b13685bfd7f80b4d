"""A stocktake posts its lines in chunks (Stocktake.line_chunk, 5,000; 2 here), in item order: the ledger, the
lines' costs and the header's totals come out as one pass would make them, bad cells are named by their place in
the whole document (every chunk checked), and a whole-warehouse count still zeroes what no line counts."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from app.documents.stocktake import Stocktake
from tests.ledger_helpers import balance, document, ledger_problems, new_item, post, receive, refusal


@pytest.fixture
def chunks_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Stocktake, "line_chunk", 2)


def test_a_stocktake_in_chunks_posts_every_line_and_its_totals(app, admin_api, chunks_of_two):
    fifo, plain, third = new_item(admin_api, costing="fifo"), new_item(admin_api), new_item(admin_api)
    for sku, price in ((fifo, "2"), (plain, "3"), (third, "5")):
        receive(admin_api, sku, "10", price)
    receive(admin_api, fifo, "10", "4")  # two FIFO layers: a loss takes the oldest first
    counts = [(fifo, "15"), (plain, "12"), (third, "10"), (plain, "9"), (third, "4")]
    take = document(
        admin_api,
        "stocktake",
        [{"item": sku, "counted_qty": qty, "reason": "miscount"} for sku, qty in counts],
        warehouse="WH01",
    )
    posted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert posted.status_code == 200, posted.get_json()
    result = posted.get_json()["result"]
    # every line against its book at the snapshot; lines go in item order, an item's lines in one chunk
    assert [(line["diff_qty"], line["amount"]) for line in result["lines"]] == [
        ("-5", "-10.00"),
        ("2", "6.00"),
        ("0", None),
        ("-1", "-3.00"),
        ("-6", "-30.00"),
    ]
    assert (result["total_diff_qty"], result["total_amount"]) == ("-10", "-37.00")
    assert balance(app, fifo) == (D(15), D(50))  # 5 of the 2.00 layer gone, 5 at 2 and 10 at 4 left
    assert balance(app, plain) == (D(11), D(33))
    assert balance(app, third) == (D(4), D(20))
    assert ledger_problems(app) == []


def test_bad_cells_in_several_chunks_are_named_by_their_line_and_nothing_posts(app, admin_api, chunks_of_two):
    plain, batched = new_item(admin_api), new_item(admin_api, track_batch=True)  # taken in item order: 2 chunks
    receive(admin_api, plain, "10", "3")
    lines = [{"item": batched, "counted_qty": "1"}] + [{"item": plain, "counted_qty": "10"}] * 3
    lines.append({"item": batched, "counted_qty": "2"})
    take = document(admin_api, "stocktake", lines, warehouse="WH01")
    found = refusal(admin_api, "stocktake", take)
    assert sorted(found) == ["lines.0.batch", "lines.4.batch"]
    assert admin_api.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]["status"] == "draft"
    assert balance(app, plain) == (D(10), D(30))


def test_a_whole_warehouse_count_in_chunks_zeroes_the_uncounted_stock(app, admin_api, chunks_of_two):
    code = f"W{new_item(admin_api)[-6:]}"
    made = admin_api.post("/api/v1/warehouse/", json={"code": code, "name": f"盘点仓 {code}"})
    assert made.status_code == 201, made.get_json()
    skus = [new_item(admin_api) for _ in range(4)]
    for sku in skus:
        receive(admin_api, sku, "6", "2", warehouse=code)
    listed = [
        {"item": skus[0], "counted_qty": "5", "reason": "damage"},
        {"item": skus[1]},
    ]  # the second listed, not counted
    take = document(admin_api, "stocktake", listed, warehouse=code, scope="whole")
    posted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert posted.status_code == 200, posted.get_json()
    result = posted.get_json()["result"]
    assert len(result["lines"]) == 4 and result["total_diff_qty"] == "-19"
    assert [balance(app, sku, code) for sku in skus] == [(D(5), D(10))] + [(D(0), D(0))] * 3
    assert ledger_problems(app) == []


@pytest.mark.parametrize("chunk", [None, 2])
def test_a_serial_counted_on_two_lines_is_refused_as_in_one_pass(app, admin_api, monkeypatch, chunk):
    """An item's lines are never split between chunks: the second count of a serial is caught by the same check
    whether the stocktake posts at once or in chunks (here its two lines would straddle a cut after two lines)."""
    monkeypatch.setattr(Stocktake, "line_chunk", chunk)
    plain, serial = new_item(admin_api), new_item(admin_api, track_serial=True)
    receive(admin_api, plain, "1", "3")
    first, second = f"SN-{serial}-1", f"SN-{serial}-2"
    line = {"item": serial, "qty": "2", "price": "9", "serials": f"{first}\n{second}"}
    post(admin_api, "purchase_receipt", [line], warehouse="WH01")
    counts = [{"item": plain, "counted_qty": "1"}]
    counts += [{"item": serial, "counted_qty": "1", "serials": first, "reason": "miscount"}] * 2
    take = document(admin_api, "stocktake", counts, warehouse="WH01")
    found = refusal(admin_api, "stocktake", take)
    assert first in found.get("lines.2.serials", ""), found
    assert balance(app, serial) == (D(2), D(18))
    assert ledger_problems(app) == []


def test_a_cancelled_stocktake_gives_back_every_move_without_reading_its_lines(app, admin_api, chunks_of_two):
    from sqlalchemy import event

    from app.extensions import db

    fifo, plain = new_item(admin_api, costing="fifo"), new_item(admin_api)
    receive(admin_api, fifo, "10", "2")
    receive(admin_api, plain, "10", "3")
    counts = [(fifo, "7"), (plain, "12"), (plain, "1")]
    take = document(
        admin_api,
        "stocktake",
        [{"item": sku, "counted_qty": qty, "reason": "miscount"} for sku, qty in counts],
        warehouse="WH01",
    )
    assert admin_api.post(f"/api/v1/stocktake/{take['id']}/submit").status_code == 200
    assert balance(app, fifo) == (D(7), D(14))
    sent: list[str] = []

    def seen(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        sent.append(statement)

    with app.app_context():
        engine = db.engine

    def committed(_conn):  # type: ignore[no-untyped-def]
        sent.append("<commit>")

    event.listen(engine, "before_cursor_execute", seen)
    event.listen(engine, "commit", committed)
    try:
        cancelled = admin_api.post(f"/api/v1/stocktake/{take['id']}/cancel")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
        event.remove(engine, "commit", committed)
    assert cancelled.status_code == 200, cancelled.get_json()
    cancelling = sent[: sent.index("<commit>")]
    assert [sql for sql in cancelling if "stock_move" in sql]  # what the cancel sent before its commit
    assert not [sql for sql in cancelling if "FROM stocktake_line" in sql]  # the answer reads them after the commit
    assert balance(app, fifo) == (D(10), D(20))
    assert balance(app, plain) == (D(10), D(30))
    assert ledger_problems(app) == []
