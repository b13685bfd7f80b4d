"""FIFO items through the API: deliveries take the oldest layers, cancels give them back, transfers carry
layer costs, stocktakes, items of both methods in one document, negative stock, costing switches."""

from __future__ import annotations

from decimal import Decimal as D

from tests.ledger_helpers import balance, document, ledger_problems, new_item, post, receive


def moves_of(api, number):
    """(qty, value) of a document's stock moves, in posting order."""
    response = api.get(
        "/api/v1/stock_move/",
        query_string={
            "q": f"(filters:!((col:document_number,opr:eq,value:{number})),order_column:id,order_direction:asc)"
        },
    )
    return [(D(r["qty"]), D(r["value"])) for r in response.get_json()["result"]]


def deliver(api, lines, **header):
    return post(api, "sales_delivery", lines, **{"warehouse": "WH01", **header})


def item_id(api, sku):
    return api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{sku})))").get_json()["ids"][0]


def stock_costing(api, sku, warehouse="WH01"):
    rows = api.get(f"/api/v1/stock_balance/?q=(filters:!((col:item,opr:eq,value:'{sku}')))").get_json()["result"]
    return next(r["costing"] for r in rows if r["warehouse"]["key"] == warehouse)


def test_delivery_takes_the_oldest_layers_and_cancel_gives_them_back(app, admin_api):
    sku = new_item(admin_api, costing="fifo")
    receive(admin_api, sku, "10", "1.00")
    receive(admin_api, sku, "10", "2.00")
    delivered = deliver(admin_api, [{"item": sku, "qty": "15", "price": "5"}])
    assert moves_of(admin_api, delivered["number"]) == [(D(-15), D(-20))]  # 10 x 1 + 5 x 2
    assert delivered["lines"][0]["cost_price"] == "1.3333"
    assert balance(app, sku) == (D(5), D(10)) and stock_costing(admin_api, sku) == "fifo"
    assert admin_api.post(f"/api/v1/sales_delivery/{delivered['id']}/cancel").status_code == 200
    assert balance(app, sku) == (D(20), D(30))
    again = deliver(admin_api, [{"item": sku, "qty": "5", "price": "5"}])
    assert moves_of(admin_api, again["number"]) == [(D(-5), D(-5))]  # the first layer is whole again
    assert ledger_problems(app) == []


def test_a_receipt_whose_layer_was_issued_from_cannot_be_cancelled(app, admin_api):
    sku = new_item(admin_api, costing="fifo")
    first = receive(admin_api, sku, "10", "1")
    second = receive(admin_api, sku, "10", "2")
    deliver(admin_api, [{"item": sku, "qty": "4", "price": "5"}])
    refused = admin_api.post(f"/api/v1/purchase_receipt/{first['id']}/cancel")
    assert refused.status_code == 422  # moving average would allow it: 16 are on hand
    assert "6" in refused.get_json()["message"]["lines"][0] and "10" in refused.get_json()["message"]["lines"][0]
    assert admin_api.get(f"/api/v1/purchase_receipt/{first['id']}").get_json()["result"]["status"] == "submitted"
    assert admin_api.post(f"/api/v1/purchase_receipt/{second['id']}/cancel").status_code == 200
    assert balance(app, sku) == (D(6), D(6))
    assert ledger_problems(app) == []


def test_transfer_carries_the_layers_at_their_cost(app, admin_api):
    sku = new_item(admin_api, costing="fifo")
    receive(admin_api, sku, "10", "1")
    receive(admin_api, sku, "10", "2")
    moved = post(admin_api, "stock_transfer", [{"item": sku, "qty": "15"}], from_warehouse="WH01", to_warehouse="WH02")
    assert moves_of(admin_api, moved["number"]) == [(D(-15), D(-20)), (D(15), D(20))]
    assert moved["lines"][0]["price"] == "1.3333"
    assert balance(app, sku, "WH01") == (D(5), D(10)) and balance(app, sku, "WH02") == (D(15), D(20))
    sold = deliver(admin_api, [{"item": sku, "qty": "11", "price": "5"}], warehouse="WH02")
    assert moves_of(admin_api, sold["number"]) == [(D(-11), D(-12))]  # 10 x 1, then 1 x 2
    assert admin_api.post(f"/api/v1/stock_transfer/{moved['id']}/cancel").status_code == 422  # WH02 layers used
    assert admin_api.post(f"/api/v1/sales_delivery/{sold['id']}/cancel").status_code == 200
    assert admin_api.post(f"/api/v1/stock_transfer/{moved['id']}/cancel").status_code == 200
    assert balance(app, sku, "WH01") == (D(20), D(30)) and balance(app, sku, "WH02") == (D(0), D(0))
    assert ledger_problems(app) == []


def test_stocktake_gain_at_the_average_and_loss_from_the_oldest_layers(app, admin_api):
    sku = new_item(admin_api, costing="fifo")
    receive(admin_api, sku, "10", "1")
    receive(admin_api, sku, "10", "3")
    gain = post(admin_api, "stocktake", [{"item": sku, "counted_qty": "22", "reason": "miscount"}], warehouse="WH01")
    assert moves_of(admin_api, gain["number"]) == [(D(2), D(4))]  # a new layer at the average cost, 2
    loss = post(admin_api, "stocktake", [{"item": sku, "counted_qty": "5", "reason": "damage"}], warehouse="WH01")
    assert moves_of(admin_api, loss["number"]) == [(D(-17), D(-31))]  # 10 x 1 + 7 x 3
    assert loss["lines"][0]["amount"] == "-31.00"
    assert balance(app, sku) == (D(5), D(13))  # 3 x 3 + 2 x 2
    assert admin_api.post(f"/api/v1/stocktake/{loss['id']}/cancel").status_code == 200
    assert balance(app, sku) == (D(22), D(44))
    assert ledger_problems(app) == []


