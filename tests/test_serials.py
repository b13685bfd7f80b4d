"""Serial numbers (序列号) through the API: one distinct serial per unit, registered where goods come in,
taken from where they leave, moved by transfers, counted by stocktakes, given back exactly by cancels;
every refusal names the serials. The ledger check verifies serials in stock equal the balance."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D
from threading import Barrier

import pytest
from sqlalchemy import select

from app.ledger.checks import SerialRow, SerialStepRow, check_serials
from app.ledger.serials import parse
from tests.conftest import Api, csrf_from, unique
from tests.ledger_helpers import balance, document, ledger_problems, new_item, post, refusal, serials_in_stock

WH = {"warehouse": "WH01"}


def sns(count):
    prefix = unique("SN")
    return [f"{prefix}-{i}" for i in range(1, count + 1)]


def receive(api, sku, serials, price="100", warehouse="WH01", **line):
    values = {"item": sku, "qty": str(len(serials)), "price": price, "serials": "\n".join(serials), **line}
    return post(api, "purchase_receipt", [values], warehouse=warehouse)


def deliver(api, sku, serials, warehouse="WH01", **header):
    line = {"item": sku, "qty": str(len(serials)), "price": "150", "serials": ", ".join(serials)}
    return post(api, "sales_delivery", [line], warehouse=warehouse, **header)


def test_serials_are_parsed_from_lines_or_commas_and_trimmed():
    assert parse(" A1 \n\nA2,A3 ， A4；A5\r\n\tA6 ") == ["A1", "A2", "A3", "A4", "A5", "A6"]
    assert parse(None) == [] and parse("  ") == []


def test_lines_must_carry_one_distinct_serial_per_unit(app, admin_api):
    sku = new_item(admin_api, track_serial=True)
    a, b, c = sns(3)
    bad = [
        {"item": sku, "qty": "2", "price": "1"},  # none given
        {"item": sku, "qty": "2", "price": "1", "serials": a},  # one for two units
        {"item": sku, "qty": "2", "price": "1", "serials": f"{b}\n{b}"},  # the same one twice
        {"item": sku, "qty": "1.5", "price": "1", "serials": c},  # half a unit
        {"item": sku, "qty": "1", "price": "1", "serials": "X" * 101},  # too long
        {"item": sku, "qty": "1", "price": "1", "serials": a},  # already on line 2
    ]
    doc = document(admin_api, "purchase_receipt", bad, **WH)
    errors = refusal(admin_api, "purchase_receipt", doc)
    assert set(errors) == {
        "lines.0.serials",
        "lines.1.serials",
        "lines.2.serials",
        "lines.3.qty",
        "lines.4.serials",
        "lines.5.serials",
    }
    assert "2" in errors["lines.0.serials"] and "0" in errors["lines.0.serials"]
    assert b in errors["lines.2.serials"]
    assert "整数" in errors["lines.3.qty"]
    assert a in errors["lines.5.serials"] and "第 2 行" in errors["lines.5.serials"]
    assert serials_in_stock(app, sku) == set() and balance(app, sku) == (D(0), D(0))


def test_receipt_registers_and_delivery_takes_serials_named_in_every_refusal(app, admin_api):
    sku = new_item(admin_api, track_serial=True)
    a, b, c, d = sns(4)
    receipt = receive(admin_api, sku, [a, b, c])
    assert serials_in_stock(app, sku) == {a, b, c} and balance(app, sku) == (D(3), D(300))

    again = document(
        admin_api, "purchase_receipt", [{"item": sku, "qty": "2", "price": "1", "serials": f"{d}\n{b}"}], **WH
    )
    errors = refusal(admin_api, "purchase_receipt", again)
    assert b in errors["lines.0.serials"] and "WH01" in errors["lines.0.serials"] and d not in errors["lines.0.serials"]
    elsewhere = document(
        admin_api, "purchase_receipt", [{"item": sku, "qty": "1", "price": "1", "serials": a}], warehouse="WH02"
    )
    assert a in refusal(admin_api, "purchase_receipt", elsewhere)["lines.0.serials"]  # in stock anywhere

    wrong = document(
        admin_api, "sales_delivery", [{"item": sku, "qty": "2", "price": "1", "serials": f"{a}, {d}"}], **WH
    )
    message = refusal(admin_api, "sales_delivery", wrong)["lines.0.serials"]
    assert d in message and a not in message and "WH01" in message
    not_there = document(
        admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "1", "serials": a}], warehouse="WH02"
    )
    assert a in refusal(admin_api, "sales_delivery", not_there)["lines.0.serials"]

    delivered = deliver(admin_api, sku, [b])
    assert serials_in_stock(app, sku) == {a, c} and balance(app, sku) == (D(2), D(200))
    twice = document(admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "1", "serials": b}], **WH)
    assert b in refusal(admin_api, "sales_delivery", twice)["lines.0.serials"]

    errors = refusal(admin_api, "purchase_receipt", receipt, "cancel")  # b has left: cannot take it back
    assert any(b in message for message in errors.values())
    assert admin_api.post(f"/api/v1/sales_delivery/{delivered['id']}/cancel").status_code == 200
    assert serials_in_stock(app, sku) == {a, b, c}
    assert admin_api.post(f"/api/v1/purchase_receipt/{receipt['id']}/cancel").status_code == 200
    assert serials_in_stock(app, sku) == set() and balance(app, sku) == (D(0), D(0))
    receive(admin_api, sku, [a])  # a cancelled receipt's serials may come in again
    assert serials_in_stock(app, sku) == {a}
    assert ledger_problems(app) == []


def test_transfer_moves_serials_and_cancel_moves_them_back(app, admin_api):
    sku = new_item(admin_api, track_serial=True)
    a, b, c = sns(3)
    receive(admin_api, sku, [a, b, c])
    line = {"item": sku, "qty": "2", "serials": f"{a}\n{c}"}
    moved = post(admin_api, "stock_transfer", [line], from_warehouse="WH01", to_warehouse="WH02")
    assert serials_in_stock(app, sku) == {b} and serials_in_stock(app, sku, "WH02") == {a, c}
    back = document(
        admin_api,
        "stock_transfer",
        [{"item": sku, "qty": "1", "serials": b}],
        from_warehouse="WH02",
        to_warehouse="WH01",
    )
    errors = refusal(admin_api, "stock_transfer", back)
    assert list(errors) == ["lines.0.serials"] and b in errors["lines.0.serials"]  # one message, not one per leg
    sold = deliver(admin_api, sku, [a], warehouse="WH02")
    assert any(a in m for m in refusal(admin_api, "stock_transfer", moved, "cancel").values())
    assert admin_api.post(f"/api/v1/sales_delivery/{sold['id']}/cancel").status_code == 200
    assert admin_api.post(f"/api/v1/stock_transfer/{moved['id']}/cancel").status_code == 200
    assert serials_in_stock(app, sku) == {a, b, c} and serials_in_stock(app, sku, "WH02") == set()
    assert ledger_problems(app) == []


def test_returns_and_adjustments_move_serials(app, admin_api):
    sku = new_item(admin_api, track_serial=True)
    a, b, c, d = sns(4)
    receipt = receive(admin_api, sku, [a, b, c])
    sold = deliver(admin_api, sku, [a, b])
    line = {"item": sku, "qty": "1", "price": "150", "serials": a}
    returned = post(admin_api, "sales_return", [line], source_number=sold["number"], **WH)
    assert serials_in_stock(app, sku) == {a, c}
    again = document(admin_api, "sales_return", [line], **WH)
    assert a in refusal(admin_api, "sales_return", again)["lines.0.serials"]  # already back in stock
    errors = refusal(admin_api, "sales_delivery", sold, "cancel")  # its return is live: cancel that first
    assert returned["number"] in errors["_record"]

    back_to_supplier = {"item": sku, "qty": "1", "price": "100", "serials": c}
    post(admin_api, "purchase_return", [back_to_supplier], source_number=receipt["number"], **WH)
    post(
        admin_api,
        "stock_adjustment",
        [{"item": sku, "qty": "1", "price": "80", "serials": d}],
        direction="in",
        reason="other",
        **WH,
    )
    post(
        admin_api, "stock_adjustment", [{"item": sku, "qty": "1", "serials": a}], direction="out", reason="damage", **WH
    )
    assert serials_in_stock(app, sku) == {d} and balance(app, sku)[0] == D(1)
    assert admin_api.post(f"/api/v1/sales_return/{returned['id']}/cancel").status_code == 422  # a left again
    assert ledger_problems(app) == []


def test_stocktake_counts_serials(app, admin_api):
    sku = new_item(admin_api, track_serial=True)
    a, b, c, d, e = sns(5)
    receive(admin_api, sku, [a, b, c])
    take = document(
        admin_api,
        "stocktake",
        [{"item": sku, "counted_qty": "3", "serials": f"{a}\n{b}\n{d}", "reason": "miscount"}],
        **WH,
    )
    assert take["lines"][0]["book_qty"] == "3" and take["lines"][0]["diff_qty"] == "0"
    posted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert posted.status_code == 200, posted.get_json()
    assert serials_in_stock(app, sku) == {a, b, d} and balance(app, sku) == (D(3), D(300))  # c lost, d found

    wrong_count = document(
        admin_api, "stocktake", [{"item": sku, "counted_qty": "2", "serials": a, "reason": "miscount"}], **WH
    )
    assert "lines.0.serials" in refusal(admin_api, "stocktake", wrong_count)
    elsewhere = receive(admin_api, sku, [e], warehouse="WH02")
    found_twice = document(
        admin_api,
        "stocktake",
        [{"item": sku, "counted_qty": "4", "serials": f"{a}\n{b}\n{d}\n{e}", "reason": "miscount"}],
        **WH,
    )
    assert e in refusal(admin_api, "stocktake", found_twice)["lines.0.serials"]  # e is in stock in WH02
    assert elsewhere["status"] == "submitted"

    lost = post(admin_api, "stocktake", [{"item": sku, "counted_qty": "1", "serials": b, "reason": "theft"}], **WH)
    assert serials_in_stock(app, sku) == {b} and balance(app, sku)[0] == D(1)
    assert admin_api.post(f"/api/v1/stocktake/{lost['id']}/cancel").status_code == 200
    assert serials_in_stock(app, sku) == {a, b, d}
    assert ledger_problems(app) == []


def test_stocktake_counts_against_the_serials_at_the_snapshot(app, admin_api):
    sku = new_item(admin_api, track_serial=True)
    a, b, c = sns(3)
    receive(admin_api, sku, [a, b])
    take = document(
        admin_api, "stocktake", [{"item": sku, "counted_qty": "2", "serials": f"{a}\n{b}", "reason": "miscount"}], **WH
    )
    deliver(admin_api, sku, [a])  # moved while counting: a was counted and has left since
    receive(admin_api, sku, [c])  # came in while counting: not counted, still there
    posted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert posted.status_code == 200, posted.get_json()
    assert serials_in_stock(app, sku) == {b, c} and balance(app, sku)[0] == D(2)  # nothing gained or lost
    assert ledger_problems(app) == []


def test_items_without_serials_ignore_the_serials_column(app, admin_api):
    sku = new_item(admin_api)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "2.5", "price": "1", "serials": "X1"}], **WH)
    assert balance(app, sku) == (D("2.5"), D("2.5")) and serials_in_stock(app, sku) == set()
    assert ledger_problems(app) == []


def test_serial_lookup_shows_where_it_is_and_how_it_got_there(app, admin_api, api_as):
    sku = new_item(admin_api, track_serial=True)
    (a,) = sns(1)
    receipt = receive(admin_api, sku, [a])
    post(
        admin_api,
        "stock_transfer",
        [{"item": sku, "qty": "1", "serials": a}],
        from_warehouse="WH01",
        to_warehouse="WH02",
    )
    response = admin_api.get(f"/api/v1/serials/{a}")
    assert response.status_code == 200, response.get_json()
    (found,) = response.get_json()["result"]
    assert found["item"]["sku"] == sku and found["in_stock"] is True and found["warehouse"] == "WH02"
    assert [(h["qty"], h["warehouse"], h["document_model"]) for h in found["history"]] == [
        (1, "WH01", "purchase_receipt"),
        (-1, "WH01", "stock_transfer"),
        (1, "WH02", "stock_transfer"),
    ]
    assert found["history"][0]["document_number"] == receipt["number"]
    assert admin_api.get(f"/api/v1/serials/{unique('NOPE')}").status_code == 404
    keeper = api_as("warehouse").get(f"/api/v1/serials/{a}")  # a keeper of WH01 sees only WH01's moves
    assert keeper.status_code == 200, keeper.get_json()
    (seen,) = keeper.get_json()["result"]
    assert {h["warehouse"] for h in seen["history"]} == {"WH01"} and seen["warehouse"] is None
    assert api_as("salesperson").get(f"/api/v1/serials/{a}").status_code == 403  # no stock ledger access


def test_the_ledger_check_finds_serials_that_differ_from_the_balance():
    stock = (1, 10, "")
    steps = [SerialStepRow(1, 1, "A", (10, ""), 1, "r:1:in"), SerialStepRow(2, 1, "B", (10, ""), 1, "r:1:in")]
    rows = [SerialRow(1, "A", (10, ""), True), SerialRow(1, "B", (10, ""), True)]
    moves = {"r:1:in": (stock, D(2))}
    assert check_serials(rows, steps, {stock: (D(2), D(20))}, frozenset({1}), moves) == []
    problems = check_serials(rows[:1], steps, {stock: (D(3), D(30))}, frozenset({1}), {"r:1:in": (stock, D(3))})
    assert any("B" in p for p in problems)  # stored row missing
    assert any("serial steps add up to 2" in p for p in problems)
    assert any("1 serials in stock, balance says 3" in p for p in problems)
    out_of_nowhere = [*steps, SerialStepRow(3, 1, "C", (10, ""), -1, "d:1:out")]
    assert any("C" in p for p in check_serials(rows, out_of_nowhere, {stock: (D(2), D(20))}, frozenset({1}), moves))


def test_the_same_serial_received_at_once_into_two_warehouses_comes_in_once(app, api_as):
    sku = new_item(api_as("admin"), track_serial=True)
    clients = [Api(app, "admin"), Api(app, "admin")]
    for _ in range(6):
        (serial,) = sns(1)
        docs = [
            document(
                clients[i],
                "purchase_receipt",
                [{"item": sku, "qty": "1", "price": "1", "serials": serial}],
                warehouse=wh,
            )
            for i, wh in enumerate(("WH01", "WH02"))
        ]
        start = Barrier(2)

        def submit(i, docs=docs, start=start):
            start.wait()
            response = clients[i].post(f"/api/v1/purchase_receipt/{docs[i]['id']}/submit")
            return response.status_code, response.get_json()

        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(submit, range(2)))
        assert sorted(status for status, _ in outcomes) == [200, 422], outcomes
        refused = next(body for status, body in outcomes if status == 422)
        assert serial in refused["errors"][0]["message"]
        assert len(serials_in_stock(app, sku) | serials_in_stock(app, sku, "WH02")) >= 1
    assert ledger_problems(app) == []


def test_a_linked_return_takes_back_only_serials_its_source_moved(app, admin_api):
    sku, other = new_item(admin_api, track_serial=True), new_item(admin_api, track_serial=True)
    a, b, c, d = sns(4)
    receive(admin_api, sku, [a, b, c, d])
    receive(admin_api, other, [c])  # the same serial text on another item
    sold = post(
        admin_api,
        "sales_delivery",
        [
            {"item": sku, "qty": "2", "price": "150", "serials": f"{a}\n{b}"},
            {"item": other, "qty": "1", "price": "150", "serials": c},
        ],
        **WH,
    )
    deliver(admin_api, sku, [c])  # c left on another delivery: out of stock, but not on `sold`
    wrong = document(
        admin_api,
        "sales_return",
        [
            {"item": sku, "qty": "1", "price": "150", "serials": a},
            {"item": sku, "qty": "1", "price": "150", "serials": c},
        ],
        source_number=sold["number"],
        **WH,
    )
    errors = refusal(admin_api, "sales_return", wrong)
    assert list(errors) == ["lines.1.serials"]  # c was on `sold`, but for the other item
    assert c in errors["lines.1.serials"] and sold["number"] in errors["lines.1.serials"]
    assert serials_in_stock(app, sku) == {d}

    unlinked = post(admin_api, "sales_return", [{"item": sku, "qty": "1", "price": "150", "serials": c}], **WH)
    assert unlinked["status"] == "submitted" and serials_in_stock(app, sku) == {c, d}  # today's rules
    post(
        admin_api,
        "sales_return",
        [{"item": sku, "qty": "1", "price": "150", "serials": a}],
        source_number=sold["number"],
        **WH,
    )
    assert serials_in_stock(app, sku) == {a, c, d}

    # a is sold again and comes back once more: against `sold` it was returned already, against the
    # delivery that sold it again it is fine
    resold = deliver(admin_api, sku, [a])
    twice = document(
        admin_api,
        "sales_return",
        [{"item": sku, "qty": "1", "price": "150", "serials": a}],
        source_number=sold["number"],
        **WH,
    )
    errors = refusal(admin_api, "sales_return", twice)
    assert list(errors) == ["lines.0.serials"] and a in errors["lines.0.serials"]
    post(
        admin_api,
        "sales_return",
        [{"item": sku, "qty": "1", "price": "150", "serials": a}],
        source_number=resold["number"],
        **WH,
    )
    assert serials_in_stock(app, sku) == {a, c, d}
    assert ledger_problems(app) == []


def test_a_linked_purchase_return_sends_back_only_serials_its_receipt_brought(app, admin_api):
    sku, plain = new_item(admin_api, track_serial=True), new_item(admin_api)
    a, b, c = sns(3)
    lines = [
        {"item": sku, "qty": "2", "price": "100", "serials": f"{a}\n{b}"},
        {"item": plain, "qty": "5", "price": "1"},
    ]
    first = post(admin_api, "purchase_receipt", lines, **WH)
    receive(admin_api, sku, [c])
    wrong = document(
        admin_api,
        "purchase_return",
        [{"item": sku, "qty": "2", "price": "100", "serials": f"{b}, {c}"}],
        source_number=first["number"],
        **WH,
    )
    message = refusal(admin_api, "purchase_return", wrong)["lines.0.serials"]
    assert c in message and b not in message and first["number"] in message  # c is in stock, from another receipt
    assert serials_in_stock(app, sku) == {a, b, c}
    post(admin_api, "purchase_return", [{"item": sku, "qty": "1", "price": "100", "serials": c}], **WH)  # unlinked
    back = [
        {"item": sku, "qty": "1", "price": "100", "serials": b},
        {"item": plain, "qty": "1", "price": "1", "serials": "NOT-ON-IT"},  # ignored: plain has no serials
    ]
    post(admin_api, "purchase_return", back, source_number=first["number"], **WH)
    assert serials_in_stock(app, sku) == {a} and balance(app, plain)[0] == D(4)
    assert ledger_problems(app) == []


def refused_cells(response):
    """The (field, message) of every cell a write refused (REST or grid batch)."""
    assert response.status_code == 422, response.get_json()
    return {e["field"]: e["message"] for e in response.get_json()["errors"]}


def test_tracking_switches_only_while_nothing_is_on_hand(app, admin_api, login_as):
    created = admin_api.post("/api/v1/item/", json={"sku": unique("L"), "name": "追踪开关", "unit": "PCS"})
    pk, sku = created.get_json()["id"], created.get_json()["result"]["sku"]
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "3", "price": "10"}], **WH)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "2", "price": "10"}], warehouse="WH02")

    errors = refused_cells(admin_api.put(f"/api/v1/item/{pk}", json={"track_serial": True, "name": "改名"}))
    assert list(errors) == ["track_serial"]
    assert all(part in errors["track_serial"] for part in ("5", "WH01", "WH02", "序列号管理", "调整为零"))
    grid = admin_api.post(
        "/api/v1/grid/item/batch",
        json={"client_batch_id": unique("B"), "ops": [{"op": "update", "id": pk, "values": {"track_batch": True}}]},
    )
    assert grid.status_code == 422 and [(e["id"], e["field"]) for e in grid.get_json()["errors"]] == [
        (pk, "track_batch")
    ]
    client = login_as("admin")
    token = csrf_from(client.get(f"/m/item/{pk}/edit").get_data(as_text=True))
    form = {"csrf_token": token, "sku": sku, "name": "追踪开关", "unit": "PCS", "track_serial": "y"}
    page = client.post(f"/m/item/{pk}/edit", data=form)
    assert page.status_code == 200 and 'data-field="track_serial"' in page.get_data(as_text=True)
    got = admin_api.get(f"/api/v1/item/{pk}").get_json()["result"]
    assert (got["track_serial"], got["track_batch"], got["name"]) == (False, False, "追踪开关")
    unchanged = admin_api.put(f"/api/v1/item/{pk}", json={"track_serial": False, "name": "改名"})
    assert unchanged.status_code == 200, unchanged.get_json()  # other changes with stock on hand are fine

    for warehouse, qty in (("WH01", "3"), ("WH02", "2")):
        out = {"item": sku, "qty": qty}
        post(admin_api, "stock_adjustment", [out], direction="out", reason="damage", warehouse=warehouse)
    switched = admin_api.put(f"/api/v1/item/{pk}", json={"track_serial": True})
    assert switched.status_code == 200, switched.get_json()
    (a,) = sns(1)
    receive(admin_api, sku, [a])
    errors = refused_cells(admin_api.put(f"/api/v1/item/{pk}", json={"track_serial": False, "track_batch": True}))
    assert set(errors) == {"track_serial", "track_batch"}
    assert "关闭" in errors["track_serial"] and "开启" in errors["track_batch"] and "1" in errors["track_serial"]
    assert admin_api.get(f"/api/v1/item/{pk}").get_json()["result"]["track_serial"] is True
    assert serials_in_stock(app, sku) == {a}
    assert ledger_problems(app) == []


def test_switching_tracking_waits_for_a_posting_that_read_the_flags(app, admin_api, backend):
    """PostgreSQL race: a posting reads the item's flags FOR SHARE, so switching a flag waits for it to
    commit and then sees the stock it brought in (SQLite runs one write at a time: nothing to race)."""
    if backend.name != "postgresql":
        pytest.skip("SQLite serialises writers")
    import threading

    from sqlalchemy.orm import Session

    from app.extensions import db, registry
    from app.services.stock.serials import item_tracking

    created = admin_api.post("/api/v1/item/", json={"sku": unique("L"), "name": "开关竞态", "unit": "PCS"})
    pk = created.get_json()["id"]
    with app.app_context():
        reg = registry()
        warehouse = db.session.execute(select(reg.cls("warehouse").id).limit(1)).scalar_one()
        posting = Session(db.engine)
        item_tracking(posting, reg, [pk])  # what posting does before it writes the stock
        answer: dict[str, int] = {}
        switch = threading.Thread(
            target=lambda: answer.update(
                status=admin_api.put(f"/api/v1/item/{pk}", json={"track_serial": True}).status_code
            )
        )
        switch.start()
        switch.join(timeout=1.0)
        assert switch.is_alive()  # waiting for the posting
        stock = reg.cls("stock_balance")(item_id=pk, warehouse_id=warehouse, batch="", qty=D(5), value=D(10))
        posting.add(stock)
        posting.commit()
        switch.join(timeout=10)
        try:
            assert answer == {"status": 422}  # it saw the 5 the posting brought in
        finally:
            posting.delete(posting.merge(stock))
            posting.commit()
            posting.close()
