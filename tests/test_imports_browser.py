"""The import page in Chromium: a file uploaded and checked, a column's mapping corrected, a bad cell fixed in
place and a column fixed at once, applied with the progress bar, then undone (gunicorn on SQLite, jobs in
the web process)."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import quote

import prison
import pytest
import servers
from conftest import PASSWORD, unique
from in_browser import headless_chromium, make_user, signed_in
from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect
from servers import ARTIFACTS, HttpApi, jxc_server

pytestmark = pytest.mark.slow  # run early: see tests/conftest.py

ROWS = 300
CHECKED_ROWS = 20000  # a check long enough (seconds) for a colleague to save meanwhile


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    instance = tmp_path_factory.mktemp("imports-browser") / "instance"
    patience, servers.START_TIMEOUT = servers.START_TIMEOUT, 120  # gunicorn boots the whole app: slow when busy
    with jxc_server(
        f"sqlite:///{instance / 'jxc.db'}", instance, name="imports-web", extra_env={"REDIS_URL": ""}, demo=True
    ) as running:
        servers.START_TIMEOUT = patience
        DATABASES[running.url] = instance / "jxc.db"
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium for the module's tests (each test opens contexts of its own)."""
    yield from headless_chromium()


DATABASES: dict[str, Path] = {}  # the server's SQLite file, by its url (a job row put there by hand)


def checked(
    chromium: Any, server: Any, model: str, path: Path, summary: str, user: str = "admin", timeout: int = 30000
) -> Any:
    """Signed in as `user`, the file at `path` chosen on the model's import page and checked to the end (its rows
    shown, then the check job done): the summary says `summary`. (context, page, console)."""
    context, page, console = signed_in(chromium, server.url, user)
    page.goto(server.url + f"/imports/{model}/")
    page.set_input_files("#jxc-imports-file", str(path))
    expect(page.locator("#jxc-imports-job-text")).to_contain_text("检查完成", timeout=timeout)
    expect(page.locator("#jxc-imports-summary")).to_contain_text(summary)
    return context, page, console


@pytest.mark.parametrize(
    ("waited", "words"),
    [
        (0, re.compile("^正在读取文件，马上开始导入……$")),
        (90, re.compile(r"^排队等待中，已等待 9\d 秒，轮到后自动开始$")),  # not as if it were starting
    ],
)
def test_an_import_waiting_in_the_queue_says_it_is_about_to_start_or_that_it_waits(server, chromium, waited, words):
    """Reopened while the import waits for its turn (no rows counted yet) the page says so, not 「正在处理 0 / ?」;
    once it has waited more than a moment (10 s: no worker took it yet, or a long job is ahead) it says it waits."""
    database = DATABASES[server.url]
    with closing(sqlite3.connect(database)) as db, db:
        (admin,) = db.execute("SELECT id FROM ab_user WHERE username = 'admin'").fetchone()
        waiting = db.execute(  # a backend no runner of this server serves: it waits in the queue
            "INSERT INTO jxc_job (kind, user_id, username, status, args, done, attempts, max_attempts, backend,"
            " cancel_requested, created_at) VALUES ('import', ?, 'admin', 'queued', ?, 0, 0, 1, 'nobody', 0,"
            " datetime('now', ?))",
            (admin, json.dumps({"model": "unit", "upload": "x"}), f"-{waited} seconds"),
        ).lastrowid
    try:
        context, page, console = signed_in(chromium, server.url)
        page.goto(server.url + "/imports/unit/")
        expect(page.locator("#jxc-imports-job-text")).to_have_text(words)
        expect(page.locator('[data-import-action="cancel"]')).to_be_visible()
        console.check()
        context.close()
    finally:
        with closing(sqlite3.connect(database)) as db, db:
            db.execute("UPDATE jxc_job SET status = 'cancelled' WHERE id = ?", (waiting,))


