"""Reorder (补货): one click drafts purchase orders dated the business's day, for exactly what was asked."""

from __future__ import annotations

import pytest

from tests.conftest import unique
from tests.ledger_helpers import new_item, new_partner, receive


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


def a_shelf(api, count=5):
    """A new category and supplier with `count` items of nothing on hand below a reorder point of 10 (max 20),
    each suggested 20; the suggestions' filters find exactly these."""
    category = unique("RC")
    assert api.post("/api/v1/category/", json={"code": category, "name": f"补货 {category}"}).status_code == 201
    supplier, _ = new_partner(api, "supplier")
    skus = [
        new_item(api, reorder_point="10", max_stock="20", category=category, default_supplier=supplier)
        for _ in range(count)
    ]
    return category, supplier, sorted(skus)


def suggested(api, **args):
    answer = api.get("/api/v1/reorder/suggestions", query_string=args)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_suggestions_come_a_page_at_a_time_within_the_filters(app, admin_api):
    category, supplier, skus = a_shelf(admin_api)
    first = suggested(admin_api, category=category, page_size=2)
    second = suggested(admin_api, category=category, page_size=2, page=2)
    last = suggested(admin_api, category=category, page_size=2, page=3)
    assert first["count"] == second["count"] == last["count"] == 5
    assert [first["page"], second["page"], last["page"]] == [1, 2, 3]  # counted from 1, as asked
    assert [r["item"] for r in first["result"] + second["result"] + last["result"]] == skus  # by SKU, none twice
    assert {r["suggested_qty"] for r in first["result"]} == {"20"}
    assert [r["item"] for r in suggested(admin_api, supplier=supplier, category=category)["result"]] == skus
    assert suggested(admin_api, category=category, supplier="S001")["count"] == 0  # not their default supplier
    bad = admin_api.get("/api/v1/reorder/suggestions", query_string={"category": "NO-SUCH"})
    assert bad.status_code == 422 and "category" in bad.get_json()["message"]
    assert admin_api.get("/api/v1/reorder/suggestions", query_string={"page_size": 1001}).status_code == 422


def test_a_warehouse_filter_counts_that_warehouses_stock_and_orders(app, admin_api):
    """Enough stock in WH01 keeps an item off the list of all warehouses, not off WH02's (stock kept in WH01,
    where the warehouse keeper of other tests works, so their own view is the admin's)."""
    category, _, (stocked, *_) = a_shelf(admin_api, 1)
    receive(admin_api, stocked, "15", "1", warehouse="WH01")
    assert suggested(admin_api, category=category)["count"] == 0
    assert suggested(admin_api, category=category, warehouse="WH01")["count"] == 0
    there = suggested(admin_api, category=category, warehouse="WH02")["result"]
    assert [(r["item"], r["on_hand"], r["suggested_qty"]) for r in there] == [(stocked, "0", "20")]


def test_a_page_of_the_report_is_the_same_rows_counts_and_totals_as_the_whole(app, admin_api):
    """The runner's page (ordered, paged, counted and totalled in the database by the handler) against the
    same report unpaged (ordered and totalled by the runner in Python)."""
    from app.extensions import db
    from app.services.users.access import access_for
    from reports.context import Page
    from reports.runner import run_report

    category, _, skus = a_shelf(admin_api, 5)
    receive(admin_api, skus[1], "3", "1")
    with app.app_context():
        for role in ("admin", "u_purchaser"):  # a purchaser does not see the ABC class: ordered by SKU alone
            access = access_for(app.appbuilder.sm.find_user(username=role))
            whole = run_report(db.session, access, "reorder", {"category": category})
            pages = [run_report(db.session, access, "reorder", {"category": category}, Page(at, 2)) for at in (0, 2, 4)]
            db.session.rollback()
            assert whole.count is None and {p.count for p in pages} == {5}
            assert [r["item"] for p in pages for r in p.rows] == [r["item"] for r in whole.rows]
            assert all(p.totals == whole.totals for p in pages), (whole.totals, pages[0].totals)
            assert whole.totals["suggested_qty"] == 4 * 20 + 17 and whole.totals["on_hand"] == 3


def test_orders_for_every_suggestion_within_the_filters_and_as_a_job_when_many(app, admin_api, monkeypatch):
    from tests.test_jobs import wait_for

    category, supplier, skus = a_shelf(admin_api, 3)
    made = admin_api.post("/api/v1/reorder/orders", json={"filters": {"category": category}})
    order = draft(admin_api, made)
    assert sorted(line["item"]["key"] for line in order["lines"]) == skus
    first_warehouse = min(
        w["code"] for w in admin_api.get("/api/v1/warehouse/?q=(page_size:1000)").get_json()["result"]
    )
    assert (order["partner"]["key"], order["warehouse"]["key"]) == (supplier, first_warehouse)  # none asked
    refused = admin_api.post("/api/v1/reorder/orders", json={"filters": {"category": category, "colour": "red"}})
    assert refused.status_code == 422 and "filters.colour" in refused.get_json()["message"]

    category, supplier, skus = a_shelf(admin_api, 3)
    monkeypatch.setattr("reports.views.REORDER_INLINE", 2)
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    queued = admin_api.post("/api/v1/reorder/orders", json={"filters": {"category": category}, "warehouse": "WH02"})
    assert queued.status_code == 202, queued.get_json()
    assert queued.get_json()["suggestions"] == 3
    job = wait_for(app, queued.get_json()["job_id"])
    assert job["status"] == "done" and job["result"]["lines"] == 3, job
    (number,) = job["result"]["orders"]
    found = admin_api.get(
        "/api/v1/purchase_order/", query_string={"q": f"(filters:!((col:number,opr:eq,value:{number})))"}
    )
    order = admin_api.get(f"/api/v1/purchase_order/{found.get_json()['ids'][0]}").get_json()["result"]
    assert sorted(line["item"]["key"] for line in order["lines"]) == skus and order["warehouse"]["key"] == "WH02"


