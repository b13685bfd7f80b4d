"""Documents post to the ledger through the API: submit, cancel, shortages, posted documents frozen."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from app.clock import business_today
from app.meta.types import money_text
from tests.conftest import hide_prices, unique
from tests.ledger_helpers import balance, document, ledger_problems, new_item, post, receive, statements_sent


def test_receipt_delivery_and_cancel(app, admin_api):
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "19.99")
    assert balance(app, sku) == (D(10), D("199.9"))
    delivered = post(admin_api, "sales_delivery", [{"item": sku, "qty": "0.3", "price": "30"}], warehouse="WH01")
    assert delivered["lines"][0]["cost_price"] == "19.99"
    assert balance(app, sku) == (D("9.7"), D("193.903"))
    cancelled = admin_api.post(f"/api/v1/sales_delivery/{delivered['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["result"]["status"] == "cancelled"
    assert balance(app, sku) == (D(10), D("199.9"))
    assert admin_api.post(f"/api/v1/sales_delivery/{delivered['id']}/cancel").status_code == 409
    moves = admin_api.get(
        "/api/v1/stock_move/",
        query_string={
            "q": f"(filters:!((col:document_number,opr:eq,value:{delivered['number']})),"
            "order_column:id,order_direction:asc)"
        },
    )
    rows = moves.get_json()["result"]
    assert [r["qty"] for r in rows] == ["-0.3", "0.3"] and rows[1]["reverses"] == rows[0]["id"]
    assert ledger_problems(app) == []


def test_overselling_is_refused_with_a_clear_message(app, admin_api):
    sku = new_item(admin_api)
    receive(admin_api, sku, "5", "2")
    doc = document(admin_api, "sales_delivery", [{"item": sku, "qty": "6", "price": "3"}], warehouse="WH01")
    refused = admin_api.post(f"/api/v1/sales_delivery/{doc['id']}/submit")
    assert refused.status_code == 422
    assert "lines.0.qty" in refused.get_json()["message"]
    assert admin_api.get(f"/api/v1/sales_delivery/{doc['id']}").get_json()["result"]["status"] == "draft"
    assert balance(app, sku) == (D(5), D(10))
    assert ledger_problems(app) == []


def test_submitting_twice_posts_once(app, admin_api):
    sku = new_item(admin_api)
    doc = document(admin_api, "purchase_receipt", [{"item": sku, "qty": "4", "price": "1.5"}], warehouse="WH01")
    assert admin_api.post(f"/api/v1/purchase_receipt/{doc['id']}/submit").status_code == 200
    assert admin_api.post(f"/api/v1/purchase_receipt/{doc['id']}/submit").status_code == 409
    assert balance(app, sku) == (D(4), D(6))


def test_submitting_a_draft_someone_saved_since_says_so_not_that_its_status_moved(app, admin_api):
    """A stale `version` on submit is a 409 naming the edit (as a stale save is), with the current version; the
    draft is still a draft, so 单据状态已变化（不再是草稿） would send the clerk looking for a change that never was."""
    sku = new_item(admin_api)
    doc = document(admin_api, "purchase_receipt", [{"item": sku, "qty": "4", "price": "1.5"}], warehouse="WH01")
    saved = admin_api.put(
        f"/api/v1/purchase_receipt/{doc['id']}", json={"remark": "另一个窗口", "version": doc["version"]}
    )
    assert saved.status_code == 200, saved.get_json()
    stale = admin_api.post(f"/api/v1/purchase_receipt/{doc['id']}/submit", json={"version": doc["version"]})
    assert stale.status_code == 409
    now = doc["version"] + 1
    assert stale.get_json()["message"] == f"该记录已被他人修改（当前版本 {now}）"
    assert stale.get_json()["current"] == {"id": doc["id"], "version": now}
    assert balance(app, sku) == (D(0), D(0))
    fresh = admin_api.post(f"/api/v1/purchase_receipt/{doc['id']}/submit", json={"version": now})
    assert fresh.status_code == 200, fresh.get_json()
    again = admin_api.post(f"/api/v1/purchase_receipt/{doc['id']}/submit", json={"version": now + 1})
    assert again.status_code == 409 and again.get_json()["message"] == "单据状态已变化（不再是草稿），请刷新"


def test_posted_documents_cannot_be_changed(app, admin_api):
    sku = new_item(admin_api)
    posted = receive(admin_api, sku, "1", "1")
    pk = posted["id"]
    assert admin_api.put(f"/api/v1/purchase_receipt/{pk}", json={"remark": "改"}).status_code == 422
    assert admin_api.put(f"/api/v1/purchase_receipt/{pk}", json={"lines": []}).status_code == 422
    assert admin_api.delete(f"/api/v1/purchase_receipt/{pk}").status_code == 422
    assert admin_api.put(f"/api/v1/purchase_receipt/{pk}", json={"status": "draft"}).status_code == 422
    assert balance(app, sku) == (D(1), D(1))


def test_cancelling_a_receipt_whose_goods_were_sold_is_refused(app, admin_api):
    sku = new_item(admin_api)
    receipt = receive(admin_api, sku, "5", "2")
    post(admin_api, "sales_delivery", [{"item": sku, "qty": "4", "price": "3"}], warehouse="WH01")
    refused = admin_api.post(f"/api/v1/purchase_receipt/{receipt['id']}/cancel")
    assert refused.status_code == 422
    assert balance(app, sku) == (D(1), D(2))


def test_transfer_moves_cost_between_warehouses(app, admin_api):
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "3")
    moved = post(admin_api, "stock_transfer", [{"item": sku, "qty": "4"}], from_warehouse="WH01", to_warehouse="WH02")
    assert balance(app, sku, "WH01") == (D(6), D(18))
    assert balance(app, sku, "WH02") == (D(4), D(12))
    assert ledger_problems(app) == []
    # posting sets the line's price (its cost), which its amount reads: the amount and total are computed again
    stored = admin_api.get(f"/api/v1/stock_transfer/{moved['id']}").get_json()["result"]
    for answer in (moved, stored):
        assert D(answer["lines"][0]["price"]) == D(3)
        assert D(answer["lines"][0]["amount"]) == D(12)
        assert D(answer["total_amount"]) == D(12)


def test_delivery_cost_set_by_posting_leaves_its_money_as_saved(app, admin_api):
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "3")
    lines = [{"item": sku, "qty": "4", "price": "5.5"}, {"item": sku, "qty": "1", "price": "2"}]
    sold = post(admin_api, "sales_delivery", lines, warehouse="WH01")
    stored = admin_api.get(f"/api/v1/sales_delivery/{sold['id']}").get_json()["result"]
    for answer in (sold, stored):
        assert [D(line["cost_price"]) for line in answer["lines"]] == [D(3), D(3)]
        assert [D(line["amount"]) for line in answer["lines"]] == [D(22), D(2)]
        assert D(answer["total_qty"]) == D(5)
        assert D(answer["total_amount"]) == D(24)
    assert balance(app, sku) == (D(5), D(15))


def test_stock_adjustment_and_stocktake(app, admin_api):
    sku = new_item(admin_api)
    post(
        admin_api,
        "stock_adjustment",
        [{"item": sku, "qty": "8", "price": "2.5"}],
        direction="in",
        warehouse="WH01",
        reason="other",
    )
    post(admin_api, "stock_adjustment", [{"item": sku, "qty": "2"}], direction="out", warehouse="WH01", reason="damage")
    assert balance(app, sku) == (D(6), D(15))
    assert ledger_problems(app) == []


def test_clerk_cannot_cancel_and_salesperson_cannot_submit_purchases(api_as, admin_api):
    sku = new_item(admin_api)
    receipt = receive(admin_api, sku, "1", "1")
    assert api_as("clerk").post(f"/api/v1/purchase_receipt/{receipt['id']}/cancel").status_code == 403
    assert api_as("salesperson").post(f"/api/v1/purchase_receipt/{receipt['id']}/submit").status_code == 403
    assert admin_api.post("/api/v1/item/1/submit").status_code in (404, 405)


def test_stocktake_snapshots_the_book_and_accounts_for_moves_while_counting(app, admin_api):
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "2")
    take = document(admin_api, "stocktake", [{"item": sku, "counted_qty": "7", "reason": "damage"}], warehouse="WH01")
    assert (take["lines"][0]["book_qty"], take["lines"][0]["diff_qty"]) == ("10", "-3")  # the sheet shows the variance
    assert take["snapshot_at"]
    post(
        admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "3"}], warehouse="WH01"
    )  # moved while counting
    posted = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert posted.status_code == 200, posted.get_json()
    line = posted.get_json()["result"]["lines"][0]
    assert (line["book_qty"], line["diff_qty"], line["amount"]) == ("10", "-3", "-6.00")
    assert posted.get_json()["result"]["total_diff_qty"] == "-3"
    assert balance(app, sku) == (D(6), D(12))  # 10 - 1 sold - 3 lost
    assert ledger_problems(app) == []


@pytest.mark.parametrize("qty", ["1", "6"])
def test_backdated_documents_are_refused_with_the_reason(app, admin_api, qty):
    """The late moves are read with the balance locks; a stock both late and short (6 of 5) is refused for its
    date, before its shortage is looked at."""
    sku = new_item(admin_api)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "5", "price": "1"}], warehouse="WH01", date="2026-11-20")
    late = document(
        admin_api, "sales_delivery", [{"item": sku, "qty": qty, "price": "2"}], warehouse="WH01", date="2026-11-10"
    )
    refused = admin_api.post(f"/api/v1/sales_delivery/{late['id']}/submit")
    assert refused.status_code == 422
    assert set(refused.get_json()["message"]) == {"date"} and "2026-11-20" in refused.get_json()["message"]["date"][0]
    assert balance(app, sku) == (D(5), D(5))


def test_a_submit_reads_its_document_with_its_status_update_and_its_late_moves_with_the_locks(app, admin_api):
    """A delivery (no approval chain) moves its status in the statement that locks and reads it, with its customer's
    credit limit (this one has none to lock); the backdating check is part of the balance lock read."""
    code = f"NL{new_item(admin_api)[1:]}"
    created = admin_api.post("/api/v1/partner/", json={"code": code, "name": "无额度", "kind": "customer"})
    assert created.status_code == 201, created.get_json()
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "2")
    draft = document(
        admin_api, "sales_delivery", [{"item": sku, "qty": "4", "price": "5"}], warehouse="WH01", partner=code
    )
    with statements_sent(app) as statements:
        response = admin_api.post(f"/api/v1/sales_delivery/{draft['id']}/submit")
    sent = [" ".join(statement.split()) for statement, _ in statements]
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["result"]["status"] == "submitted"
    own = [s for s in sent if "sales_delivery " in s and "sales_delivery_line" not in s]
    assert len(own) == 1 and own[0].startswith("UPDATE sales_delivery SET") and "credit_limit" in own[0], own
    assert not [s for s in sent if s.startswith("SELECT partner.credit_limit")]
    ledger = [s for s in sent if "FROM stock_move" in s]
    assert len(ledger) == 1 and "FROM stock_balance" in ledger[0], ledger
    assert balance(app, sku) == (D(6), D(12))


def test_backdating_is_judged_per_stock_by_the_moves_after_the_date(app, admin_api):
    """Only a later move of the same item, warehouse and batch refuses; the message names the latest of those."""
    a, b, c = new_item(admin_api), new_item(admin_api), new_item(admin_api)
    for sku, warehouse, day in ((b, "WH01", "2026-11-20"), (a, "WH02", "2026-11-25"), (c, "WH01", "2026-11-30")):
        post(admin_api, "purchase_receipt", [{"item": sku, "qty": "1", "price": "1"}], warehouse=warehouse, date=day)
    lines = [{"item": sku, "qty": "1", "price": "1"} for sku in (a, b)]
    late = document(admin_api, "purchase_receipt", lines, warehouse="WH01", date="2026-11-10")
    refused = admin_api.post(f"/api/v1/purchase_receipt/{late['id']}/submit")
    assert refused.status_code == 422
    message = refused.get_json()["message"]["date"][0]
    assert "2026-11-20" in message and "2026-11-25" not in message and "2026-11-30" not in message
    assert balance(app, a) == (D(0), D(0)) and balance(app, b) == (D(1), D(1))
    # a's later move is in another warehouse: nothing of a in WH01 is dated after the 10th
    post(admin_api, "purchase_receipt", [lines[0]], warehouse="WH01", date="2026-11-10")
    assert balance(app, a) == (D(1), D(1)) and ledger_problems(app) == []


def test_period_lock_with_role_override_and_audited_settings(app, admin_api, api_as):
    sku = new_item(admin_api)
    old = document(
        admin_api, "purchase_receipt", [{"item": sku, "qty": "1", "price": "1"}], warehouse="WH01", date="2026-01-05"
    )
    assert api_as("clerk").put("/api/v1/settings/period_lock_date", json={"value": "2026-01-31"}).status_code == 403
    assert admin_api.put("/api/v1/settings/period_lock_date", json={"value": "not a date"}).status_code == 422
    assert admin_api.put("/api/v1/settings/period_lock_date", json={"value": "2026-01-31"}).status_code == 200
    try:
        locked = api_as("clerk").post(f"/api/v1/purchase_receipt/{old['id']}/submit")
        assert locked.status_code == 422 and "2026-01-31" in locked.get_json()["message"]["date"][0]
        assert admin_api.post(f"/api/v1/purchase_receipt/{old['id']}/submit").status_code == 200  # admin overrides
        switches = {s["key"]: s["value"] for s in api_as("clerk").get("/api/v1/settings/").get_json()["result"]}
        assert switches["period_lock_date"] == "2026-01-31" and switches["allow_negative_stock"] is False
        audit = admin_api.get("/api/v1/audit/?model=jxc_setting").get_json()["result"][0]
        assert audit["after"] == {"period_lock_date": "2026-01-31"}
    finally:
        assert admin_api.put("/api/v1/settings/period_lock_date", json={"value": None}).status_code == 200


def test_negative_stock_policy_switch(app, admin_api):
    sku = new_item(admin_api)
    doc = document(admin_api, "sales_delivery", [{"item": sku, "qty": "2", "price": "2"}], warehouse="WH01")
    assert admin_api.post(f"/api/v1/sales_delivery/{doc['id']}/submit").status_code == 422
    admin_api.put("/api/v1/settings/allow_negative_stock", json={"value": True})
    try:
        assert admin_api.post(f"/api/v1/sales_delivery/{doc['id']}/submit").status_code == 200
        assert balance(app, sku)[0] == D(-2)
    finally:
        admin_api.put("/api/v1/settings/allow_negative_stock", json={"value": False})
    item_id = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{sku})))").get_json()["ids"][0]
    admin_api.put(f"/api/v1/item/{item_id}", json={"allow_negative": True})  # so the global check knows
    assert ledger_problems(app) == []


def test_approval_chain_by_amount_band(app, admin_api, api_as):
    def order(price):
        return document(
            admin_api, "purchase_order", [{"item": "SP0001", "qty": "100", "price": price}], warehouse="WH01"
        )

    small = order("10")  # 1,000: under every band, posts on submit
    assert api_as("clerk").post(f"/api/v1/purchase_order/{small['id']}/submit").get_json()["result"]["status"] == (
        "submitted"
    )
    big = order("600")  # 60,000: manager, then admin
    pending = api_as("clerk").post(f"/api/v1/purchase_order/{big['id']}/submit").get_json()["result"]
    assert pending["status"] == "pending"
    assert admin_api.put(f"/api/v1/purchase_order/{big['id']}", json={"remark": "x"}).status_code == 422
    assert api_as("clerk").post(f"/api/v1/purchase_order/{big['id']}/approve").status_code == 403
    assert api_as("finance").post(f"/api/v1/purchase_order/{big['id']}/approve").status_code == 403
    first = api_as("manager").post(f"/api/v1/purchase_order/{big['id']}/approve").get_json()["result"]
    assert (first["status"], first["approval_step"]) == ("pending", 1)
    assert api_as("manager").post(f"/api/v1/purchase_order/{big['id']}/approve").status_code == 403
    done = admin_api.post(f"/api/v1/purchase_order/{big['id']}/approve").get_json()["result"]
    assert done["status"] == "submitted"
    middle = order("200")  # 20,000: manager only; sent back once
    api_as("clerk").post(f"/api/v1/purchase_order/{middle['id']}/submit")
    back = api_as("manager").post(f"/api/v1/purchase_order/{middle['id']}/reject").get_json()["result"]
    assert back["status"] == "draft"
    history = [h["action"] for h in admin_api.get(f"/api/v1/purchase_order/{big['id']}/history").get_json()["result"]]
    assert history[:4] == ["approve", "approve", "submit", "create"]


def _reserved(app, sku, warehouse="WH01"):
    from sqlalchemy import select

    from app.extensions import db, registry

    with app.app_context():
        reg = registry()
        item, bal, wh = reg.cls("item"), reg.cls("stock_balance"), reg.cls("warehouse")
        value = db.session.execute(
            select(bal.reserved_qty)
            .join(item, item.id == bal.item_id)
            .join(wh, wh.id == bal.warehouse_id)
            .where(item.sku == sku, wh.code == warehouse)
        ).scalar()
        db.session.rollback()
        return value


def test_a_delivery_from_another_warehouse_cancelled_reserves_again_where_the_order_did(app, admin_api):
    """The cancel locks both warehouses' stock in one pass (the reversal in WH02, the reservation in WH01)."""
    sku = new_item(admin_api)
    receive(admin_api, sku, "5", "2")
    receive(admin_api, sku, "5", "2", warehouse="WH02")
    order = post(admin_api, "sales_order", [{"item": sku, "qty": "3", "price": "5"}], warehouse="WH01")
    shipped = post(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "2", "price": "5"}],
        warehouse="WH02",
        source_number=order["number"],
    )
    assert (_reserved(app, sku, "WH01"), balance(app, sku, "WH02")[0]) == (D(1), D(3))
    assert admin_api.post(f"/api/v1/sales_delivery/{shipped['id']}/cancel").status_code == 200
    assert (_reserved(app, sku, "WH01"), balance(app, sku, "WH02")[0]) == (D(3), D(5))
    assert ledger_problems(app) == []