def test_upload_correct_fix_apply_and_undo(server, chromium, tmp_path):
    tag = unique("B")
    book = Workbook()
    book.active.append(["货号", "商品名称", "基本单位", "批次管理"])  # 货号 names no field: mapped by hand
    for n in range(ROWS):
        book.active.append([f"{tag}-{n:04d}", f" 浏览器商品 {n} ", "个", "有" if n % 2 else "无"])
    book.active.cell(row=5, column=3, value="打")  # an unknown unit on sheet row 5
    path = tmp_path / "items.xlsx"
    data = io.BytesIO()
    book.save(data)
    path.write_bytes(data.getvalue())
    api = HttpApi(server.url)
    context, page, console = signed_in(chromium, server.url)
    page.goto(server.url + "/grid/item/")
    page.click('[data-action="import"]')
    page.wait_for_url(server.url + "/imports/item/")
    page.set_input_files("#jxc-imports-file", str(path))
    page.wait_for_selector("#jxc-imports-problems:not([hidden])")
    assert page.inner_text("#jxc-imports-problems") == "缺少必填列「商品编码」"
    with page.expect_response(lambda r: r.url.endswith("/api/v1/imports/preview")):
        page.select_option('select[data-header="货号"]', "sku")  # the correction: checked again at once
    expect(page.locator("#jxc-imports-summary")).to_contain_text("行有错误", timeout=30000)
    summary = page.locator("#jxc-imports-summary")
    assert summary.inner_text().startswith(f"共 {ROWS} 行，{ROWS} 行有错误")  # 有 / 无 are not yes / no words
    bad = page.locator("#jxc-imports-rows td.jxc-bad")
    assert bad.first.get_attribute("title") == "应为 是/否"
    # the whole column at once: 有 -> 是, 无 -> 否; then the unknown unit fixed in its cell
    page.select_option("#jxc-bulk-column", "3")
    for old, new in (("有", "是"), ("无", "否")):
        page.select_option("#jxc-bulk-op", "map")
        page.fill("#jxc-bulk-from", old)
        page.fill("#jxc-bulk-to", new)
        page.click('[data-import-action="bulk"]')
    page.click('#jxc-imports-preview [data-import-action="check"]')
    expect(page.locator("#jxc-imports-summary")).to_contain_text("，1 行有错误", timeout=30000)
    cell = page.locator('#jxc-imports-rows td.jxc-bad[data-col="2"]')
    assert cell.get_attribute("title") == "找不到「打」"
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("个")
    page.click('#jxc-imports-preview [data-import-action="check"]')
    expect(page.locator("#jxc-imports-job-text")).to_have_text(
        f"检查完成，没有错误：导入将新增 {ROWS} 行，更新 0 行，0 行没有变化", timeout=30000
    )
    expect(page.locator("#jxc-imports-summary")).to_contain_text("，0 行有错误")
    page.click('[data-import-action="apply"]')
    expect(page.locator("#jxc-imports-job-text")).not_to_contain_text("检查")  # the import's bar from here
    bar = page.locator("#jxc-imports-job .progress")
    seen: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        value = int(bar.get_attribute("aria-valuenow") or 0)
        if not seen or value != seen[-1]:
            seen.append(value)
        if "导入完成" in page.inner_text("#jxc-imports-job-text"):
            break
        time.sleep(0.05)
    assert page.inner_text("#jxc-imports-job-text") == f"导入完成：新增 {ROWS} 行，更新 0 行，跳过 0 行"
    assert seen == sorted(seen), seen
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "imports-page-done.png"), full_page=True)
    status, found = api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:'{tag}-0003')))")
    assert status == 200 and found["result"][0]["name"] == "浏览器商品 3" and found["result"][0]["track_batch"]
    page.click('[data-import-action="undo"]')
    expect(page.locator("#jxc-imports-job-text")).to_contain_text("已撤销", timeout=60000)
    assert page.inner_text("#jxc-imports-job-text") == f"已撤销：删除 {ROWS} 行，恢复 0 行"
    status, found = api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:'{tag}-0003')))")
    assert status == 200 and found["result"] == []
    console.check()
    context.close()


