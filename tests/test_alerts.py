"""Dunning, the alert digest and backups as schedule kinds, end to end with a real SMTP server (aiosmtpd on
loopback) and the clock moved by the test (JXC_CLOCK), on SQLite and PostgreSQL: a dunning mail arrives with
the customer's statement and stops once paid (a customer without an address is listed for a call); alerts
ring the bell once (not again on a second run) and reach the user by the channel they chose; a backup
schedule leaves a backup that passes the restore's checks."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from decimal import Decimal
from http.server import HTTPServer
from typing import Any

import openpyxl
from conftest import PASSWORD, _csrf_from, hide_prices, unique, writing
from ledger_helpers import document, new_item, new_partner, post, receive
from servers import free_port
from sqlalchemy import select
from test_schedules import RobotServer, new_schedule, wait_run

DUE_DAY = "2026-12-05T01:00:00+00:00"  # 09:00 on 5 December in Beijing: a delivery of 25 November, 10 days' terms
WEEK_LATER = "2026-12-13T01:00:00+00:00"


def run_at(app: Any, admin_api: Any, monkeypatch: Any, schedule_id: int, moment: str) -> Any:
    """Run the schedule now, the clock at `moment`; the finished run."""
    monkeypatch.setenv("JXC_CLOCK", moment)
    answer = admin_api.post(f"/api/v1/schedules/{schedule_id}/run")
    assert answer.status_code in (200, 201, 202), answer.get_json()
    return wait_run(app, answer.get_json()["run_id"])


def deliveries(admin_api: Any, schedule_id: int) -> list[dict[str, Any]]:
    """The schedule's deliveries, oldest run first."""
    runs = admin_api.get(f"/api/v1/schedules/runs?schedule={schedule_id}").get_json()["result"]
    return [dict(d, run=r["id"]) for r in reversed(runs) for d in r["deliveries"]]


def test_dunning_mails_the_statement_at_each_step_and_stops_once_paid(app, admin_api, smtp, login_as, monkeypatch):
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "5")
    mailed, mailed_id = new_partner(admin_api, "customer", email="ap@customer.example", payment_terms_days=10)
    called, called_id = new_partner(admin_api, "customer", phone="13800138000", payment_terms_days=10)
    sold = {
        c: post(admin_api, "sales_delivery", [{"item": sku, "qty": "2", "price": "50"}], partner=c, warehouse="WH01")
        for c in (mailed, called)
    }
    item = new_schedule(
        admin_api, monkeypatch, kind="dunning", cron="0 9 * * *", params={"customers": [mailed, called]}
    )
    first = run_at(app, admin_api, monkeypatch, item["id"], DUE_DAY)
    (mail,) = smtp.about(item["title"])
    assert str(mail["To"]) == "ap@customer.example" and f"往来单位 {mailed}" in str(mail["Subject"])
    body = mail.get_body(("plain",)).get_content()
    assert sold[mailed]["number"] in body and "今日到期" in body and "2026-12-05" in body
    (part,) = [p for p in mail.iter_attachments() if str(p.get_filename()).endswith(".xlsx")]
    book = openpyxl.load_workbook(io.BytesIO(part.get_content()), read_only=True)
    cells = [str(c) for row in book.active.iter_rows(values_only=True) for c in row if c is not None]
    # the report runner's statement, headed by the company as printed (name, address, phone, tax id, then its title)
    assert cells[0] == "示例商贸有限公司" and cells[4] == "对账单" and sold[mailed]["number"] in cells
    log = deliveries(admin_api, item["id"])
    call = next(d for d in log if d["channel"] == "phone")
    assert call["status"] == "call" and "13800138000" in call["recipient"] and sold[called]["number"] in call["subject"]
    assert first.status == "done"
    # the same day again: every step was reminded once already
    run_at(app, admin_api, monkeypatch, item["id"], DUE_DAY)
    assert len(smtp.about(item["title"])) == 1 and len(deliveries(admin_api, item["id"])) == 2
    # the mailed customer pays in full; a week later only the one who did not is reminded (by phone)
    total = sold[mailed]["total_with_tax"]
    lines = [{"source_number": sold[mailed]["number"], "allocated_amount": total}]
    receipt = document(
        admin_api,
        "payment",
        lines,
        direction="receipt",
        partner=mailed,
        account="A001",
        amount=total,
        date="2026-12-06",
    )
    assert admin_api.post(f"/api/v1/payment/{receipt['id']}/submit").status_code == 200
    only_calls = run_at(app, admin_api, monkeypatch, item["id"], WEEK_LATER)
    assert len(smtp.about(item["title"])) == 1  # paid: no more mail
    assert only_calls.status == "done"  # a call to make is work done, not a run skipped
    later = [d for d in deliveries(admin_api, item["id"]) if d["channel"] == "phone"]
    assert len(later) == 2 and sold[called]["number"] in later[-1]["subject"]
    # every reminder is on the partner's account page
    page = login_as("admin").get(f"/accounts/{mailed_id}").get_data(as_text=True)
    assert "催款记录" in page and "ap@customer.example" in page and "今日到期" in page
    page = login_as("admin").get(f"/accounts/{called_id}").get_data(as_text=True)
    assert "逾期 7 天" in page and "无邮箱，待电话催收" in page


