"""The owner's separation, one example of each way it was lost (each failed before): masks that follow what a
figure is, partners per side, accounts that need the documents they read, scope on every channel, and the
creator who does not approve their own document. The generic walk is tests/test_separation_walk.py."""

from __future__ import annotations

import io
import shutil
import zlib
from decimal import Decimal
from pathlib import Path

import openpyxl
import prison
import pytest

from app.meta.loader import load_metadata
from tests.conftest import hide_prices, unique
from tests.ledger_helpers import balance, document, new_item, new_partner, post, refusal

ROOT = Path(__file__).resolve().parent.parent
DERIVED = ("amount", "tax_amount", "amount_with_tax")
TOTALS = ("total_amount", "total_tax", "total_with_tax")


def q(**body: object) -> dict[str, str]:
    """A rison `q` argument."""
    return {"q": prison.dumps(body)}


def partner_id(admin_api, code: str) -> int:
    return admin_api.get(
        "/api/v1/partner/", query_string=q(filters=[{"col": "code", "opr": "eq", "value": code}])
    ).get_json()["ids"][0]


@pytest.fixture
def receipt(admin_api):
    """A posted purchase receipt into WH01 (the warehouse keeper's), at a purchase price of 7.77."""
    sku = new_item(admin_api, purchase_price="7.77", tax_rate="13")
    doc = post(admin_api, "purchase_receipt", [{"item": sku, "qty": "3", "price": "7.77"}], warehouse="WH01")
    return sku, doc


def test_history_masks_line_fields(api_as, receipt):
    _, doc = receipt
    history = api_as("warehouse").get(f"/api/v1/purchase_receipt/{doc['id']}/history").get_json()["result"]
    created = next(entry for entry in history if entry["action"] == "create")
    assert created["after"]["lines"], created
    for line in created["after"]["lines"]:
        assert "qty" in line
        assert not {"price", *DERIVED} & set(line), line
    assert not set(TOTALS) & set(created["after"])
    admin_history = api_as("admin").get(f"/api/v1/purchase_receipt/{doc['id']}/history").get_json()["result"]
    assert "price" in next(e for e in admin_history if e["action"] == "create")["after"]["lines"][0]


def test_figures_computed_from_a_hidden_price_are_hidden_everywhere(api_as, login_as, receipt):
    sku, doc = receipt
    keeper = api_as("warehouse")
    detail = keeper.get(f"/api/v1/purchase_receipt/{doc['id']}").get_json()["result"]
    assert not set(TOTALS) & set(detail) and detail["total_qty"] == "3"
    assert not {"price", *DERIVED} & set(detail["lines"][0])
    assert keeper.get("/api/v1/purchase_receipt/", query_string=q(order_column="total_with_tax")).status_code == 400
    filtered = q(filters=[{"col": "total_tax", "opr": "gt", "value": "0"}])
    assert keeper.get("/api/v1/purchase_receipt/", query_string=filtered).status_code == 400
    rows = keeper.get("/api/v1/grid/purchase_receipt/rows", query_string={"size": "5"}).get_json()
    assert not set(TOTALS) & set(rows["sums"]) and "total_qty" in rows["sums"]
    book = openpyxl.load_workbook(io.BytesIO(keeper.get("/api/v1/grid/purchase_receipt/export").get_data()))
    headers = [cell.value for cell in next(book.active.iter_rows(max_row=1))]
    assert "价税合计" not in headers and "税额合计" not in headers and "总数量" in headers
    printed = login_as("warehouse").get(f"/m/purchase_receipt/{doc['id']}/print").get_data(as_text=True)
    assert "元" not in printed and "23.43" not in printed and "26.34" not in printed  # 3 x 7.77, with tax
    # the answer to a write: a draft whose price the keeper does not give takes the item's purchase price
    draft = keeper.post(
        "/api/v1/purchase_receipt/",
        json={"date": "2026-11-25", "partner": "S001", "warehouse": "WH01", "lines": [{"item": sku, "qty": "2"}]},
    )
    assert draft.status_code == 201, draft.get_json()
    result = draft.get_json()["result"]
    assert not set(TOTALS) & set(result) and not {"price", *DERIVED} & set(result["lines"][0])
    assert "17.56" not in draft.get_data(as_text=True)  # 2 x 7.77 with 13% tax
    assert (
        api_as("admin").get(f"/api/v1/purchase_receipt/{result['id']}").get_json()["result"]["lines"][0]["price"]
        == "7.77"
    )


