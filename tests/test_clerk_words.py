"""What a clerk reads is Chinese: error pages with the menu (JSON on the API), history and audit entries
with labels, query errors naming field labels, role and type labels on the admin pages, item names in
shortages, the right word for an over-receipt."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import PASSWORD

from tests.ledger_helpers import document, new_item, post, receive

MENU = 'class="navbar'


def text_of(html: str) -> str:
    """The page's visible text (scripts and tags removed)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_http_errors_are_chinese_pages_with_the_menu_and_json_on_the_api(app, login_as, admin_api, monkeypatch):
    clerk = login_as("clerk")
    missing = clerk.get("/no/such/page")
    html = missing.get_data(as_text=True)
    assert missing.status_code == 404 and "页面不存在" in html and MENU in html
    assert "Not Found" not in html and "requested URL" not in html
    not_allowed = clerk.get("/m/item/1/submit")  # POST only
    assert not_allowed.status_code == 405 and "不支持这种请求方式" in not_allowed.get_data(as_text=True)
    assert "Method Not Allowed" not in not_allowed.get_data(as_text=True)
    forbidden = login_as("warehouse").get("/accounts/overdue")  # reads partners, not receivables
    assert forbidden.status_code == 403 and "没有权限" in forbidden.get_data(as_text=True)
    assert MENU in forbidden.get_data(as_text=True) and "Forbidden" not in forbidden.get_data(as_text=True)
    api_missing = admin_api.get("/api/v1/no_such_model/")
    assert api_missing.status_code == 404 and api_missing.is_json and "地址" in api_missing.get_json()["message"]

    def boom() -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setitem(app.view_functions, "AuditView.index", boom)
    crashed = login_as("admin").get("/admin/audit/")
    html = crashed.get_data(as_text=True)
    assert crashed.status_code == 500 and "系统出错" in html and MENU in html
    assert "Internal Server Error" not in html and "a bug" not in html


def test_history_and_audit_show_labels_and_readable_values(app, admin_api, login_as):
    sku = new_item(admin_api)
    doc = post(admin_api, "purchase_receipt", [{"item": sku, "qty": "2", "price": "3"}], warehouse="WH01")
    admin = login_as("admin")
    page = text_of(admin.get(f"/m/purchase_receipt/{doc['id']}").get_data(as_text=True))
    history = page[page.index("历史") :] if "历史" in page else page
    assert "状态 ：草稿 → 已审核" in history or "状态：草稿 → 已审核" in history.replace(" ", ""), history[:600]
    assert "status" not in history and "draft" not in history and "submitted" not in history
    assert "库存流水条数：—→1" in history.replace(" ", "")  # what the posting wrote to the stock ledger
    order = post(admin_api, "purchase_order", [{"item": sku, "qty": "2", "price": "3"}], warehouse="WH01")
    page = text_of(admin.get(f"/m/purchase_order/{order['id']}").get_data(as_text=True))
    assert "库存流水条数" not in page  # an order writes no stock move: no 「库存流水条数：— → 0」
    audit = admin.get("/admin/audit/?model=purchase_receipt").get_data(as_text=True)
    assert "\\u" not in audit and "采购入库单" in text_of(audit)
    assert "purchase_receipt" not in text_of(audit).replace('value="purchase_receipt"', "")
    users = text_of(admin.get("/admin/audit/?model=ab_user").get_data(as_text=True))
    assert "用户名" in users and "角色" in users and '"role"' not in users


def test_an_approval_comment_is_headed_in_words_in_the_history(app, admin_api, api_as, login_as):
    """The approver's comment was shown as 「comment：— → 同意采购」 on the document's page."""
    clerk = api_as("clerk")
    lines = [{"item": new_item(admin_api), "qty": "2", "price": "3"}]
    made = clerk.post("/api/v1/purchase_request/", json={"date": "2026-11-25", "warehouse": "WH01", "lines": lines})
    request = made.get_json()["result"]
    assert clerk.post(f"/api/v1/purchase_request/{request['id']}/submit").status_code == 200
    approve = api_as("manager").post(f"/api/v1/purchase_request/{request['id']}/approve", json={"comment": "同意采购"})
    assert approve.status_code == 200, approve.get_json()
    page = text_of(login_as("clerk").get(f"/m/purchase_request/{request['id']}").get_data(as_text=True))
    assert "审批意见：—→同意采购" in page.replace(" ", ""), page[-1500:]
    assert "comment" not in page


