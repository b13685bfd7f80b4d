"""The analyses the owner asked for, each over a fixed scenario with its expected table written out: ABC (and
the job that writes the class onto the items), slow-moving stock with its hints, supplier ranking, the purchase
cost trend, stocktake losses and recommendations for a customer; and what a reader who hides figures gets."""

from __future__ import annotations

from typing import Any

from app.clock import business_today
from tests.conftest import hide_prices, unique
from tests.ledger_helpers import new_item, new_partner, post
from tests.test_reports import follow, run


def category(api: Any) -> str:
    """A new category's code (a scenario's items in it, so the report can be limited to them)."""
    code = unique("K")
    assert api.post("/api/v1/category/", json={"code": code, "name": f"分析 {code}"}).status_code == 201
    return code


def table(answer: dict[str, Any], *columns: str) -> list[tuple[Any, ...]]:
    """The answer's rows as tuples of the given columns, links as their keys."""
    return [
        tuple(row[c]["key"] if isinstance(row.get(c), dict) else row.get(c) for c in columns) for row in answer["rows"]
    ]


def test_abc_by_value_and_by_margin_and_the_job_that_classes_the_items(app, admin_api, api_as, login_as, monkeypatch):
    from tests.test_jobs import wait_for

    kind = category(admin_api)
    customer, _ = new_partner(admin_api, "customer")
    x1, x2, x3, x4 = (new_item(admin_api, category=kind) for _ in range(4))
    costs = {x1: "5", x2: "2", x3: "13", x4: "1"}
    lines = [{"item": sku, "qty": "100", "price": cost} for sku, cost in costs.items()]
    post(admin_api, "purchase_receipt", lines, warehouse="WH01", date="2025-03-01")
    sold = [(x1, "10", "70"), (x2, "10", "20"), (x3, "5", "14"), (x4, "3", "10")]
    lines = [{"item": sku, "qty": qty, "price": price} for sku, qty, price in sold]
    post(admin_api, "sales_delivery", lines, warehouse="WH01", partner=customer, date="2025-03-10")
    post(
        admin_api,
        "sales_return",
        [{"item": x2, "qty": "1", "price": "20"}],
        warehouse="WH01",
        partner=customer,
        date="2025-03-12",
    )
    period = "2025-03-01..2025-03-31"
    columns = ("item", "qty", "revenue", "cost", "profit", "margin", "share", "cumulative", "abc_class")
    by_value = run(admin_api, "abc", period=period, category=kind)
    # 980 of sales: 700 (71.43%) and 180 are A (the items before them hold less than 80%), 70 B (before it
    # 89.80% < 95%), 30 C
    assert table(by_value, *columns) == [
        (x1, "10", "700.00", "50.00", "650.00", "92.86", "71.43", "71.43", "A"),
        (x2, "9", "180.00", "18.00", "162.00", "90.00", "18.37", "89.80", "A"),
        (x3, "5", "70.00", "65.00", "5.00", "7.14", "7.14", "96.94", "B"),
        (x4, "3", "30.00", "3.00", "27.00", "90.00", "3.06", "100.00", "C"),
    ]
    assert {k: by_value["totals"][k] for k in ("qty", "revenue", "cost", "profit", "margin")} == {
        "qty": "27",
        "revenue": "980.00",
        "cost": "136.00",
        "profit": "844.00",
        "margin": "86.12",
    }
    by_margin = run(admin_api, "abc", period=period, category=kind, by="margin")
    # 844 of margin: x4's 27 ranks before x3's 5, and after 96.21% both are C
    assert table(by_margin, "item", "profit", "share", "cumulative", "abc_class") == [
        (x1, "650.00", "77.01", "77.01", "A"),
        (x2, "162.00", "19.19", "96.21", "A"),
        (x4, "27.00", "3.20", "99.41", "C"),
        (x3, "5.00", "0.59", "100.00", "C"),
    ]
    # thresholds are settings: with A at 70% only x1 is A
    assert admin_api.put("/api/v1/settings/abc_a_percent", json={"value": "70"}).status_code == 200
    try:
        assert [r[-1] for r in table(run(admin_api, "abc", period=period, category=kind), *columns)] == [
            "A",
            "B",
            "C",
            "C",
        ]
        assert admin_api.put("/api/v1/settings/abc_a_percent", json={"value": "101"}).status_code == 422
    finally:
        assert admin_api.put("/api/v1/settings/abc_a_percent", json={"value": 80}).status_code == 200

    # a salesperson sees sales but not cost: by value the class stays; by margin is not offered (its share and
    # class are of the margin they may not see), in the list's options, the page's form and the run alike
    salesperson = api_as("salesperson")
    names = [c["name"] for c in run(salesperson, "abc", period=period, category=kind)["columns"]]
    assert names == ["item", "qty", "revenue", "share", "cumulative", "abc_class", "stored_class"]
    refused = run(salesperson, "abc", status=422, period=period, category=kind, by="margin")
    assert [e["field"] for e in refused["errors"]] == ["by"]
    listed = {r["name"]: r for r in salesperson.get("/api/v1/reports/").get_json()["result"]}
    by_param = next(p for p in listed["abc"]["params"] if p["name"] == "by")
    assert [o["value"] for o in by_param["options"]] == ["value"]
    form = login_as("salesperson").get("/reports/abc/").get_data(as_text=True)
    assert "按销售额" in form and "按毛利" not in form
    assert "按毛利" in login_as("admin").get("/reports/abc/").get_data(as_text=True)

    # the job writes the classes onto the items (audited), which the item grid and reorder then show
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    submitted = admin_api.post("/api/v1/jobs/", json={"kind": "abc_classify", "args": {"period": period}})
    assert submitted.status_code == 202, submitted.get_json()
    job = wait_for(app, submitted.get_json()["job_id"])
    assert job["status"] == "done", job
    stored = {}
    for sku in (x1, x2, x3, x4):
        found = admin_api.get("/api/v1/item/", query_string={"q": f"(filters:!((col:sku,opr:eq,value:{sku})))"})
        stored[sku] = found.get_json()["result"][0]["abc_class"]
    assert stored == {x1: "A", x2: "A", x3: "B", x4: "C"}
    again = run(admin_api, "abc", period=period, category=kind)
    assert [row["stored_class"] for row in again["rows"]] == ["A", "A", "B", "C"]
    assert api_as("purchaser").post("/api/v1/jobs/", json={"kind": "abc_classify", "args": {}}).status_code == 403
    # the report's page offers the job to whoever may start it (not to a salesperson, who writes no items)
    assert 'id="jxc-report-job" data-kind="abc_classify"' in login_as("admin").get("/reports/abc/").get_data(
        as_text=True
    )
    assert "jxc-report-job" not in login_as("salesperson").get("/reports/abc/").get_data(as_text=True)
    # reorder lists A items first, with their class
    for sku in (x4, x1):
        assert admin_api.put(
            f"/api/v1/item/{_item_id(admin_api, sku)}", json={"reorder_point": "1000"}
        ).status_code in (
            200,
            201,
        )
    reorder = [
        (r["item"]["key"], r["abc_class"]) for r in run(admin_api, "reorder")["rows"] if r["item"]["key"] in (x1, x4)
    ]
    assert reorder == [(x1, "A"), (x4, "C")]