def test_price_masking_hides_accounts_and_what_is_computed(app, admin_api, api_as, receipt):
    supplier = partner_id(admin_api, "S001")
    assert api_as("clerk").get(f"/api/v1/accounts/{supplier}?side=payable").status_code == 200
    hide_prices(app, ["clerk"])
    try:
        clerk = api_as("clerk")
        assert clerk.get(f"/api/v1/accounts/{supplier}?side=payable").status_code == 403
        assert clerk.get(f"/api/v1/accounts/{supplier}/scorecard").status_code == 403
        assert clerk.get("/api/v1/accounts/overdue").status_code == 403
        line = clerk.get(f"/api/v1/purchase_receipt/{receipt[1]['id']}").get_json()["result"]["lines"][0]
        assert not {"price", *DERIVED} & set(line)
    finally:
        admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []})


def test_accounts_need_read_on_the_documents_and_their_figures(admin_api, api_as, login_as):
    customer, supplier = partner_id(admin_api, "K001"), partner_id(admin_api, "S001")
    item = admin_api.get("/api/v1/item/", query_string=q(page_size=1)).get_json()["ids"][0]
    purchaser, keeper = api_as("purchaser"), api_as("warehouse")
    assert purchaser.get(f"/api/v1/accounts/{customer}").status_code == 404  # a customer: not their side
    assert purchaser.get(f"/api/v1/accounts/{supplier}/last_price/{item}?side=sales").status_code == 403
    assert purchaser.get("/api/v1/accounts/overdue").status_code == 403
    assert purchaser.get(f"/api/v1/accounts/{supplier}?side=payable").status_code == 200
    assert purchaser.get(f"/api/v1/accounts/{supplier}?side=receivable").status_code == 403
    for url in (f"/api/v1/accounts/{supplier}", f"/api/v1/accounts/{supplier}/scorecard"):
        assert keeper.get(url).status_code == 403, url  # purchase prices are not the keeper's to see
    assert keeper.get(f"/api/v1/accounts/{supplier}/last_price/{item}?side=purchase").status_code == 403
    assert login_as("warehouse").get(f"/accounts/{supplier}").status_code == 403
    assert login_as("purchaser").get(f"/accounts/{customer}").status_code == 404


def test_a_statement_is_the_customers_whole_account_for_its_owner(admin_api, api_as):
    """The salesperson owning a customer reads its whole account, including a delivery another made: a statement
    to be printed for the customer to check (and the balance beside its payments) must be all of it."""
    code = unique("SC")
    admin_api.post(
        "/api/v1/partner/", json={"code": code, "name": "对账", "kind": "customer", "owner": "u_salesperson"}
    )
    sku = new_item(admin_api)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "5", "price": "1"}], warehouse="WH01")
    mine = post(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "1", "price": "10"}],
        warehouse="WH01",
        partner=code,
        salesperson="u_salesperson",
    )
    other = post(
        admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "99"}], warehouse="WH01", partner=code
    )
    account = api_as("salesperson").get(f"/api/v1/accounts/{partner_id(admin_api, code)}").get_json()
    assert [row["number"] for row in account["statement"]] == [mine["number"], other["number"]]
    assert account["receivable"] == "109.00"
    assert admin_api.get(f"/api/v1/accounts/{partner_id(admin_api, code)}").get_json()["receivable"] == "109.00"
    # a customer they do not own is not theirs to read, whatever they sold to it
    assert api_as("salesperson").get(f"/api/v1/accounts/{partner_id(admin_api, 'K003')}").status_code == 404


def test_partners_are_read_per_side(admin_api, api_as):
    customer = partner_id(admin_api, "K001")
    purchaser = api_as("purchaser")
    # the admin's read of one row (every row in scope) keeps its statement: the purchaser's is still narrowed
    assert admin_api.get(f"/api/v1/partner/{customer}").status_code == 200
    assert purchaser.get(f"/api/v1/partner/{customer}").status_code == 404
    assert purchaser.put(f"/api/v1/partner/{customer}", json={"credit_limit": "1"}).status_code == 404
    kinds = {
        row["kind"] for row in purchaser.get("/api/v1/partner/", query_string=q(page_size=200)).get_json()["result"]
    }
    assert kinds and kinds <= {"supplier", "both"}
    refused = purchaser.post(
        "/api/v1/purchase_order/", json={"date": "2026-11-25", "partner": "K001", "warehouse": "WH01"}
    )
    assert refused.status_code == 422 and refused.get_json()["message"]["partner"] == ["找不到「K001」"]
    lookup = purchaser.get("/api/v1/grid/lookup/partner", query_string={"q": "K00"}).get_json()["results"]
    assert lookup == []