def test_error_reasons_on_the_page_valid_rows_only_with_its_report_and_undo_only_when_applied(
    server, chromium, tmp_path
):
    """A red cell clicked says why below the preview; the list of every error goes to its cell; a refused
    import offers no undo; 只导入正确的行 links the error report; a done undo takes its button away."""
    tag = unique("E")
    book = Workbook()
    book.active.append(["商品编码", "商品名称", "基本单位", "销售价", "Colour"])  # two columns that name no field
    for n in range(6):
        book.active.append([f"{tag}-{n}", f"原因商品 {n}", "打" if n in (1, 4) else "个"])  # sheet rows 3 and 6 bad
    path = tmp_path / "reasons.xlsx"
    book.save(path)
    context, page, console = checked(chromium, server, "item", path, "2 行有错误")
    listed = page.locator("#jxc-imports-issue-list a")
    assert listed.all_inner_texts() == ["第 3 行「基本单位」：找不到「打」", "第 6 行「基本单位」：找不到「打」"]
    assert "没有对应字段的列：销售价、Colour" in page.inner_text("#jxc-imports-notes")  # a Chinese list
    reason = page.locator("#jxc-imports-reason")
    assert reason.is_hidden()
    page.locator('#jxc-imports-rows tr[data-index="4"] td[data-col="2"]').click()
    expect(reason).to_have_text("第 6 行「基本单位」：找不到「打」")
    page.locator('#jxc-imports-rows tr[data-index="0"] td[data-col="1"]').click()
    expect(reason).to_be_hidden()
    listed.nth(0).click()
    expect(reason).to_have_text("第 3 行「基本单位」：找不到「打」")
    focused = "() => [document.activeElement.closest('tr').dataset.index, document.activeElement.dataset.col]"
    assert page.evaluate(focused) == ["1", "2"]

    undo = page.locator('[data-import-action="undo"]')
    page.click('#jxc-imports-preview [data-import-action="apply"]')  # 有错误就全部不导入: refused
    expect(page.locator("#jxc-imports-job-text")).to_contain_text("整个文件未导入", timeout=30000)
    assert undo.is_hidden()
    page.select_option("#jxc-imports-mode", "valid")
    page.click('#jxc-imports-preview [data-import-action="apply"]')
    expect(page.locator("#jxc-imports-job-text")).to_have_text(
        "导入完成：新增 4 行，更新 0 行，跳过 2 行", timeout=30000
    )
    report = page.locator("#jxc-imports-errors")
    expect(report).to_be_visible()
    assert report.inner_text() == "错误报告"
    assert page.request.get(server.url + report.get_attribute("href")).status == 200
    expect(undo).to_be_visible()
    undo.click()
    expect(page.locator("#jxc-imports-job-text")).to_have_text("已撤销：删除 4 行，恢复 0 行", timeout=30000)
    assert undo.is_hidden()
    console.check(expected_failures=())
    context.close()


def prices_file(server: Any, path: Path, rows: list[list[Any]], after: str) -> tuple[Path, HttpApi, str, int]:
    """`rows` of prices (商品, 价格类型, 单价, 生效日期, 失效日期) saved as an xlsx at `path`; the API, the query of the
    prices starting after `after` (the file's) and how many it finds before the file is imported."""
    book = Workbook()
    book.active.append(["商品", "价格类型", "单价", "生效日期", "失效日期"])
    for row in rows:
        book.active.append(row)
    book.save(path)
    api = HttpApi(server.url)
    stored = f"/api/v1/item_price/?q=(filters:!((col:valid_from,opr:gt,value:'{after}')))"
    status, found = api.get(stored)
    assert status == 200, found
    return path, api, stored, found["count"]


def test_the_check_marks_a_cell_only_the_price_lists_rule_refuses_before_anything_is_imported(
    server, chromium, tmp_path
):
    """A price list whose second price ends before it starts: each cell is a good date, so only writing it meets the
    price list's rule. 检查文件 runs the file through the import's own write path and rolls it back: the cell is red
    with its reason before 导入 is clicked, listed as the cells' own problems are, and nothing is stored; corrected
    in place and checked again the check is clean, and the file imports. (The check read 0 errors and only the
    import, refused, found it.)"""
    rows = [
        ["SP0001", "零售价", "3.50", "2027-01-01", None],
        ["SP0002", "零售价", "2.80", "2027-02-10", "2027-02-01"],  # row 3: ends before it starts
    ]
    path, api, stored, already = prices_file(server, tmp_path / "prices.xlsx", rows, "2026-12-31")
    context, page, console = checked(chromium, server, "item_price", path, "1 行有错误")
    said = "检查完成：1 处错误，已在表中标出；有错误就全部不导入"
    expect(page.locator("#jxc-imports-job-text")).to_have_text(said)
    assert page.locator("#jxc-imports-issue-list a").all_inner_texts() == [
        "第 3 行「失效日期」：失效日期不能早于生效日期"
    ]
    cell = page.locator('#jxc-imports-rows tr[data-index="1"] td[data-col="4"]')
    assert cell.get_attribute("class") == "jxc-bad" and cell.get_attribute("title") == "失效日期不能早于生效日期"
    assert page.locator("#jxc-imports-rows td.jxc-bad").count() == 1
    status, found = api.get(stored)
    assert status == 200 and found["count"] == already  # the check wrote nothing
    cell.fill("2027-03-01")
    page.click('#jxc-imports-preview [data-import-action="check"]')
    expect(page.locator("#jxc-imports-job-text")).to_have_text(
        "检查完成，没有错误：导入将新增 2 行，更新 0 行，0 行没有变化", timeout=30000
    )
    expect(page.locator("#jxc-imports-summary")).to_contain_text("，0 行有错误")
    assert page.locator("#jxc-imports-rows td.jxc-bad").count() == 0
    assert api.get(stored)[1]["count"] == already
    page.click('#jxc-imports-preview [data-import-action="apply"]')
    expect(page.locator("#jxc-imports-job-text")).to_have_text(
        "导入完成：新增 2 行，更新 0 行，跳过 0 行", timeout=30000
    )
    status, found = api.get(stored)
    assert status == 200 and found["count"] == already + 2
    console.check(expected_failures=())
    context.close()