def _item_id(api: Any, sku: str) -> int:
    found = api.get("/api/v1/item/", query_string={"q": f"(filters:!((col:sku,opr:eq,value:{sku})))"}).get_json()
    return found["ids"][0]


def test_slow_moving_idle_and_overstocked_with_their_hints_and_no_order_by_a_hidden_figure(app, admin_api, api_as):
    """As of 1 June over 90 days: s1 never left the shelf, s2 sold 3 of 100 (2,910 days of cover), s3 sells
    fine and is not listed. The blind clerk gets the same rows in key order: never ordered by the value it
    may not see."""
    kind = category(admin_api)
    s1, s2, s3 = (new_item(admin_api, category=kind) for _ in range(3))
    customer, _ = new_partner(admin_api, "customer")
    lines = [{"item": s1, "qty": "6", "price": "2.5"}, {"item": s2, "qty": "100", "price": "1"}]
    lines.append({"item": s3, "qty": "10", "price": "1"})
    post(admin_api, "purchase_receipt", lines, warehouse="WH01", date="2026-01-05")
    sell = {"warehouse": "WH01", "partner": customer}
    post(admin_api, "sales_delivery", [{"item": s2, "qty": "3", "price": "2"}], date="2026-05-20", **sell)
    post(admin_api, "sales_delivery", [{"item": s3, "qty": "5", "price": "2"}], date="2026-05-25", **sell)
    args = {"days": "90", "date": "2026-06-01", "category": kind}
    answer = run(admin_api, "slow_moving", **args)
    columns = ("item", "qty", "value", "last_out", "days_idle", "sold_qty", "days_of_cover", "excess_qty", "action")
    assert table(answer, *columns) == [
        (s2, "97", "97.00", "2026-05-20", 12, "3", "2910", "94", "库存可售天数过长：建议促销、暂停采购"),
        (s1, "6", "15.00", None, None, "0", None, "6", "长期无出库：建议促销清仓或退回供应商"),
    ]
    assert {k: answer["totals"][k] for k in ("qty", "value", "sold_qty", "excess_qty")} == {
        "qty": "103",
        "value": "112.00",
        "sold_qty": "3",
        "excess_qty": "100",
    }
    clerk = api_as("clerk")  # 价格屏蔽 hides every figure from the clerk in the test settings
    hide_prices(app, ["clerk"])
    try:
        blind = run(clerk, "slow_moving", **args)
    finally:
        assert admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []}).status_code == 200
    assert "value" not in [c["name"] for c in blind["columns"]]
    assert table(blind, "item", "qty") == sorted([(s1, "6"), (s2, "97")])  # by the key, not by the hidden value