def test_sales_order_reserves_and_its_delivery_releases(app, admin_api):
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "2")
    order = post(admin_api, "sales_order", [{"item": sku, "qty": "6", "price": "5"}], warehouse="WH01")
    assert _reserved(app, sku) == D(6)
    other = document(admin_api, "sales_delivery", [{"item": sku, "qty": "5", "price": "5"}], warehouse="WH01")
    refused = admin_api.post(f"/api/v1/sales_delivery/{other['id']}/submit")  # only 4 are not reserved
    assert refused.status_code == 422 and "4" in refused.get_json()["message"]["lines.0.qty"][0]
    delivery = post(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "4", "price": "5"}],
        warehouse="WH01",
        source_number=order["number"],
    )
    assert _reserved(app, sku) == D(2)
    order_now = admin_api.get(f"/api/v1/sales_order/{order['id']}").get_json()["result"]
    assert order_now["lines"][0]["delivered_qty"] == "4"
    too_much = document(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "3", "price": "5"}],
        warehouse="WH01",
        source_number=order["number"],
    )
    assert admin_api.post(f"/api/v1/sales_delivery/{too_much['id']}/submit").status_code == 422
    assert admin_api.post(f"/api/v1/sales_delivery/{delivery['id']}/cancel").status_code == 200
    assert _reserved(app, sku) == D(6)
    assert admin_api.get(f"/api/v1/sales_order/{order['id']}").get_json()["result"]["lines"][0]["delivered_qty"] == "0"
    assert admin_api.post(f"/api/v1/sales_order/{order['id']}/cancel").status_code == 200
    assert _reserved(app, sku) == D(0)
    assert balance(app, sku) == (D(10), D(20))
    assert ledger_problems(app) == []