def test_import_all_or_nothing_lists_every_error_the_check_listed(server, chromium, tmp_path):
    """有错误就全部不导入 with a bad cell (单价 三块) and a price that ends before it starts (the price list's
    rule, found only by writing): 检查文件 lists both, and after 导入, refused, the page still lists both on their
    cells; nothing is stored. (导入 listed the bad cell alone: the clerk fixed it, imported again, and only then
    met the other.)"""
    rows = [
        ["SP0001", "零售价", "三块", "2027-05-01", None],  # row 2: not a number
        ["SP0002", "零售价", "2.80", "2027-06-10", "2027-06-01"],  # row 3: ends before it starts
        ["SP0003", "零售价", "4", "2027-05-01", None],  # row 4: good
    ]
    path, api, stored, already = prices_file(server, tmp_path / "all-or-nothing.xlsx", rows, "2027-04-30")
    both = ["第 2 行「单价」：应为数字", "第 3 行「失效日期」：失效日期不能早于生效日期"]
    context, page, console = checked(chromium, server, "item_price", path, "2 行有错误")
    listed = page.locator("#jxc-imports-issue-list a")
    assert listed.all_inner_texts() == both
    page.click('#jxc-imports-preview [data-import-action="apply"]')  # 有错误就全部不导入
    expect(page.locator("#jxc-imports-job-text")).to_contain_text("发现 2 处错误，整个文件未导入", timeout=30000)
    assert listed.all_inner_texts() == both
    bad = page.locator("#jxc-imports-rows td.jxc-bad")
    assert bad.count() == 2 and bad.nth(1).get_attribute("title") == "失效日期不能早于生效日期"
    expect(page.locator("#jxc-imports-errors")).to_be_visible()
    assert api.get(stored)[1]["count"] == already  # nothing stored, not even row 4
    console.check(expected_failures=())
    context.close()


def test_a_receipt_filled_in_the_downloaded_template_says_what_its_number_is_for(server, chromium, tmp_path):
    """A clerk downloads the receipt template from the import page and fills it in as it says: its 单据编号 said
    「留空则自动生成」 and had no *, so a row left without one was refused with a bare 必填. The template marks it and
    explains it, and the refused cell says why; numbered in place, the two rows import as one receipt."""
    tag = unique("RN")
    context, page, console = signed_in(chromium, server.url)
    page.goto(server.url + "/imports/purchase_receipt/")
    with page.expect_download() as download:
        page.get_by_text("下载导入模板").click()
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)
    book = load_workbook(template)
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[0] == "*单据编号" and "这些行导入为一张单据" in sheet["A1"].comment.text
    values = {"*单据日期": "2026-11-20", "*供应商": "S001", "*入库仓库": "WH01", "*入库数量": "2", "单价": "3.5"}
    for number, sku in ((tag, "SP0001"), (None, "SP0002")):  # the second row's number left blank
        sheet.append([number if h == "*单据编号" else sku if h == "*商品" else values.get(h) for h in headers])
    path = tmp_path / "receipt.xlsx"
    book.save(path)
    page.set_input_files("#jxc-imports-file", str(path))
    expect(page.locator("#jxc-imports-job-text")).to_contain_text("检查完成", timeout=30000)
    said = "第 3 行「*单据编号」：必填：同一张单据的各行填写相同的单号，这些行导入为一张单据"
    assert page.locator("#jxc-imports-issue-list a").all_inner_texts() == [said]
    cell = page.locator('#jxc-imports-rows tr[data-index="1"] td[data-col="0"]')
    assert cell.get_attribute("title") == said.split("：", 1)[1]
    cell.fill(tag)
    page.click('#jxc-imports-preview [data-import-action="check"]')
    expect(page.locator("#jxc-imports-job-text")).to_contain_text("检查完成，没有错误", timeout=30000)
    page.click('#jxc-imports-preview [data-import-action="apply"]')
    expect(page.locator("#jxc-imports-job-text")).to_contain_text("导入完成", timeout=30000)
    status, found = HttpApi(server.url).get(
        f"/api/v1/purchase_receipt/?q=(filters:!((col:external_ref,opr:eq,value:'{tag}')))"
    )
    assert status == 200 and found["count"] == 1, found
    status, receipt = HttpApi(server.url).get(f"/api/v1/purchase_receipt/{found['ids'][0]}")
    assert [line["item"]["key"] for line in receipt["result"]["lines"]] == ["SP0001", "SP0002"]
    console.check(expected_failures=())
    context.close()


