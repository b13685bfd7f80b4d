"""采购预算 kept by finance, its list showing what is spent and what remains, on SQLite and PostgreSQL: finance
(and a manager) create and change budgets; the list's 已用 and 剩余 (REST API and grid) are the figure the
over-budget check reads, to the cent, as orders are submitted, wait for approval, are rejected, closed in part
and cancelled; whoever may not see purchase figures sees neither (derived from what the fields are)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

from ledger_helpers import document, new_item

from tests.conftest import Api
from tests.test_bulk_writes import Statements


def budgeted_category(admin_api: Any, api: Any, amount: str) -> tuple[str, int, str]:
    """A new category with a budget for March 2091 made by `api`: (category code, budget id, an item's sku)."""
    code = f"B{new_item(admin_api)[1:8]}"
    assert admin_api.post("/api/v1/category/", json={"code": code, "name": f"预算{code}"}).status_code == 201
    made = api.post("/api/v1/budget/", json={"period": "2091-03", "category": code, "amount": amount})
    assert made.status_code == 201, made.get_json()
    return code, made.get_json()["id"], new_item(admin_api, category=code)


def listed(api: Any, code: str) -> dict[str, Any]:
    """The budget's row as the REST list gives it, checked against the grid's row."""
    answer = api.get("/api/v1/budget/", query_string={"q": f"(filters:!((col:category,opr:eq,value:{code})))"})
    assert answer.status_code == 200, answer.get_json()
    (row,) = [r for r in answer.get_json()["result"] if r["category"]["key"] == code]
    newest = {"size": 50, "sort[0][field]": "id", "sort[0][dir]": "desc"}
    grid = api.get("/api/v1/grid/budget/rows", query_string=newest).get_json()["data"]
    (same,) = [r for r in grid if r["id"] == row["id"]]
    assert (same["spent"], same["remaining"]) == (row["spent"], row["remaining"])
    return row


def order(admin_api: Any, sku: str, qty: str, price: str) -> dict[str, Any]:
    lines = [{"item": sku, "qty": qty, "price": price}]
    return document(admin_api, "purchase_order", lines, warehouse="WH01", date="2091-03-10")


def test_finance_keeps_budgets_and_the_list_shows_what_the_check_counts(app, admin_api, api_as):
    finance, buyer, manager = api_as("finance"), api_as("purchaser"), api_as("manager")
    code, pk, sku = budgeted_category(admin_api, finance, "1000")
    assert (listed(finance, code)["spent"], listed(finance, code)["remaining"]) == ("0.00", "1000.00")
    first = order(admin_api, sku, "3", "100.005")  # 300.02 (a cent rounded)
    submitted = buyer.post(f"/api/v1/purchase_order/{first['id']}/submit").get_json()
    assert submitted["result"]["status"] == "submitted"
    assert (listed(finance, code)["spent"], listed(finance, code)["remaining"]) == ("300.02", "699.98")

    over = order(admin_api, sku, "7", "100.01")  # 700.07: 1000.09 with the first, over the budget
    pending = buyer.post(f"/api/v1/purchase_order/{over['id']}/submit").get_json()
    assert pending["result"]["status"] == "pending" and "1000.09 / 1000.00" in pending["warnings"][0]
    row = listed(finance, code)  # what waits for approval counts, as the check counts it
    assert (row["spent"], row["remaining"]) == ("1000.09", "-0.09")

    changed = finance.put(f"/api/v1/budget/{pk}", json={"amount": "1200", "version": row["version"]})
    assert changed.status_code == 200, changed.get_json()
    assert (listed(finance, code)["spent"], listed(finance, code)["remaining"]) == ("1000.09", "199.91")
    assert manager.post(f"/api/v1/purchase_order/{over['id']}/reject").status_code == 200
    assert (listed(manager, code)["spent"], listed(manager, code)["remaining"]) == ("300.02", "899.98")

    lines = admin_api.get(f"/api/v1/purchase_order/{first['id']}").get_json()["result"]["lines"]
    closed = buyer.post(f"/api/v1/purchase_order/{first['id']}/close", json={"lines": [lines[0]["id"]]})
    assert closed.status_code == 200, closed.get_json()
    assert listed(finance, code)["spent"] == "0.00"  # nothing received: all of it closed

    again = order(admin_api, sku, "2", "50")
    assert buyer.post(f"/api/v1/purchase_order/{again['id']}/submit").status_code == 200
    assert listed(finance, code)["spent"] == "100.00"
    assert admin_api.post(f"/api/v1/purchase_order/{again['id']}/cancel").status_code == 200
    assert listed(finance, code)["spent"] == "0.00"
    assert finance.delete(f"/api/v1/budget/{pk}").status_code == 200


def test_a_budget_made_after_its_orders_shows_them_and_a_manager_keeps_budgets_too(app, admin_api, api_as):
    code = f"B{new_item(admin_api)[1:8]}"
    assert admin_api.post("/api/v1/category/", json={"code": code, "name": f"预算{code}"}).status_code == 201
    sku = new_item(admin_api, category=code)
    doc = order(admin_api, sku, "4", "25")
    assert admin_api.post(f"/api/v1/purchase_order/{doc['id']}/submit").status_code == 200
    made = api_as("manager").post("/api/v1/budget/", json={"period": "2091-03", "category": code, "amount": "90"})
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["result"]["spent"], made.get_json()["result"]["remaining"]) == ("100.00", "-10.00")
    assert (
        api_as("purchaser")
        .post("/api/v1/budget/", json={"period": "2091-04", "category": code, "amount": "1"})
        .status_code
        == 403
    )


