"""Schedules end to end with a real SMTP server (aiosmtpd on loopback) and the clock moved by the test
(JXC_CLOCK), on SQLite and PostgreSQL: a report arrives once per period with two `jxc cron` processes
claiming it, as each recipient sees it; an SMTP outage is retried and logged; group robots get their JSON."""

from __future__ import annotations

import io
import json
import subprocess
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import openpyxl
import pytest
from conftest import csrf_from, unique, writing
from ledger_helpers import document, new_item
from servers import BIN, ROOT, free_port, server_env
from sqlalchemy import select

CREATED = "2026-12-01T01:00:00+00:00"  # 09:00 on 1 December in Beijing
FIRST = "2026-12-02T00:30:00+00:00"  # 08:30 on 2 December: the 08:00 run of that day is due
SECOND = "2026-12-03T00:30:00+00:00"


def wait_run(app: Any, run_id: int, timeout: float = 30) -> Any:
    from app.extensions import db
    from app.schedules.tables import schedule_run

    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            row = db.session.execute(select(schedule_run).where(schedule_run.c.id == run_id)).first()
            db.session.remove()
        if row.status != "queued" or time.monotonic() > deadline:
            assert row.status != "queued", "run still queued"
            return row


def runs_of(app: Any, name: str) -> list[Any]:
    from app.extensions import db
    from app.schedules.tables import schedule, schedule_run

    with app.app_context():
        rows = db.session.execute(
            select(schedule_run)
            .join(schedule, schedule.c.id == schedule_run.c.schedule_id)
            .where(schedule.c.name == name)
            .order_by(schedule_run.c.id)
        ).all()
        db.session.remove()
    return rows


def ticking_at_once(app: Any, count: int) -> list[int]:
    """`count` schedulers ticking together; every run any of them claimed."""
    from app.extensions import db
    from app.schedules.cron import tick

    claimed: list[int] = []
    start = threading.Barrier(count)

    def one() -> None:
        with app.app_context():
            start.wait()
            claimed.extend(tick(db.session))
            db.session.remove()

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return claimed


def new_schedule(admin_api: Any, monkeypatch: pytest.MonkeyPatch, **fields: Any) -> dict[str, Any]:
    monkeypatch.setenv("JXC_CLOCK", CREATED)
    name = unique("s").lower()
    body = {"name": name, "title": f"销售日报 {name}", "kind": "report", "cron": "0 8 * * *", **fields}
    answer = admin_api.post("/api/v1/schedules/", json=body)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["result"]


