"""Generated pages: list, detail and forms use the same write service (validation, audit)."""

from __future__ import annotations

from tests.conftest import csrf_from, unique


def test_form_create_shows_errors_then_saves(login_as):
    client = login_as("clerk")
    page = client.get("/m/item/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token = csrf_from(html)
    assert 'name="purchase_price"' in html
    refused = client.post("/m/item/new", data={"csrf_token": token, "name": "表单商品", "sale_price": "abc"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert 'data-field="sku"' in body and 'data-field="sale_price"' in body
    sku = unique("F")
    saved = client.post(
        "/m/item/new",
        data={"csrf_token": token, "sku": sku, "name": "表单商品", "unit": "PCS", "sale_price": "¥1,234.5"},
    )
    assert saved.status_code == 302
    detail = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert sku in detail and "1234.5" in detail and "新建" in detail


def test_form_without_csrf_is_refused(login_as):
    client = login_as("clerk")
    response = client.post("/m/item/new", data={"sku": unique("F"), "name": "x", "unit": "PCS"})
    assert response.status_code == 400


def test_salesperson_pages_hide_masked_fields_and_scope_rows(login_as):
    import re

    client = login_as("salesperson")
    assert client.get("/m/item/new").status_code in (302, 403)  # salespeople only read items
    page = client.get("/m/item/?search=SP00").get_data(as_text=True)
    assert "SP00" in page and "采购价" not in page and "零售价" in page
    first = re.search(r'href="(/m/item/\d+)"', page).group(1)
    detail = client.get(first).get_data(as_text=True)
    assert "零售价" in detail and "采购价" not in detail and "成本价" not in detail
    partners = client.get("/m/partner/?search=K00").get_data(as_text=True)
    assert "K001" in partners and "K003" not in partners


def test_document_form_with_lines(login_as):
    client = login_as("clerk")
    token = csrf_from(client.get("/m/purchase_order/new").get_data(as_text=True))
    saved = client.post(
        "/m/purchase_order/new",
        data={
            "csrf_token": token,
            "date": "2026-11-25",
            "partner": "S001",
            "warehouse": "WH01",
            "lines-0-item": "SP0001",
            "lines-0-qty": "2",
            "lines-0-price": "1.5",
            "lines-1-item": "",
            "lines-1-qty": "",
            "lines-1-price": "",
            "lines-2-item": "SP0002",
            "lines-2-qty": "3",
            "lines-2-price": "2",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    edit_page = client.get(saved.headers["Location"] + "/edit").get_data(as_text=True)
    assert 'value="草稿"' in edit_page  # read-only status shows its label, not the stored value
    detail = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "SP0001" in detail and "SP0002" in detail and "9.00" in detail


def test_admin_assigns_warehouses_and_the_scope_follows(app, login_as, api_as):
    from flask_appbuilder.security.sqla.models import User

    from app.extensions import db

    with app.app_context():
        keeper = db.session.query(User).filter_by(username="u_warehouse").one().id
    admin = login_as("admin")
    page = admin.get("/admin/user-warehouses/").get_data(as_text=True)
    assert "u_warehouse" in page and "WH02" in page
    token = csrf_from(page)
    assert login_as("clerk").get("/admin/user-warehouses/").status_code in (302, 403)
    saved = admin.post(f"/admin/user-warehouses/{keeper}", data={"csrf_token": token, "warehouse": ["WH01", "WH02"]})
    assert saved.status_code == 302
    try:
        from tests.ledger_helpers import document

        receipt = document(
            api_as("admin"), "purchase_receipt", [{"item": "SP0001", "qty": "1", "price": "1"}], warehouse="WH02"
        )
        assert api_as("warehouse").get(f"/api/v1/purchase_receipt/{receipt['id']}").status_code == 200
        history = api_as("manager").get("/api/v1/audit/?model=ab_user").get_json()["result"]
        assert history[0]["after"]["warehouses"] == ["WH01", "WH02"]
    finally:
        admin.post(f"/admin/user-warehouses/{keeper}", data={"csrf_token": token, "warehouse": ["WH01"]})
    assert api_as("warehouse").get(f"/api/v1/purchase_receipt/{receipt['id']}").status_code == 404


def test_settings_page_changes_a_switch(app, login_as, api_as):
    admin = login_as("admin")
    page = admin.get("/admin/settings/").get_data(as_text=True)
    assert "允许负库存" in page and "关账日期" in page
    token = csrf_from(page)
    assert admin.post("/admin/settings/remember_last_price", data={"csrf_token": token}).status_code == 302
    try:
        switches = {s["key"]: s["value"] for s in api_as("manager").get("/api/v1/settings/").get_json()["result"]}
        assert switches["remember_last_price"] is False
    finally:
        admin.post("/admin/settings/remember_last_price", data={"csrf_token": token, "value": "1"})
    assert login_as("clerk").get("/admin/settings/").status_code in (302, 403)


def test_home_page_shows_stock_alerts(login_as):
    page = login_as("purchaser").get("/").get_data(as_text=True)
    assert "低于再订货点" in page  # demo items start with no stock and a reorder point


def test_home_page_turns_suggestions_into_draft_orders(login_as):
    client = login_as("purchaser")
    page = client.get("/").get_data(as_text=True)
    assert 'id="jxc-reorder"' in page
    made = client.post("/reorder/orders", data={"csrf_token": csrf_from(page), "warehouse": "WH01"})
    assert made.status_code == 302 and made.headers["Location"].endswith("/m/purchase_order/")
    listing = client.get("/m/purchase_order/").get_data(as_text=True)
    assert "已生成采购订单草稿" in listing and "CG" in listing
    assert 'id="jxc-reorder"' not in login_as("salesperson").get("/").get_data(as_text=True)


def test_partner_account_page(app, login_as, admin_api):
    from tests.ledger_helpers import new_item, post

    sku = new_item(admin_api)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "3", "price": "2"}], warehouse="WH01")
    post(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "2", "price": "12.5"}],
        warehouse="WH01",
        partner="K002",
        salesperson="u_salesperson",  # in the salesperson's scope: their statement lists it
    )
    k002 = admin_api.get("/api/v1/partner/?q=(filters:!((col:code,opr:eq,value:K002)))").get_json()["ids"][0]
    k003 = admin_api.get("/api/v1/partner/?q=(filters:!((col:code,opr:eq,value:K003)))").get_json()["ids"][0]
    sales = login_as("salesperson")
    assert 'id="jxc-account"' in sales.get(f"/m/partner/{k002}").get_data(as_text=True)
    page = sales.get(f"/accounts/{k002}").get_data(as_text=True)
    assert "对账单" in page and "25.00" in page
    assert sales.get(f"/accounts/{k003}").status_code == 404  # not this salesperson's customer