def test_credit_limit_counts_receivables_and_open_orders(app, admin_api):
    code = f"CR{new_item(admin_api)[1:]}"
    assert (
        admin_api.post(
            "/api/v1/partner/", json={"code": code, "name": "信用测试", "kind": "customer", "credit_limit": "100"}
        ).status_code
        == 201
    )
    sku = new_item(admin_api)
    receive(admin_api, sku, "100", "1")
    post(admin_api, "sales_delivery", [{"item": sku, "qty": "6", "price": "10"}], warehouse="WH01", partner=code)
    post(admin_api, "sales_order", [{"item": sku, "qty": "3", "price": "10"}], warehouse="WH01", partner=code)
    over = document(
        admin_api, "sales_order", [{"item": sku, "qty": "2", "price": "10"}], warehouse="WH01", partner=code
    )
    refused = admin_api.post(f"/api/v1/sales_order/{over['id']}/submit")  # 60 owed + 30 on order + 20 > 100
    assert refused.status_code == 422 and "partner" in refused.get_json()["message"]
    paid = document(admin_api, "payment", [], direction="receipt", partner=code, account="A001", amount="50")
    submitted = admin_api.post(f"/api/v1/payment/{paid['id']}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert admin_api.post(f"/api/v1/sales_order/{over['id']}/submit").status_code == 200
    # a delivery reads the limit with its status UPDATE: 10 owed + 50 on order + 60 > 100
    sale = document(
        admin_api, "sales_delivery", [{"item": sku, "qty": "6", "price": "10"}], warehouse="WH01", partner=code
    )
    refused = admin_api.post(f"/api/v1/sales_delivery/{sale['id']}/submit")
    assert refused.status_code == 422 and "partner" in refused.get_json()["message"], refused.get_json()
    assert admin_api.get(f"/api/v1/sales_delivery/{sale['id']}").get_json()["result"]["status"] == "draft"


def test_partial_receipts_against_a_purchase_order(app, admin_api):
    sku = new_item(admin_api)
    order = post(admin_api, "purchase_order", [{"item": sku, "qty": "10", "price": "3"}], warehouse="WH01")
    first = post(
        admin_api,
        "purchase_receipt",
        [{"item": sku, "qty": "6", "price": "3"}],
        warehouse="WH01",
        source_number=order["number"],
    )
    lines = admin_api.get(f"/api/v1/purchase_order/{order['id']}").get_json()["result"]["lines"]
    assert lines[0]["received_qty"] == "6"
    over = document(
        admin_api,
        "purchase_receipt",
        [{"item": sku, "qty": "5", "price": "3"}],
        warehouse="WH01",
        source_number=order["number"],
    )
    refused = admin_api.post(f"/api/v1/purchase_receipt/{over['id']}/submit")
    assert refused.status_code == 422 and "lines.0.qty" in refused.get_json()["message"]
    unknown = document(
        admin_api,
        "purchase_receipt",
        [{"item": sku, "qty": "1", "price": "3"}],
        warehouse="WH01",
        source_number="CG19990101-0001",
    )
    assert "source_number" in admin_api.post(f"/api/v1/purchase_receipt/{unknown['id']}/submit").get_json()["message"]
    assert admin_api.post(f"/api/v1/purchase_receipt/{first['id']}/cancel").status_code == 200
    lines = admin_api.get(f"/api/v1/purchase_order/{order['id']}").get_json()["result"]["lines"]
    assert lines[0]["received_qty"] == "0"
    assert balance(app, sku) == (D(0), D(0))


def test_reorder_suggestions_become_draft_orders_by_supplier(app, admin_api, api_as, login_as):
    shelf = unique("RP")  # the suggestions come a page at a time: this test's own category's
    assert admin_api.post("/api/v1/category/", json={"code": shelf, "name": f"补货 {shelf}"}).status_code == 201
    low = new_item(
        admin_api,
        reorder_point="10",
        reorder_qty="5",
        max_stock="30",
        default_supplier="S002",
        purchase_price="2.5",
        category=shelf,
    )
    full = new_item(admin_api, reorder_point="10", max_stock="20", default_supplier="S002", category=shelf)
    orphan = new_item(admin_api, reorder_point="3", category=shelf)
    receive(admin_api, low, "4", "2")
    receive(admin_api, full, "25", "1")
    post(admin_api, "purchase_order", [{"item": low, "qty": "2", "price": "2.5"}], warehouse="WH01")  # on order
    found = api_as("purchaser").get("/api/v1/reorder/suggestions", query_string={"category": shelf}).get_json()
    rows = {r["item"]: r for r in found["result"]}
    assert rows[low]["projected"] == "6" and rows[low]["suggested_qty"] == "24"
    assert full not in rows and orphan in rows
    alerts = api_as("purchaser").get("/api/v1/reorder/alerts").get_json()
    assert full in {r["item"] for r in alerts["overstock"]}
    assert api_as("salesperson").get("/api/v1/reorder/suggestions").status_code == 403
    page = login_as("purchaser").get(f"/reorder/?category={shelf}").get_data(as_text=True)
    assert low in page and "24" in page and "S002" in page and 'id="jxc-reorder-all"' in page
    assert 'href="/reorder/"' in page  # the menu links to it
    assert login_as("salesperson").get("/reorder/").status_code in (302, 403)
    made = api_as("purchaser").post("/api/v1/reorder/orders", json={"items": [low, orphan], "warehouse": "WH01"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["skipped_without_supplier"] == [orphan]
    order = admin_api.get(f"/api/v1/purchase_order/{made.get_json()['orders'][0]['id']}").get_json()["result"]
    assert order["status"] == "draft" and order["partner"]["key"] == "S002"
    assert [(line["item"]["key"], line["qty"], line["price"]) for line in order["lines"]] == [(low, "24", "2.50")]


def test_receivable_ageing_statement_and_overdue(app, admin_api, api_as, login_as):
    import datetime as dt

    code = f"AG{new_item(admin_api)[1:]}"
    admin_api.post(
        "/api/v1/partner/",
        json={"code": code, "name": "账龄测试", "kind": "customer", "payment_terms_days": 30, "owner": "u_salesperson"},
    )
    sku = new_item(admin_api)
    today = business_today()  # the date the business (and its ageing) runs on
    old_day = (today - dt.timedelta(days=75)).isoformat()
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "10", "price": "1"}], warehouse="WH01", date=old_day)
    post(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "4", "price": "25"}],
        warehouse="WH01",
        partner=code,
        date=old_day,
        salesperson="u_salesperson",  # the salesperson reads the deliveries in their scope
    )  # 100, due 45 days ago
    post(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "2", "price": "10"}],
        warehouse="WH01",
        partner=code,
        date=today.isoformat(),
        salesperson="u_salesperson",
    )  # 20, not due yet
    paid = document(
        admin_api, "payment", [], direction="receipt", partner=code, account="A001", amount="30", date=today.isoformat()
    )
    admin_api.post(f"/api/v1/payment/{paid['id']}/submit")
    pk = admin_api.get(f"/api/v1/partner/?q=(filters:!((col:code,opr:eq,value:{code})))").get_json()["ids"][0]
    account = api_as("salesperson").get(f"/api/v1/accounts/{pk}").get_json()
    assert account["receivable"] == "90.00"
    assert account["ageing"]["31_60"] == "70.00" and account["ageing"]["current"] == "20.00"
    assert [row["balance"] for row in account["statement"]] == ["100.00", "120.00", "90.00"]
    overdue = {row["partner"] for row in api_as("finance").get("/api/v1/accounts/overdue").get_json()["result"]}
    assert code in overdue
    page = login_as("finance").get("/accounts/overdue")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert code in html and "70.00" in html and 'href="/accounts/overdue"' in html
    assert code in login_as("salesperson").get("/accounts/overdue").get_data(as_text=True)  # their own customer
    assert api_as("purchaser").get(f"/api/v1/accounts/{pk}").status_code == 404  # a customer: not on their side