def test_grid_query_errors_name_the_field_label(admin_api, api_as):
    bad_number = admin_api.get(
        "/api/v1/grid/item/rows",
        query_string={"filter[0][field]": "purchase_price", "filter[0][type]": "=", "filter[0][value]": "abc"},
    )
    assert bad_number.status_code == 400
    message = bad_number.get_json()["message"]
    assert "purchase_price" not in message and "采购价" in message and "应为数字" in message
    hidden_sort = api_as("salesperson").get(
        "/api/v1/grid/item/rows", query_string={"sort[0][field]": "purchase_price", "sort[0][dir]": "asc"}
    )
    assert hidden_sort.status_code == 400
    assert hidden_sort.get_json()["message"] == "不能按「采购价」排序"


def test_admin_pages_show_role_type_and_user_names(app, login_as):
    admin = login_as("admin")
    places = text_of(admin.get("/admin/user-warehouses/").get_data(as_text=True))
    assert "仓管员" in places and "老板/经理" in places
    assert not re.search(r"\b(warehouse|manager|salesperson|purchaser|finance)\b", places)
    fields = admin.get("/admin/fields/?model=item").get_data(as_text=True)
    visible = text_of(re.sub(r"<code>.*?</code>", "", fields))
    assert "金额" in visible and "关联" in visible and "内置" in visible
    assert not re.search(r"\b(text|decimal|money|link|boolean|YAML)\b", visible), visible[:400]
    with app.app_context():
        from app.extensions import db
        from app.services.users.accounts import create_user

        create_user("u_cli_named", "clerk", PASSWORD, name="李文员")
        db.session.commit()
        made = create_user("u_cli_plain", "clerk", PASSWORD)
        db.session.commit()
        assert made.last_name == ""
    places = text_of(admin.get("/admin/user-warehouses/").get_data(as_text=True))
    assert "李文员" in places and "u_cli_plain -" not in places


def test_over_receipt_says_not_received_and_shortage_names_the_item(admin_api):
    sku = new_item(admin_api, name="红牛 250ml")
    order = post(admin_api, "purchase_order", [{"item": sku, "qty": "2", "price": "3"}], warehouse="WH01")
    over = document(
        admin_api,
        "purchase_receipt",
        [{"item": sku, "qty": "5", "price": "3"}],
        warehouse="WH01",
        source_number=order["number"],
    )
    refused = admin_api.post(f"/api/v1/purchase_receipt/{over['id']}/submit").get_json()
    assert "未收货数量" in str(refused) and "未发货" not in str(refused)
    # what is still open: the order, the item and its open quantity (a linked line alike)
    assert refused["message"]["lines.0.qty"] == [
        f"超出订单 {order['number']} 的未收货数量：「{sku} 红牛 250ml」还有 2 个 未收货"
    ]
    line = order["lines"][0]
    linked = dict(source_model="purchase_order", source_id=order["id"], source_line_id=line["id"])
    over = document(
        admin_api, "purchase_receipt", [{"item": sku, "qty": "3", "price": "3", **linked}], warehouse="WH01"
    )
    refused = admin_api.post(f"/api/v1/purchase_receipt/{over['id']}/submit").get_json()
    assert refused["message"]["lines.0.qty"] == [
        f"超出订单 {order['number']} 的未收货数量：「{sku} 红牛 250ml」还有 2 个 未收货"
    ]
    receive(admin_api, sku, "1", "3")
    short = document(admin_api, "sales_delivery", [{"item": sku, "qty": "4", "price": "5"}], warehouse="WH01")
    answer = admin_api.post(f"/api/v1/sales_delivery/{short['id']}/submit")
    assert answer.status_code == 422
    assert f"「{sku} 红牛 250ml」库存不足" in str(answer.get_json())


# FAB's role page lists the role's users through Query.get (legacy in SQLAlchemy 2, a warning)
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.LegacyAPIWarning")
def test_fab_security_pages_speak_chinese_and_menus_only_offer_what_opens(login_as):
    admin = login_as("admin")
    users = text_of(admin.get("/users/list/").get_data(as_text=True))
    assert "老板/经理" in users and "是" in users
    assert not re.search(r"\b(Show|Edit|Delete|Add|True|Groups|manager)\b", users), users[-600:]
    roles = text_of(admin.get("/roles/list/").get_data(as_text=True))
    assert "文员" in roles and not re.search(r"\b(clerk|Public|User)\b", roles)
    role_ids = re.findall(r'href="/roles/show/(\d+)', admin.get("/roles/list/").get_data(as_text=True))
    shown = " ".join(text_of(admin.get(f"/roles/show/{pk}").get_data(as_text=True)) for pk in role_ids[2:4])
    assert "采购入库单：查看" in shown and " on " not in shown and "can read" not in shown
    home = admin.get("/").get_data(as_text=True)
    assert "用户统计" not in home and "/permissions/list/" not in home
    assert admin.get("/users/userstatschart/chart/").status_code == 404
    assert admin.get("/permissions/list/").status_code == 404
    info = text_of(admin.get("/users/userinfo/").get_data(as_text=True))
    assert "True" not in info and "None" not in info and "系统管理员" in info
    purchaser_home = login_as("purchaser").get("/").get_data(as_text=True)
    assert "/accounts/overdue" not in purchaser_home  # customers' receivables: refused to a purchaser
    assert "/accounts/overdue" in login_as("salesperson").get("/").get_data(as_text=True)


