"""After 审核, 审批, 退回 or 反审核 the clerk is told what actually happened, on the API answer and the page:
stock moved, stock reserved, money recorded, sent for approval (level k of n), or only the status moved."""

from __future__ import annotations

from tests.conftest import csrf_from
from tests.ledger_helpers import document, new_item, receive


def act(api, model, doc, action="submit"):
    """Run a posting action through the API; (result, message)."""
    answer = api.post(f"/api/v1/{model}/{doc['id']}/{action}")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["result"], answer.get_json()["message"]


def page_action(client, model, pk, action="submit"):
    """Run a posting action from the document's page as a person would; the page shown afterwards."""
    token = csrf_from(client.get(f"/m/{model}/{pk}").get_data(as_text=True))
    answer = client.post(f"/m/{model}/{pk}/{action}", data={"csrf_token": token}, follow_redirects=True)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def purchase_request(api, sku):
    """A draft 请购单 for one item worth 5.00 (a manager approves every request above 0)."""
    body = {"date": "2026-11-25", "lines": [{"item": sku, "qty": "1", "price": "5"}]}
    answer = api.post("/api/v1/purchase_request/", json=body)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["result"]


def test_stock_documents_say_stock_moved_orders_say_reserved_and_payments_say_money(app, admin_api):
    sku = new_item(admin_api)
    receipt = document(admin_api, "purchase_receipt", [{"item": sku, "qty": "5", "price": "2"}], warehouse="WH01")
    assert act(admin_api, "purchase_receipt", receipt)[1] == "已审核，库存已更新"
    order = document(admin_api, "sales_order", [{"item": sku, "qty": "2", "price": "3"}], warehouse="WH01")
    assert act(admin_api, "sales_order", order)[1] == "已审核，已为订单预留库存"
    assert act(admin_api, "sales_order", order, "cancel")[1] == "已作废，未发货部分的预留库存已释放"
    money = document(admin_api, "payment", [], direction="receipt", partner="K001", account="A001", amount="50")
    assert act(admin_api, "payment", money)[1] == "已审核，收款 50.00 已登记"
    assert act(admin_api, "payment", money, "cancel")[1] == "已作废，收款 50.00 已撤销"
    assert act(admin_api, "purchase_receipt", receipt, "cancel")[1] == "已反审核，已生成冲销记录"


def test_approvals_say_which_level_waits_and_count_every_level_given(app, admin_api, api_as):
    sku = new_item(admin_api)
    big = document(admin_api, "purchase_order", [{"item": sku, "qty": "100", "price": "600"}], warehouse="WH01")
    pending, said = act(api_as("clerk"), "purchase_order", big)  # 60,000: manager, then admin
    assert pending["status"] == "pending" and pending["approval_step"] == 0
    assert said.startswith("已提交审批") and "共 2 级" in said and "老板/经理" in said and "库存已更新" not in said
    first, said = act(api_as("manager"), "purchase_order", big, "approve")
    assert (first["status"], first["approval_step"]) == ("pending", 1)
    assert "第 1 级" in said and "共 2 级" in said and "系统管理员" in said
    done, said = act(admin_api, "purchase_order", big, "approve")
    assert (done["status"], done["approval_step"]) == ("submitted", 2)
    assert said == "已通过全部 2 级审批；已审核（该单据不影响库存）"
    request = purchase_request(admin_api, sku)
    act(api_as("clerk"), "purchase_request", request)
    approved, said = act(api_as("manager"), "purchase_request", request, "approve")
    assert (approved["status"], approved["approval_step"]) == ("submitted", 1)  # one level given, not 0


def test_a_pending_document_is_refused_as_pending_and_a_level_names_its_role_by_label(app, admin_api, api_as):
    """A document waiting for approval is not 已审核或作废 (what an edit of it was told); the level a manager may not
    give names the role as the clerk knows it (系统管理员), not its code (admin)."""
    sku = new_item(admin_api)
    big = document(admin_api, "purchase_order", [{"item": sku, "qty": "100", "price": "600"}], warehouse="WH01")
    clerk, manager = api_as("clerk"), api_as("manager")
    act(clerk, "purchase_order", big)
    edit = clerk.put(f"/api/v1/purchase_order/{big['id']}", json={"remark": "改一下"})
    assert edit.status_code == 422
    assert edit.get_json()["message"] == {"status": ["单据待审批，不能修改（只有草稿可以修改）"]}
    act(manager, "purchase_order", big, "approve")
    second = manager.post(f"/api/v1/purchase_order/{big['id']}/approve")
    assert second.status_code == 403 and second.get_json()["message"] == "这一级需要「系统管理员」审批"
    done, _ = act(admin_api, "purchase_order", big, "approve")
    edit = clerk.put(f"/api/v1/purchase_order/{done['id']}", json={"remark": "改一下"})
    assert edit.get_json()["message"] == {"status": ["单据已审核，不能修改（只有草稿可以修改）"]}


def test_the_page_says_what_happened(app, admin_api, login_as):
    sku = new_item(admin_api)
    receive(admin_api, sku, "5", "2")
    request = purchase_request(admin_api, sku)
    clerk = login_as("clerk")
    page = page_action(clerk, "purchase_request", request["id"])
    assert "已提交审批" in page and "已审核，库存已更新" not in page
    page = page_action(login_as("manager"), "purchase_request", request["id"], "approve")
    assert "已通过全部 1 级审批" in page
    delivery = document(admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "3"}], warehouse="WH01")
    assert "已审核，库存已更新" in page_action(clerk, "sales_delivery", delivery["id"])


def test_saving_with_posting_on_save_says_when_the_document_went_to_approval(app, admin_api, api_as):
    sku = new_item(admin_api)
    assert admin_api.put("/api/v1/settings/approve_before_post", json={"value": False}).status_code == 200
    try:
        body = {"warehouse": "WH01", "partner": "S001", "lines": [{"item": sku, "qty": "100", "price": "600"}]}
        saved = api_as("clerk").post("/api/v1/purchase_order/", json=body)
        assert saved.status_code == 201, saved.get_json()
        answer = saved.get_json()
        assert answer["result"]["status"] == "pending" and answer["posted"] is False
        assert answer["message"].startswith("已提交审批")
        small = dict(body, lines=[{"item": sku, "qty": "1", "price": "6"}])
        posted = api_as("clerk").post("/api/v1/purchase_order/", json=small).get_json()
        assert posted["posted"] is True and posted["message"] == "已审核（该单据不影响库存）"
    finally:
        admin_api.put("/api/v1/settings/approve_before_post", json={"value": True})