def test_a_file_whose_rows_were_all_skipped_offers_no_undo_and_imports_again_once_put_right(server, chromium, tmp_path):
    """只导入正确的行 with every row refused (the unit is not set up yet): 导入完成 with nothing written offered
    撤销这次导入, and the same file, chosen again once the unit was added, was refused as
    这个文件已经导入过 (导入记录 #n)."""
    tag = unique("SK")
    book = Workbook()
    book.active.append(["商品编码", "商品名称", "基本单位"])
    for n in range(2):
        book.active.append([f"{tag}-{n}", f"跳过商品 {n}", tag])
    path = tmp_path / "skipped.xlsx"
    book.save(path)
    api = HttpApi(server.url)
    context, page, console = checked(chromium, server, "item", path, "2 行有错误")
    page.select_option("#jxc-imports-mode", "valid")
    page.click('#jxc-imports-preview [data-import-action="apply"]')
    expect(page.locator("#jxc-imports-job-text")).to_have_text(
        "导入完成：新增 0 行，更新 0 行，跳过 2 行", timeout=30000
    )
    assert page.locator('[data-import-action="undo"]').is_hidden()
    status, body = api.post("/api/v1/unit/", {"code": tag, "name": f"单位{tag}"})
    assert status == 201, body
    page.goto(server.url + "/imports/item/")
    page.set_input_files("#jxc-imports-file", str(path))
    expect(page.locator("#jxc-imports-job-text")).to_contain_text("检查完成，没有错误", timeout=30000)
    assert page.locator("#jxc-imports-problems").is_hidden()
    page.click('#jxc-imports-preview [data-import-action="apply"]')
    expect(page.locator("#jxc-imports-job-text")).to_have_text(
        "导入完成：新增 2 行，更新 0 行，跳过 0 行", timeout=30000
    )
    expect(page.locator('[data-import-action="undo"]')).to_be_visible()
    console.check(expected_failures=())
    context.close()