def test_a_link_outside_the_readers_side_reads_as_empty_and_cannot_be_filtered_or_sorted(admin_api, api_as):
    tag = unique("DS")
    skus = [
        new_item(admin_api, sku=f"{tag}{n}", default_supplier=supplier)
        for n, supplier in ((1, "S001"), (2, None), (3, "S002"))
    ]
    seller = api_as("salesperson")
    world = {"col": "sku", "opr": "sw", "value": tag}
    listed = seller.get("/api/v1/item/", query_string=q(filters=[world])).get_json()["result"]
    assert [row["default_supplier"] for row in listed] == [None, None, None]
    assert "S001" in admin_api.get("/api/v1/item/", query_string=q(filters=[world])).get_data(as_text=True)
    by_supplier = q(filters=[world, {"col": "default_supplier", "opr": "eq", "value": "S001"}])
    assert seller.get("/api/v1/item/", query_string=by_supplier).get_json()["count"] == 0
    empty = q(filters=[world, {"col": "default_supplier", "opr": "null", "value": True}])
    assert seller.get("/api/v1/item/", query_string=empty).get_json()["count"] == 3
    named = q(filters=[world, {"col": "default_supplier", "opr": "ct", "value": "S00"}])
    assert seller.get("/api/v1/item/", query_string=named).get_json()["count"] == 0
    for direction in ("asc", "desc"):
        order = q(filters=[world], order_column="default_supplier", order_direction=direction)
        ids = seller.get("/api/v1/item/", query_string=order).get_json()["ids"]
        assert ids == sorted(ids, reverse=direction == "desc")  # every value empty: by id, whatever the suppliers
    assert skus


def test_the_change_feed_does_not_name_rows_out_of_scope(admin_api, api_as):
    seller = api_as("salesperson")
    since = seller.get("/api/v1/grid/partner/changes").get_json()["cursor"]
    theirs = admin_api.post(
        "/api/v1/partner/", json={"code": unique("CF"), "name": "别人的", "kind": "customer"}
    ).get_json()["id"]
    mine = seller.post("/api/v1/partner/", json={"code": unique("CF"), "name": "我的", "kind": "customer"}).get_json()[
        "id"
    ]
    for pk in (theirs, mine):
        assert admin_api.delete(f"/api/v1/partner/{pk}").status_code == 200
    feed = seller.get("/api/v1/grid/partner/changes", query_string={"since": since}).get_json()
    assert feed["deleted"] == [mine] and theirs not in feed["changed"]


def test_unknown_and_out_of_scope_users_read_alike(api_as):
    # a salesperson's customers are those they own (`owner: me`): another user there would take the row out of
    # their sight, so that user reads as one who does not exist
    seller = api_as("salesperson")
    answers = []
    for name in ("u_clerk", "no_such_user_x"):
        response = seller.post(
            "/api/v1/partner/", json={"code": unique("UO"), "name": "归属", "kind": "customer", "owner": name}
        )
        assert response.status_code == 422
        answers.append(response.get_json()["message"]["owner"][0].replace(name, "<name>"))
    assert answers[0] == answers[1] == "业务员只能填写您本人，不能填写「<name>」"