def test_supplier_account_page_shows_the_scorecard(app, login_as, admin_api):
    s004 = admin_api.get("/api/v1/partner/?q=(filters:!((col:code,opr:eq,value:S004)))").get_json()["ids"][0]
    page = login_as("purchaser").get(f"/accounts/{s004}").get_data(as_text=True)
    assert "供应商评分" in page and "应付余额" in page


def test_a_keeper_of_one_warehouse_finds_it_filled_in_on_a_new_document(app, login_as, admin_api):
    """仓库 on a new stocktake, receipt or delivery: the only one a keeper of one warehouse may name is filled in
    (they had to type it on every form); a transfer's two ends, and users who may name any, are left to choose."""
    import re

    def warehouse_input(page: str, field: str) -> str:
        found = re.search(rf'<input[^>]*id="f-{field}"[^>]*>', page)
        assert found, field
        value = re.search(r'value="([^"]*)"', found.group(0))
        return value.group(1) if value else ""

    keeper = login_as("warehouse")  # WH01 only
    for model in ("stocktake", "purchase_receipt", "sales_delivery", "stock_adjustment"):
        page = keeper.get(f"/m/{model}/new").get_data(as_text=True)
        assert warehouse_input(page, "warehouse").startswith("WH01"), model
    page = keeper.get("/m/stocktake/new").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "date": "2026-11-25", "warehouse": warehouse_input(page, "warehouse")}
    saved = keeper.post("/m/stocktake/new", data=form)  # saved as filled in
    assert saved.status_code == 302, saved.get_data(as_text=True)[:1500]
    transfer = keeper.get("/m/stock_transfer/new").get_data(as_text=True)
    assert warehouse_input(transfer, "from_warehouse") == "" and warehouse_input(transfer, "to_warehouse") == ""
    assert warehouse_input(login_as("admin").get("/m/stocktake/new").get_data(as_text=True), "warehouse") == ""