def test_who_may_not_see_purchase_figures_sees_neither_spent_nor_remaining(app):
    from app.extensions import db, registry
    from app.services.users.access import access_for

    with app.app_context():
        model = registry().model("budget")
        spent, remaining = model.field("spent"), model.field("remaining")
        assert spent.figures == {"purchase"} and "purchase" in remaining.figures  # computed from a purchase figure
        keeper = access_for(app.appbuilder.sm.find_user(username="u_warehouse"))
        finance = access_for(app.appbuilder.sm.find_user(username="u_finance"))
        assert not keeper.can_see(model, spent) and not keeper.can_see(model, remaining)
        assert finance.can_see(model, spent) and finance.can_see(model, remaining)
        db.session.remove()


def test_an_item_moved_to_another_category_moves_what_its_orders_spend(app, admin_api, api_as):
    finance = api_as("finance")
    old, _pk, sku = budgeted_category(admin_api, finance, "1000")
    new, _other, _sku = budgeted_category(admin_api, finance, "1000")
    doc = order(admin_api, sku, "2", "60")
    assert admin_api.post(f"/api/v1/purchase_order/{doc['id']}/submit").status_code == 200
    assert (listed(finance, old)["spent"], listed(finance, new)["spent"]) == ("120.00", "0.00")
    item = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{sku})))").get_json()["result"][0]
    moved = admin_api.put(f"/api/v1/item/{item['id']}", json={"category": new, "version": item["version"]})
    assert moved.status_code == 200, moved.get_json()
    assert (listed(finance, old)["spent"], listed(finance, new)["spent"]) == ("0.00", "120.00")


def test_two_orders_submitted_at_once_cannot_both_pass_under_the_budget(app, admin_api, api_as):
    """Each reads what the month spends with the month's budgets locked: the second counts the first (read unlocked,
    both counted only themselves, 600 of 1000 each, and both were submitted without a manager's approval)."""
    finance = api_as("finance")
    buyers = [Api(app, "u_purchaser"), Api(app, "u_purchaser")]
    for _ in range(4):
        code, _pk, sku = budgeted_category(admin_api, finance, "1000")
        docs = [order(admin_api, sku, "6", "100") for _ in buyers]
        start = Barrier(2)

        def submit(i, docs=docs, start=start):
            start.wait()
            answer = buyers[i].post(f"/api/v1/purchase_order/{docs[i]['id']}/submit")
            assert answer.status_code == 200, answer.get_json()
            return answer.get_json()["result"]["status"]

        with ThreadPoolExecutor(2) as pool:
            statuses = sorted(pool.map(submit, range(2)))
        assert statuses == ["pending", "submitted"], statuses  # the second waits for the manager
        assert listed(finance, code)["spent"] == "1200.00"


