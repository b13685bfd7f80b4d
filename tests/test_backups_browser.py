"""The backups page in Chromium: the key-file warning, run now, the list, download, and a restore that asks
for the password again, runs in maintenance mode and brings the data back (one gunicorn on SQLite, jobs
in-process), and maintenance mode answering 503."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import PASSWORD, unique
from in_browser import DESKTOP, Console, headless_chromium
from servers import ARTIFACTS, HttpApi, jxc_server

from app.backups.crypto import MAGIC
from app.backups.maintenance import maintenance_mode


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A server on a fresh SQLite database (no demo data: faster); `server.instance` is its instance folder."""
    instance = tmp_path_factory.mktemp("backups-web") / "instance"
    with jxc_server(f"sqlite:///{instance / 'jxc.db'}", instance, name="backups-web") as running:
        running.instance = instance  # type: ignore[attr-defined]
        yield running


def _reload_until(page: Any, url: str, selector: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if page.locator(selector).count():
            return page.locator(selector)
        assert time.monotonic() < deadline, f"{selector} did not appear: {page.content()[:2000]}"
        time.sleep(0.5)


def test_backups_page(server: Any, tmp_path: Any) -> None:
    url = server.url + "/admin/backups/"
    for chromium in headless_chromium():
        context = chromium.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
        page = context.new_page()
        console = Console()
        console.attach(page)
        page.goto(server.url + "/login/")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(server.url + "/")
        page.goto(url)
        assert "另存一份" in page.locator("#jxc-backup-key").inner_text()  # the key file's warning
        assert len(page.locator("#jxc-backup-key-text").text_content().strip()) >= 32
        assert "还没有备份" in page.locator("#jxc-backup-list").inner_text()

        page.click("#jxc-backup-run")
        assert "备份已开始" in page.content()
        row = _reload_until(page, url, "tr[data-status=good]")
        name = row.get_attribute("data-backup")
        assert row.locator(".label").inner_text() == "已校验"
        page.screenshot(path=str(ARTIFACTS / "backups-page.png"), full_page=True)

        with page.expect_download() as download:
            row.locator(".jxc-backup-download").click()
        saved = tmp_path / "downloaded.jxcbak"
        download.value.save_as(saved)
        assert saved.read_bytes().startswith(MAGIC) and download.value.suggested_filename == name

        api = HttpApi(server.url)
        code = unique("WB")
        status, body = api.post("/api/v1/warehouse/", {"code": code, "name": "备份之后的仓库"})
        assert status == 201, body

        row = page.locator(f'tr[data-backup="{name}"]')
        row.locator(".jxc-backup-restore summary").click()
        row.locator("input[name=password]").fill("not-my-password")
        row.locator("button[type=submit]").click()
        assert "当前密码不正确" in page.content()  # asked again, and checked

        row = page.locator(f'tr[data-backup="{name}"]')
        row.locator(".jxc-backup-restore summary").click()
        row.locator("input[name=password]").fill(PASSWORD)
        row.locator("button[type=submit]").click()
        assert "正在恢复" in page.content()
        done = _reload_until(page, url, ".jxc-backup-last[data-what=restore]", timeout=60)
        assert done.get_attribute("data-ok") == "1", done.inner_text()
        assert page.locator("tr[data-backup]").count() == 2  # the data before the restore was backed up first
        assert "恢复前自动备份" in page.locator("#jxc-backup-list").inner_text()

        api = HttpApi(server.url)  # the token was issued after the backup: it went with the restore
        status, body = api.get(f"/api/v1/warehouse/?q=(filters:!((col:code,opr:eq,value:{code})))")
        assert status == 200 and body["count"] == 0, body  # the data is the backup's again
        console.check()
        context.close()


def test_maintenance_mode_answers_503_and_pauses_jobs(server: Any) -> None:
    api = HttpApi(server.url)
    with maintenance_mode(server.instance, "restore"):
        status, body = api.get("/api/v1/warehouse/")
        assert status == 503 and "正在恢复备份" in body["message"], body
        status, page = HttpApi.call(api, "GET", "/login/", headers={"Accept": "text/html"})
        assert status == 503 and "系统维护中" in page
    status, body = api.get("/api/v1/warehouse/")
    assert status == 200, body
