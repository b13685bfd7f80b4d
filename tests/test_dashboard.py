"""The home page's dashboard: tiles from the reports as the reader, and documents waiting for my approval."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D
from typing import Any

from conftest import PASSWORD, unique, writing

from app.extensions import db
from app.services.money.reorder import counts
from app.services.posting.inbox import waiting_for
from app.services.users.access import access_for
from reports.dashboard import dashboard, same_days_last_month
from tests.ledger_helpers import document, new_item, new_partner, post


def tiles(app: Any, username: str, today: dt.date) -> dict[str, Any]:
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        found = dashboard(db.session, access_for(user), today)
        db.session.rollback()
        return found


def test_same_days_last_month_stop_at_its_end():
    now, before = same_days_last_month(dt.date(2026, 3, 31))
    assert (now.start, now.end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert (before.start, before.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))


def test_tiles_are_the_reports_totals_and_follow_the_reader(app, api_as):
    admin = api_as("admin")
    sku = new_item(admin)
    post(admin, "purchase_receipt", [{"item": sku, "qty": "9", "price": "4"}], warehouse="WH01", date="2026-10-02")
    post(admin, "sales_delivery", [{"item": sku, "qty": "2", "price": "10"}], warehouse="WH01", date="2026-10-03")
    today = dt.date(2026, 11, 3)
    manager = tiles(app, "u_manager", today)
    sales = admin.get("/api/v1/reports/sales_analysis", query_string={"period": "2026-11-01..2026-11-03"}).get_json()
    previous = admin.get("/api/v1/reports/sales_analysis", query_string={"period": "2026-10-01..2026-10-03"}).get_json()
    assert manager["sales_mtd"]["value"] == sales["totals"]["amount"]
    assert manager["sales_mtd"]["previous"] == previous["totals"]["amount"]
    assert D(previous["totals"]["amount"]) >= 20
    assert {"profit_mtd", "stock_value", "trend", "top_items", "approvals"} <= set(manager)
    months = [point["month"] for point in manager["trend"]]
    assert months == ["2025-12"] + [
        f"2026-{month:02d}" for month in range(1, 12)
    ]  # the year, a month without sales too
    amounts = {point["month"]: D(point["amount"]) for point in manager["trend"]}
    assert amounts["2026-10"] >= D(previous["totals"]["amount"]) and min(amounts.values()) >= 0
    salesperson = tiles(app, "u_salesperson", today)
    assert "sales_mtd" in salesperson
    assert "profit_mtd" not in salesperson and "stock_value" not in salesperson  # cost is hidden from them
    keeper = tiles(app, "u_warehouse", today)
    assert "sales_mtd" not in keeper and "stock_value" not in keeper
    # 待审批 only to who approves something (approvals.yaml names no keeper's or salesperson's level)
    assert "approvals" not in keeper and "approvals" not in salesperson
    assert "approvals" in tiles(app, "u_finance", today)


def test_money_tiles_are_to_the_cent_though_stock_values_keep_four_places(app, api_as):
    """3 in for 10.00 (3.3333 each), 1 sold at 10.00: a profit of 6.6667 and a stock of 6.6667 are kept so, but a
    tile shows yuan to the cent (1371.6148 and 29452.6964 stood beside tiles of two places)."""
    admin = api_as("admin")
    sku = new_item(admin)
    post(admin, "purchase_receipt", [{"item": sku, "qty": "3", "price": "3.3333"}], warehouse="WH01", date="2026-08-03")
    post(admin, "sales_delivery", [{"item": sku, "qty": "1", "price": "10"}], warehouse="WH01", date="2026-08-04")
    manager = tiles(app, "u_manager", dt.date(2026, 8, 5))
    query = {"period": "2026-08-01..2026-08-05", "item": sku}
    profit = admin.get("/api/v1/reports/gross_profit", query_string=query).get_json()["totals"]["profit"]
    assert profit == "6.6667"  # the report keeps the cost's places
    for value in (manager["profit_mtd"]["value"], manager["profit_mtd"]["previous"], manager["stock_value"]):
        assert re.fullmatch(r"-?\d+\.\d\d", value), value
    query = {"period": "2026-08-01..2026-08-05"}
    every = admin.get("/api/v1/reports/gross_profit", query_string=query).get_json()["totals"]["profit"]
    assert D(manager["profit_mtd"]["value"]) == D(every).quantize(D("0.01"))


def test_waiting_for_my_approval(app, api_as):
    purchaser = api_as("purchaser")
    sku = new_item(api_as("admin"))
    order = document(purchaser, "purchase_order", [{"item": sku, "qty": "100", "price": "200"}], warehouse="WH01")
    response = purchaser.post(f"/api/v1/purchase_order/{order['id']}/submit")
    assert response.get_json()["result"]["status"] == "pending"
    with app.app_context():
        sm = app.appbuilder.sm

        def numbers(username: str) -> set[str]:
            return {w["number"] for w in waiting_for(db.session, access_for(sm.find_user(username=username)))}

        assert order["number"] in numbers("u_manager")
        assert order["number"] not in numbers("u_purchaser")  # neither their level nor, being theirs, theirs to approve
        assert order["number"] not in numbers("u_finance")
        db.session.rollback()


def test_the_inbox_statement_is_kept_for_who_sees_every_row(app, api_as):
    """The menu's 待审批 look is one statement built once per metadata version and set of models to approve for
    users without a row scope (a user with one gets a statement with their scope in it, never a kept one)."""
    from app.extensions import registry

    api_as("manager")  # the users exist
    with app.app_context():
        sm, reg = app.appbuilder.sm, registry()
        for username in ("admin", "u_manager", "u_finance"):
            access = access_for(sm.find_user(username=username))
            documents = [m for m in reg.meta.models.values() if m.kind == "document" and access.can(m.key, "approve")]
            assert documents and all(access.scope(m) is None for m in documents)
            waiting_for(db.session, access)
            kept = reg.cache.get(("inbox_pending", tuple(m.key for m in documents)))
            assert kept is not None and "UNION ALL" in str(kept)
            waiting_for(db.session, access)
            assert reg.cache[("inbox_pending", tuple(m.key for m in documents))] is kept  # built once
        db.session.rollback()


def test_home_page_shows_the_tiles_the_reader_may_see(login_as):
    manager = login_as("manager").get("/").get_data(as_text=True)
    assert 'id="tile-approvals"' in manager and 'id="tile-stock_value"' in manager
    salesperson = login_as("salesperson").get("/").get_data(as_text=True)
    # no 待审批 tile: no level of approvals.yaml is a salesperson's, nothing can wait for them
    assert 'id="tile-stock_value"' not in salesperson and 'id="tile-approvals"' not in salesperson


def test_home_page_greets_the_reader_by_their_name(app, login_as):
    """欢迎，李销售 as the menu and every print call them (it greeted them by their login, 欢迎，x_greeted)."""
    from app.services.users.accounts import create_user

    username = unique("x_greeted").lower()
    with app.app_context(), writing():
        create_user(username, "salesperson", PASSWORD, name="李销售")
        db.session.remove()
    home = login_as(username).get("/").get_data(as_text=True)
    assert "欢迎，李销售" in home and f"欢迎，{username}" not in home


def test_home_page_counts_the_items_below_reorder_once(app, login_as):
    """The home page's alerts count the items below their reorder point; the tile shows that count (passed in,
    not counted again), so both say the same."""
    page = login_as("manager").get("/").get_data(as_text=True)
    tile = re.search(r'id="tile-below_reorder".*?jxc-tile-value">(\d+)<', page, re.S)
    assert tile is not None
    with app.app_context():
        access = access_for(app.appbuilder.sm.find_user(username="u_manager"))
        assert int(tile.group(1)) == counts(db.session, access)[0]
        assert dashboard(db.session, access, dt.date(2026, 11, 3), below_reorder=7)["below_reorder"] == 7
        db.session.rollback()


def test_a_report_built_once_runs_with_each_run_s_values(api_as):
    """A report's statements are kept per metadata version with the period and filters as parameters: runs one
    after another with other periods and filters give each its own figures."""
    admin = api_as("admin")
    sku = new_item(admin)
    customer, _ = new_partner(admin, "customer")
    post(admin, "purchase_receipt", [{"item": sku, "qty": "9", "price": "4"}], warehouse="WH01", date="2026-09-02")
    post(admin, "sales_delivery", [{"item": sku, "qty": "2", "price": "10"}], warehouse="WH01", date="2026-09-03")
    post(
        admin,
        "sales_delivery",
        [{"item": sku, "qty": "3", "price": "10"}],
        warehouse="WH01",
        date="2026-09-04",
        partner=customer,
    )

    def figures(period: str, **filters: str) -> tuple[str, str]:
        query = {"period": period, "by": "day", **filters}
        totals = admin.get("/api/v1/reports/gross_profit", query_string=query).get_json()["totals"]
        return totals["revenue"], totals["cost"]

    assert figures("2026-09-03..2026-09-03", item=sku) == ("20.00", "8.00")
    assert figures("2026-09-04..2026-09-04", item=sku) == ("30.00", "12.00")
    assert figures("2026-09-03..2026-09-04", item=sku) == ("50.00", "20.00")
    assert figures("2026-09-03..2026-09-04", item=sku, partner=customer) == ("30.00", "12.00")
    assert figures("2026-09-03..2026-09-03", item=sku, partner=customer) == ("0.00", "0.00")