def six_items_on_a_submitted_order(admin_api, finance):
    """Two budgeted categories; six items of the first on a submitted order of 60.00: (first, second, the skus)."""
    old, _pk, sku = budgeted_category(admin_api, finance, "1000")
    new, _other, _sku = budgeted_category(admin_api, finance, "1000")
    skus = [sku] + [new_item(admin_api, category=old) for _ in range(5)]
    lines = [{"item": s, "qty": "1", "price": "10"} for s in skus]
    doc = document(admin_api, "purchase_order", lines, warehouse="WH01", date="2091-03-10")
    assert admin_api.post(f"/api/v1/purchase_order/{doc['id']}/submit").status_code == 200
    return old, new, skus


def test_a_grid_batch_moving_many_items_refreshes_the_budgets_once(app, admin_api, api_as):
    """Six items moved to another category in one grid save: the budgets of the two categories read and written once
    for the batch (each item's move read every budget of every month again, and wrote them)."""
    from app.extensions import db, registry

    finance = api_as("finance")
    old, new, skus = six_items_on_a_submitted_order(admin_api, finance)
    assert (listed(finance, old)["spent"], listed(finance, new)["spent"]) == ("60.00", "0.00")
    items = [
        admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{s})))").get_json()["result"][0] for s in skus
    ]
    ops = [{"op": "update", "id": i["id"], "version": i["version"], "values": {"category": new}} for i in items]
    with app.app_context():
        seen = Statements(db.engine)
        table = registry().cls("budget").__table__.name
    with seen:
        saved = admin_api.post(
            "/api/v1/grid/item/batch", json={"client_batch_id": uuid.uuid4().hex, "source": "paste", "ops": ops}
        )
    assert saved.status_code == 200, saved.get_json()
    read = [s for s, _ in seen.sent if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s]
    assert len(read) == 1, read  # the budgets of the two categories, locked, once
    assert len(seen.starting(f"UPDATE {table.upper()} ")) == 2  # the two that changed
    assert (listed(finance, old)["spent"], listed(finance, new)["spent"]) == ("0.00", "60.00")


def test_the_approvers_inbox_reads_an_orders_budgets_without_locking_them(app, admin_api, api_as):
    """The 待审批 inbox (asked by every page a manager opens) works out an over-budget order's levels as a submit does,
    but takes no lock on the month's budgets: a page would wait for every posting of the month."""
    from app.extensions import db

    _code, _pk, sku = budgeted_category(admin_api, api_as("finance"), "100")
    over = order(admin_api, sku, "2", "60")
    assert api_as("purchaser").post(f"/api/v1/purchase_order/{over['id']}/submit").get_json()["result"]["status"] == (
        "pending"
    )
    manager = api_as("manager")
    with app.app_context():
        seen = Statements(db.engine)
    with seen:
        waiting = manager.get("/api/v1/inbox/")
    assert waiting.status_code == 200 and over["id"] in [d["id"] for d in waiting.get_json()["result"]]
    assert [s for s, _ in seen.sent if "FOR UPDATE" in s.upper()] == []


def test_an_import_moving_many_items_refreshes_the_budgets_once(app, admin_api, api_as):
    """The same move as a spreadsheet import (update by SKU, the 分类 column alone): the budgets read once."""
    from test_imports import run, workbook

    from app.extensions import db, registry

    finance = api_as("finance")
    old, new, skus = six_items_on_a_submitted_order(admin_api, finance)
    with app.app_context():
        seen = Statements(db.engine)
        table = registry().cls("budget").__table__.name
    with seen:
        outcome = run(app, "item", workbook([["sku", "category"], *[[s, new] for s in skus]]), action="update")
    assert outcome.applied and outcome.updated == len(skus), [i.line("en") for i in outcome.issues]
    read = [s for s, _ in seen.sent if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s]
    assert len(read) == 1, read
    assert (listed(finance, old)["spent"], listed(finance, new)["spent"]) == ("0.00", "60.00")