def test_a_creator_does_not_approve_their_own_document(app, admin_api, api_as):
    sku = new_item(admin_api)
    manager = api_as("manager")
    order = document(manager, "purchase_order", [{"item": sku, "qty": "1260", "price": "10"}], warehouse="WH01")
    assert manager.post(f"/api/v1/purchase_order/{order['id']}/submit").get_json()["result"]["status"] == "pending"
    refused = manager.post(f"/api/v1/purchase_order/{order['id']}/approve")
    assert refused.status_code == 403 and "制单人" in refused.get_json()["message"]
    finance = api_as("finance")
    payment = document(finance, "payment", [], direction="payment", partner="S001", account="A001", amount="21000")
    assert finance.post(f"/api/v1/payment/{payment['id']}/submit").get_json()["result"]["status"] == "pending"
    assert finance.post(f"/api/v1/payment/{payment['id']}/approve").status_code == 403
    own = document(admin_api, "purchase_order", [{"item": sku, "qty": "1300", "price": "10"}], warehouse="WH01")
    admin_api.post(f"/api/v1/purchase_order/{own['id']}/submit")
    assert admin_api.post(f"/api/v1/purchase_order/{own['id']}/approve").status_code == 200  # an admin may
    marks = [e["after"] for e in admin_api.get(f"/api/v1/purchase_order/{own['id']}/history").get_json()["result"]]
    assert any(after and after.get("own_document") for after in marks)
    assert admin_api.put("/api/v1/settings/creator_cannot_approve", json={"value": False}).status_code == 200
    try:
        assert manager.post(f"/api/v1/purchase_order/{order['id']}/approve").status_code == 200
    finally:
        admin_api.put("/api/v1/settings/creator_cannot_approve", json={"value": True})


def _copy_metadata(tmp_path: Path) -> Path:
    root = tmp_path / "metadata"
    shutil.copytree(ROOT / "metadata", root)
    return root


def test_meta_check_refuses_a_money_field_that_says_no_figure(tmp_path):
    root = _copy_metadata(tmp_path)
    path = root / "models" / "item.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("    figure: purchase\n", "", 1), encoding="utf-8")
    meta, errors = load_metadata(root)
    assert meta is None
    assert any("purchase_price" in str(e) and "what figure it is" in str(e) for e in errors), errors


def test_a_computed_field_reveals_what_it_is_computed_from(tmp_path):
    meta, errors = load_metadata(ROOT / "metadata")
    assert not errors
    line = meta.model("purchase_receipt_line")
    assert line.field("amount_with_tax").figures == {"purchase"}
    assert meta.model("sales_order").field("total_with_tax").figures == {"sale"}
    assert meta.model("purchase_receipt").field("total_qty").figures == frozenset()


def test_a_field_added_from_the_admin_page_must_say_what_figure_it_is(admin_api, api_as):
    name = f"deposit_{unique('f').lower()}"
    number = zlib.crc32(name.encode())  # a label of its own: a repeated one is refused (imports match by header)
    spec = {"name": name, "type": "money", "label": {"zh": f"押金{number}", "en": f"Deposit {number}"}}
    refused = admin_api.post("/api/v1/meta/item/fields", json=spec)
    assert refused.status_code == 422 and refused.get_json()["message"]["figure"]
    assert admin_api.post("/api/v1/meta/item/fields", json=spec | {"figure": "purchase"}).status_code == 201
    info = api_as("salesperson").get("/api/v1/item/_info").get_json()
    assert name not in {f["name"] for f in info["fields"]}  # a purchase figure: hidden from salespeople at once
    assert name in {f["name"] for f in api_as("purchaser").get("/api/v1/item/_info").get_json()["fields"]}


def test_money_hidden_from_the_submitter_posts_only_from_a_source_line(app, admin_api, api_as):
    """A keeper's receipt without an order took the supplier's one-off last price (3.33) as its price, which the
    keeper cannot see, and posted it: the item's moving-average cost fell from 8.66 to 3.62 and a payable nobody
    looked at was made. Saving stays possible; submitting is someone's who may see the price, or the line comes
    from its order."""
    sku = new_item(admin_api)
    supplier, _ = new_partner(admin_api, "supplier")
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "100", "price": "8.66"}], warehouse="WH01")
    post(admin_api, "purchase_order", [{"item": sku, "qty": "1", "price": "3.33"}], partner=supplier, warehouse="WH01")
    keeper = api_as("warehouse")
    draft = document(keeper, "purchase_receipt", [{"item": sku, "qty": "100"}], partner=supplier, warehouse="WH01")
    refused = refusal(keeper, "purchase_receipt", draft)
    assert "第 1 行" in refused["lines.0.price"] and "采购订单" in refused["lines.0.price"], refused
    assert balance(app, sku) == (Decimal(100), Decimal("866.00"))  # nothing posted
    assert admin_api.post(f"/api/v1/purchase_receipt/{draft['id']}/submit").status_code == 200  # who sees it may
    # the sales side alike: a keeper's delivery without an order; a blind clerk's delivery pushed from the order posts
    order = post(admin_api, "sales_order", [{"item": sku, "qty": "2", "price": "20"}], warehouse="WH01")
    delivery = document(keeper, "sales_delivery", [{"item": sku, "qty": "1"}], warehouse="WH01")
    assert "销售订单" in refusal(keeper, "sales_delivery", delivery)["lines.0.price"]
    hide_prices(app, ["clerk"])
    try:
        clerk = api_as("clerk")
        unlinked = document(clerk, "sales_delivery", [{"item": sku, "qty": "1"}], warehouse="WH01")
        assert "lines.0.price" in refusal(clerk, "sales_delivery", unlinked)
        pushed = clerk.post(f"/api/v1/sales_order/{order['id']}/push/sales_delivery", json={})
        assert pushed.status_code == 201, pushed.get_json()
        submitted = clerk.post(f"/api/v1/sales_delivery/{pushed.get_json()['id']}/submit")
        assert submitted.status_code == 200, submitted.get_json()
    finally:
        admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []})