def test_a_digest_that_failed_to_send_is_sent_with_its_alerts_on_retry(app, admin_api, smtp, login_as, monkeypatch):
    sku = new_item(admin_api, reorder_point="10")
    buyer = login_as("purchaser")
    form = buyer.get("/notifications/settings").get_data(as_text=True)
    choice = {"csrf_token": _csrf_from(form), "kinds": ["low_stock"], "channel": "email"}
    assert buyer.post("/notifications/settings", data=choice).status_code == 302
    item = new_schedule(admin_api, monkeypatch, kind="digest", params={}, recipients=["u_purchaser"])
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())  # nobody listens: the server is down
    failed = run_at(app, admin_api, monkeypatch, item["id"], DUE_DAY)
    assert failed.status == "failed"
    assert len(_notifications(app, "u_purchaser", f"low_stock:{item_id_of(app, sku)}")) == 1  # the bell rang
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp.port)  # back up
    assert admin_api.post(f"/api/v1/schedules/runs/{failed.id}/retry").status_code == 202
    assert wait_run(app, failed.id).status == "done"
    (mail,) = smtp.about(item["title"])  # the digest of what that run rang, not a digest of nothing
    assert f"库存不足：{sku}" in mail.get_body(("plain",)).get_content()


def item_id_of(app: Any, sku: str) -> int:
    from app.extensions import db, registry

    with app.app_context():
        item = registry().cls("item")
        found = db.session.execute(select(item.id).where(item.sku == sku)).scalar_one()
        db.session.remove()
    return int(found)


def _notifications(app: Any, user: str, dedupe: str) -> list[Any]:
    from app.extensions import db
    from app.schedules.tables import notification

    with app.app_context():
        user_id = app.appbuilder.sm.find_user(username=user).id
        rows = db.session.execute(
            select(notification).where(notification.c.user_id == user_id, notification.c.dedupe == dedupe)
        ).all()
        db.session.remove()
    return rows


def test_alerts_ring_the_bell_once_and_mail_the_digest_the_user_chose(
    app, admin_api, smtp, login_as, api_as, monkeypatch
):
    sku = new_item(admin_api, reorder_point="10")
    item_id = item_id_of(app, sku)
    buyer = login_as("purchaser")
    form = buyer.get("/notifications/settings").get_data(as_text=True)
    assert "提醒设置" in form and "库存不足" in form
    saved = buyer.post(
        "/notifications/settings",
        data={"csrf_token": _csrf_from(form), "kinds": ["low_stock", "approval"], "channel": "email"},
    )
    assert saved.status_code == 302
    # the warehouse keeper takes the digest in a 企业微信 group (a robot on loopback)
    robot = HTTPServer(("127.0.0.1", 0), RobotServer)
    threading.Thread(target=robot.serve_forever, daemon=True).start()
    path = f"/cgi-bin/webhook/send?key={unique('K')}"
    hook = f"http://127.0.0.1:{robot.server_address[1]}{path}"
    keeper = login_as("warehouse")
    form = keeper.get("/notifications/settings").get_data(as_text=True)
    choice = {"csrf_token": _csrf_from(form), "kinds": ["low_stock"], "channel": "wecom", "robot_url": hook}
    assert keeper.post("/notifications/settings", data=choice).status_code == 302
    item = new_schedule(admin_api, monkeypatch, kind="digest", params={}, recipients=["u_purchaser", "u_warehouse"])
    try:
        assert run_at(app, admin_api, monkeypatch, item["id"], DUE_DAY).status == "done"
    finally:
        robot.shutdown()
        robot.server_close()
    (group,) = [body for where, body in RobotServer.received if where == path]
    assert group["msgtype"] == "markdown" and f"库存不足：{sku}" in group["markdown"]["content"]
    assert item["title"] in group["markdown"]["content"]
    (mail,) = smtp.about(item["title"])
    assert str(mail["To"]) == "u_purchaser@example.com"
    body = mail.get_body(("plain",)).get_content()
    assert f"库存不足：{sku}" in body and "/reorder/" in body
    assert "应收逾期" not in body  # not a kind the user chose
    (rung,) = _notifications(app, "u_purchaser", f"low_stock:{item_id}")
    assert rung.read_at is None and rung.link == "/reorder/"
    # a second run: the unread alert is not rung again and no digest of nothing is sent
    run_at(app, admin_api, monkeypatch, item["id"], WEEK_LATER)
    assert len(_notifications(app, "u_purchaser", f"low_stock:{item_id}")) == 1
    assert len(smtp.about(item["title"])) == 1
    # the bell: the count, the page, open one (read, and on to its link), the count polled goes down
    bell = api_as("purchaser")
    before = bell.get("/api/v1/notifications/count").get_json()["unread"]
    page = buyer.get("/notifications/").get_data(as_text=True)
    assert f"库存不足：{sku}" in page and 'id="jxc-bell-count"' in page
    opened = buyer.get(f"/notifications/{rung.id}/open")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/reorder/")
    assert bell.get("/api/v1/notifications/count").get_json()["unread"] == before - 1
    assert api_as("clerk").get(f"/notifications/{rung.id}/open").status_code in (302, 401, 403)
    assert _notifications(app, "u_purchaser", f"low_stock:{item_id}")[0].read_at is not None


