"""Collaboration in Chromium (zh-CN), one server and one browser: a comment with a mention posted on a
delivery's page reaches the other user (their notifications, and their open page of the same delivery without
a reload); an executable renamed .pdf is refused on upload; a complaint opened from the delivery is assigned,
started, resolved and closed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, unique
from in_browser import DESKTOP, Console, headless_chromium
from servers import ARTIFACTS, HttpApi, jxc_server, run_jxc, server_env

EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 48
    + b"This program cannot be run in DOS mode"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One gunicorn server on a fresh SQLite database with the demo data and a manager u_boss."""
    instance = tmp_path_factory.mktemp("collab-browser") / "instance"
    url = f"sqlite:///{instance / 'jxc.db'}"
    with jxc_server(url, instance, name="collab-web", demo=True) as running:
        boss = ("user", "add", "u_boss", "--role", "manager", "--password", PASSWORD)
        added = run_jxc(*boss, env=server_env(url, instance), timeout=60)
        assert added.returncode == 0, added.stderr
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for the module's tests (each test opens contexts of its own)."""
    yield from headless_chromium()


def sign_in(browser: Any, base: str, username: str) -> tuple[Any, Any, Console]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    console = Console()
    console.attach(page)
    page.goto(base + "/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base + "/")
    return context, page, console


def test_comment_attachment_and_complaint_in_chromium(server, browser, tmp_path: Path):
    admin = HttpApi(server.url)
    sku = unique("CB")
    status, _ = admin.post("/api/v1/item/", {"sku": sku, "name": f"协作商品 {sku}", "unit": "PCS"})
    assert status == 201
    status, made = admin.post(
        "/api/v1/sales_delivery/",
        {"partner": "K001", "warehouse": "WH01", "lines": [{"item": sku, "qty": "5", "price": "12"}]},
    )
    assert status == 201, made
    pk, number = made["id"], made["result"]["number"]
    page_url = f"{server.url}/m/sales_delivery/{pk}"
    ctx_a, page, console = sign_in(browser, server.url, "admin")
    ctx_b, other, other_console = sign_in(browser, server.url, "u_boss")
    other.goto(page_url)
    other.wait_for_selector(".jxc-timeline-change")  # the timeline loaded (its creation)
    page.goto(page_url)

    # a comment with a mention, seen by the other user without reloading, and in their notifications
    page.fill("#jxc-comment-body", "请 @u_boss 确认这批货的交期")
    page.click("#jxc-comment-post")
    page.wait_for_selector(".jxc-timeline-comment .jxc-mention")
    assert "已提醒" in page.inner_text("#jxc-comment-note")
    started = time.monotonic()
    other.wait_for_selector(".jxc-timeline-comment:has-text('确认这批货的交期')", timeout=15000)
    appeared = time.monotonic() - started
    boss = HttpApi(server.url, "u_boss")
    status, bell = boss.get("/api/v1/notifications/")
    mention = next(n for n in bell["result"] if n["kind"] == "mention")
    assert mention["link"] == f"/m/sales_delivery/{pk}" and number in mention["text"]
    assert bell["unread"] >= 1
    other.goto(server.url + "/")  # the bell in the header: the count, and the mention when opened
    other.wait_for_selector("#jxc-bell-count:not([hidden])")
    other.click("#jxc-bell-toggle")
    other.wait_for_selector("#jxc-bell-menu:has-text('提到了你')")

    # an executable renamed .pdf is refused, in Chinese; a real PDF is kept
    upload_url = f"{server.url}/api/v1/collab/sales_delivery/{pk}/attachments"
    page.set_input_files("#jxc-upload-file", files=[{"name": "发票.pdf", "mimeType": "application/pdf", "buffer": EXE}])
    page.click("#jxc-upload-send")
    page.wait_for_selector("#jxc-collab-error:not([hidden])")
    assert "不是图片或 PDF" in page.inner_text("#jxc-collab-error")
    assert page.locator("#jxc-attachments li").count() == 0
    page.set_input_files(
        "#jxc-upload-file", files=[{"name": "签收单.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.click("#jxc-upload-send")
    page.wait_for_selector("#jxc-attachments li:has-text('签收单.pdf')")

    # a complaint opened from the delivery, assigned, started, resolved, closed
    page.click("#jxc-new-complaint summary")
    page.fill("#jxc-new-complaint-form input[name=summary]", "外箱破损两件")
    page.select_option("#jxc-new-complaint-form select[name=type]", "damage")
    page.select_option("#jxc-new-complaint-form select[name=severity]", "high")
    page.click("#jxc-new-complaint-save")
    page.wait_for_url(f"{server.url}/m/complaint/*")
    complaint_id = int(page.url.rsplit("/", 1)[1])
    assert number in page.inner_text(".jxc-fields") and "待处理" in page.inner_text(".jxc-fields")
    page.fill("#jxc-assign-user", "u_boss")
    page.click("#jxc-assign")
    page.wait_for_selector("#jxc-owner:has-text('u_boss')")
    page.click("#jxc-complaint-start")
    page.wait_for_selector(".jxc-fields:has-text('处理中')")
    page.fill("#jxc-complaint-resolution", "补发两件，客户已确认")
    page.click("#jxc-complaint-resolve")
    page.wait_for_selector(".jxc-fields:has-text('已解决')")
    page.click("#jxc-complaint-close")
    page.wait_for_selector(".jxc-fields:has-text('已关闭')")
    assert page.locator(".jxc-complaint-buttons button").count() == 0
    page.wait_for_selector(".jxc-timeline-approval >> nth=2")  # start, resolve, close in the timeline
    assert page.locator(".jxc-timeline-approval").count() == 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "collab-complaint-closed.png"), full_page=True)
    status, done = admin.get(f"/api/v1/complaint/{complaint_id}")
    assert done["result"]["status"] == "closed" and done["result"]["owner"]["key"] == "u_boss"
    status, bell = boss.get("/api/v1/notifications/")
    assert any(n["kind"] == "assigned" and n["link"] == f"/m/complaint/{complaint_id}" for n in bell["result"])
    console.check(expected_failures=(f"422 {upload_url}",))
    other_console.check()
    ctx_a.close()
    ctx_b.close()
    assert appeared < 15


def test_a_mention_about_a_deleted_draft_stays_greyed_and_leads_nowhere(server, browser):
    """A mention about a draft deleted afterwards stayed in the bell and opened the next draft, which SQLite gave
    the deleted one's id; then it went with the record and its reader lost the trace. Now it stays, greyed with
    记录已删除 and no link, in the bell and on 我的通知; clicking it opens nothing."""
    admin = HttpApi(server.url)
    body = {"partner": "K001", "warehouse": "WH01", "lines": [{"item": "SP0001", "qty": "1", "price": "10"}]}
    status, made = admin.post("/api/v1/sales_delivery/", body)
    assert status == 201, made
    pk, number = made["id"], made["result"]["number"]
    ctx_a, page, console = sign_in(browser, server.url, "admin")
    ctx_b, other, other_console = sign_in(browser, server.url, "u_boss")
    page.goto(f"{server.url}/m/sales_delivery/{pk}")
    page.fill("#jxc-comment-body", "@u_boss 这张草稿价格不对，我删掉重开")
    page.click("#jxc-comment-post")
    page.wait_for_selector(".jxc-timeline-comment .jxc-mention")
    other.goto(server.url + "/")
    other.click("#jxc-bell-toggle")
    mention = f"#jxc-bell-menu .jxc-bell-item:has-text('{number}')"
    other.wait_for_selector(mention)
    assert other.locator(f"{mention} a.jxc-bell-link[href]").count() == 1
    status, _ = admin.call("DELETE", f"/api/v1/sales_delivery/{pk}")
    assert status == 200
    status, again = admin.post("/api/v1/sales_delivery/", dict(body, lines=[dict(body["lines"][0], price="12")]))
    assert status == 201 and again["id"] == pk  # SQLite: the next draft takes the deleted one's id
    other.goto(server.url + "/")  # a new page: its bell loads its list when opened
    other.click("#jxc-bell-toggle")
    other.wait_for_selector("#jxc-bell[data-loaded='1']", state="attached")
    item = other.locator(mention)
    assert item.count() == 1 and "jxc-record-deleted" in (item.get_attribute("class") or "")
    assert item.locator(".jxc-record-deleted-tag").inner_text() == "记录已删除"
    assert item.locator("a[href]").count() == 0
    grey = item.locator(".jxc-bell-text").evaluate("e => getComputedStyle(e.parentElement).color")
    assert grey == "rgb(153, 153, 153)", grey
    item.locator(".jxc-bell-text").click()
    other.wait_for_timeout(300)
    assert other.url == server.url + "/"  # nothing opened: not the draft that took the id
    other.goto(server.url + "/notifications/")
    row = other.locator(f".jxc-notifications tr:has-text('{number}')")
    assert "jxc-record-deleted" in (row.get_attribute("class") or "")
    assert row.locator(".jxc-record-deleted-tag").inner_text() == "记录已删除"
    assert row.locator("a").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    other.screenshot(path=str(ARTIFACTS / "notification-record-deleted.png"), full_page=True)
    console.check()
    other_console.check()
    ctx_a.close()
    ctx_b.close()