def test_a_keeper_receives_and_ships_against_the_orders_of_their_warehouses(app, admin_api, api_as):
    """A keeper reads the orders of their warehouses without their prices, pushes them down and submits: the order's
    price posts (the keeper never sees it); another warehouse's order is not theirs to read or push."""
    sku = new_item(admin_api)
    supplier, _ = new_partner(admin_api, "supplier")
    order = post(
        admin_api, "purchase_order", [{"item": sku, "qty": "10", "price": "6.50"}], partner=supplier, warehouse="WH01"
    )
    keeper = api_as("warehouse")
    seen = keeper.get(f"/api/v1/purchase_order/{order['id']}").get_json()["result"]
    assert "price" not in seen["lines"][0] and "total_amount" not in seen, seen
    pushed = keeper.post(f"/api/v1/purchase_order/{order['id']}/push/purchase_receipt", json={})
    assert pushed.status_code == 201, pushed.get_json()
    assert "price" not in pushed.get_json()["result"]["lines"][0]
    submitted = keeper.post(f"/api/v1/purchase_receipt/{pushed.get_json()['id']}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert "6.5" not in submitted.get_data(as_text=True)
    assert balance(app, sku) == (Decimal(10), Decimal("65.00"))
    sale = post(admin_api, "sales_order", [{"item": sku, "qty": "4", "price": "9"}], warehouse="WH01")
    shipped = keeper.post(f"/api/v1/sales_order/{sale['id']}/push/sales_delivery", json={})
    assert shipped.status_code == 201, shipped.get_json()
    assert keeper.post(f"/api/v1/sales_delivery/{shipped.get_json()['id']}/submit").status_code == 200
    assert balance(app, sku) == (Decimal(6), Decimal("39.00"))
    elsewhere = post(
        admin_api, "purchase_order", [{"item": sku, "qty": "1", "price": "1"}], partner=supplier, warehouse="WH02"
    )
    assert keeper.get(f"/api/v1/purchase_order/{elsewhere['id']}").status_code == 404
    refused = keeper.post(f"/api/v1/purchase_order/{elsewhere['id']}/push/purchase_receipt", json={})
    assert refused.status_code in (403, 404), refused.get_json()


def test_a_keepers_line_linked_by_hand_posts_its_orders_price_or_nothing(app, admin_api, api_as):
    """A line linked to its order line through the API took the supplier's last price (3.33, a receipt after the
    order) as its default and, linked, passed the check of money the keeper cannot see: not the order's 6.50."""
    sku = new_item(admin_api)
    supplier, _ = new_partner(admin_api, "supplier")
    order = post(
        admin_api, "purchase_order", [{"item": sku, "qty": "4", "price": "6.50"}], partner=supplier, warehouse="WH01"
    )
    post(
        admin_api, "purchase_receipt", [{"item": sku, "qty": "1", "price": "3.33"}], partner=supplier, warehouse="WH01"
    )
    keeper = api_as("warehouse")
    link = {"source_model": "purchase_order", "source_id": order["id"], "source_line_id": order["lines"][0]["id"]}
    draft = document(
        keeper, "purchase_receipt", [{"item": sku, "qty": "4", **link}], partner=supplier, warehouse="WH01"
    )
    refused = refusal(keeper, "purchase_receipt", draft)
    assert order["number"] in refused["lines.0.price"], refused
    assert balance(app, sku) == (Decimal(1), Decimal("3.33"))