def test_supplier_ranking_on_time_returned_and_price_against_the_others(app, admin_api, api_as):
    kind = category(admin_api)
    p1, p2 = (new_item(admin_api, category=kind) for _ in range(2))
    a, _ = new_partner(admin_api, "supplier")
    b, _ = new_partner(admin_api, "supplier")
    order_a = post(
        admin_api,
        "purchase_order",
        [
            {"item": p1, "qty": "10", "price": "10", "delivery_date": "2025-05-05"},
            {"item": p2, "qty": "10", "price": "5", "delivery_date": "2025-05-05"},
        ],
        warehouse="WH01",
        partner=a,
        date="2025-05-01",
    )
    order_b = post(
        admin_api,
        "purchase_order",
        [{"item": p1, "qty": "20", "price": "12", "delivery_date": "2025-05-10"}],
        warehouse="WH01",
        partner=b,
        date="2025-05-01",
    )
    receipt = {"warehouse": "WH01"}
    on_time = post(
        admin_api,
        "purchase_receipt",
        [{"item": p1, "qty": "10", "price": "10"}],
        partner=a,
        date="2025-05-04",
        source_number=order_a["number"],
        **receipt,
    )
    late = [{"item": p2, "qty": "10", "price": "5"}]
    post(admin_api, "purchase_receipt", late, partner=a, date="2025-05-08", source_number=order_a["number"], **receipt)
    from_b = [{"item": p1, "qty": "20", "price": "12"}]
    post(
        admin_api, "purchase_receipt", from_b, partner=b, date="2025-05-09", source_number=order_b["number"], **receipt
    )
    unordered = [{"item": p2, "qty": "5", "price": "6"}]
    post(admin_api, "purchase_receipt", unordered, partner=b, date="2025-05-12", **receipt)
    back = [{"item": p1, "qty": "2", "price": "10"}]
    post(admin_api, "purchase_return", back, partner=a, date="2025-05-15", source_number=on_time["number"], **receipt)
    answer = run(admin_api, "supplier_ranking", period="2025-05-01..2025-05-31", category=kind)
    columns = ("partner", "lines", "items", "qty", "amount", "on_time_rate", "returned_qty", "returned_rate")
    # a: p1 at 10 against b's 12, p2 at 5 against b's 6: 150 for what costs 180 at b's prices (-16.67%)
    # b: 240 + 30 for what costs 200 + 25 at a's (+20%); b's unordered receipt is not judged on time
    assert table(answer, *columns, "price_vs_others") == [
        (b, 2, 2, "25", "270.00", "100.00", "0", "0.00", "20.00"),
        (a, 2, 2, "20", "150.00", "50.00", "2", "10.00", "-16.67"),
    ]
    assert {k: answer["totals"][k] for k in ("lines", "qty", "amount", "returned_qty")} == {
        "lines": "4",
        "qty": "45",
        "amount": "420.00",
        "returned_qty": "2",
    }
    assert answer["rows"][0]["_drill"].startswith("/reports/purchase_cost_trend/?partner=")
    # the salesperson may not run it; a clerk blind to prices gets the rates without the money
    run(api_as("salesperson"), "supplier_ranking", status=403)
    hide_prices(app, ["clerk"])
    try:
        blind = run(api_as("clerk"), "supplier_ranking", period="2025-05-01..2025-05-31", category=kind)
    finally:
        assert admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []}).status_code == 200
    assert table(blind, *columns[:4], "on_time_rate") == [(b, 2, 2, "25", "100.00"), (a, 2, 2, "20", "50.00")]
    assert "amount" not in blind["totals"] and "price_vs_others" not in blind["rows"][0]