def test_line_defaults_last_price_and_supplier_scorecard(app, admin_api):
    sku = new_item(admin_api, sale_price="8.8", purchase_price="5")
    first = document(admin_api, "sales_order", [{"item": sku, "qty": "1"}], warehouse="WH01", partner="K005")
    assert first["lines"][0]["price"] == "8.80" and first["lines"][0]["unit"]["key"] == "PCS"
    receive(admin_api, sku, "5", "5")
    post(admin_api, "sales_order", [{"item": sku, "qty": "1", "price": "7.5"}], warehouse="WH01", partner="K005")
    again = document(admin_api, "sales_order", [{"item": sku, "qty": "1"}], warehouse="WH01", partner="K005")
    assert again["lines"][0]["price"] == "7.50"  # the customer's last price
    other = document(admin_api, "sales_order", [{"item": sku, "qty": "1"}], warehouse="WH01", partner="K006")
    assert other["lines"][0]["price"] == "8.80"

    order = post(
        admin_api,
        "purchase_order",
        [{"item": sku, "qty": "10", "price": "5", "delivery_date": "2026-11-20"}],
        warehouse="WH01",
        partner="S003",
        date="2026-11-01",
    )
    post(
        admin_api,
        "purchase_receipt",
        [{"item": sku, "qty": "9", "rejected_qty": "1", "price": "5"}],
        warehouse="WH01",
        partner="S003",
        source_number=order["number"],
        date="2026-11-25",
    )
    supplier = admin_api.get("/api/v1/partner/?q=(filters:!((col:code,opr:eq,value:S003)))").get_json()["ids"][0]
    card = admin_api.get(f"/api/v1/accounts/{supplier}/scorecard").get_json()
    assert card["on_time_rate"] == "0.0000" and card["rejected_rate"] == "0.1000"
    assert card["price_history"][sku] == [{"date": "2026-11-25", "price": "5.0000"}]
    item_id = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{sku})))").get_json()["ids"][0]
    last = admin_api.get(f"/api/v1/accounts/{supplier}/last_price/{item_id}?side=purchase").get_json()
    assert last["price"] == "5.0000"


