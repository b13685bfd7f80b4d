"""People in a real browser (Debian chromium through Playwright, a gunicorn server on SQLite with the demo data):
a user field (销售员) offers users by name as one types, in the document form and in the grid, and a salesperson
only themselves; the schedules page marks recipients without an e-mail address 无邮箱 and warns on save. The
users are made through the security API without an e-mail, as an administrator's script would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import prison
import pytest
from conftest import PASSWORD, unique
from in_browser import demo_server, headless_chromium, signed_in
from playwright.sync_api import expect
from servers import HttpApi

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from demo_server(tmp_path_factory, "people")


@pytest.fixture(scope="module")
def api(server: Any) -> HttpApi:
    return HttpApi(server.url)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from headless_chromium()


def make_user(api: HttpApi, role: str, name: str) -> str:
    """A user of the role called `name`, without an e-mail (none given to the security API); their user name."""
    query = prison.dumps({"filters": [{"col": "name", "opr": "eq", "value": role}]})
    status, roles = api.get("/api/v1/security/roles/?q=" + quote(query, safe=""))
    assert status == 200 and roles["count"] == 1, roles
    username = unique("x_p").lower()
    user = {"username": username, "first_name": name, "last_name": "", "password": PASSWORD, "roles": roles["ids"]}
    status, body = api.post("/api/v1/security/users/", user | {"active": True})
    assert status == 201, body
    return username


def offered(page: Any, typed: str) -> list[tuple[str, str]]:
    """Type into the form's 销售员 and read its suggestions (value, label) once they came."""
    box = page.locator("#f-salesperson")
    box.fill("")
    with page.expect_response(lambda r: "/api/v1/grid/user_lookup" in r.url) as answer:
        box.type(typed)
    assert answer.value.status == 200
    page.wait_for_timeout(100)
    return page.eval_on_selector_all(
        "#jxc-dl-sales_order\\.salesperson option", "options => options.map(o => [o.value, o.label])"
    )


def test_a_salesperson_field_offers_users_by_name_in_the_form_and_the_grid(server, api, chromium):
    seller = make_user(api, "salesperson", "赵灵儿")
    context, page, console = signed_in(chromium, server.url)
    page.goto(server.url + "/m/sales_order/new")
    assert page.get_attribute("#f-salesperson", "placeholder") == "用户名或姓名"
    assert offered(page, "灵儿") == [[seller, "赵灵儿"]]
    page.locator("#f-salesperson").fill(seller)
    # the grid's cell editor offers the same, shown by name
    status, sku = api.get("/api/v1/item/?q=" + quote(prison.dumps({"page_size": 1}), safe=""))
    line = {"item": sku["result"][0]["sku"], "qty": "1", "price": "1"}
    order = {"partner": "K001", "warehouse": "WH01", "remark": unique("P"), "lines": [line]}
    status, made = api.post("/api/v1/sales_order/", order)
    assert status == 201, made
    page.goto(server.url + "/grid/sales_order/")
    page.locator(".tabulator-row").first.wait_for(timeout=15000)
    box = page.locator(".tabulator-col[tabulator-field=remark] .tabulator-header-filter input")
    box.fill(order["remark"])
    box.press("Enter")
    cell = page.locator(".tabulator-row", has_text=order["remark"]).locator(
        ".tabulator-cell[tabulator-field=salesperson]"
    )
    cell.dblclick()
    page.locator(".jxc-grid-input").wait_for()
    page.keyboard.type("灵儿")
    expect(page.locator(".jxc-grid-suggest-item")).to_have_text([f"{seller} 赵灵儿"])
    page.keyboard.press("Escape")
    console.check()
    context.close()
    # the salesperson is offered only themselves: nobody else's name reaches their page
    context, page, console = signed_in(chromium, server.url, seller, PASSWORD)
    page.goto(server.url + "/m/sales_order/new")
    assert offered(page, "admin") == [] and offered(page, "灵") == [[seller, "赵灵儿"]]
    console.check()
    context.close()


def test_the_schedules_page_marks_recipients_without_an_address_and_warns_on_save(server, api, chromium):
    nobody = make_user(api, "manager", "钱无邮")
    context, page, console = signed_in(chromium, server.url)
    page.goto(server.url + "/admin/schedules/")
    expect(page.locator(f"#sch-recipients option[value={nobody}]")).to_have_text(f"{nobody}（无邮箱）")
    name = unique("noaddr").lower()
    page.fill("#sch-name", name)
    page.fill("#sch-title", "每周销售")
    page.select_option("#sch-kind", "report")
    page.fill("#sch-params", '{"report": "sales_analysis"}')
    page.select_option("#sch-recipients", [nobody])
    page.uncheck("input[name=active]")
    page.click("#sch-save")
    warning = f"收件人 {nobody} 没有邮箱地址，收不到这个定时任务的邮件：请在用户管理中为其填写邮箱"
    expect(page.locator(".alert-warning", has_text=warning)).to_have_count(1)  # saved, and said so
    row = page.locator(f"tr[data-schedule='{name}']")
    expect(row.locator(".jxc-no-address")).to_have_text("无邮箱")
    row.locator("a", has_text="修改").click()
    expect(page.locator("#sch-no-address")).to_contain_text(
        f"以下收件人没有邮箱地址，收不到邮件（已保存，填写邮箱后即可收到）：{nobody}"
    )
    console.check()
    context.close()
