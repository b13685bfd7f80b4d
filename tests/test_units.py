"""Units of measure (多单位): an item kept in its base unit is also bought and sold in extra units with a
ratio (1 箱 = 24 个); lines keep the ratio they were saved with and the ledger counts base units."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import unique
from tests.ledger_helpers import balance, document, ledger_problems, new_item, post


def create(api, model, **values):
    """Create a row through the API; its JSON."""
    response = api.post(f"/api/v1/{model}/", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["result"]


def with_box(api, ratio="24", **item_fields):
    """An item counted in PCS that also comes in boxes of `ratio`; returns (sku, box barcode)."""
    sku = new_item(api, **item_fields)
    barcode = unique("CASE-")
    create(api, "item_unit", item=sku, unit="BOX", ratio=ratio, barcode=barcode)
    return sku, barcode


def reserved(app, sku):
    from sqlalchemy import func, select

    from app.extensions import db, registry

    with app.app_context():
        reg = registry()
        item, bal = reg.cls("item"), reg.cls("stock_balance")
        value = db.session.execute(
            select(func.sum(bal.reserved_qty)).join(item, item.id == bal.item_id).where(item.sku == sku)
        ).scalar()
        db.session.rollback()
        return value or Decimal(0)


def test_boxes_come_in_as_their_base_units_at_the_price_per_base_unit(app, admin_api):
    sku, _ = with_box(admin_api)
    receipt = post(
        admin_api,
        "purchase_receipt",
        [{"item": sku, "qty": "2", "unit": "BOX", "price": "48"}, {"item": sku, "qty": "5", "price": "2.5"}],
        warehouse="WH01",
    )
    box, loose = receipt["lines"]
    assert (box["unit_ratio"], box["base_qty"], box["amount"]) == ("24", "48", "96.00")
    assert (loose["unit_ratio"], loose["base_qty"]) == ("1", "5")
    assert balance(app, sku) == (Decimal(53), Decimal("108.5000"))  # 48 at 2.00 + 5 at 2.50
    assert ledger_problems(app) == []


def test_orders_reserve_and_fill_in_base_units_whatever_unit_each_document_uses(app, admin_api):
    sku, _ = with_box(admin_api)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "100", "price": "1"}], warehouse="WH01")
    order = post(admin_api, "sales_order", [{"item": sku, "qty": "2", "unit": "BOX", "price": "30"}], warehouse="WH01")
    assert reserved(app, sku) == Decimal(48)
    delivered = post(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "30", "price": "1.25"}],
        warehouse="WH01",
        source_number=order["number"],
    )
    filled = admin_api.get(f"/api/v1/sales_order/{order['id']}").get_json()["result"]
    assert filled["lines"][0]["delivered_qty"] == "30"  # base units, of the order's 48
    assert reserved(app, sku) == Decimal(18)
    assert balance(app, sku)[0] == Decimal(70)
    # more than the order's 48 base units is over the order, whichever unit asks for it
    over = document(
        admin_api,
        "sales_delivery",
        [{"item": sku, "qty": "1", "unit": "BOX", "price": "30"}],
        warehouse="WH01",
        source_number=order["number"],
    )
    response = admin_api.post(f"/api/v1/sales_delivery/{over['id']}/submit")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "lines.0.qty"
    refused = admin_api.post(f"/api/v1/sales_order/{order['id']}/cancel")  # its delivery is live
    assert refused.status_code == 422 and delivered["number"] in refused.get_json()["errors"][0]["message"]
    assert admin_api.post(f"/api/v1/sales_delivery/{delivered['id']}/cancel").status_code == 200
    assert reserved(app, sku) == Decimal(48)  # the delivery's 30 base units held for the order again
    assert admin_api.post(f"/api/v1/sales_order/{order['id']}/cancel").status_code == 200
    assert reserved(app, sku) == Decimal(0)
    assert ledger_problems(app) == []


def test_a_unit_the_item_is_not_counted_in_is_refused_on_save(app, admin_api):
    sku, _ = with_box(admin_api)
    response = admin_api.post(
        "/api/v1/purchase_order/",
        json={
            "date": "2026-11-25",
            "partner": "S001",
            "warehouse": "WH01",
            "lines": [{"item": sku, "qty": "1", "unit": "BOX"}, {"item": sku, "qty": "1", "unit": "KG"}],
        },
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [e["field"] for e in errors] == ["lines.1.unit"] and "千克" in errors[0]["message"]


def test_a_line_keeps_the_ratio_it_was_saved_with(app, admin_api):
    sku, _ = with_box(admin_api)
    draft = document(
        admin_api, "purchase_receipt", [{"item": sku, "qty": "1", "unit": "BOX", "price": "24"}], warehouse="WH01"
    )
    ids = admin_api.get(f"/api/v1/item_unit/?q=(filters:!((col:item,opr:eq,value:{sku})))").get_json()["ids"]
    row = admin_api.get(f"/api/v1/item_unit/{ids[0]}").get_json()["result"]
    changed = admin_api.put(f"/api/v1/item_unit/{ids[0]}", json={"ratio": "12", "version": row["version"]})
    assert changed.status_code == 200, changed.get_json()
    assert admin_api.post(f"/api/v1/purchase_receipt/{draft['id']}/submit").status_code == 200
    assert balance(app, sku)[0] == Decimal(24)  # as saved, not as the item's units say now


def test_line_defaults_price_the_unit_and_a_case_barcode_gives_the_item_in_boxes(app, admin_api):
    sku, barcode = with_box(admin_api, sale_price="2.5", tax_rate="13")
    boxed = admin_api.get(f"/api/v1/grid/sales_order/line_defaults?item={sku}&unit=BOX").get_json()
    assert (boxed["unit"]["key"], boxed["price"], boxed["tax_rate"]) == ("BOX", "60.00", "13")  # 2.5 x 24
    scanned = admin_api.get(f"/api/v1/grid/sales_order/line_defaults?item={barcode}").get_json()
    assert (scanned["item"]["key"], scanned["unit"]["key"], scanned["price"]) == (sku, "BOX", "60.00")
    create(admin_api, "item_price", item=sku, price_list="retail", unit="BOX", price="55")
    customer, wholesale = unique("UC"), unique("UW")
    create(admin_api, "partner", code=customer, name="整箱客户", kind="customer", price_list="retail")
    url = f"/api/v1/grid/sales_order/line_defaults?item={sku}&partner={customer}"
    assert admin_api.get(url + "&unit=BOX").get_json()["price"] == "55.00"  # the list's price for a box
    assert admin_api.get(url).get_json()["price"] == "2.50"  # no retail price per piece: the item's
    create(admin_api, "item_price", item=sku, price_list="wholesale", unit="PCS", price="2.25")
    create(admin_api, "partner", code=wholesale, name="批发客户", kind="customer", price_list="wholesale")
    boxed = f"/api/v1/grid/sales_order/line_defaults?item={sku}&partner={wholesale}&unit=BOX"
    assert admin_api.get(boxed).get_json()["price"] == "54.00"  # the list's price per piece x 24


def test_a_stocktake_counts_in_base_units(app, admin_api):
    """Stocktake lines take no ratio: a count typed against another unit is refused when it posts."""
    sku, _ = with_box(admin_api)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "30", "price": "1"}], warehouse="WH01")
    take = document(
        admin_api,
        "stocktake",
        [{"item": sku, "unit": "BOX", "counted_qty": "1", "reason": "miscount"}],
        warehouse="WH01",
    )
    response = admin_api.post(f"/api/v1/stocktake/{take['id']}/submit")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "lines.0.unit"
    assert balance(app, sku)[0] == Decimal(30)  # 1 箱 did not post as 1 个


def test_an_items_base_unit_is_not_an_extra_unit(app, admin_api):
    sku = new_item(admin_api)  # base unit PCS
    response = admin_api.post("/api/v1/item_unit/", json={"item": sku, "unit": "PCS", "ratio": "24"})
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "unit"
    assert admin_api.post("/api/v1/item_unit/", json={"item": sku, "unit": "BOX", "ratio": "0"}).status_code == 422


def test_a_transfer_in_boxes_is_priced_per_box(app, admin_api):
    sku, _ = with_box(admin_api)
    post(admin_api, "purchase_receipt", [{"item": sku, "qty": "2", "unit": "BOX", "price": "48"}], warehouse="WH01")
    moved = post(
        admin_api,
        "stock_transfer",
        [{"item": sku, "qty": "1", "unit": "BOX"}],
        from_warehouse="WH01",
        to_warehouse="WH02",
    )
    line = moved["lines"][0]
    assert (line["base_qty"], line["price"], line["amount"]) == ("24", "48.00", "48.00")
    assert balance(app, sku, "WH02") == (Decimal(24), Decimal("48.0000"))


def test_the_base_unit_is_fixed_once_the_item_was_counted(app, admin_api):
    sku, _ = with_box(admin_api)
    item = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{sku})))").get_json()["result"][0]
    refused = admin_api.put(f"/api/v1/item/{item['id']}", json={"unit": "BOX", "version": item["version"]})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "unit"
    drafted = new_item(admin_api)  # only on a draft: the draft's 48 PCS must not become 48 BOX
    document(admin_api, "purchase_receipt", [{"item": drafted, "qty": "48", "price": "1"}], warehouse="WH01")
    row = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{drafted})))").get_json()["result"][0]
    assert (
        admin_api.put(f"/api/v1/item/{row['id']}", json={"unit": "BOX", "version": row["version"]}).status_code == 422
    )
    fresh = new_item(admin_api)  # nothing counted yet: free to change
    row = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:{fresh})))").get_json()["result"][0]
    assert admin_api.put(f"/api/v1/item/{row['id']}", json={"unit": "KG", "version": row["version"]}).status_code == 200


def test_the_supplier_scorecard_counts_base_units_and_costs(app, admin_api, login_as):
    sku, _ = with_box(admin_api)
    supplier = unique("US")
    pk = create(admin_api, "partner", code=supplier, name="整箱供应商", kind="supplier")["id"]
    boxes = [{"item": sku, "qty": "1", "rejected_qty": "1", "unit": "BOX", "price": "48"}]
    post(admin_api, "purchase_receipt", boxes, warehouse="WH01", partner=supplier, date="2026-11-02")
    bottles = [{"item": sku, "qty": "24", "price": "2"}]
    post(admin_api, "purchase_receipt", bottles, warehouse="WH01", partner=supplier, date="2026-11-03")
    card = admin_api.get(f"/api/v1/accounts/{pk}/scorecard").get_json()
    assert card["receipt_lines"] == 2 and card["rejected_rate"] == "0.3333"  # 24 of 72 bottles, not 1 of 26 units
    assert card["price_history"][sku] == [  # a price per receipt, per bottle either way
        {"date": "2026-11-02", "price": "2.0000"},
        {"date": "2026-11-03", "price": "2.0000"},
    ]
    page = login_as("purchaser").get(f"/accounts/{pk}").get_data(as_text=True)
    assert "<dd>33.33%</dd>" in page and "0.3333" not in page  # the account page reads a rate as a person does


def test_a_draft_saved_before_units_converted_posts_only_in_the_base_unit(app, admin_api):
    """An upgraded draft line has no ratio (nothing to backfill it from): in another unit it is refused."""
    from sqlalchemy import update

    from app.extensions import db, registry

    sku, _ = with_box(admin_api)
    draft = document(
        admin_api, "purchase_receipt", [{"item": sku, "qty": "2", "unit": "BOX", "price": "48"}], warehouse="WH01"
    )
    with app.app_context():
        line = registry().cls("purchase_receipt_line")
        db.session.execute(update(line).where(line.parent_id == draft["id"]).values(unit_ratio=None, base_qty=2))
        db.session.commit()
    response = admin_api.post(f"/api/v1/purchase_receipt/{draft['id']}/submit")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "lines.0.unit"
    assert balance(app, sku) == (Decimal(0), Decimal(0))