def test_fifo_and_moving_average_items_in_one_document(app, admin_api):
    fifo_sku, average_sku = new_item(admin_api, costing="fifo"), new_item(admin_api)
    post(
        admin_api,
        "purchase_receipt",
        [
            {"item": fifo_sku, "qty": "10", "price": "1"},
            {"item": average_sku, "qty": "10", "price": "1"},
            {"item": fifo_sku, "qty": "10", "price": "2"},
            {"item": average_sku, "qty": "10", "price": "2"},
        ],
        warehouse="WH01",
    )
    sold = deliver(
        admin_api, [{"item": average_sku, "qty": "15", "price": "5"}, {"item": fifo_sku, "qty": "15", "price": "5"}]
    )
    assert [line["cost_price"] for line in sold["lines"]] == ["1.50", "1.3333"]
    assert sorted(moves_of(admin_api, sold["number"])) == [(D(-15), D("-22.5")), (D(-15), D(-20))]
    assert balance(app, average_sku) == (D(5), D("7.5")) and balance(app, fifo_sku) == (D(5), D(10))
    assert stock_costing(admin_api, average_sku) == "moving_average"
    assert admin_api.post(f"/api/v1/sales_delivery/{sold['id']}/cancel").status_code == 200
    assert balance(app, average_sku) == (D(20), D(30)) and balance(app, fifo_sku) == (D(20), D(30))
    assert ledger_problems(app) == []


def test_negative_fifo_stock_goes_out_at_the_item_cost_and_the_next_receipt_fills_it(app, admin_api):
    sku = new_item(admin_api, costing="fifo", allow_negative=True, purchase_price="3")
    receive(admin_api, sku, "2", "1")
    short = deliver(admin_api, [{"item": sku, "qty": "5", "price": "5"}])
    assert moves_of(admin_api, short["number"]) == [(D(-5), D(-5))]  # 2 x 1, then 3 at the last cost, 1
    assert balance(app, sku) == (D(-3), D(-3))
    refill = receive(admin_api, sku, "5", "4")
    assert moves_of(admin_api, refill["number"]) == [(D(5), D(20))]  # what was paid
    assert balance(app, sku) == (D(2), D(17))  # the 3 short units closed at their cost; 2 left carry the rest
    assert ledger_problems(app) == []
    assert admin_api.post(f"/api/v1/purchase_receipt/{refill['id']}/cancel").status_code == 200
    assert balance(app, sku) == (D(-3), D(-3))
    assert ledger_problems(app) == []


def test_switching_costing_with_stock_on_hand_starts_from_one_layer(app, admin_api):
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "1")
    second = receive(admin_api, sku, "10", "2")
    pk = item_id(admin_api, sku)
    assert admin_api.put(f"/api/v1/item/{pk}", json={"costing": "fifo"}).status_code == 200
    assert stock_costing(admin_api, sku) == "moving_average"  # switches at its next movement
    assert ledger_problems(app) == []
    first_sale = deliver(admin_api, [{"item": sku, "qty": "5", "price": "5"}])
    assert moves_of(admin_api, first_sale["number"]) == [(D(-5), D("-7.5"))]  # one layer of 20 at 30
    assert stock_costing(admin_api, sku) == "fifo"
    receive(admin_api, sku, "10", "3")
    sale = deliver(admin_api, [{"item": sku, "qty": "20", "price": "5"}])
    assert moves_of(admin_api, sale["number"]) == [(D(-20), D("-37.5"))]  # 15 for 22.5, 5 x 3
    assert balance(app, sku) == (D(5), D(15))
    assert admin_api.post(f"/api/v1/sales_delivery/{sale['id']}/cancel").status_code == 200
    # a receipt posted before FIFO started is merged in its layer: cancelling takes its own value out
    assert admin_api.post(f"/api/v1/purchase_receipt/{second['id']}/cancel").status_code == 200
    assert balance(app, sku) == (D(15), D("32.5"))
    assert ledger_problems(app) == []
    assert admin_api.put(f"/api/v1/item/{pk}", json={"costing": "moving_average"}).status_code == 200
    back = deliver(admin_api, [{"item": sku, "qty": "3", "price": "5"}])
    assert moves_of(admin_api, back["number"]) == [(D(-3), D("-6.5001"))]  # the average, 2.1667
    assert stock_costing(admin_api, sku) == "moving_average"
    assert ledger_problems(app) == []
    assert admin_api.post(f"/api/v1/sales_delivery/{first_sale['id']}/cancel").status_code == 200
    assert balance(app, sku) == (D(17), D("33.4999"))
    assert ledger_problems(app) == []


def test_reservations_and_purchase_returns_of_a_fifo_item(app, admin_api):
    sku = new_item(admin_api, costing="fifo")
    receive(admin_api, sku, "4", "1")
    receive(admin_api, sku, "4", "5")
    post(admin_api, "sales_order", [{"item": sku, "qty": "6", "price": "9"}], warehouse="WH01")
    other = document(admin_api, "sales_delivery", [{"item": sku, "qty": "3", "price": "9"}], warehouse="WH01")
    assert admin_api.post(f"/api/v1/sales_delivery/{other['id']}/submit").status_code == 422  # 2 free
    returned = post(admin_api, "purchase_return", [{"item": sku, "qty": "2", "price": "1"}], warehouse="WH01")
    assert moves_of(admin_api, returned["number"]) == [(D(-2), D(-2))]  # the oldest layer
    assert balance(app, sku) == (D(6), D(22))
    assert ledger_problems(app) == []