def test_purchase_budget_warns_at_80_percent_and_needs_approval_past_100(app, admin_api, api_as):
    code = f"B{new_item(admin_api)[1:7]}"
    assert admin_api.post("/api/v1/category/", json={"code": code, "name": f"预算{code}"}).status_code == 201
    assert (
        admin_api.post("/api/v1/budget/", json={"period": "2026-03", "category": code, "amount": "1000"}).status_code
        == 201
    )
    assert (
        admin_api.post("/api/v1/budget/", json={"period": "2026-3", "category": code, "amount": "1"}).status_code == 422
    )
    sku = new_item(admin_api, category=code)

    def order(qty):
        doc = document(
            admin_api, "purchase_order", [{"item": sku, "qty": qty, "price": "1"}], warehouse="WH01", date="2026-03-10"
        )
        return api_as("purchaser").post(f"/api/v1/purchase_order/{doc['id']}/submit").get_json()

    near = order("850")
    assert near["result"]["status"] == "submitted" and "80%" in near["warnings"][0]
    over = order("200")
    assert over["result"]["status"] == "pending" and "1050.00" in over["warnings"][0]
    assert api_as("purchaser").post(f"/api/v1/purchase_order/{over['id']}/approve").status_code == 403
    approved = api_as("manager").post(f"/api/v1/purchase_order/{over['id']}/approve").get_json()
    assert approved["result"]["status"] == "submitted"