def test_opening_a_notification_writes_even_when_another_writer_commits_during_the_request(app, login_as):
    """Following the bell's link is a GET that marks the notification read: on SQLite it must hold the write
    lock from the request's start like a POST, or a commit by another process between the request's first read
    and its update can fail it with "database is locked" (seen in CI as a 503 when a job finished beside it).
    Here another connection tries to commit while the request checks its sign-in: it is the one that waits."""
    import sqlite3

    from sqlalchemy import event

    from app.extensions import db
    from app.schedules.notify import notify
    from app.schedules.tables import notification

    with app.app_context():
        user_id = app.appbuilder.sm.find_user(username="u_purchaser").id
        ids = [notify(db.session, user_id, "mention", unique("N"), link="/reorder/") for _ in range(2)]
        db.session.commit()
        engine = db.engine
    side_writes: list[str] = []

    def commit_beside(_conn, _cursor, statement, *_args) -> None:
        if side_writes or "FROM jxc_login_session" not in statement:
            return
        if engine.dialect.name != "sqlite":
            side_writes.append("not sqlite")
            return
        other = sqlite3.connect(engine.url.database, timeout=0.2, isolation_level=None)
        try:
            other.execute("UPDATE jxc_notification SET text = text WHERE id = ?", (ids[1],))
            side_writes.append("committed")
        except sqlite3.OperationalError as locked:
            side_writes.append(str(locked))
        finally:
            other.close()

    buyer = login_as("purchaser")
    event.listen(engine, "before_cursor_execute", commit_beside)
    try:
        opened = buyer.get(f"/notifications/{ids[0]}/open")
    finally:
        event.remove(engine, "before_cursor_execute", commit_beside)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/reorder/")
    assert side_writes in (["database is locked"], ["not sqlite"])
    with app.app_context():
        read_at = db.session.execute(select(notification.c.read_at).where(notification.c.id == ids[0])).scalar_one()
        db.session.remove()
    assert read_at is not None


def test_a_backup_schedule_leaves_a_backup_the_restore_accepts(app, admin_api, monkeypatch, login_as):
    """... and the backups page lists it at the business's time, as every page shows times (it showed the server's
    zone: UTC here, 8 hours before the schedules log's time of the same run)."""
    from app.backups import list_backups, settings_of
    from app.backups.restore import check_backup
    from app.clock import business_zone

    item = new_schedule(admin_api, monkeypatch, kind="backup", params={})
    run = run_at(app, admin_api, monkeypatch, item["id"], DUE_DAY)
    assert run.status == "done", run.message
    (copy,) = deliveries(admin_api, item["id"])
    assert copy["channel"] == "backup" and copy["status"] == "sent"
    newest = list_backups(app)[0]
    assert copy["recipient"].endswith(newest.name)
    manifest = check_backup(settings_of(app), app.config["SQLALCHEMY_DATABASE_URI"], newest.path)
    assert manifest["reason"] == "scheduled" and manifest["tables"]["jxc_schedule"]["rows"] >= 1
    page = login_as("admin").get("/admin/backups/").get_data(as_text=True)
    shown = f"{newest.created.astimezone(business_zone()):%Y-%m-%d %H:%M:%S}"
    assert f"<td>{shown}</td><td><code>{newest.name}</code>" in page
    # 上次备份 at the same clock as the list (it said 05:24:35 UTC above a list saying 13:24:35)
    at = json.loads((settings_of(app).instance / "backup_status.json").read_text(encoding="utf-8"))["backup"]["at"]
    last = f"{dt.datetime.fromisoformat(at).astimezone(business_zone()):%Y-%m-%d %H:%M:%S}"
    assert f"上次备份 {last} · {newest.name}" in page and " UTC" not in page


