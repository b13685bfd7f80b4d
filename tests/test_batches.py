"""Batches (批次) through the API: items that track batches need a batch on every stock line, stock is held
and issued per batch (shortages name the batch), orders reserve in the warehouse, transfers, stocktakes
and cancels keep the batch; items that do not track batches work as before."""

from __future__ import annotations

from decimal import Decimal as D

from tests.conftest import PASSWORD, Api
from tests.ledger_helpers import balance, document, ledger_problems, new_item, post, refusal

WH = {"warehouse": "WH01"}


def receive(api, sku, qty, price, batch, warehouse="WH01"):
    line = {"item": sku, "qty": qty, "price": price, "batch": batch}
    return post(api, "purchase_receipt", [line], warehouse=warehouse)


def deliver(api, lines, **header):
    return post(api, "sales_delivery", lines, **{**WH, **header})


def test_every_stock_document_needs_the_batch_of_an_item_that_tracks_batches(app, admin_api):
    sku = new_item(admin_api, track_batch=True)
    receive(admin_api, sku, "10", "1", "B1")
    plain = new_item(admin_api)
    wh02 = {"warehouse": "WH02"}  # issues from WH01 would be given its batch B1 as a suggestion (FEFO)
    cases = [
        ("purchase_receipt", {"qty": "1", "price": "1"}, WH),
        ("purchase_return", {"qty": "1", "price": "1"}, WH),
        ("sales_delivery", {"qty": "1", "price": "1"}, wh02),
        ("sales_return", {"qty": "1", "price": "1"}, WH),
        ("stock_transfer", {"qty": "1"}, {"from_warehouse": "WH02", "to_warehouse": "WH01"}),
        ("stock_adjustment", {"qty": "1", "price": "1"}, {**WH, "direction": "in", "reason": "other"}),
        ("stock_adjustment", {"qty": "1"}, {**wh02, "direction": "out", "reason": "damage"}),
        ("stocktake", {"counted_qty": "3"}, WH),
    ]
    for model, values, header in cases:
        lines = [{"item": plain, **values}, {"item": sku, **values}, {"item": sku, **values, "batch": "  "}]
        if model in ("purchase_return", "sales_delivery", "stock_transfer") or header.get("direction") == "out":
            lines = lines[1:]  # the plain item has no stock to issue
        doc = document(admin_api, model, lines, **header)
        errors = refusal(admin_api, model, doc)
        first = len(lines) - 2
        assert set(errors) == {f"lines.{first}.batch", f"lines.{first + 1}.batch"}, (model, errors)
        assert sku in errors[f"lines.{first}.batch"] and "批号" in errors[f"lines.{first}.batch"]
        assert admin_api.get(f"/api/v1/{model}/{doc['id']}").get_json()["result"]["status"] == "draft"
    assert balance(app, sku, batch="B1") == (D(10), D(10))
    assert ledger_problems(app) == []


def test_the_refusal_reads_in_english_too(app, admin_api):
    sku = new_item(admin_api, track_batch=True)
    doc = document(admin_api, "purchase_receipt", [{"item": sku, "qty": "1", "price": "1"}], **WH)
    english = english_admin(app)
    response = english.post(f"/api/v1/purchase_receipt/{doc['id']}/submit")
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"field": "lines.0.batch", "message": f"Item {sku} tracks batches: enter the batch"}
    ]


def english_admin(app):
    """The admin's API client in a browser that asks for English."""
    api = Api.__new__(Api)
    api.client = app.test_client()
    api.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.9"
    login = {"username": "admin", "password": PASSWORD, "provider": "db"}
    response = api.client.post("/api/v1/security/login", json=login)
    api.headers = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
    return api


def test_items_without_batches_keep_working_with_an_empty_batch(app, admin_api):
    sku = new_item(admin_api)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "5", "price": "2"}], **WH)
    deliver(admin_api, [{"item": sku, "qty": "2", "price": "3"}])
    post(admin_api, "stock_transfer", [{"item": sku, "qty": "1"}], from_warehouse="WH01", to_warehouse="WH02")
    assert balance(app, sku, batch="") == (D(2), D(4)) and balance(app, sku, "WH02", batch="") == (D(1), D(2))
    assert ledger_problems(app) == []


