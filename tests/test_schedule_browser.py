"""In Chromium (zh-CN), one server on the demo data mailing an aiosmtpd server on loopback: a boss (老板/经理) opens a
report with a filter, 定时发送 每周一 08:00 to himself, sees it on 定时任务 in words; `jxc cron --once` with the clock
at that Monday runs it, and the mail carries the report with the same filter. The 定时任务 page's own form picks how
often in words too; the small form fits a phone; a bad time and a reader without an address are answered in Chinese."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from conftest import PASSWORD, unique
from in_browser import fits_the_phone, headless_chromium, make_user, on_phone, signed_in
from playwright.sync_api import expect
from servers import ARTIFACTS, BIN, ROOT, HttpApi
from test_finance_browser import arrived, mailing_server, person

__all__ = ["mailing_server"]  # the module's server: a fresh demo database, mail to an aiosmtpd inbox


def sold_to(admin: HttpApi, code: str, sku: str, qty: str, price: str) -> None:
    """A customer `code` and a posted delivery to them of `qty` x `price` of `sku` (received from S001 first)."""
    customer = {"code": code, "name": f"周报客户 {code}", "kind": "customer"}
    assert admin.post("/api/v1/partner/", customer)[0] == 201
    today = dt.date.today()
    for model, partner in (("purchase_receipt", "S001"), ("sales_delivery", code)):
        lines = [{"item": sku, "qty": qty, "price": price}]
        body = {"partner": partner, "warehouse": "WH01", "date": str(today), "lines": lines}
        status, doc = admin.post(f"/api/v1/{model}/", body)
        assert status == 201, doc
        assert admin.post(f"/api/v1/{model}/{doc['id']}/submit", {})[0] == 200


def declared_off(admin: HttpApi) -> None:
    """The demo's declared schedules (alerts, backup) off: the cron run below is the boss's report alone."""
    for item in admin.get("/api/v1/schedules/")[1]["result"]:
        if item["source"] == "yaml" and item["active"]:
            assert admin.put(f"/api/v1/schedules/{item['id']}", {**item, "active": False})[0] == 200


def cron_once_at(server: Any, moment: dt.datetime) -> str:
    """`jxc cron --once` beside the server (its database and mail; no Redis: it waits for the runs it started) with
    the clock at `moment` (UTC); its output."""
    env = server.env | {"JXC_CLOCK": moment.isoformat()}
    done = subprocess.run(
        [str(BIN / "jxc"), "cron", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    return done.stdout + done.stderr


def xlsx_text(message: Any) -> str:
    (part,) = [p for p in message.iter_attachments() if str(p.get_filename()).endswith(".xlsx")]
    book = openpyxl.load_workbook(io.BytesIO(part.get_content()), read_only=True)
    return repr([tuple(r) for r in book.active.iter_rows(values_only=True)])


def test_a_boss_schedules_a_filtered_report_every_monday_and_gets_it_filtered(mailing_server):
    server, inbox = mailing_server
    admin = HttpApi(server.url)
    ours, theirs, sku = unique("KW").upper(), unique("KX").upper(), unique("WS")
    assert admin.post("/api/v1/item/", {"sku": sku, "name": f"周报商品 {sku}", "unit": "PCS"})[0] == 201
    sold_to(admin, ours, sku, "2", "30")
    sold_to(admin, theirs, sku, "5", "11")
    title = f"老板的客户周报 {ours}"
    with person(server, "u_boss", "manager", "boss@shop.example") as page:
        page.goto(f"{server.url}/reports/sales_analysis/")
        page.select_option("#p-by", "customer")
        page.fill("#p-period", "2020-01-01..2099-12-31")
        page.fill("#p-partner", ours)
        page.click("#jxc-report-run")
        page.wait_for_selector("#jxc-report[data-rows='1']")
        page.click("#jxc-report-schedule")
        filters = page.inner_text("#rs-filters")
        assert "汇总方式：按客户" in filters and f"客户：{ours}" in filters, filters
        assert "我（boss@shop.example）" in page.inner_text("#jxc-schedule-box")
        page.fill("#rs-title", title)
        page.select_option("#rs-every", "week")
        page.check("#rs-wd-1")
        for day in range(2, 8):
            page.uncheck(f"#rs-wd-{day}")
        page.fill("#rs-time", "25:00")  # a bad time: said in Chinese, nothing saved
        page.click("#rs-save")
        page.wait_for_selector("#rs-message.alert-danger >> text=时间「25:00」无效：请按 时:分 填写，例如 08:00")
        page.fill("#rs-time", "08:00")
        page.click("#rs-save")
        page.wait_for_selector("#rs-message.alert-success")
        page.screenshot(path=str(ARTIFACTS / "browser-report-schedule.png"), full_page=True)
        said = page.inner_text("#rs-message")
        assert f"已保存：每周一 08:00 发送「{title}」，下次发送" in said and "可在 定时任务 中查看" in said, said
        page.click("#rs-open")
        page.wait_for_selector("#jxc-schedule-list")
        row = page.locator("#jxc-schedule-list tr", has=page.locator(f"text={title}"))
        assert row.locator(".jxc-when").inner_text().strip() == "每周一 08:00"
    (item,) = [s for s in HttpApi(server.url, "u_boss", PASSWORD).get("/api/v1/schedules/")[1]["result"]]
    assert item["cron"] == "0 8 * * 1" and item["owner"] == "u_boss" and item["recipients"] == ["u_boss"]
    assert item["params"]["partner"] == ours and item["params"]["by"] == "customer"
    assert item["params"]["period"] == "2020-01-01..2099-12-31"

    # the Monday comes: the clock at 08:30 of the next run the page showed (business time), one `jxc cron`
    declared_off(admin)
    monday = dt.datetime.strptime(item["next_run"], "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert monday.weekday() == 0 and monday.strftime("%H:%M") == "08:00"
    cron_once_at(server, (monday + dt.timedelta(minutes=30)).astimezone(dt.UTC))
    (mail,) = arrived(inbox, title)
    assert str(mail["To"]) == "boss@shop.example"
    sheet = xlsx_text(mail)
    assert ours in sheet and theirs not in sheet, sheet  # the filter the page showed: his customer only
    assert "汇总方式：按客户" in sheet and "2020-01-01" in sheet
    body = mail.get_body(("plain",)).get_content()
    assert ours in body and "60.00" in body and theirs not in body and "55.00" not in body, body


def test_the_schedules_page_picks_how_often_in_words(mailing_server):
    """定时任务's own form: 每月 月末 18:00 saved in words and shown so; a cron of a picker's shape made through the API
    reads in words too; 高级 keeps a cron typed by hand; a bad time is refused in Chinese with the form kept."""
    server, _inbox = mailing_server
    make_user(HttpApi(server.url), "u_boss2", "manager", PASSWORD, email="boss2@shop.example")
    mine = HttpApi(server.url, "u_boss2", PASSWORD)
    body = {"name": "boss2_weekdays", "title": "工作日订单", "kind": "report", "cron": "0 8 * * 1-5"}
    assert (
        mine.post("/api/v1/schedules/", body | {"params": {"report": "sales_order"}, "recipients": ["u_boss2"]})[0]
        == 201
    )
    for browser in headless_chromium():
        context, page, console = signed_in(browser, server.url, "u_boss2", PASSWORD)
        page.goto(server.url + "/admin/schedules/")
        assert page.inner_text("tr[data-schedule='boss2_weekdays'] .jxc-when").strip() == "每周一至五 08:00"
        page.fill("#sch-name", "boss2_month_end")
        page.fill("#sch-title", "月末库存")
        page.select_option("#sch-report", "inventory_summary")
        page.select_option("#sch-every", "month")
        assert page.locator("#sch-wd-1").is_hidden() and page.locator("#sch-cron").is_hidden()
        page.select_option("#sch-day", "last")
        page.fill("#sch-time", "18:60")
        page.click("#sch-save")
        page.wait_for_selector(".alert-danger >> text=时间「18:60」无效")
        assert page.input_value("#sch-every") == "month" and page.input_value("#sch-day") == "last"
        assert page.input_value("#sch-name") == "boss2_month_end"
        page.fill("#sch-time", "18:00")
        page.click("#sch-save")
        page.wait_for_selector("tr[data-schedule='boss2_month_end']")
        assert page.inner_text("tr[data-schedule='boss2_month_end'] .jxc-when").strip() == "每月最后一天 18:00"
        page.screenshot(path=str(ARTIFACTS / "browser-schedules-frequency.png"), full_page=True)
        # 修改 opens it in words; 高级 takes a cron, shown as typed when it is no frequency
        page.click("tr[data-schedule='boss2_month_end'] a")
        assert page.input_value("#sch-every") == "month" and page.input_value("#sch-day") == "last"
        page.select_option("#sch-every", "cron")
        page.fill("#sch-cron", "*/30 9-17 * * 1-5")
        page.click("#sch-save")
        page.wait_for_selector("tr[data-schedule='boss2_month_end'] .jxc-when code")
        assert page.inner_text("tr[data-schedule='boss2_month_end'] .jxc-when").strip() == "*/30 9-17 * * 1-5"
        console.check()
        context.close()


def test_a_users_schedules_read_as_their_reports_and_filters_never_as_json(mailing_server):
    """定时任务 as a user (not an admin): each schedule's report and filters in words, as the report's page shows
    them (销售分析（期间：本月；汇总方式：按客户）, a listing's 销售订单（状态：已审核））; 修改 offers the report by
    its name and its filters as the report's filter form does, and nothing on the page is the parameters' JSON."""
    server, _inbox = mailing_server
    make_user(HttpApi(server.url), "u_boss4", "manager", PASSWORD, email="boss4@shop.example")
    mine = HttpApi(server.url, "u_boss4", PASSWORD)
    body = {"kind": "report", "cron": "0 8 * * 1", "recipients": ["u_boss4"]}
    analysis = {"report": "sales_analysis", "by": "customer", "period": "this_month"}
    listing = {"report": "sales_order", "filters": {"status": "submitted"}, "sort": "date"}
    for name, params in (("boss4_customers", analysis), ("boss4_waiting", listing)):
        assert mine.post("/api/v1/schedules/", body | {"name": name, "title": name, "params": params})[0] == 201

    def stored(name: str) -> dict[str, Any]:
        return next(s["params"] for s in mine.get("/api/v1/schedules/")[1]["result"] if s["name"] == name)

    def no_json(page: Any) -> None:
        shown = page.evaluate(
            "() => document.body.innerText + [...document.querySelectorAll('input, select')]"
            ".filter(el => el.type !== 'hidden').map(el => el.value).join(' ')"
        )
        assert '{"' not in shown and '"report"' not in shown, shown

    for browser in headless_chromium():
        context, page, console = signed_in(browser, server.url, "u_boss4", PASSWORD)
        page.goto(server.url + "/admin/schedules/")
        content = "tr[data-schedule='{}'] .jxc-content"
        assert page.inner_text(content.format("boss4_customers")) == "销售分析（期间：本月；汇总方式：按客户）"
        assert page.inner_text(content.format("boss4_waiting")) == "销售订单（状态：已审核）"
        no_json(page)
        page.click("tr[data-schedule='boss4_customers'] a")
        assert page.input_value("#sch-report") == "sales_analysis"
        assert page.input_value("#sch-p-period") == "本月" and page.input_value("#sch-p-by") == "customer"
        assert page.inner_text("#sch-p-by option:checked") == "按客户"
        no_json(page)
        page.select_option("#sch-p-by", "item")
        page.click("#sch-save")
        expect(page.locator(".alert-success", has_text="已保存")).to_have_count(1)
        assert stored("boss4_customers") == {"report": "sales_analysis", "by": "item", "period": "本月"}
        page.click("tr[data-schedule='boss4_waiting'] a")
        assert page.inner_text("#sch-filter-words") == "销售订单（状态：已审核）"
        no_json(page)
        page.click("#sch-save")
        expect(page.locator(".alert-success", has_text="已保存")).to_have_count(1)
        assert stored("boss4_waiting") == listing  # what the form does not show is kept
        page.click("tr[data-schedule='boss4_waiting'] a")
        page.select_option("#sch-report", "inventory_summary")  # another report: its own defaults, set after saving
        expect(page.locator("#sch-filters-later")).to_be_visible()
        expect(page.locator("#sch-filter-words")).to_be_hidden()
        page.click("#sch-save")
        expect(page.locator(".alert-success", has_text="已保存")).to_have_count(1)
        assert stored("boss4_waiting") == {"report": "inventory_summary"}
        page.screenshot(path=str(ARTIFACTS / "browser-schedules-words.png"), full_page=True)
        console.check()
        context.close()


def test_the_small_form_fits_a_phone_and_a_reader_without_an_address_is_told(mailing_server):
    server, _inbox = mailing_server
    make_user(HttpApi(server.url), "u_noaddr", "manager", PASSWORD)
    with on_phone(server.url, "u_noaddr", PASSWORD) as page:
        page.goto(server.url + "/reports/sales_analysis/?by=customer")
        page.click("#jxc-report-schedule")
        page.select_option("#rs-every", "week")
        said = page.inner_text("#rs-no-email")
        assert said == "您还没有邮箱地址，收不到定时发送的报表：请管理员在 用户管理 中为您填写邮箱后再设置"
        assert page.locator("#rs-save").is_disabled()
        page.screenshot(path=str(ARTIFACTS / "phone-report-schedule.png"), full_page=True)
        fits_the_phone(page, "#rs-save", "#rs-time", "#rs-wd-7", "#rs-title")


def test_saving_the_same_filters_again_updates_the_schedule_and_the_form_lists_and_deletes(mailing_server):
    """定时发送 lists the reader's own schedules of the report; saving the same filters again (another time) changes
    that one, saying 已更新定时发送, never a second; other filters make another; 删除 there deletes one. Before, each
    save made one more schedule of the same report and filters, and the form showed none of them."""
    server, _inbox = mailing_server
    title = f"客户周报 {unique('T')}"
    with person(server, "u_boss3", "manager", "boss3@shop.example") as page:
        me = HttpApi(server.url, "u_boss3", PASSWORD)
        page.goto(f"{server.url}/reports/sales_analysis/")
        page.select_option("#p-by", "customer")
        page.fill("#p-period", "2020-01-01..2099-12-31")
        page.click("#jxc-report-schedule")
        assert page.locator("#rs-existing").is_hidden()  # none yet
        page.fill("#rs-title", title)
        page.click("#rs-save")
        page.wait_for_selector("#rs-message.alert-success >> text=已保存：每周一 08:00")
        rows = page.locator("#rs-existing-list tbody tr")
        page.wait_for_selector("#rs-existing-list tbody tr")
        assert rows.count() == 1 and "汇总方式：按客户" in rows.first.inner_text()
        page.fill("#rs-time", "09:00")
        page.click("#rs-save")  # the same filters: the one there changes
        page.wait_for_selector(f"#rs-message.alert-success >> text=已更新定时发送：每周一 09:00 发送「{title}」")
        page.wait_for_selector("#rs-existing-list tbody tr >> text=每周一 09:00")
        assert rows.count() == 1
        (item,) = me.get("/api/v1/schedules/")[1]["result"]
        assert item["cron"] == "0 9 * * 1" and item["title"] == title
        page.screenshot(path=str(ARTIFACTS / "browser-report-schedule-updated.png"), full_page=True)

        page.fill("#p-partner", "K001")  # other filters: another schedule
        page.click("#rs-save")
        page.wait_for_selector("#rs-message.alert-success >> text=已保存")
        expect(rows).to_have_count(2)
        assert len(me.get("/api/v1/schedules/")[1]["result"]) == 2
        first = page.locator("#rs-existing-list tbody tr", has_not_text="K001")
        first.locator(".rs-delete").click()
        page.wait_for_selector(f"#rs-message.alert-success >> text=已删除定时发送「{title}」")
        expect(rows).to_have_count(1)
        (left,) = me.get("/api/v1/schedules/")[1]["result"]
        assert left["params"]["partner"] == "K001" and "K001" in rows.first.inner_text()