def test_back_up_now_opens_the_page_following_its_job(app, login_as):
    """立即备份 comes back to the page naming the job it started, which the page follows until it ends (the page said
    还没有备份 until reloaded by hand)."""
    import re

    from test_jobs import wait_for

    admin = login_as("admin")
    page = admin.get("/admin/backups/").get_data(as_text=True)
    started = admin.post("/admin/backups/run", data={"csrf_token": _csrf_from(page)})
    assert started.status_code == 302, started.get_data(as_text=True)[:300]
    job_id = int(re.search(r"/admin/backups/\?job=(\d+)$", started.headers["Location"]).group(1))
    following = admin.get(f"/admin/backups/?job={job_id}").get_data(as_text=True)
    assert f'id="jxc-backups" data-job="{job_id}"' in following and "完成后本页会自动显示结果" in following
    assert "jxc/backups.js" in following
    assert wait_for(app, job_id, timeout=60)["status"] == "done"
    assert 'data-job=""' in admin.get("/admin/backups/").get_data(as_text=True)


def test_each_kind_of_alert_is_found_as_the_reader_may_see_it(app, admin_api, api_as, login_as, monkeypatch):
    from app.extensions import db
    from app.schedules.alerts import collect
    from app.services.users.access import access_for

    monkeypatch.setenv("JXC_CLOCK", "2026-12-01T02:00:00+00:00")
    kept = new_item(admin_api, track_batch=True, shelf_life_days=30, max_stock="1")
    supplier, _ = new_partner(admin_api, "supplier", payment_terms_days=0)
    customer, customer_id = new_partner(admin_api, "customer", payment_terms_days=0)
    bought = post(
        admin_api,
        "purchase_receipt",
        [{"item": kept, "qty": "5", "price": "2", "batch": "B1", "production_date": "2026-11-10"}],
        partner=supplier,
        warehouse="WH01",
    )
    post(
        admin_api,
        "sales_delivery",
        [{"item": kept, "qty": "1", "price": "9", "batch": "B1"}],
        partner=customer,
        warehouse="WH01",
    )
    code = unique("BC")
    category = admin_api.post("/api/v1/category/", json={"code": code, "name": f"预算 {code}"}).get_json()["id"]
    budgeted = new_item(admin_api, category=category)
    answer = admin_api.post("/api/v1/budget/", json={"period": "2026-12", "category": category, "amount": "100"})
    assert answer.status_code == 201, answer.get_json()
    post(
        admin_api,
        "purchase_order",
        [{"item": budgeted, "qty": "1", "price": "85"}],
        date="2026-12-01",
        warehouse="WH01",
    )
    buyer = api_as("purchaser")  # not the admin's own: creator_cannot_approve
    big = document(buyer, "purchase_order", [{"item": budgeted, "qty": "1", "price": "20000"}], warehouse="WH01")
    assert buyer.post(f"/api/v1/purchase_order/{big['id']}/submit").get_json()["result"]["status"] == "pending"
    kept_id = item_id_of(app, kept)
    expected = {
        "overstock": f"overstock:{kept_id}",
        "expiry": f"expiry:{kept_id}:WH01:B1:near",
        "payable_due": f"payable:{bought['number']}",
        "overdue": f"overdue:{customer_id}",
        "budget": f"budget:2026-12:预算 {code}:near",
        "approval": f"approval:purchase_order:{big['id']}:1",
    }
    with app.app_context():
        sm = app.appbuilder.sm
        found = collect(db.session, access_for(sm.find_user(username="admin")), dt.date(2026, 12, 1))
        seen = {a.key: a for a in found}
        keepers = collect(db.session, access_for(sm.find_user(username="u_warehouse")), dt.date(2026, 12, 1))
        warehouse = {a.key for a in keepers}
        db.session.remove()
    # each leads where its reader may go: the keeper, who may not order, to the item's stock
    assert seen[expected["overstock"]].link == "/reorder/"
    (overstock,) = [a for a in keepers if a.key == expected["overstock"]]
    assert overstock.link == f"/phone/stock?q={kept}"
    page = login_as("warehouse").get(overstock.link)
    assert page.status_code == 200 and kept in page.get_data(as_text=True)
    for kind, key in expected.items():
        assert key in seen and seen[key].kind == kind, (key, sorted(k for k in seen if str(kept_id) in k or code in k))
    assert "临期" in seen[expected["expiry"]].text and "2026-12-10" in seen[expected["expiry"]].text
    assert seen[expected["approval"]].link == f"/m/purchase_order/{big['id']}"
    assert expected["approval"] not in warehouse and warehouse <= set(seen)  # never more than the admin sees