def test_purchase_cost_trend_per_supplier_and_month_against_the_previous_one(admin_api):
    item = new_item(admin_api)
    a, _ = new_partner(admin_api, "supplier")
    b, _ = new_partner(admin_api, "supplier")
    for partner, day, qty, price in (
        (a, "2025-01-10", "10", "10"),
        (a, "2025-02-05", "10", "11"),
        (b, "2025-02-10", "10", "9"),
        (a, "2025-02-20", "10", "13"),
        (a, "2025-04-03", "5", "12"),
    ):
        line = [{"item": item, "qty": qty, "price": price}]
        post(admin_api, "purchase_receipt", line, warehouse="WH01", partner=partner, date=day)
    answer = run(admin_api, "purchase_cost_trend", period="2025-02-01..2025-04-30", item=item)
    columns = ("partner", "period", "qty", "amount", "min_cost", "avg_cost", "max_cost", "change")
    # January is only what February is compared with; April against February (March had none)
    assert table(answer, *columns) == sorted(  # by the keys: item, supplier (as read), period
        [
            (a, "2025-02", "20", "240.00", "11.0000", "12.0000", "13.0000", "20.00"),
            (a, "2025-04", "5", "60.00", "12.0000", "12.0000", "12.0000", "0.00"),
            (b, "2025-02", "10", "90.00", "9.0000", "9.0000", "9.0000", None),
        ]
    )
    assert (answer["totals"]["qty"], answer["totals"]["amount"]) == ("35", "390.00")
    weekly = run(admin_api, "purchase_cost_trend", period="2025-02-01..2025-02-28", item=item, by="week", partner=a)
    assert table(weekly, "period", "avg_cost", "change") == [
        ("2025-W06", "11.0000", None),
        ("2025-W08", "13.0000", "18.18"),
    ]


def test_stocktake_loss_by_reason_and_warehouse(admin_api, api_as, login_as):
    kind = category(admin_api)
    l1, l2 = (new_item(admin_api, category=kind) for _ in range(2))
    lines = [{"item": l1, "qty": "10", "price": "2"}, {"item": l2, "qty": "5", "price": "4"}]
    post(admin_api, "purchase_receipt", lines, warehouse="WH01", date="2025-06-01")
    counted = [
        {"item": l1, "counted_qty": "7", "reason": "damage"},
        {"item": l2, "counted_qty": "6", "reason": "miscount"},
    ]
    post(admin_api, "stocktake", counted, warehouse="WH01", date="2025-06-30")
    period = "2025-06-01..2025-06-30"
    columns = ("group", "loss_qty", "loss_value", "gain_qty", "gain_value", "net_value")
    answer = run(admin_api, "stocktake_loss", period=period, category=kind)
    assert table(answer, *columns) == [
        ("损坏", "3", "6.00", "0", "0.00", "6.00"),
        ("盘点误差", "0", "0.00", "1", "4.00", "-4.00"),
    ]
    by_warehouse = run(admin_api, "stocktake_loss", period=period, category=kind, by="warehouse")
    assert table(by_warehouse, *columns) == [("WH01", "3", "6.00", "1", "4.00", "2.00")]
    keeper = run(api_as("warehouse"), "stocktake_loss", period=period, category=kind)
    assert [c["name"] for c in keeper["columns"]] == ["group", "loss_qty", "gain_qty"]
    # drill-down: a reason's row opens the differing lines with that reason (by its value, not its label),
    # a warehouse's all of them; each line opens its stocktake
    damage = answer["rows"][0]
    assert "reason=damage" in damage["_drill"] and damage["_drill"].startswith("/reports/stocktake_lines/?")
    line = ("warehouse", "item", "reason", "book_qty", "counted_qty", "diff_qty", "amount")
    damaged = follow(admin_api, damage["_drill"])
    assert table(damaged, *line) == [("WH01", l1, "损坏", "10", "7", "-3", "-6.00")]
    assert damaged["rows"][0]["_drill"].startswith("/m/stocktake/?search=PD")
    both = follow(admin_api, by_warehouse["rows"][0]["_drill"])
    assert sorted(table(both, "item", "diff_qty", "amount")) == sorted([(l1, "-3", "-6.00"), (l2, "1", "4.00")])
    assert both["totals"]["amount"] == "-2.00"
    # the keeper follows the same rows and sees quantities only
    keeper_lines = follow(api_as("warehouse"), keeper["rows"][0]["_drill"])
    assert table(keeper_lines, "item", "reason", "diff_qty") == [(l1, "损坏", "-3")]
    assert "amount" not in {c["name"] for c in keeper_lines["columns"]} and "amount" not in keeper_lines["totals"]
    page = login_as("warehouse").get(keeper["rows"][0]["_drill"]).get_data(as_text=True)  # the page it opens
    assert '<option value="">全部</option>' in page and '<option value="damage" selected>损坏</option>' in page