@contextmanager
def approvals_reading(app: Any, text: str) -> Iterator[None]:
    """The registry in force with approvals.yaml read from `text` (as the loader reads the file), the rest of its
    metadata as shipped; the shipped registry again afterwards."""
    from app.meta.approvals import load_approvals

    holder = app.extensions["jxc_registry"]
    shipped = holder.current
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "approvals.yaml").write_text(text, encoding="utf-8")
        problems: list[str] = []
        chains = load_approvals(Path(folder), shipped.meta.models, shipped.meta.roles, lambda *a: problems.append(a))
    assert problems == []
    holder._current = dataclasses.replace(shipped, meta=dataclasses.replace(shipped.meta, approvals=chains), cache={})
    try:
        yield
    finally:
        holder._current = shipped


def test_who_approves_orders_over_budget_only_sees_the_inbox_on_the_desk_and_the_phone(
    app, admin_api, api_as, login_as
):
    """The over-budget level was added in code (a manager) beside approvals.yaml, and `approves_anything` read
    approvals.yaml's amount bands only: where no band names the manager, an order over its budget waited for them and
    no 待审批 was shown on their home (desk or phone). approvals.yaml now names the added level's role too
    (`added_levels`), and both read it there."""
    shipped = (app.extensions["jxc_registry"].root / "approvals.yaml").read_text(encoding="utf-8")
    assert "over_budget: manager" in shipped
    code = f"B{new_item(admin_api)[1:7]}"
    assert admin_api.post("/api/v1/category/", json={"code": code, "name": f"预算{code}"}).status_code == 201
    budget = {"period": "2026-05", "category": code, "amount": "100"}
    assert admin_api.post("/api/v1/budget/", json=budget).status_code == 201
    sku = new_item(admin_api, category=code)
    with approvals_reading(app, shipped.replace("role: manager", "role: admin")):
        doc = document(
            admin_api, "purchase_order", [{"item": sku, "qty": "60", "price": "2"}], warehouse="WH01", date="2026-05-10"
        )
        over = api_as("purchaser").post(f"/api/v1/purchase_order/{doc['id']}/submit").get_json()
        assert over["result"]["status"] == "pending", over
        waiting = api_as("manager").get("/api/v1/inbox/").get_json()["result"]
        assert [(d["number"], d["role"]) for d in waiting if d["id"] == doc["id"]] == [(doc["number"], "manager")]
        manager = login_as("manager")
        assert 'id="tile-approvals"' in manager.get("/").get_data(as_text=True)
        assert 'id="ph-tile-inbox"' in manager.get("/phone/").get_data(as_text=True)
        assert 'id="ph-tile-inbox"' not in login_as("purchaser").get("/phone/").get_data(as_text=True)
        approved = api_as("manager").post(f"/api/v1/purchase_order/{doc['id']}/approve").get_json()
        assert approved["result"]["status"] == "submitted"