def test_the_item_list_exported_edited_and_imported_back_updates_the_price(server, chromium, tmp_path):
    """The clerk's round trip: 导出 Excel on the item grid, a price changed in the file, 更新 on the import page. The
    export's link cells read 「C01 饮料」 (code and name, as the grid shows them) and the import refused every row,
    找不到「C01 饮料」, 「PCS 个」, 「S001 上海鑫源…」; they are read as the row with that code and name."""
    tag = unique("RT")
    api = HttpApi(server.url)
    for n in range(2):
        body = {"sku": f"{tag}-{n}", "name": f"往返 {n}", "unit": "PCS", "category": "C01", "default_supplier": "S001"}
        status, created = api.post("/api/v1/item/", {**body, "sale_price": "5"})
        assert status == 201, created
    context, page, console = signed_in(chromium, server.url)
    page.goto(server.url + "/grid/item/")
    page.locator(".tabulator-row").first.wait_for(timeout=15000)
    box = page.locator(".tabulator-col[tabulator-field=sku] .tabulator-header-filter input")
    box.fill(tag)
    box.press("Enter")
    expect(page.locator(".jxc-grid-count")).to_have_text("共 2 条", timeout=15000)
    with page.expect_download() as download:
        page.click('[data-action="export"]')
    path = tmp_path / "items-export.xlsx"
    download.value.save_as(path)
    book = load_workbook(path)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    assert sheet.cell(row=2, column=headers.index("商品分类") + 1).value.startswith("C01 ")
    sheet.cell(row=2, column=headers.index("零售价") + 1, value=7.5)
    edited = sheet.cell(row=2, column=headers.index("商品编码") + 1).value
    book.save(path)
    page.goto(server.url + "/imports/item/")
    page.select_option("#jxc-imports-action", "update")
    page.set_input_files("#jxc-imports-file", str(path))
    expect(page.locator("#jxc-imports-job-text")).to_contain_text("检查完成，没有错误", timeout=30000)
    assert page.locator("#jxc-imports-issue-list a").count() == 0
    page.click('#jxc-imports-preview [data-import-action="apply"]')
    expect(page.locator("#jxc-imports-job-text")).to_contain_text("导入完成：新增 0 行，更新 1 行", timeout=30000)
    status, found = api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:'{edited}')))")
    assert status == 200 and found["result"][0]["sale_price"] == "7.50", found
    assert found["result"][0]["category"]["key"] == "C01" and found["result"][0]["default_supplier"]["key"] == "S001"
    console.check(expected_failures=())
    context.close()


def test_a_column_masked_from_the_importer_is_refused_cell_by_cell_on_the_page(server, chromium, tmp_path):
    """A clerk who may not see 底价 (a selling figure only managers read) uploads a sheet with that column: not
    listed among the columns naming no field, but its filled cell red, 「底价」没有修改权限 as a write says it, in the
    list of errors; 只导入正确的行 imports the rows without a value there (docs/imports.md "Matching columns")."""
    from test_flow_browser import _user

    api = HttpApi(server.url)
    name = f"floor_{unique('f').lower()}"
    field = {"name": name, "type": "money", "figure": "sale", "label": {"zh": "底价", "en": "Floor price"}}
    status, body = api.post("/api/v1/meta/item/fields", dict(field, read_roles=["manager"]))
    assert status in (200, 201), body
    clerk = f"imp_{unique('c').lower()}"
    _user(api, clerk, "clerk")
    tag = unique("K")
    book = Workbook()
    book.active.append(["商品编码", "商品名称", "基本单位", "底价"])
    for n in range(3):
        book.active.append([f"{tag}-{n}", f"屏蔽商品 {n}", "个", 987.65 if n == 0 else None])  # sheet row 2 filled
    path = tmp_path / "masked.xlsx"
    book.save(path)
    context, page, console = checked(chromium, server, "item", path, "1 行有错误", clerk)
    assert page.locator("#jxc-imports-issue-list a").all_inner_texts() == ["第 2 行「底价」：「底价」没有修改权限"]
    assert "没有对应字段的列" not in page.inner_text("#jxc-imports-notes")
    cell = page.locator('#jxc-imports-rows tr[data-index="0"] td[data-col="3"]')
    assert cell.get_attribute("class") == "jxc-bad" and cell.get_attribute("title") == "「底价」没有修改权限"
    page.select_option("#jxc-imports-mode", "valid")
    page.click('#jxc-imports-preview [data-import-action="apply"]')
    expect(page.locator("#jxc-imports-job-text")).to_have_text(
        "导入完成：新增 2 行，更新 0 行，跳过 1 行", timeout=30000
    )
    console.check(expected_failures=())
    context.close()


def many_items(path: Path, tag: str, name: str, rows: int = 20000) -> Path:
    """An item sheet of `rows` new items (codes tag-00000 …): long enough to check or import for a while."""
    book = Workbook()
    book.active.append(["商品编码", "商品名称", "基本单位"])
    for n in range(rows):
        book.active.append([f"{tag}-{n:05d}", f"{name} {n}", "个"])
    book.save(path)
    return path


