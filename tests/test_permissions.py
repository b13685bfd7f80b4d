"""Role x model x action matrix, field masks and row scope, through every read path of the API."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from app.extensions import db, registry
from app.meta.loader import load_metadata
from tests.conftest import PASSWORD, ROLES, csrf_from, hide_prices, unique
from tests.factories import make_payload

META, _ = load_metadata(Path(__file__).resolve().parent.parent / "metadata")
TOP_MODELS = [m.key for m in META.models.values() if not m.is_line]


def granted(role: str, model_key: str) -> set[str]:
    """Actions roles.yaml grants (union over matching patterns); ledgers are read-only."""
    actions: set[str] = set()
    for pattern, acts in META.roles[role].permissions.items():
        if fnmatch.fnmatchcase(model_key, pattern):
            actions.update(acts)
    if META.model(model_key).kind == "ledger":
        actions &= {"read", "export"}
    return actions


@pytest.mark.parametrize("role", ROLES[1:])
def test_role_action_matrix(api_as, role):
    api = api_as(role)
    failures = []
    for model_key in TOP_MODELS:
        actions = granted(role, model_key)
        kind = META.model(model_key).kind
        listed = api.get(f"/api/v1/{model_key}/").status_code
        if (listed == 200) != ("read" in actions) or listed not in (200, 403):
            failures.append((model_key, "read", listed))
        if kind == "ledger":
            continue
        created = api.post(f"/api/v1/{model_key}/", json={"no_such_field": 1}).status_code
        if (created == 403) == ("write" in actions):
            failures.append((model_key, "write", created))
        deleted = api.delete(f"/api/v1/{model_key}/987654321").status_code
        if (deleted == 403) == ("delete" in actions):
            failures.append((model_key, "delete", deleted))
    assert failures == []


def test_purchaser_and_salesperson_see_only_their_side(api_as):
    assert api_as("purchaser").get("/api/v1/sales_order/").status_code == 403
    assert api_as("purchaser").get("/api/v1/purchase_order/").status_code == 200
    assert api_as("salesperson").get("/api/v1/purchase_order/").status_code == 403
    assert api_as("salesperson").get("/api/v1/purchase_order_line/").status_code == 403
    assert api_as("salesperson").get("/api/v1/sales_order/").status_code == 200


def test_masked_fields_absent_everywhere(api_as, admin_api):
    api = api_as("salesperson")
    listed = api.get("/api/v1/item/").get_json()
    assert listed["count"] >= 50
    for row in listed["result"]:
        assert "purchase_price" not in row and "cost_price" not in row
        assert "sale_price" in row
    assert "purchase_price" not in listed["list_columns"]
    pk = listed["ids"][0]
    detail = api.get(f"/api/v1/item/{pk}").get_json()["result"]
    assert "purchase_price" not in detail and "cost_price" not in detail
    info = api.get("/api/v1/item/_info").get_json()
    assert "purchase_price" not in [f["name"] for f in info["fields"]]
    assert "purchase_price" in admin_api.get(f"/api/v1/item/{pk}").get_json()["result"]


def test_masked_fields_cannot_be_filtered_sorted_or_written(app, api_as):
    api = api_as("salesperson")
    by_filter = api.get("/api/v1/item/", query_string={"q": "(filters:!((col:purchase_price,opr:gt,value:0)))"})
    assert by_filter.status_code == 400
    by_order = api.get("/api/v1/item/", query_string={"q": "(order_column:purchase_price,order_direction:asc)"})
    assert by_order.status_code == 400
    with app.app_context():
        payload = make_payload(db.session, registry(), "sales_delivery")
    payload["partner"] = "K001"
    payload["lines"][0]["cost_price"] = "1.00"
    written = api.post("/api/v1/sales_delivery/", json=payload)
    assert written.status_code == 422
    assert "lines.0.cost_price" in written.get_json()["message"]
    history_masked = api_as("warehouse").get("/api/v1/stock_move/").get_json()
    assert "unit_cost" not in history_masked["list_columns"]


def test_salesperson_row_scope(app, api_as, admin_api):
    api = api_as("salesperson")
    partners = api.get("/api/v1/partner/", query_string={"q": "(page_size:100)"}).get_json()
    codes = {row["code"] for row in partners["result"]}
    assert codes >= {"K001", "K002"} and "K003" not in codes and "S001" not in codes
    other = admin_api.get("/api/v1/partner/", query_string={"q": "(filters:!((col:code,opr:eq,value:K003)))"})
    other_id = other.get_json()["ids"][0]
    assert api.get(f"/api/v1/partner/{other_id}").status_code == 404
    assert api.get(f"/api/v1/partner/{other_id}/history").status_code == 404
    assert api.put(f"/api/v1/partner/{other_id}", json={"remark": "x"}).status_code == 404
    guessed = api.get("/api/v1/partner/", query_string={"q": "(filters:!((col:code,opr:eq,value:K003)))"})
    assert guessed.get_json()["count"] == 0

    with app.app_context():
        order = make_payload(db.session, registry(), "sales_order")
    order["partner"] = "K001"
    order.pop("salesperson", None)
    mine = api.post("/api/v1/sales_order/", json=order)
    assert mine.status_code == 201, mine.get_json()
    assert mine.get_json()["result"]["salesperson"]["key"] == "u_salesperson"
    # another's order to their customer is theirs to read (the customer's account is all of its documents);
    # another's order to a customer not theirs is not
    theirs = admin_api.post("/api/v1/sales_order/", json=dict(order, salesperson="admin"))
    assert theirs.status_code == 201
    assert api.get(f"/api/v1/sales_order/{theirs.get_json()['id']}").status_code == 200
    elsewhere = admin_api.post("/api/v1/sales_order/", json=dict(order, partner="K003", salesperson="admin"))
    assert elsewhere.status_code == 201
    assert api.get(f"/api/v1/sales_order/{elsewhere.get_json()['id']}").status_code == 404
    not_my_customer = api.post("/api/v1/sales_order/", json=dict(order, partner="K003"))
    assert not_my_customer.status_code == 422 and "partner" in not_my_customer.get_json()["message"]


def test_a_salesperson_names_only_themselves_on_an_order(app, api_as, admin_api):
    """An order to their own customer named another salesperson and was saved (the row stayed in sight through
    the customer); a salesperson may only name themselves there, unless their role reads every order."""
    seller = api_as("salesperson")
    body = {"date": "2026-11-25", "partner": "K001", "warehouse": "WH01", "lines": []}
    answers = []
    for name in ("u_clerk", "no_such_user_x"):
        refused = seller.post("/api/v1/sales_order/", json=dict(body, salesperson=name))
        assert refused.status_code == 422, refused.get_json()
        answers.append(refused.get_json()["message"]["salesperson"][0].replace(name, "<name>"))
    assert answers[0] == answers[1] == "销售员只能填写您本人，不能填写「<name>」"  # unknown and other read alike
    own = seller.post("/api/v1/sales_order/", json=dict(body, salesperson="u_salesperson"))
    assert own.status_code == 201
    blanked = seller.put(f"/api/v1/sales_order/{own.get_json()['id']}", json={"salesperson": None})
    assert blanked.status_code == 422, blanked.get_json()  # an order of nobody's, out of their own
    assert blanked.get_json()["message"]["salesperson"] == ["销售员只能填写您本人，不能留空"]
    try:
        assert admin_api.put("/api/v1/settings/all_scope_roles", json={"value": ["salesperson"]}).status_code == 200
        assert seller.post("/api/v1/sales_order/", json=dict(body, salesperson="u_clerk")).status_code == 201
    finally:
        admin_api.put("/api/v1/settings/all_scope_roles", json={"value": []})


def test_warehouse_keeper_row_scope(app, api_as, admin_api):
    api = api_as("warehouse")
    with app.app_context():
        receipt = make_payload(db.session, registry(), "purchase_receipt")
    in_wh2 = admin_api.post("/api/v1/purchase_receipt/", json=dict(receipt, warehouse="WH02"))
    in_wh1 = admin_api.post("/api/v1/purchase_receipt/", json=dict(receipt, warehouse="WH01"))
    assert in_wh1.status_code == in_wh2.status_code == 201
    ids = api.get("/api/v1/purchase_receipt/", query_string={"q": "(page_size:1000)"}).get_json()["ids"]
    assert in_wh1.get_json()["id"] in ids and in_wh2.get_json()["id"] not in ids
    assert api.get(f"/api/v1/purchase_receipt/{in_wh2.get_json()['id']}").status_code == 404
    lines = api.get("/api/v1/purchase_receipt_line/", query_string={"q": "(page_size:1000)"}).get_json()["result"]
    wh2_line_ids = {line["id"] for line in in_wh2.get_json()["result"]["lines"]}
    assert not wh2_line_ids & {line["id"] for line in lines}
    moved = api.post("/api/v1/purchase_receipt/", json=dict(receipt, warehouse="WH02"))
    assert moved.status_code == 422


def test_unauthenticated_requests_are_refused(app):
    client = app.test_client()
    assert client.get("/api/v1/item/").status_code == 401
    assert client.post("/api/v1/item/", json={}).status_code in (400, 401)
    assert client.get("/m/item/").status_code in (302, 401)


def test_cookie_session_writes_need_csrf(login_as):
    client = login_as("clerk")
    assert client.get("/api/v1/item/").status_code == 200
    refused = client.post("/api/v1/item/", json={"sku": "CSRF1", "name": "x", "unit": "PCS"})
    assert refused.status_code == 400
    page = client.get("/m/item/new").get_data(as_text=True)
    from tests.conftest import csrf_from

    accepted = client.post(
        "/api/v1/item/",
        json={"sku": f"CSRF{id(client) % 100000}", "name": "x", "unit": "PCS"},
        headers={"X-CSRFToken": csrf_from(page)},
    )
    assert accepted.status_code == 201, accepted.get_json()


def test_price_masking_switch_hides_every_money_field(app, admin_api, api_as):
    assert "sale_price" in api_as("clerk").get("/api/v1/item/").get_json()["result"][0]
    hide_prices(app, ["clerk"])
    try:
        row = api_as("clerk").get("/api/v1/item/").get_json()["result"][0]
        assert not {"sale_price", "purchase_price", "wholesale_price"} & set(row)
        orders = api_as("clerk").get("/api/v1/purchase_order/").get_json()
        assert "total_amount" not in orders["list_columns"]
        assert "sale_price" in api_as("manager").get("/api/v1/item/").get_json()["result"][0]
    finally:
        admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []})
    assert "sale_price" in api_as("clerk").get("/api/v1/item/").get_json()["result"][0]


def test_data_scope_own_department_or_all_per_role(app, api_as, admin_api, login_as):
    """数据范围: a salesperson sees their own orders; with the role in department_scope_roles also their
    department colleagues'; in all_scope_roles everyone's. The admin page sets a user's department."""
    from app.services.users.accounts import create_user

    tag = unique("D")
    for code in (f"{tag}A", f"{tag}B"):
        assert admin_api.post("/api/v1/department/", json={"code": code, "name": f"销售部 {code}"}).status_code == 201
    users = {name: f"x_{unique('s').lower()}" for name in ("me", "colleague", "other")}
    with app.app_context():
        ids = {name: create_user(username, "salesperson", PASSWORD).id for name, username in users.items()}
    admin = login_as("admin")
    page = admin.get("/admin/user-warehouses/").get_data(as_text=True)
    department = {"me": f"{tag}A", "colleague": f"{tag}A", "other": f"{tag}B"}
    for name, user_id in ids.items():
        form = {"csrf_token": csrf_from(page), "department": department[name], "warehouse": "WH01"}
        assert admin.post(f"/admin/user-warehouses/{user_id}", data=form).status_code in (302, 303)
    assert f'value="{tag}A" selected' in admin.get("/admin/user-warehouses/").get_data(as_text=True)

    numbers = {}
    for name, username in users.items():
        customer = unique("DC")  # each salesperson's own customer: owners see only theirs too
        made = api_as(username).post("/api/v1/partner/", json={"code": customer, "name": "客户", "kind": "customer"})
        assert made.status_code == 201, made.get_json()
        body = {"date": "2026-11-25", "partner": customer, "warehouse": "WH01", "lines": []}
        created = api_as(username).post("/api/v1/sales_order/", json=body)
        assert created.status_code == 201, created.get_json()
        numbers[name] = created.get_json()["result"]["number"]

    def seen():
        rows = api_as(users["me"]).get("/api/v1/sales_order/?q=(page_size:100,order_column:id,order_direction:desc)")
        return {name for name, number in numbers.items() if number in {r["number"] for r in rows.get_json()["result"]}}

    assert seen() == {"me"}
    try:
        assert (
            admin_api.put("/api/v1/settings/department_scope_roles", json={"value": ["salesperson"]}).status_code == 200
        )
        assert seen() == {"me", "colleague"}
        assert admin_api.put("/api/v1/settings/all_scope_roles", json={"value": ["salesperson"]}).status_code == 200
        assert seen() == {"me", "colleague", "other"}
        # seeing everything, a new order is still the salesperson's own (and stays seen when narrowed)
        body = {"date": "2026-11-25", "partner": customer, "warehouse": "WH01", "lines": []}
        late = api_as(users["other"]).post("/api/v1/sales_order/", json=body).get_json()["result"]
        assert late["salesperson"]["key"] == users["other"]
    finally:
        admin_api.put("/api/v1/settings/department_scope_roles", json={"value": []})
        admin_api.put("/api/v1/settings/all_scope_roles", json={"value": []})
    assert seen() == {"me"}
    assert api_as(users["other"]).get(f"/api/v1/sales_order/{late['id']}").status_code == 200

    # a department users belong to is not deleted; once they moved, it is
    ids_a = admin_api.get(f"/api/v1/department/?q=(filters:!((col:code,opr:eq,value:{tag}A)))").get_json()["ids"]
    refused = admin_api.delete(f"/api/v1/department/{ids_a[0]}")
    assert refused.status_code == 422 and "2" in refused.get_json()["errors"][0]["message"]
    for name in ("me", "colleague"):
        form = {"csrf_token": csrf_from(page), "department": "", "warehouse": "WH01"}
        assert admin.post(f"/admin/user-warehouses/{ids[name]}", data=form).status_code in (302, 303)
    assert admin_api.delete(f"/api/v1/department/{ids_a[0]}").status_code == 200