def test_stock_is_held_and_issued_per_batch(app, admin_api):
    sku = new_item(admin_api, track_batch=True)
    receive(admin_api, sku, "10", "1", "B1")
    receive(admin_api, sku, "5", "2", "B2")
    assert balance(app, sku, batch="B1") == (D(10), D(10)) and balance(app, sku, batch="B2") == (D(5), D(10))
    delivered = deliver(admin_api, [{"item": sku, "qty": "3", "price": "9", "batch": "B2"}])
    assert D(delivered["lines"][0]["cost_price"]) == D(2)  # the batch's own cost, not the item's average
    assert balance(app, sku, batch="B2") == (D(2), D(4)) and balance(app, sku, batch="B1") == (D(10), D(10))

    short = document(
        admin_api,
        "sales_delivery",
        [
            {"item": sku, "qty": "4", "price": "9", "batch": "B2"},
            {"item": sku, "qty": "1", "price": "9", "batch": "B9"},
        ],
        **WH,
    )
    errors = refusal(admin_api, "sales_delivery", short)
    assert "B2" in errors["lines.0.qty"] and "2" in errors["lines.0.qty"] and "4" in errors["lines.0.qty"]
    assert "B9" in errors["lines.1.qty"]  # every short batch at once, each named

    assert admin_api.post(f"/api/v1/sales_delivery/{delivered['id']}/cancel").status_code == 200
    assert balance(app, sku, batch="B2") == (D(5), D(10))
    assert ledger_problems(app) == []


def test_transfer_adjustment_and_returns_keep_the_batch(app, admin_api):
    sku = new_item(admin_api, track_batch=True)
    receipt = receive(admin_api, sku, "10", "1.5", "L-01")
    moved = post(
        admin_api,
        "stock_transfer",
        [{"item": sku, "qty": "4", "batch": "L-01"}],
        from_warehouse="WH01",
        to_warehouse="WH02",
    )
    assert balance(app, sku, "WH02", batch="L-01") == (D(4), D(6)) and balance(app, sku, batch="L-01") == (D(6), D(9))
    post(
        admin_api,
        "stock_adjustment",
        [{"item": sku, "qty": "1", "batch": "L-01"}],
        warehouse="WH02",
        direction="out",
        reason="damage",
    )
    returned = post(
        admin_api,
        "purchase_return",
        [{"item": sku, "qty": "2", "price": "1.5", "batch": "L-01"}],
        source_number=receipt["number"],
        **WH,
    )
    assert balance(app, sku, batch="L-01") == (D(4), D(6))
    sold = deliver(admin_api, [{"item": sku, "qty": "3", "price": "5", "batch": "L-01"}], warehouse="WH02")
    post(
        admin_api,
        "sales_return",
        [{"item": sku, "qty": "1", "price": "5", "batch": "L-01"}],
        source_number=sold["number"],
        warehouse="WH02",
    )
    assert balance(app, sku, "WH02", batch="L-01") == (D(1), D("1.5"))
    refused = admin_api.post(f"/api/v1/stock_transfer/{moved['id']}/cancel")
    assert refused.status_code == 422  # WH02 no longer has the 4 it received
    assert admin_api.post(f"/api/v1/purchase_return/{returned['id']}/cancel").status_code == 200
    assert balance(app, sku, batch="L-01") == (D(6), D(9))
    assert ledger_problems(app) == []