def saved_off(
    admin_api: Any, monkeypatch: pytest.MonkeyPatch, title: str, report: str, recipients: list[str], warning: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A schedule of `report` (off) saved with the one `warning` it answers: (the body sent, the schedule)."""
    monkeypatch.setenv("JXC_CLOCK", CREATED)
    body = {"name": unique("s").lower(), "title": title, "kind": "report", "cron": "0 8 * * *", "active": False}
    body |= {"params": {"report": report}, "recipients": recipients}
    made = admin_api.post("/api/v1/schedules/", json=body)
    assert made.status_code == 201 and made.get_json()["warnings"] == [warning], made.get_json()
    return body, made.get_json()["result"]


def new_user(app: Any, role: str, email: str | None = None) -> str:
    """A new user of the role (without an address unless given one); their name."""
    from app.extensions import db
    from app.services.users.accounts import create_user

    name = unique("wh").lower()
    with app.app_context(), writing():
        create_user(name, role, "Qa2-Manager-99", email=email and email.format(name=name))
        db.session.remove()
    return name


def xlsx_rows(message: Any) -> list[tuple[Any, ...]]:
    (part,) = [p for p in message.iter_attachments() if str(p.get_filename()).endswith(".xlsx")]
    book = openpyxl.load_workbook(io.BytesIO(part.get_content()), read_only=True)
    return [tuple(r) for r in book.active.iter_rows(values_only=True)]


def orders_of_two_salespeople(admin_api: Any) -> str:
    """Two sales orders marked with one tag: 2 x 5 by u_salesperson to their customer K001, 1 x 7.5 by admin to
    K003 (not theirs: a salesperson reads their customers' orders whoever made them); the tag."""
    tag = unique("R")
    sku = new_item(admin_api)
    for qty, price, seller, customer in (("2", "5", "u_salesperson", "K001"), ("1", "7.5", "admin", "K003")):
        lines = [{"item": sku, "qty": qty, "price": price}]
        document(admin_api, "sales_order", lines, salesperson=seller, partner=customer, warehouse="WH01", remark=tag)
    return tag


def test_a_report_arrives_once_per_period_with_two_cron_processes(app, backend, admin_api, smtp, monkeypatch):
    tag = orders_of_two_salespeople(admin_api)
    item = new_schedule(
        admin_api,
        monkeypatch,
        params={"report": "sales_order", "filters": {"remark": tag}},
        recipients=["u_salesperson", "admin"],
    )
    if backend.name == "postgresql":  # two `jxc cron` processes (each boots the app: ~20 s here, so once)
        env = server_env(backend.url, backend.instance)
        env.pop("REDIS_URL", None)
        env.update({"JXC_CLOCK": FIRST, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port)})
        env.update({"SMTP_SECURITY": "none", "MAIL_FROM": "jxc@example.com"})
        crons = [
            subprocess.Popen(
                [str(BIN / "jxc"), "cron", "--once"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(2)
        ]
        outputs = [c.communicate(timeout=180)[0].decode() for c in crons]
        assert [c.returncode for c in crons] == [0, 0], outputs
    else:  # SQLite: two schedulers in threads of this process race for the same claim
        monkeypatch.setenv("JXC_CLOCK", FIRST)
        outputs = [str(r) for r in ticking_at_once(app, 2)]
    runs = runs_of(app, item["name"])
    assert len(runs) == 1, (runs, outputs)
    assert wait_run(app, runs[0].id).status == "done", outputs
    mails = smtp.about(item["title"])
    assert sorted(str(m["To"]) for m in mails) == ["admin@example.com", "u_salesperson@example.com"], outputs
    assert "2026-12-02" in str(mails[0]["Subject"])
    mine = next(m for m in mails if str(m["To"]) == "u_salesperson@example.com")
    rows = xlsx_rows(mine)
    totals = rows[0].index(next(h for h in rows[0] if h in ("金额合计", "合计金额", "总金额") or "金额" in str(h)))
    assert len(rows) == 2 and Decimal(str(rows[1][totals])) == Decimal("10")  # only his order
    assert len(xlsx_rows(next(m for m in mails if str(m["To"]) == "admin@example.com"))) == 3
    body = mine.get_body(("plain",)).get_content()
    assert "共 1 行" in body and "10.00" in body and "/grid/sales_order" in body
    # the next day: the cron's period moves on and runs once more, however many schedulers tick
    monkeypatch.setenv("JXC_CLOCK", SECOND)
    ticking_at_once(app, 2)
    runs = runs_of(app, item["name"])
    assert len(runs) == 2 and wait_run(app, runs[1].id).status == "done"
    assert len(smtp.about(item["title"])) == 4


def test_an_smtp_outage_is_retried_logged_and_sent_on_retry(app, admin_api, smtp, monkeypatch):
    tag = orders_of_two_salespeople(admin_api)
    item = new_schedule(
        admin_api, monkeypatch, params={"report": "sales_order", "filters": {"remark": tag}}, recipients=["admin"]
    )
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())  # nobody listens: the server is down
    run_id = admin_api.post(f"/api/v1/schedules/{item['id']}/run").get_json()["run_id"]
    failed = wait_run(app, run_id)
    assert failed.status == "failed" and "127.0.0.1" in failed.message
    log = admin_api.get(f"/api/v1/schedules/runs?schedule={item['id']}").get_json()["result"]
    (delivery,) = log[0]["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 3) and "无法连接邮件服务器" in delivery["error"]
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp.port)  # back up
    assert admin_api.post(f"/api/v1/schedules/runs/{run_id}/retry").status_code == 202
    assert wait_run(app, run_id).status == "done"
    (mail,) = smtp.about(item["title"])
    assert str(mail["Message-ID"]) == delivery["message_id"]  # the same message, not a new one
    assert admin_api.post(f"/api/v1/schedules/runs/{run_id}/retry").status_code == 409


class RobotServer(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        RobotServer.received.append((self.path, body))
        answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


def test_wecom_and_dingtalk_robots_receive_their_markdown(app, admin_api, smtp, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), RobotServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        tag = orders_of_two_salespeople(admin_api)
        item = new_schedule(
            admin_api,
            monkeypatch,
            params={"report": "sales_order", "filters": {"remark": tag}},
            robots=[
                {"type": "wecom", "url": f"{base}/cgi-bin/webhook/send?key=K1"},
                {"type": "dingtalk", "url": f"{base}/robot/send?access_token=T1", "secret": "SEC"},
            ],
        )
        run_id = admin_api.post(f"/api/v1/schedules/{item['id']}/run").get_json()["run_id"]
        assert wait_run(app, run_id).status == "done"
    finally:
        server.shutdown()
        server.server_close()
    wecom = [b for p, b in RobotServer.received if p.startswith("/cgi-bin/webhook/send?key=K1")]
    ding = [(p, b) for p, b in RobotServer.received if p.startswith("/robot/send?access_token=T1")]
    assert wecom[-1]["msgtype"] == "markdown" and item["title"] in wecom[-1]["markdown"]["content"]
    assert "共 2 行" in wecom[-1]["markdown"]["content"]
    path, body = ding[-1]
    assert "&timestamp=" in path and "&sign=" in path  # signed with the robot's secret
    assert body["msgtype"] == "markdown" and body["markdown"]["title"].startswith(item["title"])
    assert "/grid/sales_order" in body["markdown"]["text"]


def test_a_report_of_the_report_runner_arrives_with_its_workbook(app, admin_api, smtp, monkeypatch):
    """The runner's workbook, made by (制表人) the recipient as pages and prints name them (张三), not by their
    user name."""
    from app.extensions import db
    from app.services.users.accounts import create_user

    seller = unique("x_seller").lower()
    with app.app_context(), writing():
        create_user(seller, "salesperson", "Qa2-Seller-99", email=f"{seller}@example.com", name="张三")
        db.session.remove()
    item = new_schedule(
        admin_api,
        monkeypatch,
        params={"report": "sales_analysis", "by": "customer"},
        recipients=[seller],
        skip_empty=False,
    )
    run_id = admin_api.post(f"/api/v1/schedules/{item['id']}/run").get_json()["run_id"]
    assert wait_run(app, run_id).status == "done"
    (mail,) = smtp.about(item["title"])
    rows = xlsx_rows(mail)
    assert rows[0][0] == "销售分析"  # the runner's own workbook, headed by the report's title
    assert any(str(row[0]).startswith("制表人：张三　") for row in rows[:4]), rows[:4]
    assert "/reports/sales_analysis/?by=customer" in mail.get_body(("plain",)).get_content()


def test_a_schedule_is_checked_before_it_is_saved(app, admin_api, api_as):
    bad = admin_api.post(
        "/api/v1/schedules/",
        json={
            "name": "Bad Name",
            "kind": "report",
            "cron": "every day",
            "recipients": ["nobody"],
            "addresses": ["x@y.cn"],
        },
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.get_json()["errors"]}
    assert {"name", "cron", "recipients", "addresses", "params"} <= fields
    assert "cron" in bad.get_json()["errors"][[e["field"] for e in bad.get_json()["errors"]].index("cron")]["message"]
    theirs = api_as("clerk").get("/api/v1/schedules/")  # their own only (tests/test_own_schedules.py)
    assert theirs.status_code == 200 and all(s["owner"] == "u_clerk" for s in theirs.get_json()["result"])
    unknown = admin_api.post(
        "/api/v1/schedules/",
        json={"name": "no_report", "kind": "report", "cron": "0 8 * * *", "params": {"report": "nope"}},
    )
    assert unknown.status_code == 422 and "nope" in unknown.get_json()["message"]
    # a key the schedule does not have is named, not a 500 (系统出错: the message's own `key` clashed with t's)
    extra = admin_api.post(
        "/api/v1/schedules/",
        json={
            "name": "extra_key",
            "kind": "report",
            "cron": "0 8 * * *",
            "params": {"report": "sales_order"},
            "colour": 1,
        },
    )
    assert extra.status_code == 422, extra.get_data(as_text=True)
    assert {"field": "colour", "message": "未知的设置项「colour」"} in extra.get_json()["errors"]
    # the schedule as GET answers it, changed and PUT back: what the answer says but a write does not set is ignored
    made = admin_api.post(
        "/api/v1/schedules/",
        json={
            "name": unique("rt").lower(),
            "kind": "report",
            "cron": "0 8 * * *",
            "params": {"report": "sales_order", "filters": {"remark": unique("rt")}},
            "recipients": ["admin"],
        },
    )
    assert made.status_code == 201, made.get_json()
    read = next(
        s
        for s in admin_api.get("/api/v1/schedules/").get_json()["result"]
        if s["id"] == made.get_json()["result"]["id"]
    )
    assert {"id", "source", "created_at", "updated_at", "next_run", "no_address"} <= set(read)
    changed = admin_api.put(f"/api/v1/schedules/{read['id']}", json={**read, "cron": "30 9 * * 1-5"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["result"]["cron"] == "30 9 * * 1-5" and changed.get_json()["result"]["source"] == "admin"


def test_a_reports_filters_are_checked_when_the_schedule_is_saved(app, admin_api):
    """The page's own example (status posted) was saved, and every run failed on it: 状态：可选值：…. A filter the
    report or the model does not take is refused on save; the examples the help gives now are taken."""
    import json
    import re

    from app.i18n import t

    def saved(params: dict) -> Any:
        return admin_api.post(
            "/api/v1/schedules/",
            json={
                "name": unique("s_").lower(),
                "kind": "report",
                "cron": "0 8 * * 1",
                "params": params,
                "recipients": ["admin"],
            },
        )

    posted = saved({"report": "sales_order", "filters": {"status": "posted"}})
    assert posted.status_code == 422, posted.get_json()
    assert posted.get_json()["errors"] == [{"field": "params", "message": "状态：可选值：草稿, 待审批, 已审核, 已作废"}]
    assert saved({"report": "sales_order", "filters": {"no_such": "1"}}).status_code == 422
    by = saved({"report": "sales_analysis", "by": "year"})
    assert by.status_code == 422 and by.get_json()["errors"][0]["field"] == "params", by.get_json()
    # the parameter by its label, as the report page names it (it said 「by: 不是可选的值：year…」)
    said = by.get_json()["errors"][0]["message"]
    assert said.startswith("汇总方式：不是可选的值：year（可选：day 按日"), said
    with app.test_request_context():
        help_text = t("schedules.params_help")
    examples = [json.loads(found) for found in re.findall(r"\{.*?\}\}?(?=，|$)", help_text)]
    assert len(examples) == 2, help_text
    for example in examples:
        assert saved(example).status_code == 201, example


def test_notify_rings_one_users_bell_once_and_only_they_read_it(app, api_as):
    from app.extensions import db
    from app.schedules.notify import notify

    clerk, buyer = api_as("clerk"), api_as("purchaser")
    with app.app_context():
        user_id = app.appbuilder.sm.find_user(username="u_clerk").id
        tag = unique("N")
        first = notify(db.session, user_id, "alert", f"库存不足 {tag}", "/reorder/", dedupe=tag)
        again = notify(db.session, user_id, "alert", f"库存不足 {tag}", "/reorder/", dedupe=tag)
        db.session.commit()
        db.session.remove()
    assert first is not None and again is None  # the same alert is not rung twice while unread
    mine = clerk.get("/api/v1/notifications/").get_json()
    assert mine["unread"] >= 1 and mine["result"][0]["text"] == f"库存不足 {tag}"
    assert mine["result"][0]["link"] == "/reorder/" and mine["result"][0]["read"] is False
    assert all(n["id"] != first for n in buyer.get("/api/v1/notifications/").get_json()["result"])
    assert buyer.post("/api/v1/notifications/read", json={"ids": [first]}).get_json()["marked"] == 0
    answer = clerk.post("/api/v1/notifications/read", json={"ids": [first]}).get_json()
    assert answer["marked"] == 1 and answer["unread"] == mine["unread"] - 1


class RefusingInbox:
    """An SMTP server that knows no mailbox called nosuch: its RCPT answer is a 550."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address.startswith("nosuch@"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_refused_address_is_said_in_the_servers_words_not_as_python_bytes():
    from aiosmtpd.controller import Controller

    from app.mail.message import DeliveryFailed, Email
    from app.mail.smtp import SmtpSettings, send_email

    port = free_port()
    controller = Controller(RefusingInbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = SmtpSettings(host="127.0.0.1", port=port, sender="jxc@example.com", security="none", backoff=0)
        with pytest.raises(DeliveryFailed) as refused:
            send_email(settings, Email(to=["nosuch@example.com"], subject="销售日报", text="正文"))
    finally:
        controller.stop()
    error = str(refused.value)
    assert "550 5.1.1 <nosuch@example.com>: Recipient address rejected: User unknown" in error, error
    assert "b'" not in error, error


def test_an_address_with_a_comma_is_refused_before_the_server_splits_it(app, admin_api, smtp, monkeypatch):
    """A user's stored e-mail `boss@shop,cn` (typed with a comma for the dot) is not sent as two recipients
    (`boss@shop` and `cn`): the delivery fails saying so, the other recipient gets the report; and
    `jxc user add --email` refuses such an address."""
    from flask_appbuilder.security.sqla.models import User
    from sqlalchemy import update

    from app.extensions import db
    from app.services.users.accounts import UserError, create_user

    name = unique("m").lower()
    with app.app_context():
        create_user(name, "manager", "Qa2-Manager-99", email=f"{name}@shop.cn")
        db.session.commit()
        with pytest.raises(UserError, match="不是有效的邮箱地址"):
            create_user(name + "x", "manager", "Qa2-Manager-99", email=f"{name}x@shop,cn")
        # as an older version or a direct edit left it
        db.session.execute(update(User).where(User.username == name).values(email=f"{name}@shop,cn"))
        db.session.commit()
        db.session.remove()
    tag = orders_of_two_salespeople(admin_api)
    params = {"report": "sales_order", "filters": {"remark": tag}}
    item = new_schedule(admin_api, monkeypatch, params=params, recipients=[name, "admin"])
    run_id = admin_api.post(f"/api/v1/schedules/{item['id']}/run").get_json()["run_id"]
    assert wait_run(app, run_id).status == "failed"
    (log,) = admin_api.get(f"/api/v1/schedules/runs?schedule={item['id']}").get_json()["result"]
    by_address = {d["recipient"]: d for d in log["deliveries"]}
    bad = by_address[f"{name}@shop,cn"]
    assert (
        bad["status"] == "failed"
        and bad["error"] == f"收件地址「{name}@shop,cn」不是一个邮箱地址（请检查逗号、分号或空格），未发送"
    )
    assert by_address["admin@example.com"]["status"] == "sent"
    assert [str(m["To"]) for m in smtp.about(item["title"])] == ["admin@example.com"]


def test_a_user_without_an_address_is_not_mailed_and_the_log_says_so(app, admin_api, smtp, monkeypatch, login_as):
    """A user made without an e-mail has no address (not a made-up `<user>@jxc.local` that a server accepts):
    a report to them and a salesperson mails the salesperson only, and the run's log and page name the user
    skipped and why; the mailer itself refuses the marked non-address before the server sees it."""
    from app.mail import DeliveryFailed, Email, SmtpSettings, send_email

    name = new_user(app, "manager")
    tag = orders_of_two_salespeople(admin_api)
    params = {"report": "sales_order", "filters": {"remark": tag}}
    item = new_schedule(admin_api, monkeypatch, params=params, recipients=[name, "u_salesperson"])
    run_id = admin_api.post(f"/api/v1/schedules/{item['id']}/run").get_json()["run_id"]
    note = f"用户 {name} 没有邮箱地址，未发送"
    run = wait_run(app, run_id)
    assert (run.status, run.message) == ("done", note)
    (log,) = admin_api.get(f"/api/v1/schedules/runs?schedule={item['id']}").get_json()["result"]
    by_recipient = {d["recipient"]: d for d in log["deliveries"]}
    skipped = by_recipient[name]
    assert (skipped["status"], skipped["status_label"], skipped["error"]) == ("no_address", "无邮箱，未发送", note)
    assert by_recipient["u_salesperson@example.com"]["status"] == "sent"
    assert [str(m["To"]) for m in smtp.about(item["title"])] == ["u_salesperson@example.com"]
    assert note in login_as("admin").get("/admin/schedules/").get_data(as_text=True)
    settings = SmtpSettings(host="127.0.0.1", port=smtp.port, sender="jxc@example.com", security="none")
    with pytest.raises(DeliveryFailed, match="该用户没有邮箱"):
        send_email(settings, Email(to=[f"{name}@no-email.invalid"], subject="销售日报 无邮箱", text="正文"))
    assert smtp.about("销售日报 无邮箱") == []


def test_a_run_whose_only_recipient_has_no_address_says_not_sent_not_empty(app, admin_api, smtp, monkeypatch):
    """A report with rows to a user without an address sends nothing: the run says 未发送 for want of an address,
    not 无内容，已跳过 (as if the report had been empty)."""
    name = new_user(app, "manager")
    params = {"report": "sales_order", "filters": {"remark": orders_of_two_salespeople(admin_api)}}
    item = new_schedule(admin_api, monkeypatch, params=params, recipients=[name])
    run_id = admin_api.post(f"/api/v1/schedules/{item['id']}/run").get_json()["run_id"]
    assert wait_run(app, run_id).status == "no_address"
    (log,) = admin_api.get(f"/api/v1/schedules/runs?schedule={item['id']}").get_json()["result"]
    assert (log["status_label"], log["message"]) == ("未发送：收件人没有邮箱地址", f"用户 {name} 没有邮箱地址，未发送")
    assert smtp.about(item["title"]) == []


def test_a_schedule_names_its_recipients_without_an_address_before_any_run(app, admin_api, login_as, monkeypatch):
    """Who has no e-mail address is said when a schedule is saved and read (its `no_address`, a warning per
    recipient, 无邮箱 on the page), not first by a run's 「用户 X 没有邮箱地址，未发送」; the save is not refused
    (the others are mailed; the address may be filled in later). A digest names only those who chose e-mail."""
    from app.extensions import db
    from app.schedules.prefs import save_pref
    from app.services.users.accounts import create_user

    name = unique("wh").lower()
    with app.app_context(), writing():
        pk = create_user(name, "manager", "Qa2-Manager-99").id
        db.session.remove()
    warning = f"收件人 {name} 没有邮箱地址，收不到这个定时任务的邮件：请在用户管理中为其填写邮箱"
    body, item = saved_off(admin_api, monkeypatch, "无邮箱", "sales_order", [name, "u_salesperson"], warning)
    assert item["no_address"] == [name]
    listed = {s["id"]: s for s in admin_api.get("/api/v1/schedules/").get_json()["result"]}
    assert listed[item["id"]]["no_address"] == [name]
    page = login_as("admin").get(f"/admin/schedules/?edit={item['id']}").get_data(as_text=True)
    assert f'<option value="{name}" selected data-no-address="1">{name}（无邮箱）</option>' in page
    assert f"以下收件人没有邮箱地址，收不到邮件（已保存，填写邮箱后即可收到）：{name}" in page
    alone = admin_api.put(f"/api/v1/schedules/{item['id']}", json=body | {"recipients": [name]})
    assert alone.status_code == 200 and alone.get_json()["warnings"] == [warning]  # saved all the same
    fine = admin_api.put(f"/api/v1/schedules/{item['id']}", json=body | {"recipients": ["u_salesperson"]})
    assert (fine.get_json()["warnings"], fine.get_json()["result"]["no_address"]) == ([], [])
    digest = body | {"kind": "digest", "params": {}, "recipients": [name]}
    bell_only = admin_api.put(f"/api/v1/schedules/{item['id']}", json=digest).get_json()
    assert (bell_only["warnings"], bell_only["result"]["no_address"]) == ([], [])  # the bell reaches them
    with app.app_context(), writing():
        save_pref(db.session, pk, {"kinds": ["low_stock"], "channel": "email"})
        db.session.commit()
        db.session.remove()
    by_mail = admin_api.put(f"/api/v1/schedules/{item['id']}", json=digest).get_json()
    assert (by_mail["warnings"], by_mail["result"]["no_address"]) == ([warning], [name])


def test_a_recipient_who_may_not_read_the_report_is_named_and_the_others_still_get_theirs(
    app, admin_api, smtp, monkeypatch
):
    """销售分析 to a salesperson and a warehouse keeper (whose role runs no sales report): the salesperson gets
    theirs, the keeper's line says who and why (the whole run failed with 没有权限 and nobody got anything);
    to the keeper alone the run says 未发送：收件人无权查看."""
    keeper = new_user(app, "warehouse", email="{name}@example.com")
    params = {"report": "sales_analysis", "by": "customer", "period": "this_year"}
    item = new_schedule(admin_api, monkeypatch, params=params, recipients=[keeper, "u_salesperson"], skip_empty=False)
    run_id = admin_api.post(f"/api/v1/schedules/{item['id']}/run").get_json()["run_id"]
    note = f"用户 {keeper} 无权查看「销售分析」，未发送"
    run = wait_run(app, run_id)
    assert (run.status, run.message) == ("done", note)
    (log,) = admin_api.get(f"/api/v1/schedules/runs?schedule={item['id']}").get_json()["result"]
    by_recipient = {d["recipient"]: d for d in log["deliveries"]}
    refused = by_recipient[keeper]
    assert (refused["status"], refused["status_label"], refused["error"]) == ("not_allowed", "无权查看，未发送", note)
    assert by_recipient["u_salesperson@example.com"]["status"] == "sent"
    assert [str(m["To"]) for m in smtp.about(item["title"])] == ["u_salesperson@example.com"]

    alone = new_schedule(admin_api, monkeypatch, params=params, recipients=[keeper])
    run_id = admin_api.post(f"/api/v1/schedules/{alone['id']}/run").get_json()["run_id"]
    assert wait_run(app, run_id).status == "not_allowed"
    (log,) = admin_api.get(f"/api/v1/schedules/runs?schedule={alone['id']}").get_json()["result"]
    assert (log["status_label"], log["message"]) == ("未发送：收件人无权查看", note)
    assert smtp.about(alone["title"]) == []


def test_a_schedule_to_a_recipient_who_may_not_read_its_report_warns_when_saved(app, admin_api, login_as, monkeypatch):
    """Saving 销售分析 to a warehouse keeper (whose role runs no sales report) says so then, in the API's `warnings`
    and on the page, not first by a run's 「用户 X 无权查看…，未发送」; the save is not refused (the role may be given
    the report before the first run), and a recipient who may read it is no warning."""
    keeper = new_user(app, "warehouse", email="{name}@example.com")
    warning = f"收件人 {keeper} 无权查看「销售分析」，收不到这个定时任务的报表：请为其角色授予查看权限，或换收件人"
    body, item = saved_off(admin_api, monkeypatch, "无权", "sales_analysis", [keeper, "u_salesperson"], warning)
    pk = item["id"]
    fine = admin_api.put(f"/api/v1/schedules/{pk}", json=body | {"recipients": ["u_salesperson"]})
    assert fine.status_code == 200 and fine.get_json()["warnings"] == []
    browser = login_as("admin")
    token = csrf_from(browser.get("/admin/schedules/").get_data(as_text=True))
    form = {k: v for k, v in body.items() if k not in ("params", "recipients", "active")}
    form |= {"id": str(pk), "params": json.dumps(body["params"]), "recipients": [keeper], "csrf_token": token}
    page = browser.post("/admin/schedules/save", data=form, follow_redirects=True).get_data(as_text=True)
    assert warning in page


def test_a_report_empty_only_in_a_recipients_row_scope_is_logged_as_such_not_as_empty(
    app, admin_api, smtp, monkeypatch
):
    """The admin's order to K003 is no order a salesperson may see: a report of it to them is skipped, and the log
    says their row scope holds none of it (数据范围内无内容), not 无内容 as for a report with no rows at all."""
    from app.extensions import db

    tag = unique("R")
    lines = [{"item": new_item(admin_api), "qty": "1", "price": "7.5"}]
    document(admin_api, "sales_order", lines, salesperson="admin", partner="K003", warehouse="WH01", remark=tag)
    hidden = new_schedule(
        admin_api,
        monkeypatch,
        params={"report": "sales_order", "filters": {"remark": tag}},
        recipients=["u_salesperson"],
    )
    run_id = admin_api.post(f"/api/v1/schedules/{hidden['id']}/run").get_json()["run_id"]
    note = "用户 u_salesperson 的数据范围内没有「销售订单」的数据（报表有数据，但都不在其数据范围内），已跳过"
    assert (wait_run(app, run_id).status, wait_run(app, run_id).message) == ("out_of_scope", note)
    (log,) = admin_api.get(f"/api/v1/schedules/runs?schedule={hidden['id']}").get_json()["result"]
    assert (log["status_label"], log["message"]) == ("未发送：收件人的数据范围内没有数据", note)
    (line,) = log["deliveries"]
    assert (line["status"], line["status_label"], line["error"]) == ("out_of_scope", "数据范围内无内容，已跳过", note)

    empty = new_schedule(
        admin_api,
        monkeypatch,
        params={"report": "sales_order", "filters": {"remark": unique("R")}},
        recipients=["u_salesperson"],
    )
    run_id = admin_api.post(f"/api/v1/schedules/{empty['id']}/run").get_json()["run_id"]
    assert (wait_run(app, run_id).status, wait_run(app, run_id).message) == ("skipped", None)
    (log,) = admin_api.get(f"/api/v1/schedules/runs?schedule={empty['id']}").get_json()["result"]
    assert [(d["status_label"], d["error"]) for d in log["deliveries"]] == [("无内容，已跳过", None)]
    assert smtp.about(hidden["title"]) == [] and smtp.about(empty["title"]) == []
    with app.app_context():
        db.session.remove()


def test_a_mailed_reports_money_reads_as_on_its_page_grouped_by_thousands(app, admin_api, smtp, monkeypatch):
    """销售分析 of one item sold for 12,345.60: the mail's rows and figures read 12,345.60 as the page shows it (they
    read 12345.60); the workbook keeps the number itself (formatted #,##0.00 by Excel)."""
    from ledger_helpers import post

    from app.meta.types import money_text

    sku = new_item(admin_api)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "2", "price": "100"}], warehouse="WH01")
    line = {"item": sku, "qty": "1", "price": "12345.6"}
    post(admin_api, "sales_delivery", [line], partner="K001", warehouse="WH01", date="2091-01-10")
    params = {"report": "sales_analysis", "by": "item", "item": sku, "period": "2091-01-01..2091-01-31"}
    web = admin_api.get(
        "/api/v1/reports/sales_analysis", query_string={k: v for k, v in params.items() if k != "report"}
    )
    assert web.status_code == 200, web.get_json()
    (row,) = web.get_json()["rows"]
    assert money_text(row["amount"]) == "12,345.60"  # the page's numberText, as the templates' `money`
    item = new_schedule(admin_api, monkeypatch, params=params, recipients=["u_manager"], skip_empty=False)
    run_id = admin_api.post(f"/api/v1/schedules/{item['id']}/run").get_json()["run_id"]
    assert wait_run(app, run_id).status == "done"
    (mail,) = smtp.about(item["title"])
    html_body = mail.get_body(("html",)).get_content()
    assert "<td>12,345.60</td>" in html_body and "12345.60" not in html_body
    assert "金额（不含税）: 12,345.60" in mail.get_body(("plain",)).get_content()  # the figures, grouped too
    assert 12345.6 in [cell for r in xlsx_rows(mail) for cell in r]