def test_recommendations_due_again_and_bought_together_on_the_customer_page_and_the_order_form(
    app, admin_api, login_as
):
    m1, m2, m3, m4, m5 = (new_item(admin_api) for _ in range(5))
    stock = [{"item": sku, "qty": "100", "price": "1"} for sku in (m1, m2, m3, m4, m5)]
    post(admin_api, "purchase_receipt", stock, warehouse="WH01", date="2025-01-02")
    me, me_id = new_partner(admin_api, "customer")
    o1, _ = new_partner(admin_api, "customer")
    o2, _ = new_partner(admin_api, "customer")
    for partner, day, items in (
        (me, "2025-07-01", (m1, m2)),
        (o1, "2025-07-15", (m1, m3)),
        (o1, "2025-07-16", (m5,)),
        (o2, "2025-07-20", (m1, m3, m4)),
        (o2, "2025-07-25", (m2, m4)),
        (me, "2025-07-31", (m1,)),
        (me, "2025-08-30", (m1,)),
    ):
        lines = [{"item": sku, "qty": "2", "price": "3"} for sku in items]
        post(admin_api, "sales_delivery", lines, warehouse="WH01", partner=partner, date=day)
    answer = run(admin_api, "recommendations", customer=me, date="2025-09-30")
    columns = ("rank", "kind", "item", "times", "with_item", "last_date", "interval_days", "due_date", "usual_qty")
    # m1 every 30 days since 1 July, last on 30 August: due 29 September; m3 went twice with m1, m4 once with
    # m1 and once with m2 (the tie goes to the first item); m5 never with what this customer buys
    assert table(answer, *columns) == [
        (1, "常买，又到补货时间", m1, 3, None, "2025-08-30", 30, "2025-09-29", "2"),
        (2, "别人常一起购买", m3, 2, m1, None, None, None, None),
        (3, "别人常一起购买", m4, 2, m1, None, None, None, None),
    ]
    early = run(admin_api, "recommendations", customer=me, date="2025-09-15")
    assert [row["item"]["key"] for row in early["rows"]] == [m3, m4]  # m1 is not due until 29 September
    assert run(admin_api, "recommendations", status=422)["errors"][0]["field"] == "customer"
    # the customer's page reads the last year up to today: today o1 takes m5 with m1, which this customer buys
    with app.app_context():
        today = business_today().isoformat()
    sell = {"warehouse": "WH01", "date": today}
    post(admin_api, "sales_delivery", [{"item": m1, "qty": "1", "price": "3"}], partner=me, **sell)
    post(admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "3"} for sku in (m1, m5)], partner=o1, **sell)
    web = login_as("admin")
    page = web.get(f"/m/partner/{me_id}").get_data(as_text=True)
    assert "推荐商品" in page and f"账本测试 {m5}" in page and "jxc-recommend-more" in page
    form = web.get("/m/sales_order/new").get_data(as_text=True)
    assert 'id="jxc-recommend"' in form
    assert 'id="jxc-recommend"' not in web.get("/m/purchase_order/new").get_data(as_text=True)