def test_a_field_masked_from_the_writer_is_refused_by_its_label_not_as_unknown(app, api_as):
    """A warehouse keeper sees no prices: writing one (a line's 单价, through the API or the grid) says they may not
    change it, names no value, and a field no model has is still unknown (docs/security.md "Masked fields")."""
    keeper = api_as("warehouse")
    with app.app_context():
        receipt = make_payload(db.session, registry(), "purchase_receipt", warehouse="WH01")
    secret = "987.6543"
    receipt["lines"][0]["price"] = secret
    refused = keeper.post("/api/v1/purchase_receipt/", json=dict(receipt, no_such_field="x"))
    assert refused.status_code == 422, refused.get_json()
    body = refused.get_data(as_text=True)
    errors = {e["field"]: e["message"] for e in refused.get_json()["errors"]}
    assert errors["lines.0.price"] == "「单价」没有修改权限"
    assert errors["no_such_field"] == "未知字段"
    assert secret not in body and "987.65" not in body
    del receipt["lines"][0]["price"]
    created = keeper.post("/api/v1/purchase_receipt/", json=receipt)
    assert created.status_code == 201, created.get_json()
    row = created.get_json()["result"]
    batch = {
        "client_batch_id": unique("mask"),
        "source": "edit",
        "ops": [{"op": "update", "id": row["id"], "version": row["version"], "values": {"total_amount": "1"}}],
    }
    grid = keeper.post("/api/v1/grid/purchase_receipt/batch", json=batch)
    assert grid.status_code == 422, grid.get_json()
    refusals = [(e["field"], e["message"]) for e in grid.get_json()["errors"]]
    assert refusals == [("total_amount", "「金额合计」没有修改权限")]