def test_the_page_pages_filters_and_drafts_the_items_ticked(app, admin_api, login_as, monkeypatch):
    from tests.conftest import csrf_from

    monkeypatch.setattr("app.views.home.REORDER_PAGE", 2)
    category, supplier, skus = a_shelf(admin_api, 3)
    clerk = login_as("admin")
    first = clerk.get(f"/reorder/?category={category}").get_data(as_text=True)
    assert 'id="jxc-reorder-count">3<' in first and "显示第 1–2 条，共 3 条" in first
    assert [sku for sku in skus if f'value="{sku}"' in first] == skus[:2] and 'id="jxc-reorder-next"' in first
    second = clerk.get(f"/reorder/?category={category}&page=2").get_data(as_text=True)
    assert [sku for sku in skus if f'value="{sku}"' in second] == skus[2:] and 'id="jxc-reorder-prev"' in second
    assert "为全部 3 条建议生成采购订单" in first
    wrong = clerk.get("/reorder/?supplier=NO-SUCH").get_data(as_text=True)
    assert 'id="jxc-reorder-error"' in wrong and "NO-SUCH" in wrong
    form = {"csrf_token": csrf_from(first), "category": category, "warehouse": "WH01", "scope": "selected"}
    made = clerk.post("/reorder/orders", data={**form, "items": [skus[2]]})
    assert made.status_code == 302 and made.headers["Location"].endswith("/m/purchase_order/")
    orders = admin_api.get(
        "/api/v1/purchase_order/", query_string={"q": "(order_column:id,order_direction:desc,page_size:1)"}
    )
    order = admin_api.get(f"/api/v1/purchase_order/{orders.get_json()['ids'][0]}").get_json()["result"]
    assert [line["item"]["key"] for line in order["lines"]] == [skus[2]] and order["partner"]["key"] == supplier
    nothing = clerk.post("/reorder/orders", data=form)
    assert nothing.status_code == 302 and f"category={category}" in nothing.headers["Location"]


def test_any_report_comes_a_page_at_a_time_through_the_reports_api(app, admin_api):
    """`page_size` on /api/v1/reports/<name>: the reorder report pages in SQL, another is sliced by the runner;
    both answer the rows of the whole in order, `count` and the whole's totals."""
    category, _, skus = a_shelf(admin_api, 3)
    for sku in skus:
        receive(admin_api, sku, "1", "2")  # one each: still to reorder, and stock as of today
    for name, args in (("reorder", {"category": category}), ("stock_as_of", {"category": category})):
        whole = admin_api.get(f"/api/v1/reports/{name}", query_string=args).get_json()
        pages = [
            admin_api.get(f"/api/v1/reports/{name}", query_string={**args, "page_size": 2, "page": n}).get_json()
            for n in range(1, (len(whole["rows"]) + 1) // 2 + 1)
        ]
        assert "count" not in whole and len(whole["rows"]) == 3 and {p["count"] for p in pages} == {3}, name
        assert [r for p in pages for r in p["rows"]] == whole["rows"] and pages[0]["totals"] == whole["totals"]
        if name == "reorder":
            assert [r["item"]["key"] for r in whole["rows"]] == skus
    bad = admin_api.get("/api/v1/reports/reorder", query_string={"page_size": 0})
    assert bad.status_code == 422 and bad.get_json()["errors"] == [
        {"field": "page_size", "message": "每页行数应为 1 到 1000 的整数：0"}
    ]


def test_the_page_says_what_was_made_and_only_then_what_was_not(app, admin_api, login_as):
    """The message said 「…；无默认供应商未生成：-」 when every item had a supplier, and 「已生成采购订单草稿：-」 in
    green when none had one."""
    from tests.conftest import csrf_from

    with_supplier = below_reorder_point(admin_api)
    without = new_item(admin_api, reorder_point="10", max_stock="20", purchase_price="3")
    client = login_as("purchaser")
    form = {"csrf_token": csrf_from(client.get("/reorder/").get_data(as_text=True)), "warehouse": "WH01"}
    made = client.post("/reorder/orders", data={**form, "scope": "selected", "items": [with_supplier]})
    said = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "已生成采购订单草稿：CG" in said and "未生成" not in said and "：-" not in said
    none = client.post("/reorder/orders", data={**form, "scope": "selected", "items": [without]})
    said = client.get(none.headers["Location"]).get_data(as_text=True)
    assert f"没有默认供应商、未生成采购订单的商品：{without}" in said and "已生成" not in said
    assert "alert-warning" in said
