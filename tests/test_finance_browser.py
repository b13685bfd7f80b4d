"""In Chromium (zh-CN), one server on the demo data mailing an aiosmtpd server on loopback: finance sends a 催款
to one customer from the customer's account page (立即催款) and sees the answer and the 催款记录; a manager reaches
定时任务 from the menu, schedules a report to themselves and runs it."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import PASSWORD, unique
from in_browser import PHONE, fits_the_phone, headless_chromium, make_user, on_phone, signed_in
from servers import HttpApi, Inbox, free_port, jxc_server


@pytest.fixture(scope="module")
def mailing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Inbox]]:
    """A server on a fresh demo database whose mail goes to an aiosmtpd inbox (jobs in the web process)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    instance = tmp_path_factory.mktemp("finance-browser") / "instance"
    env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(inbox.port), "SMTP_SECURITY": "none", "REDIS_URL": ""}
    env |= {"MAIL_FROM": "JXC <jxc@example.com>", "SMTP_BACKOFF": "0.01"}
    try:
        with jxc_server(
            f"sqlite:///{instance / 'jxc.db'}", instance, name="finance-web", extra_env=env, demo=True
        ) as running:
            yield running, inbox
    finally:
        controller.stop()


@contextmanager
def person(server: Any, username: str, role: str, email: str) -> Iterator[Any]:
    """A new user of the role signed in in Chromium: their page; its console checked at the end."""
    make_user(HttpApi(server.url), username, role, PASSWORD, email=email)
    for browser in headless_chromium():
        context, page, console = signed_in(browser, server.url, username, PASSWORD)
        yield page


def arrived(inbox: Inbox, subject: str, timeout: float = 30) -> list[Any]:
    deadline = time.monotonic() + timeout
    while not inbox.about(subject):
        assert time.monotonic() < deadline, f"no mail about {subject}"
        time.sleep(0.2)
    return inbox.about(subject)


def overdue_customer(admin: HttpApi) -> tuple[str, int]:
    """A customer with 5 days' terms owed for a delivery of 20 days ago (its own item, received before)."""
    today = dt.date.today()
    sku, code = unique("FB"), unique("KF")
    assert admin.post("/api/v1/item/", {"sku": sku, "name": f"催款商品 {sku}", "unit": "PCS"})[0] == 201
    status, made = admin.post(
        "/api/v1/partner/",
        {
            "code": code,
            "name": f"逾期客户 {code}",
            "kind": "customer",
            "email": "ar@overdue.example",
            "payment_terms_days": 5,
        },
    )
    assert status == 201, made
    for model, partner, day in (("purchase_receipt", "S001", 30), ("sales_delivery", code, 20)):
        lines = [{"item": sku, "qty": "2", "price": "30"}]
        body = {"partner": partner, "warehouse": "WH01", "date": str(today - dt.timedelta(days=day)), "lines": lines}
        status, doc = admin.post(f"/api/v1/{model}/", body)
        assert status == 201, doc
        status, posted = admin.post(f"/api/v1/{model}/{doc['id']}/submit", {})
        assert status == 200, posted
    return code, made["id"]


def test_finance_sends_a_reminder_from_the_account_page(mailing_server):
    server, inbox = mailing_server
    code, pk = overdue_customer(HttpApi(server.url))
    with person(server, "u_fin", "finance", "fin@shop.example") as page:
        page.goto(f"{server.url}/accounts/{pk}")
        page.click("#jxc-dunning-now")
        page.wait_for_selector(f"text=已把催款邮件交给邮件队列，发往客户 {code}")
        (mail,) = arrived(inbox, f"逾期客户 {code}")
        assert str(mail["To"]) == "ar@overdue.example"
        page.reload()
        row = page.locator("#jxc-reminders tbody tr").first
        assert "ar@overdue.example" in row.inner_text() and "手动" in row.inner_text()


def test_finance_sends_a_reminder_from_the_overdue_list_and_from_the_phone(mailing_server):
    """逾期应收 (/accounts/overdue): each customer's row has the account page's 催款, answered on the list; the phone's
    customer page (its statement) has it too, through the same API and its checks (a customer with nothing overdue
    is told so)."""
    server, inbox = mailing_server
    code, pk = overdue_customer(HttpApi(server.url))
    with person(server, "u_dun", "finance", "dun@shop.example") as page:
        page.goto(f"{server.url}/accounts/overdue")
        page.click(f"#jxc-overdue button[data-dunning='{code}']")
        page.wait_for_selector(f"text=已把催款邮件交给邮件队列，发往客户 {code}")
        assert page.url.endswith("/accounts/overdue")
        assert len(arrived(inbox, f"逾期客户 {code}")) == 1
    for browser in headless_chromium():
        context, phone, console = signed_in(browser, server.url, "u_dun", PASSWORD, viewport=PHONE, is_mobile=True)
        phone.goto(f"{server.url}/phone/customer/{pk}")
        phone.click("#ph-dunning")
        phone.wait_for_selector(f"#ph-msg.ph-ok >> text=已把催款邮件交给邮件队列，发往客户 {code}")
        deadline = time.monotonic() + 30
        while len(inbox.about(f"逾期客户 {code}")) < 2:
            assert time.monotonic() < deadline, "the phone's 催款 sent nothing"
            time.sleep(0.2)
        paid_up = unique("KP").upper()
        customer = {"code": paid_up, "name": f"按时客户 {paid_up}", "kind": "customer", "email": "ok@paid.example"}
        status, made = HttpApi(server.url).post("/api/v1/partner/", customer)
        assert status == 201, made
        phone.goto(f"{server.url}/phone/customer/{made['id']}")
        phone.click("#ph-dunning")
        refused = f"客户 {paid_up} 按时客户 {paid_up} 没有逾期未付的款项，无需催款"
        phone.wait_for_selector(f"#ph-msg.ph-error >> text={refused}")
        console.check(expected_failures=(f"422 {server.url}/api/v1/accounts/{made['id']}/dunning",))
        context.close()