def test_what_an_order_closed_gives_its_budget_back(app, admin_api):
    """关闭: the rest of an order never comes, so it no longer counts against the month's budget (as a cancel)."""
    code = f"B{new_item(admin_api)[1:7]}"
    assert admin_api.post("/api/v1/category/", json={"code": code, "name": f"预算{code}"}).status_code == 201
    budget = {"period": "2026-04", "category": code, "amount": "100"}
    assert admin_api.post("/api/v1/budget/", json=budget).status_code == 201
    sku = new_item(admin_api, category=code)

    def order(qty):
        doc = document(
            admin_api, "purchase_order", [{"item": sku, "qty": qty, "price": "2"}], warehouse="WH01", date="2026-04-10"
        )
        return admin_api.post(f"/api/v1/purchase_order/{doc['id']}/submit").get_json()

    first = order("40")  # 80.00 of 100.00
    assert first["result"]["status"] == "submitted" and "80.00 / 100.00" in first["warnings"][0]
    lines = [{"item": sku, "qty": "10", "price": "2"}]
    receipt = document(admin_api, "purchase_receipt", lines, warehouse="WH01", source_number=first["result"]["number"])
    assert admin_api.post(f"/api/v1/purchase_receipt/{receipt['id']}/submit").status_code == 200
    closed = admin_api.post(f"/api/v1/purchase_order/{first['id']}/close")  # 30 of 40 never come: 20.00 spent
    assert closed.status_code == 200, closed.get_json()
    second = order("35")  # 20.00 + 70.00: within the budget, no manager needed
    assert second["result"]["status"] == "submitted" and "90.00 / 100.00" in second["warnings"][0]