def test_price_masking_a_role_that_must_fill_a_required_amount_is_refused_live(app, admin_api, login_as):
    """价格屏蔽 switched on from the settings page is checked as roles.yaml is at start-up (app/meta/figures.py
    `unfillable`): a clerk writes payments, whose 金额 is required, so hiding prices from clerks would keep them from
    saving any; refused, naming the role, the model and the field, every one at once; nothing stored. Roles that
    fill no required price (keepers, salespeople) may be masked."""

    def masked() -> list[str]:
        found = admin_api.get("/api/v1/settings/").get_json()["result"]
        return next(p["value"] for p in found if p["key"] == "hide_prices_from_roles")

    refused = admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": ["clerk", "warehouse"]})
    assert refused.status_code == 422, refused.get_json()
    messages = [e["message"] for e in refused.get_json()["errors"]]
    assert messages and all(m.startswith("不能对角色「文员」屏蔽价格：它可以新建和修改「") for m in messages), messages
    assert any("「收付款单」，而必填字段「金额」是价格或金额" in m for m in messages), messages
    assert any("「价格表」" in m for m in messages), messages
    assert masked() == []
    try:
        allowed = admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": ["warehouse", "salesperson"]})
        assert allowed.status_code == 200 and masked() == ["salesperson", "warehouse"]
        admin = login_as("admin")
        page = admin.get("/admin/settings/").get_data(as_text=True)
        form = {"csrf_token": csrf_from(page), "value": ["finance"]}
        shown = admin.post("/admin/settings/hide_prices_from_roles", data=form, follow_redirects=True)
        page = shown.get_data(as_text=True)
        # every model at once (budgets too: finance keeps them, and 预算金额 is required)
        assert page.count("不能对角色「财务」屏蔽价格") == 4 and "「其他收支单」" in page and "「采购预算」" in page
        assert masked() == ["salesperson", "warehouse"]
    finally:
        assert admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []}).status_code == 200