def test_a_manager_schedules_a_report_to_themselves_from_the_menu(mailing_server):
    server, inbox = mailing_server
    make_user(HttpApi(server.url), "u_fin2", "finance", PASSWORD, email="fin2@shop.example")
    theirs = HttpApi(server.url, "u_fin2", PASSWORD)
    body = {
        "name": "fin_payments",
        "title": "财务的收付款",
        "kind": "report",
        "cron": "0 8 * * *",
        "params": {"report": "payment"},
        "recipients": ["u_fin2"],
    }
    assert theirs.post("/api/v1/schedules/", body)[0] == 201
    with person(server, "u_mgr", "manager", "boss@shop.example") as page:
        page.click("text=系统")
        page.click("a[href='/admin/schedules/']")
        page.wait_for_selector("#jxc-schedule-form")
        assert "fin_payments" not in page.inner_text("#jxc-schedule-list")  # another user's
        assert page.locator("#sch-run-as").count() == 0 and page.locator("#sch-addresses").count() == 0
        page.fill("#sch-name", "my_sales")
        page.fill("#sch-title", "我的销售订单")
        page.select_option("#sch-report", "sales_order")
        page.uncheck("input[name=skip_empty]")
        page.click("#sch-save")
        page.wait_for_selector("tr[data-schedule='my_sales']")
        page.click("tr[data-schedule='my_sales'] .jxc-run-now")
        (mail,) = arrived(inbox, "我的销售订单")
        assert str(mail["To"]) == "boss@shop.example"


def test_finance_changes_a_budget_in_the_grid_and_sees_what_remains(mailing_server):
    server, _inbox = mailing_server
    admin = HttpApi(server.url)
    code, sku = unique("BG"), unique("BS")
    assert admin.post("/api/v1/category/", {"code": code, "name": f"预算分类 {code}"})[0] == 201
    assert (
        admin.post("/api/v1/item/", {"sku": sku, "name": f"预算商品 {sku}", "unit": "PCS", "category": code})[0] == 201
    )
    assert admin.post("/api/v1/budget/", {"period": "2093-05", "category": code, "amount": "500"})[0] == 201
    lines = [{"item": sku, "qty": "3", "price": "40.5"}]
    body = {"partner": "S001", "warehouse": "WH01", "date": "2093-05-10", "lines": lines}
    status, doc = admin.post("/api/v1/purchase_order/", body)
    assert status == 201, doc
    assert admin.post(f"/api/v1/purchase_order/{doc['id']}/submit", {})[0] == 200
    with person(server, "u_fin3", "finance", "fin3@shop.example") as page:
        page.goto(f"{server.url}/grid/budget/")
        page.wait_for_function("() => window.jxcGrid && window.jxcGrid.idle()")
        row = page.locator(
            ".tabulator-row", has=page.locator(".tabulator-cell[tabulator-field=period]:text-is('2093-05')")
        )
        assert row.locator(".tabulator-cell[tabulator-field=spent]").inner_text().strip() == "121.50"
        assert row.locator(".tabulator-cell[tabulator-field=remaining]").inner_text().strip() == "378.50"
        amount = row.locator(".tabulator-cell[tabulator-field=amount]")
        with page.expect_response(lambda r: r.url.endswith("/batch")) as answer:
            amount.dblclick()
            page.locator(".jxc-grid-input").wait_for()
            page.keyboard.press("Control+A")
            page.keyboard.type("600")
            page.keyboard.press("Enter")
        assert answer.value.status == 200
        page.wait_for_function("() => window.jxcGrid && window.jxcGrid.idle()")
        assert row.locator(".tabulator-cell[tabulator-field=remaining]").inner_text().strip() == "478.50"


def test_a_managers_schedules_page_fits_a_phone(mailing_server):
    """定时任务 on a 390 px phone: its form's rows ran 15 px past each edge (Bootstrap's form rows without the
    gutter the other pages give back), so the page scrolled sideways."""
    server, _ = mailing_server
    make_user(HttpApi(server.url), "u_mgr_phone", "manager", PASSWORD)
    with on_phone(server.url, "u_mgr_phone", PASSWORD) as page:
        page.goto(server.url + "/admin/schedules/")
        page.wait_for_selector("#jxc-schedule-form")
        fits_the_phone(page, "#sch-save")