def test_stock_move_list_shows_date_and_document(login_as):
    listed = text_of(login_as("clerk").get("/m/stock_move/").get_data(as_text=True))
    assert "业务日期" in listed and "单据编号" in listed


def test_a_receipt_line_rejects_no_more_than_arrived(admin_api):
    sku = new_item(admin_api)
    lines = [{"item": sku, "qty": "0", "received_qty": "10", "rejected_qty": "13", "price": "3"}]
    saved = admin_api.post(
        "/api/v1/purchase_receipt/", json={"date": "2026-11-25", "partner": "S001", "warehouse": "WH01", "lines": lines}
    )
    assert saved.status_code == 422
    assert saved.get_json()["message"]["lines.0.rejected_qty"] == ["拒收数量 13 不能大于到货数量 10"]
    fine = document(admin_api, "purchase_receipt", [dict(lines[0], qty="7", rejected_qty="3")], warehouse="WH01")
    assert admin_api.post(f"/api/v1/purchase_receipt/{fine['id']}/submit").status_code == 200


def test_a_receipt_line_takes_in_no_more_than_arrived_less_rejected(admin_api):
    """1000 taken in and 100 rejected of 900 that arrived: stock and the payable would count 200 that never came."""
    sku = new_item(admin_api)
    header = {"date": "2026-11-25", "partner": "S001", "warehouse": "WH01"}
    lines = [{"item": sku, "qty": "1000", "received_qty": "900", "rejected_qty": "100", "price": "1.15"}]
    saved = admin_api.post("/api/v1/purchase_receipt/", json=header | {"lines": lines})
    assert saved.status_code == 422, saved.get_json()
    assert saved.get_json()["message"] == {
        "lines.0.qty": ["入库数量 1000 加拒收数量 100 超过了到货数量 900：入库数量最多为到货减拒收"]
    }
    plain = admin_api.post("/api/v1/purchase_receipt/", json=header | {"lines": [dict(lines[0], rejected_qty=None)]})
    assert plain.get_json()["message"] == {"lines.0.qty": ["入库数量 1000 超过了到货数量 900"]}
    fine = document(admin_api, "purchase_receipt", [dict(lines[0], qty="800")], warehouse="WH01")
    assert admin_api.post(f"/api/v1/purchase_receipt/{fine['id']}/submit").status_code == 200
    assert admin_api.get(f"/api/v1/purchase_receipt/{fine['id']}").get_json()["result"]["total_qty"] == "800"


def test_every_view_menu_is_named_as_the_metadata_names_it_in_either_language(app):
    """The role form's ~430 permissions are named from one index kept per metadata version
    (app/views/security_labels.py): each view-menu name is the label of the first model (by key or resource),
    menu or menu link that names it, in the reader's language; any other is the catalogue's or itself."""
    from flask import session

    from app.extensions import registry
    from app.i18n import label
    from app.services.access.rights import permission_resource
    from app.views.security_labels import resource_label

    def searched(name: str) -> str | None:
        meta = registry().meta
        for model in meta.models.values():
            if name in (model.key, permission_resource(model)):
                return label(model.label, model.key)
        for menu in meta.menus:
            for entry in (menu, *menu.links):
                if name == entry.key:
                    return label(entry.label, entry.key)
        return None

    for locale in ("zh", "en"):
        with app.test_request_context("/roles/add"):
            session["locale"] = locale
            names = {str(v.name) for v in app.appbuilder.sm.get_all_view_menu()} | {"no_such_view"}
            labels = {name: resource_label(name) for name in names}
            assert all(labels[n] == searched(n) for n in names if searched(n) is not None)
            assert labels["no_such_view"] == "no_such_view"
            assert labels["PurchaseReceipt"] == ("采购入库单" if locale == "zh" else "Purchase receipt")