def test_a_page_reloaded_mid_import_shows_the_import_still_running_and_cancels_it(server, chromium, tmp_path):
    """The clerk reloads (or comes back to) the page while their import runs: the page finds it, shows its progress
    and offers 取消导入; cancelled, nothing of it stays. (The page forgot it: no bar, no word, a second upload.)"""
    tag = unique("R")
    path = many_items(tmp_path / "many.xlsx", tag, "刷新中的导入")
    api = HttpApi(server.url)
    context, page, console = checked(chromium, server, "item", path, "，0 行有错误", timeout=60000)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/imports/") and r.status == 202):
        page.click('[data-import-action="apply"]')
    page.reload()
    expect(page.locator("#jxc-imports-notes")).to_have_text(
        "您离开本页前开始的导入还在进行，下面是它的进度；不用重新上传"
    )
    # the rows counted or not yet, never 「正在处理 0 / ?」
    expect(page.locator("#jxc-imports-job-text")).to_have_text(
        re.compile(r"^(正在读取文件，马上开始导入……|正在处理 \d+ / 20000)$")
    )
    cancel = page.locator('[data-import-action="cancel"]')
    expect(cancel).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "imports-page-reloaded.png"), full_page=True)
    cancel.click()
    expect(page.locator("#jxc-imports-job-text")).to_have_text("已取消，任务所做的修改已全部撤回", timeout=60000)
    expect(cancel).to_be_hidden()
    expect(page.locator("#jxc-imports-notes")).to_be_hidden()
    status, found = api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:sw,value:'{tag}-')))")
    assert status == 200 and found["count"] == 0
    page.reload()  # ended: nothing to resume
    expect(page.locator("#jxc-imports-job")).to_be_hidden()
    console.check()
    context.close()


def test_a_running_check_offers_to_stop_the_check_not_the_import(server, chromium, tmp_path):
    """While a file is checked (nothing written yet) its button says 取消检查; it said 取消导入 as for an import."""
    path = many_items(tmp_path / "checking.xlsx", unique("K"), "检查中的文件")
    context, page, console = signed_in(chromium, server.url)
    page.goto(server.url + "/imports/item/")
    page.set_input_files("#jxc-imports-file", str(path))
    cancel = page.locator('[data-import-action="cancel"]')
    expect(cancel).to_be_visible(timeout=60000)
    expect(cancel).to_have_text("取消检查")
    cancel.click()
    expect(cancel).to_be_hidden(timeout=60000)
    console.check()
    context.close()


def test_a_clerk_checks_a_file_while_another_user_saves_a_grid_cell(server, chromium, tmp_path):
    """On SQLite a clerk's check of a long file held the database's one write lock from its start to its end: a
    colleague's grid save meanwhile waited, then failed after 30 s. Now the check runs on a copy of the database: the
    save answers at once while the check is still running, and the check then marks its bad cells on the page."""
    api = HttpApi(server.url)
    clerk = unique("uclerk").lower()
    make_user(api, clerk, "clerk", PASSWORD)
    sku = unique("GS")
    status, body = api.post("/api/v1/item/", {"sku": sku, "name": f"网格保存 {sku}", "unit": "个", "sale_price": "10"})
    assert status == 201, body
    tag = unique("CK")
    path = many_items(tmp_path / "checked.xlsx", tag, "边检查边保存", rows=CHECKED_ROWS)
    book = load_workbook(path)
    book.active.cell(row=5, column=3, value="打")  # sheet row 5: no such unit
    book.active.append([f"{tag}-00001", "重复的编码", "个"])  # the last row: row 3's code again
    book.save(path)
    other, grid, grid_console = signed_in(chromium, server.url)
    grid.goto(server.url + "/grid/item/")
    box = grid.locator(".tabulator-col[tabulator-field=sku] .tabulator-header-filter input")
    box.fill(sku)
    box.press("Enter")
    row = grid.locator(".tabulator-row", has=grid.locator(f".tabulator-cell[tabulator-field=sku]:text-is('{sku}')"))
    price = row.locator(".tabulator-cell[tabulator-field=sale_price]")
    expect(price).to_have_text("10.00", timeout=15000)

    context, page, console = signed_in(chromium, server.url, clerk, PASSWORD)
    page.goto(server.url + "/imports/item/")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/imports/check") and r.status == 202) as asked:
        page.set_input_files("#jxc-imports-file", str(path))
    job_id = asked.value.json()["job_id"]  # the check runs from here: on SQLite it took the write lock at once

    price.dblclick()
    grid.locator(".jxc-grid-input").wait_for()
    grid.keyboard.press("Control+A")
    grid.keyboard.type("12.5")
    started = time.monotonic()
    with grid.expect_response(lambda r: r.url.endswith("/batch"), timeout=60000) as saved:
        grid.keyboard.press("Enter")
    seconds = time.monotonic() - started
    status, job = api.get(f"/api/v1/jobs/{job_id}")
    assert saved.value.status == 200 and seconds < 5, (saved.value.status, seconds)
    assert status == 200 and job["status"] == "running", job  # saved while the check ran, not after it

    expect(page.locator("#jxc-imports-job-text")).to_contain_text("检查完成", timeout=120000)
    expect(page.locator("#jxc-imports-summary")).to_contain_text("，2 行有错误")
    page.check("#jxc-imports-only-bad")  # the last row is past the first 500 shown
    unit = page.locator('#jxc-imports-rows td.jxc-bad[data-col="2"]')
    expect(unit).to_have_attribute("title", "找不到「打」")
    code = page.locator('#jxc-imports-rows td.jxc-bad[data-col="0"]')
    expect(code).to_have_count(1)
    assert "第 3 行" in (code.get_attribute("title") or ""), code.get_attribute("title")
    expect(price).to_have_text("12.50")
    query = prison.dumps({"filters": [{"col": "sku", "opr": "sw", "value": tag}], "page_size": 1})
    status, found = api.get("/api/v1/item/?q=" + quote(query, safe=""))
    assert status == 200 and found["count"] == 0, found  # nothing of the check stays
    console.check()
    grid_console.check()
    context.close()
    other.close()