def test_a_salesperson_finds_themselves_filled_in_as_the_orders_salesperson(app, login_as, admin_api):
    """销售员 on a new 销售订单: a salesperson may name only themselves there, so the form fills it in; a form sent
    with it left empty is theirs too (it was refused: 销售员只能填写您本人，不能留空), while someone who may name
    anyone chooses."""
    import re

    def salesperson_input(page: str) -> str:
        found = re.search(r'<input[^>]*id="f-salesperson"[^>]*>', page)
        assert found, page[:500]
        value = re.search(r'value="([^"]*)"', found.group(0))
        return value.group(1) if value else ""

    seller = login_as("salesperson")
    page = seller.get("/m/sales_order/new").get_data(as_text=True)
    assert salesperson_input(page) == "u_salesperson"
    form = {"csrf_token": csrf_from(page), "date": "2026-11-25", "partner": "K001", "warehouse": "WH01"}
    saved = seller.post("/m/sales_order/new", data=form | {"salesperson": ""})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:1500]
    pk = int(saved.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert admin_api.get(f"/api/v1/sales_order/{pk}").get_json()["result"]["salesperson"]["key"] == "u_salesperson"
    assert salesperson_input(login_as("admin").get("/m/sales_order/new").get_data(as_text=True)) == ""


def test_a_document_list_shows_each_document_total_through_the_masks(app, admin_api, api_as, login_as):
    """A clerk scanning 入库单 reads each one's 价税合计 in the list, the document's own total to the cent, as the grid,
    its API and its export give it; a warehouse keeper, who may not see purchase figures, is shown none of them."""
    import csv
    import io
    import re

    from app.meta.types import money_text
    from tests.ledger_helpers import post

    lines = [{"item": "SP0001", "qty": "1000", "price": "12345.6789"}]
    receipt = post(admin_api, "purchase_receipt", lines, warehouse="WH01")
    total = receipt["total_with_tax"]
    page = login_as("clerk").get(f"/m/purchase_receipt/?search={receipt['number']}").get_data(as_text=True)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", page.split("<tbody>")[0])
    assert "价税合计" in headers, headers
    row = page.split("<tbody>")[1].split(receipt["number"], 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert money_text(total) in cells and "," in money_text(total), (total, cells)
    rows = admin_api.get(
        "/api/v1/grid/purchase_receipt/rows",
        query_string={"filter[0][field]": "number", "filter[0][type]": "=", "filter[0][value]": receipt["number"]},
    ).get_json()["data"]
    assert [r["total_with_tax"] for r in rows] == [total]
    exported = admin_api.get("/api/v1/grid/purchase_receipt/export?format=csv&columns=number,total_with_tax")
    assert [receipt["number"], total] in list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))

    keeper = login_as("warehouse").get("/m/purchase_receipt/").get_data(as_text=True)
    assert "价税合计" not in keeper and "金额合计" not in keeper
    masked = api_as("u_warehouse").get("/api/v1/grid/purchase_receipt/rows").get_json()["data"]
    assert masked and all("total_with_tax" not in r for r in masked)
