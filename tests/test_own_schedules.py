"""Reports a user schedules to themselves (not only admins), on SQLite and PostgreSQL with a real SMTP server
(aiosmtpd on loopback): the report is made as them when it is sent (their row scope and masks, not an admin's),
they see, change and delete only their own, and may schedule nothing else (no other recipient, outside address,
robot, 催款 or backup); admins still see every schedule."""

from __future__ import annotations

from typing import Any

from conftest import unique
from ledger_helpers import new_item
from test_schedules import CREATED, orders_of_two_salespeople, wait_run, xlsx_rows


def own(api: Any, monkeypatch: Any, **fields: Any) -> Any:
    monkeypatch.setenv("JXC_CLOCK", CREATED)
    name = unique("own").lower()
    body = {"name": name, "title": f"我的报表 {name}", "kind": "report", "cron": "0 8 * * *", **fields}
    return api.post("/api/v1/schedules/", json=body)


def mailed(app: Any, api: Any, smtp: Any, monkeypatch: Any, me: str, params: dict[str, Any]) -> Any:
    """`me` schedules the report `params` to themselves and runs it now, as its owner may: the one mail it sent."""
    made = own(api, monkeypatch, params=params, recipients=[me], skip_empty=False)
    assert made.status_code == 201, made.get_json()
    item = made.get_json()["result"]
    assert item["owner"] == me
    run_id = api.post(f"/api/v1/schedules/{item['id']}/run").get_json()["run_id"]
    assert wait_run(app, run_id).status == "done"
    (mail,) = smtp.about(item["title"])
    assert str(mail["To"]) == f"{me}@example.com"
    return mail


def test_a_salesperson_schedules_a_report_to_themselves_and_gets_it_as_they_see_it(
    app, api_as, admin_api, smtp, monkeypatch
):
    tag = orders_of_two_salespeople(admin_api)
    params = {"report": "sales_order", "filters": {"remark": tag}}
    mail = mailed(app, api_as("salesperson"), smtp, monkeypatch, "u_salesperson", params)
    customers = {row[i] for row in xlsx_rows(mail)[1:] for i, _ in enumerate(row) if isinstance(row[i], str)}
    assert any("K001" in str(c) for c in customers) and not any("K003" in str(c) for c in customers)

    # masks: the item listing as a purchaser reads it (sale figures hidden)
    sku = new_item(admin_api, purchase_price="3.2100", sale_price="8.7600", wholesale_price="6.5400")
    params = {"report": "item", "filters": {"sku": sku}}
    mail = mailed(app, api_as("purchaser"), smtp, monkeypatch, "u_purchaser", params)
    text = repr(xlsx_rows(mail)) + mail.get_body(("plain",)).get_content()
    assert sku in text and "3.21" in text
    assert "零售价" not in text and "批发价" not in text and "8.76" not in text and "6.54" not in text
    seller = api_as("salesperson")  # their log: their own runs only
    runs = seller.get("/api/v1/schedules/runs").get_json()["result"]
    assert runs and {r["schedule_id"] for r in runs} <= {
        s["id"] for s in seller.get("/api/v1/schedules/").get_json()["result"]
    }


def test_a_user_schedules_nothing_but_a_report_to_themselves(app, api_as, monkeypatch):
    manager = api_as("manager")
    params = {"report": "sales_order"}
    to_other = own(manager, monkeypatch, params=params, recipients=["u_salesperson"])
    assert to_other.status_code == 422
    assert "只能发给您自己（u_manager）" in to_other.get_json()["message"]
    outside = own(
        manager,
        monkeypatch,
        params=params,
        recipients=["u_manager"],
        external=True,
        run_as="admin",
        addresses=["boss@example.com"],
    )
    assert outside.status_code == 422 and "只有管理员可以设置" in outside.get_json()["message"]
    robot = [{"type": "wecom", "url": "https://qyapi.weixin.qq.com/x?key=1"}]
    assert own(manager, monkeypatch, params=params, recipients=["u_manager"], robots=robot).status_code == 422
    for kind in ("dunning", "backup", "digest"):
        answer = own(manager, monkeypatch, kind=kind, params={}, recipients=["u_manager"])
        assert answer.status_code == 422 and "只有管理员可以安排催款" in answer.get_json()["message"], kind
    keeper = own(api_as("warehouse"), monkeypatch, params={"report": "sales_analysis"}, recipients=["u_warehouse"])
    assert keeper.status_code == 422 and "您无权查看「销售分析」" in keeper.get_json()["message"]


def test_a_user_sees_changes_and_deletes_only_their_own_schedules(app, api_as, admin_api, monkeypatch):
    manager, finance = api_as("manager"), api_as("finance")
    mine = own(manager, monkeypatch, params={"report": "sales_order"}, recipients=["u_manager"]).get_json()["result"]
    theirs = own(finance, monkeypatch, params={"report": "payment"}, recipients=["u_finance"]).get_json()["result"]
    listed = {s["id"] for s in manager.get("/api/v1/schedules/").get_json()["result"]}
    assert mine["id"] in listed and theirs["id"] not in listed
    assert all(s["owner"] == "u_manager" for s in manager.get("/api/v1/schedules/").get_json()["result"])
    everyone = {s["id"] for s in admin_api.get("/api/v1/schedules/").get_json()["result"]}
    assert {mine["id"], theirs["id"]} <= everyone
    body = {k: theirs[k] for k in ("name", "title", "kind", "cron", "params", "recipients")}
    assert manager.put(f"/api/v1/schedules/{theirs['id']}", json=body).status_code == 404
    assert manager.post(f"/api/v1/schedules/{theirs['id']}/run").status_code == 404
    assert manager.delete(f"/api/v1/schedules/{theirs['id']}").status_code == 404
    changed = manager.put(
        f"/api/v1/schedules/{mine['id']}",
        json=body
        | {"name": mine["name"], "params": {"report": "sales_order"}, "recipients": ["u_manager"], "cron": "0 9 * * 1"},
    )
    assert changed.status_code == 200 and changed.get_json()["result"]["cron"] == "0 9 * * 1"
    robot = [{"type": "wecom", "url": "https://qyapi.weixin.qq.com/x?key=SECRET"}]  # an admin adds a robot
    whole = changed.get_json()["result"]
    body = {k: whole[k] for k in ("name", "title", "kind", "cron", "params", "recipients")}
    assert admin_api.put(f"/api/v1/schedules/{mine['id']}", json=body | {"robots": robot}).status_code == 200
    (seen,) = [s for s in manager.get("/api/v1/schedules/").get_json()["result"] if s["id"] == mine["id"]]
    assert seen["robots"] == [{"type": "wecom"}]  # its key is an admin's to see
    assert manager.delete(f"/api/v1/schedules/{mine['id']}").status_code == 200
    assert mine["id"] not in {s["id"] for s in admin_api.get("/api/v1/schedules/").get_json()["result"]}
    assert admin_api.delete(f"/api/v1/schedules/{theirs['id']}").status_code == 200