def _salesperson_imports_partners(server: Any, given: bool) -> None:
    """Give (or take) 销售员 「往来单位：导入」, as an admin does on the role page, straight in the server's database
    with a new security stamp (every process reads the roles again at its next request)."""
    with closing(sqlite3.connect(DATABASES[server.url])) as conn, conn:
        pair = conn.execute(
            "SELECT pv.id FROM ab_permission_view pv JOIN ab_permission p ON p.id = pv.permission_id "
            "JOIN ab_view_menu v ON v.id = pv.view_menu_id WHERE p.name = 'can_import' AND v.name = 'Partner'"
        ).fetchone()[0]
        role = conn.execute("SELECT id FROM ab_role WHERE name = 'salesperson'").fetchone()[0]
        if given:
            conn.execute(
                "INSERT INTO ab_permission_view_role (permission_view_id, role_id) VALUES (?, ?)", (pair, role)
            )
        else:
            conn.execute(
                "DELETE FROM ab_permission_view_role WHERE permission_view_id = ? AND role_id = ?", (pair, role)
            )
        conn.execute("UPDATE jxc_meta_state SET version = version + 1 WHERE id = 3")


def test_a_login_nobody_has_reads_on_the_import_page_as_on_the_form(server, chromium, tmp_path):
    """A salesperson allowed to import customers types a login nobody has in 业务员, on the partner form and in a
    sheet on the import page: both say 业务员只能填写您本人，不能填写「…」 (one message). The import said
    找不到用户「…」, telling which logins exist where the form tells nobody."""
    from test_flow_browser import _user

    seller = f"imp_{unique('s').lower()}"
    _user(HttpApi(server.url), seller, "salesperson")
    nobody = unique("nobody").lower()
    wording = f"业务员只能填写您本人，不能填写「{nobody}」"
    book = Workbook()
    book.active.append(["单位编码", "单位名称", "单位类型", "业务员"])
    book.active.append([unique("UK"), "没人的客户", "客户", nobody])
    path = tmp_path / "customers.xlsx"
    book.save(path)
    _salesperson_imports_partners(server, True)
    try:
        context, page, console = checked(chromium, server, "partner", path, "1 行有错误", seller)
        assert page.locator("#jxc-imports-issue-list a").all_inner_texts() == [f"第 2 行「业务员」：{wording}"]
        cell = page.locator('#jxc-imports-rows tr[data-index="0"] td[data-col="3"]')
        assert cell.get_attribute("class") == "jxc-bad" and cell.get_attribute("title") == wording
        page.screenshot(path=str(ARTIFACTS / "import-unknown-login.png"), full_page=True)
        page.goto(server.url + "/m/partner/new")  # the form, as the salesperson types it there
        page.fill("#f-code", unique("UF"))
        page.fill("#f-name", "表单客户")
        page.fill("#f-owner", nobody)
        with page.expect_navigation():
            page.click("#jxc-save")
        expect(page.locator("body")).to_contain_text(wording)
        console.check(expected_failures=())
        context.close()
    finally:
        _salesperson_imports_partners(server, False)