def test_a_write_out_of_scope_names_the_field_and_the_value_on_every_channel(app, api_as, admin_api):
    """A keeper of WH01 saving a stocktake or a receipt in WH02 was told 超出您的数据范围, naming nothing: the shared
    row-scope check now names the field and the value as the writer may see it (盘点仓库 WH02, also when the API
    was given the warehouse's id), in the API, the grid's save and an import alike; a side of the business the
    role does not read is named by its label (a purchaser's new customer), also in the set-based create."""
    from tests.test_imports import run, workbook

    keeper = api_as("warehouse")
    wh02 = admin_api.get("/api/v1/warehouse/", query_string={"q": "(filters:!((col:code,opr:eq,value:WH02)))"})
    for given in ("WH02", wh02.get_json()["ids"][0]):
        refused = keeper.post("/api/v1/stocktake/", json={"date": "2026-11-25", "warehouse": given, "lines": []})
        assert refused.status_code == 422, refused.get_json()
        assert refused.get_json()["errors"] == [{"field": "warehouse", "message": "盘点仓库 WH02 不在您的数据范围内"}]

    take = keeper.post("/api/v1/stocktake/", json={"date": "2026-11-25", "warehouse": "WH01", "lines": []})
    assert take.status_code == 201, take.get_json()
    moved = keeper.put(f"/api/v1/stocktake/{take.get_json()['id']}", json={"warehouse": "WH02"})
    assert moved.get_json()["message"] == {"warehouse": ["盘点仓库 WH02 不在您的数据范围内"]}
    op = {"op": "update", "id": take.get_json()["id"], "values": {"warehouse": "WH02"}}
    batch = {"client_batch_id": unique("b"), "source": "edit", "ops": [op]}
    grid = keeper.post("/api/v1/grid/stocktake/batch", json=batch).get_json()
    assert [(e["id"], e["field"], e["message"]) for e in grid["errors"]] == [
        (op["id"], "warehouse", "盘点仓库 WH02 不在您的数据范围内")
    ]

    buyer = api_as("purchaser")
    item = admin_api.post("/api/v1/item/", json={"sku": unique("SK"), "name": "范围", "unit": "PCS"}).get_json()
    sheet = workbook([["商品", "价格类型", "单价"], [item["result"]["sku"], "零售价", "3.50"]])
    outcome = run(app, "item_price", sheet, username="u_purchaser")
    assert not outcome.applied
    assert [i.line() for i in outcome.issues] == ["第 2 行，「价格类型」列：价格类型 零售价 不在您的数据范围内"]
    customer = {"code": unique("KS"), "name": "不归采购的客户", "kind": "customer"}
    refused = buyer.post("/api/v1/partner/", json=customer)
    assert refused.get_json()["message"] == {"kind": ["单位类型 客户 不在您的数据范围内"]}
    with app.app_context():
        from app.services.records.write import RecordService
        from app.services.users.access import access_for

        records = RecordService(db.session, access_for(app.appbuilder.sm.find_user(username="u_purchaser")))
        assert records.creates_in_bulk(registry().model("partner"))
        [(made, errors)] = records.create_many("partner", [(customer, 7)])
        assert made is None and [(e.field, e.message) for e in errors] == [("kind", "单位类型 客户 不在您的数据范围内")]
        db.session.rollback()