def test_payment_allocations_settle_named_documents(app, admin_api):
    import datetime as dt

    code = f"PA{new_item(admin_api)[1:]}"
    admin_api.post(
        "/api/v1/partner/", json={"code": code, "name": "核销测试", "kind": "customer", "payment_terms_days": 10}
    )
    sku = new_item(admin_api)
    today = business_today()  # the date the business (and its ageing) runs on
    old_day = (today - dt.timedelta(days=40)).isoformat()

    def receipt_for(number, allocated, amount):
        """A draft 收款单 of `amount` allocating `allocated` to document `number`."""
        lines = [{"source_number": number, "allocated_amount": allocated}]
        return document(
            admin_api,
            "payment",
            lines,
            direction="receipt",
            partner=code,
            account="A001",
            amount=amount,
            date=today.isoformat(),
        )

    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "10", "price": "1"}], warehouse="WH01", date=old_day)
    old = post(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "1", "price": "100"}],
        warehouse="WH01",
        partner=code,
        date=old_day,
    )
    new = post(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "1", "price": "50"}],
        warehouse="WH01",
        partner=code,
        date=today.isoformat(),
    )
    too_much = receipt_for(new["number"], "60", "60")
    refused = admin_api.post(f"/api/v1/payment/{too_much['id']}/submit")
    assert refused.status_code == 422 and "lines.0.allocated_amount" in refused.get_json()["message"]
    wrong = receipt_for("XSCK19990101-0001", "1", "1")
    assert "lines.0.source_number" in admin_api.post(f"/api/v1/payment/{wrong['id']}/submit").get_json()["message"]
    paid = receipt_for(new["number"], "50", "50")
    submitted = admin_api.post(f"/api/v1/payment/{paid['id']}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    pk = admin_api.get(f"/api/v1/partner/?q=(filters:!((col:code,opr:eq,value:{code})))").get_json()["ids"][0]
    account = admin_api.get(f"/api/v1/accounts/{pk}").get_json()
    assert account["receivable"] == "100.00"
    assert account["ageing"]["1_30"] == "100.00" and account["ageing"]["current"] == "0.00"  # the old one is open
    assert old["number"] in [row["number"] for row in account["statement"]]


def test_a_new_document_is_dated_today_where_the_business_is(app, admin_api, login_as):
    sku = new_item(admin_api)
    response = admin_api.post(
        "/api/v1/sales_order/",
        json={"partner": "K001", "warehouse": "WH01", "lines": [{"item": sku, "qty": "1", "price": "1"}]},
    )
    assert response.status_code == 201, response.get_json()
    today = business_today().isoformat()
    assert response.get_json()["result"]["date"] == today
    assert response.get_json()["result"]["number"].startswith("XS" + today.replace("-", ""))
    page = login_as("admin").get("/m/purchase_receipt/new").get_data(as_text=True)
    assert f'value="{today}"' in page


def test_payments_over_several_accounts_and_account_balances(app, admin_api, api_as, login_as):
    """多账户收付款: off, a line may not name another account; on, its amount goes to that account."""
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "1")
    delivery = post(admin_api, "sales_delivery", [{"item": sku, "qty": "2", "price": "150"}], warehouse="WH01")
    before = {r["code"]: r for r in admin_api.get("/api/v1/cash/").get_json()["result"]}
    lines = [
        {"source_number": delivery["number"], "allocated_amount": "200", "account": "A002"},
        {"account": "A002", "allocated_amount": "30"},  # an advance into the other account
    ]
    split = document(admin_api, "payment", lines, direction="receipt", partner="K001", account="A001", amount="300")
    refused = admin_api.post(f"/api/v1/payment/{split['id']}/submit")
    assert refused.status_code == 422
    assert {e["field"] for e in refused.get_json()["errors"]} == {"lines.0.account", "lines.1.account"}

    assert admin_api.put("/api/v1/settings/multi_account_payments", json={"value": True}).status_code == 200
    try:
        assert admin_api.post(f"/api/v1/payment/{split['id']}/submit").status_code == 200
        after = {r["code"]: r for r in admin_api.get("/api/v1/cash/").get_json()["result"]}
        moved = {code: D(after[code]["balance"]) - D(before[code]["balance"]) for code in ("A001", "A002")}
        assert moved == {"A001": D(70), "A002": D(230)}  # 300 received: 200 + 30 by A002, the rest by A001
        assert D(after["A002"]["in"]) - D(before["A002"]["in"]) == D(230)
        blank = document(
            admin_api,
            "payment",
            [{"allocated_amount": "5"}],
            direction="receipt",
            partner="K001",
            account="A001",
            amount="5",
        )
        response = admin_api.post(f"/api/v1/payment/{blank['id']}/submit")
        assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "lines.0.source_number"
    finally:
        admin_api.put("/api/v1/settings/multi_account_payments", json={"value": False})
    page = login_as("finance").get("/cash/").get_data(as_text=True)
    assert 'data-account="A002"' in page and money_text(after["A002"]["balance"]) in page  # 199,980.00
    # 价格屏蔽: a role that may not see amounts gets no balances either
    hide_prices(app, ["finance"])
    try:
        assert api_as("finance").get("/api/v1/cash/").status_code == 403
        assert login_as("finance").get("/cash/").status_code == 403
    finally:
        admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []})
