"""Reorder (补货): one click drafts purchase orders dated the business's day, for exactly what was asked."""

from __future__ import annotations

import pytest

from tests.ledger_helpers import new_item


@pytest.fixture
def early_morning(monkeypatch):
    """The business's clock (JXC_CLOCK) reads 07:30 on 25 November in Beijing, 23:30 the day before in UTC."""
    monkeypatch.setenv("JXC_CLOCK", "2026-11-24T23:30:00+00:00")


def below_reorder_point(api):
    """An item of supplier S002 with nothing on hand and a reorder point of 10."""
    return new_item(api, reorder_point="10", max_stock="20", default_supplier="S002", purchase_price="3")


def draft(api, answer):
    """The one order an answer made, read back."""
    assert answer.status_code == 201, answer.get_json()
    orders = answer.get_json()["orders"]
    assert len(orders) == 1, orders
    return api.get(f"/api/v1/purchase_order/{orders[0]['id']}").get_json()["result"]


def test_drafts_only_the_items_asked_for(app, admin_api):
    wanted, other = below_reorder_point(admin_api), below_reorder_point(admin_api)
    order = draft(admin_api, admin_api.post("/api/v1/reorder/orders", json={"items": [wanted], "warehouse": "WH01"}))
    assert [line["item"]["key"] for line in order["lines"]] == [wanted]
    assert other not in [line["item"]["key"] for line in order["lines"]]
    assert (order["status"], order["warehouse"]["key"], order["lines"][0]["qty"]) == ("draft", "WH01", "20")


def test_unknown_keys_and_items_that_need_no_reorder_are_refused(app, admin_api):
    wanted = below_reorder_point(admin_api)
    stocked = new_item(admin_api, default_supplier="S002")  # no reorder point: never suggested
    before = admin_api.get("/api/v1/purchase_order/").get_json()["count"]
    misspelt = admin_api.post("/api/v1/reorder/orders", json={"skus": [wanted], "warehouse": "WH01"})
    assert misspelt.status_code == 422 and "skus" in misspelt.get_json()["message"]
    refused = admin_api.post("/api/v1/reorder/orders", json={"items": [wanted, stocked, "NO-SUCH-SKU"]})
    assert refused.status_code == 422
    assert set(refused.get_json()["message"]) == {"items.1", "items.2"}
    assert stocked in refused.get_json()["message"]["items.1"][0]
    assert admin_api.post("/api/v1/reorder/orders", json={"items": []}).status_code == 422
    assert admin_api.post("/api/v1/reorder/orders", json={"items": wanted}).status_code == 422
    assert admin_api.post("/api/v1/reorder/orders", json=[wanted]).status_code == 422
    assert admin_api.get("/api/v1/purchase_order/").get_json()["count"] == before  # nothing drafted


def test_drafts_are_dated_the_business_day_not_the_utc_one(app, admin_api, early_morning):
    wanted = below_reorder_point(admin_api)
    order = draft(admin_api, admin_api.post("/api/v1/reorder/orders", json={"items": [wanted]}))
    assert order["date"] == "2026-11-25"
    assert order["number"].startswith("CG20261125")


def test_the_database_flags_exactly_what_the_rules_flag(app, admin_api):
    """The reorder suggestions and alerts are picked in SQL (app/services/money/reorder.positions): the same
    items, quantities and counts as StockPosition's own rules, edge cases included."""
    from app.extensions import db
    from app.services.money.reorder import alerts, counts, positions, suggestions
    from app.services.users.access import access_for
    from tests.ledger_helpers import receive

    short = new_item(admin_api, reorder_point="10", max_stock="20.5")  # 0 on hand: order 20.5
    odd = new_item(admin_api, reorder_point="10", max_stock="5")  # 7 on hand: below 10 but above 5, nothing to order
    odd_qty = new_item(admin_api, reorder_point="10", max_stock="5", reorder_qty="12")  # the same with a lot size
    over = new_item(admin_api, reorder_point="1", max_stock="3")  # 4 on hand: overstock
    level = new_item(admin_api, reorder_point="7")  # exactly at its point: nothing
    for sku, qty in ((odd, "7"), (odd_qty, "7"), (over, "4"), (level, "7")):
        receive(admin_api, sku, qty, "1")
    with app.app_context():
        access = access_for(app.appbuilder.sm.find_user(username="admin"))
        every = {p.sku: p for p in positions(db.session, access)}
        low = {p.sku: str(p.suggested_qty.normalize()) for p in suggestions(db.session, access)}
        found = alerts(db.session, access, first=1)
        low_count, over_count = counts(db.session, access)
        all_alerts = alerts(db.session, access)
    assert {short: "20.5", odd_qty: "12"}.items() <= low.items() and odd not in low and level not in low
    assert odd in every and level not in every and every[over].on_hand == 4 and every[over].suggested_qty == 0
    assert over in {a["item"] for a in all_alerts["overstock"]}
    assert (low_count, over_count) == (len(low), len(all_alerts["overstock"]))
    assert len(found["low"]) == 1 and (found["low_count"], found["overstock_count"]) == (low_count, over_count)