def test_the_schedules_page_is_in_a_managers_menu_and_shows_only_their_own(app, login_as, api_as, monkeypatch):
    theirs = own(api_as("finance"), monkeypatch, params={"report": "payment"}, recipients=["u_finance"])
    client = login_as("manager")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/schedules/"' in home
    page = client.get("/admin/schedules/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert theirs.get_json()["result"]["name"] not in html
    assert 'name="run_as"' not in html and 'name="addresses"' not in html and 'value="dunning"' not in html


def test_a_reports_page_lists_the_users_own_schedules_of_that_report(app, api_as, admin_api, monkeypatch):
    """`GET /api/v1/schedules/?report=<name>` (what a report page's 定时发送 lists, and saving the same filters again
    changes): the user's own schedules of that report, not another report's nor another user's; an admin's are the
    admins' own, not a user's to themselves."""
    manager, finance = api_as("manager"), api_as("finance")
    params = {"report": "sales_order", "filters": {"remark": unique("R")}}
    mine = own(manager, monkeypatch, params=params, recipients=["u_manager"]).get_json()["result"]
    other = {"report": "payment", "filters": params["filters"]}  # filters of its own: no twin of another test's
    other_report = own(manager, monkeypatch, params=other, recipients=["u_manager"]).get_json()
    theirs = own(finance, monkeypatch, params=params, recipients=["u_finance"]).get_json()
    admins = own(admin_api, monkeypatch, params=params, recipients=["u_manager"]).get_json()
    try:
        listed = manager.get("/api/v1/schedules/?report=sales_order").get_json()["result"]
        assert [s["id"] for s in listed] == [mine["id"]] and listed[0]["params"] == params
        assert listed[0]["when"] == "每天 08:00"
        by_admin = admin_api.get("/api/v1/schedules/?report=sales_order").get_json()["result"]
        assert admins["result"]["id"] in {s["id"] for s in by_admin}
        assert {mine["id"], theirs["result"]["id"]}.isdisjoint({s["id"] for s in by_admin})
        assert manager.get("/api/v1/schedules/?report=purchase_order").get_json()["result"] == []
    finally:
        for made in (mine, other_report["result"], theirs["result"], admins["result"]):
            assert admin_api.delete(f"/api/v1/schedules/{made['id']}").status_code == 200


def test_a_schedule_identical_to_another_is_refused_whoever_makes_it_and_however(app, api_as, admin_api, monkeypatch):
    """The same report with the same filters, times and recipients twice would mail everyone twice: refused by the
    API as by the 定时任务 page (one check, in the store), naming the one there is; another time is another
    schedule, and another user's identical schedule is theirs."""
    manager = api_as("manager")
    params = {"report": "sales_order", "filters": {"remark": unique("twin")}}
    first = own(manager, monkeypatch, params=params, recipients=["u_manager"])
    assert first.status_code == 201, first.get_json()
    again = own(manager, monkeypatch, params=params, recipients=["u_manager"])
    assert again.status_code == 422
    assert f"与已有的定时任务「{first.get_json()['result']['title']}」完全相同" in again.get_json()["message"]
    weekly = own(manager, monkeypatch, params=params, recipients=["u_manager"], cron="0 8 * * 1")
    assert weekly.status_code == 201, weekly.get_json()
    made = weekly.get_json()["result"]
    body = {k: made[k] for k in ("name", "title", "kind", "params", "recipients")}
    assert manager.put(f"/api/v1/schedules/{made['id']}", json=body | {"cron": "0 8 * * *"}).status_code == 422
    assert manager.put(f"/api/v1/schedules/{made['id']}", json=body | {"cron": "0 9 * * 1"}).status_code == 200
    paid = {"report": "payment", "filters": {"remark": unique("twin")}}
    theirs = own(api_as("finance"), monkeypatch, params=paid, recipients=["u_finance"])
    mine = own(manager, monkeypatch, params=paid, recipients=["u_manager"])
    assert theirs.status_code == 201, theirs.get_json()
    assert mine.status_code == 201, mine.get_json()  # not twins: other recipients, other owners
    for_boss = {
        "params": params,
        "recipients": ["u_manager"],
        "addresses": ["boss@example.com"],
        "external": True,
        "run_as": "u_manager",
    }
    boss = own(admin_api, monkeypatch, **for_boss)
    assert boss.status_code == 201, boss.get_json()
    twin = own(admin_api, monkeypatch, **for_boss)
    assert twin.status_code == 422 and "完全相同" in twin.get_json()["message"]