def test_stocktake_counts_per_batch(app, admin_api):
    sku = new_item(admin_api, track_batch=True)
    receive(admin_api, sku, "10", "2", "B1")
    receive(admin_api, sku, "6", "3", "B2")
    take = document(
        admin_api,
        "stocktake",
        [
            {"item": sku, "batch": "B1", "counted_qty": "9", "reason": "damage"},
            {"item": sku, "batch": "B2", "counted_qty": "7", "reason": "miscount"},
            {"item": sku, "batch": "B3", "counted_qty": "2", "reason": "miscount"},
        ],
        **WH,
    )
    assert [line["book_qty"] for line in take["lines"]] == ["10", "6", "0"]  # each batch's own book
    posted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert posted.status_code == 200, posted.get_json()
    assert balance(app, sku, batch="B1") == (D(9), D(18))
    assert balance(app, sku, batch="B2") == (D(7), D(21))
    assert balance(app, sku, batch="B3")[0] == D(2)
    assert ledger_problems(app) == []


def test_a_stocktake_line_whose_batch_is_typed_later_takes_that_batchs_book(app, admin_api):
    sku = new_item(admin_api, track_batch=True)
    receive(admin_api, sku, "10", "2", "B1")
    take = document(admin_api, "stocktake", [{"item": sku, "counted_qty": "9", "reason": "damage"}], **WH)
    line = take["lines"][0]
    assert line["book_qty"] == "0"  # no batch yet: the batch-less book
    changed = admin_api.put(
        f"/api/v1/stocktake/{take['id']}",
        json={
            "version": take["version"],
            "lines": [{"id": line["id"], "item": sku, "batch": "B1", "counted_qty": "9"}],
        },
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["result"]["lines"][0]["book_qty"] == "10"  # B1's book, taken when it was typed
    assert admin_api.post(f"/api/v1/stocktake/{take['id']}/submit").status_code == 200
    assert balance(app, sku, batch="B1") == (D(9), D(18))
    assert ledger_problems(app) == []

    # two saved lines change at once, and a line is added in the same save: every book is taken anew
    receive(admin_api, sku, "7", "2", "B2")
    again = document(
        admin_api,
        "stocktake",
        [
            {"item": sku, "counted_qty": "9", "reason": "miscount"},
            {"item": sku, "counted_qty": "6", "reason": "damage"},
        ],
        **WH,
    )
    first, second = (line["id"] for line in again["lines"])
    lines = [
        {"id": first, "item": sku, "batch": "B1", "counted_qty": "9"},
        {"id": second, "item": sku, "batch": "B2", "counted_qty": "6"},
        {"item": sku, "batch": "B3", "counted_qty": "1", "reason": "miscount"},
    ]
    saved = admin_api.put(f"/api/v1/stocktake/{again['id']}", json={"version": again["version"], "lines": lines})
    assert saved.status_code == 200, saved.get_json()
    assert [line["book_qty"] for line in saved.get_json()["result"]["lines"]] == ["9", "7", "0"]


def test_orders_reserve_in_the_warehouse_and_batches_do_not_take_reserved_stock(app, admin_api):
    sku = new_item(admin_api, track_batch=True)
    receive(admin_api, sku, "5", "1", "B1")
    receive(admin_api, sku, "5", "1", "B2")
    order = post(admin_api, "sales_order", [{"item": sku, "qty": "8", "price": "3"}], **WH)  # over both batches
    too_much = document(admin_api, "sales_order", [{"item": sku, "qty": "3", "price": "3"}], **WH)
    assert "lines.0.qty" in refusal(admin_api, "sales_order", too_much)  # 2 left unreserved

    unlinked = document(admin_api, "sales_delivery", [{"item": sku, "qty": "3", "price": "3", "batch": "B1"}], **WH)
    errors = refusal(admin_api, "sales_delivery", unlinked)
    assert "B1" in errors["lines.0.qty"] and "2" in errors["lines.0.qty"]  # 8 of the 10 are held
    deliver(admin_api, [{"item": sku, "qty": "2", "price": "3", "batch": "B1"}])  # the unreserved two

    linked = deliver(
        admin_api,
        [
            {"item": sku, "qty": "3", "price": "3", "batch": "B1"},
            {"item": sku, "qty": "5", "price": "3", "batch": "B2"},
        ],
        source_number=order["number"],
    )
    assert balance(app, sku, batch="B1")[0] == D(0) and balance(app, sku, batch="B2")[0] == D(0)
    assert reserved(admin_api, sku) == D(0)  # the delivery released what it shipped
    assert admin_api.post(f"/api/v1/sales_delivery/{linked['id']}/cancel").status_code == 200
    assert reserved(admin_api, sku) == D(8)  # cancelling re-reserves for the order
    assert admin_api.post(f"/api/v1/sales_order/{order['id']}/cancel").status_code == 200
    assert reserved(admin_api, sku) == D(0)
    assert ledger_problems(app) == []


def test_fifo_layers_are_per_batch(app, admin_api):
    sku = new_item(admin_api, track_batch=True, costing="fifo")
    receive(admin_api, sku, "4", "1", "B1")
    receive(admin_api, sku, "4", "3", "B2")
    receive(admin_api, sku, "4", "2", "B1")
    sold = deliver(admin_api, [{"item": sku, "qty": "5", "price": "9", "batch": "B1"}])
    assert D(sold["lines"][0]["cost_price"]) == D("1.2")  # 4 x 1 + 1 x 2, batch B2 untouched
    assert balance(app, sku, batch="B1") == (D(3), D(6)) and balance(app, sku, batch="B2") == (D(4), D(12))
    assert ledger_problems(app) == []


def reserved(api, sku):
    rows = api.get(f"/api/v1/stock_balance/?q=(filters:!((col:item,opr:eq,value:'{sku}')))").get_json()["result"]
    return sum((D(r["reserved_qty"] or 0) for r in rows if r["warehouse"]["key"] == "WH01"), D(0))


def test_receipts_date_their_batches_and_issues_suggest_the_batch_that_expires_first(app, admin_api):
    sku = new_item(admin_api, track_batch=True, shelf_life_days=30)
    late = {"item": sku, "qty": "5", "price": "1", "batch": "LATE", "production_date": "2026-11-01"}
    early = {"item": sku, "qty": "5", "price": "1", "batch": "EARLY", "production_date": "2026-10-01"}
    undated = {"item": sku, "qty": "5", "price": "1", "batch": "A-UNDATED"}
    receipt = post(admin_api, "purchase_receipt", [late, early, undated], **WH)
    assert [line["expiry_date"] for line in receipt["lines"]] == ["2026-12-01", "2026-10-31", None]

    listed = admin_api.get(f"/api/v1/lots/?item={sku}&warehouse=WH01")
    assert listed.status_code == 200, listed.get_json()
    assert [(b["batch"], b["qty"], b["expiry_date"]) for b in listed.get_json()["result"]] == [
        ("EARLY", "5", "2026-10-31"),
        ("LATE", "5", "2026-12-01"),
        ("A-UNDATED", "5", None),
    ]
    assert admin_api.get(f"/api/v1/lots/?item={sku}&warehouse=NOPE").status_code == 422

    draft = document(admin_api, "sales_delivery", [{"item": sku, "qty": "2", "price": "3"}], **WH)
    assert draft["lines"][0]["batch"] == "EARLY"  # suggested; the clerk may change it
    chosen = document(admin_api, "sales_delivery", [{"item": sku, "qty": "2", "price": "3", "batch": "LATE"}], **WH)
    assert chosen["lines"][0]["batch"] == "LATE"
    assert admin_api.post(f"/api/v1/sales_delivery/{draft['id']}/submit").status_code == 200
    post(admin_api, "sales_delivery", [{"item": sku, "qty": "3", "price": "3", "batch": "EARLY"}], **WH)
    moved = document(
        admin_api, "stock_transfer", [{"item": sku, "qty": "1"}], from_warehouse="WH01", to_warehouse="WH02"
    )
    assert moved["lines"][0]["batch"] == "LATE"  # EARLY is used up
    plain = new_item(admin_api)
    unbatched = document(admin_api, "sales_delivery", [{"item": plain, "qty": "1", "price": "3"}], **WH)
    assert unbatched["lines"][0]["batch"] in (None, "")  # items without batches get none
    assert ledger_problems(app) == []