def test_budget_alerts_leave_out_the_figures_the_reader_may_not_see(app, admin_api, api_as):
    """A purchaser under 价格屏蔽 reads budgets and orders but no purchase figure: the alert says which budget,
    not what was spent of how much (as the order's own warning does)."""
    from app.extensions import db
    from app.schedules.alerts import budget_alerts
    from app.services.users.access import access_for

    api_as("purchaser")
    code = unique("BH")
    category = admin_api.post("/api/v1/category/", json={"code": code, "name": f"预算 {code}"}).get_json()["id"]
    budgeted = new_item(admin_api, category=category)
    answer = admin_api.post("/api/v1/budget/", json={"period": "2026-12", "category": category, "amount": "100"})
    assert answer.status_code == 201, answer.get_json()
    order = [{"item": budgeted, "qty": "1", "price": "85"}]
    post(admin_api, "purchase_order", order, date="2026-12-01", warehouse="WH01")
    seen = {}
    for hidden in ([], ["purchaser"]):
        hide_prices(app, hidden)
        try:
            with app.app_context():
                purchaser = access_for(app.appbuilder.sm.find_user(username="u_purchaser"))
                (seen[bool(hidden)],) = [
                    a.text for a in budget_alerts(db.session, purchaser, dt.date(2026, 12, 1)) if code in a.text
                ]
                db.session.remove()
        finally:
            admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []})
    assert "85.00" in seen[False] and "100.00" in seen[False]
    assert seen[True] == f"「预算 {code}」本月采购已达预算的 80%"


def test_a_digest_chosen_by_mail_of_a_user_without_an_address_is_logged_not_sent(app, admin_api, smtp, monkeypatch):
    """A keeper without an e-mail who chose the digest by mail: their bell rings, the mail is not sent, and the
    run's log says who and why."""
    from app.extensions import db
    from app.schedules.prefs import save_pref
    from app.services.users.accounts import create_user

    new_item(admin_api, reorder_point="10")
    keeper = unique("x_keeper").lower()
    with app.app_context(), writing():
        user = create_user(keeper, "warehouse", PASSWORD, warehouses=["WH01"])
        save_pref(db.session, user.id, {"kinds": ["low_stock"], "channel": "email"})
        db.session.commit()
        db.session.remove()
    item = new_schedule(admin_api, monkeypatch, kind="digest", params={}, recipients=[keeper])
    run = run_at(app, admin_api, monkeypatch, item["id"], DUE_DAY)
    note = f"用户 {keeper} 没有邮箱地址，未发送"
    assert (run.status, run.message) == ("done", note)
    by_channel = {d["channel"]: d for d in deliveries(admin_api, item["id"])}
    assert by_channel["bell"]["status"] == "sent"
    assert (by_channel["email"]["recipient"], by_channel["email"]["status"]) == (keeper, "no_address")
    assert by_channel["email"]["error"] == note and smtp.about(item["title"]) == []


def test_a_mailed_reports_chart_draws_amounts_of_thousands(app, admin_api):
    """The chart of a mailed listing is drawn from its rows as people read them, money grouped by thousands
    (12,345.00): each bar is that amount, not 0 (a grouped figure did not read as a number)."""
    from app.extensions import db
    from app.schedules.deliver import chart_bars
    from app.schedules.reporting import run_report
    from app.services.users.access import access_for

    names = [unique("桶")]
    created = admin_api.post(
        "/api/v1/account/", json={"code": unique("A"), "name": names[0], "opening_balance": "12345"}
    )
    assert created.status_code == 201, created.get_json()
    with app.app_context():
        reader = access_for(app.appbuilder.sm.find_user(username="admin"))
        asked = {"report": "account", "columns": ["name", "opening_balance"], "filters": {"name": names[0]}}
        result = run_report(db.session, reader, asked)
        labels, values = chart_bars(result)
    assert result.chart == ("name", "opening_balance")
    row = next(r for r in result.rows if r["name"] == names[0])
    assert row["opening_balance"] == "12,345.00"  # as the pages read it
    assert dict(zip(labels, values, strict=True))[names[0]] == Decimal("12345.00")
