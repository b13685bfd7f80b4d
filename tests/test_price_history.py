"""Price lists keep their history: a new price for the same item, unit, list and partner closes the one
before it (valid_to = the new valid_from - 1 day); back-dated and overlapping prices are refused with the
rows named; the same rule through the REST API, the grid and imports (whose undo reopens what it closed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.conftest import unique
from tests.ledger_helpers import new_item
from tests.test_imports import import_as_admin, run, undo, workbook


def price(api: Any, status: int = 201, **values: Any) -> Any:
    response = api.post("/api/v1/item_price/", json=values)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def prices(app: Any, sku: str) -> list[tuple[str, str | None, str | None]]:
    """(price list, valid_from, valid_to) of an item's prices, oldest first."""
    from app.extensions import db, registry

    with app.app_context():
        cls, item = registry().cls("item_price"), registry().cls("item")
        rows = db.session.execute(
            select(cls.price_list, cls.valid_from, cls.valid_to)
            .join(item, item.id == cls.item_id)
            .where(item.sku == sku)
            .order_by(cls.price_list, cls.valid_from, cls.id)
        ).all()
        db.session.rollback()
    return [(p, f.isoformat() if f else None, t.isoformat() if t else None) for p, f, t in rows]


def test_a_new_price_closes_the_previous_one_and_back_dated_or_overlapping_ones_are_refused(app, admin_api):
    sku = new_item(admin_api)
    first = price(admin_api, item=sku, price_list="retail", price="10", valid_from="2026-01-01")["id"]
    second = price(admin_api, item=sku, price_list="retail", price="12", valid_from="2026-06-01")["id"]
    price(admin_api, item=sku, price_list="wholesale", price="9", valid_from="2026-03-01")  # another list: untouched
    assert prices(app, sku) == [
        ("retail", "2026-01-01", "2026-05-31"),  # closed the day before, kept as history
        ("retail", "2026-06-01", None),
        ("wholesale", "2026-03-01", None),
    ]
    back = price(admin_api, 422, item=sku, price_list="retail", price="11", valid_from="2026-03-01")
    assert f"#{second}" in back["message"]["valid_from"][0] and "倒签" in back["message"]["valid_from"][0]
    overlap = price(
        admin_api, 422, item=sku, price_list="retail", price="11", valid_from="2026-05-01", valid_to="2026-07-01"
    )
    assert f"#{first}" in overlap["message"]["valid_from"][0] and f"#{second}" in overlap["message"]["valid_from"][0]
    price(admin_api, item=sku, price_list="retail", price="8", valid_from="2025-01-01", valid_to="2025-12-31")
    moved = admin_api.put(f"/api/v1/item_price/{first}", json={"valid_to": "2026-06-15"})
    assert moved.status_code == 422 and f"#{second}" in moved.get_json()["message"]["valid_from"][0]
    assert admin_api.put(f"/api/v1/item_price/{first}", json={"price": "10.5"}).status_code == 200  # price only
    # the grid writes through the same service: the same refusal on its row
    grid = admin_api.post(
        "/api/v1/grid/item_price/batch",
        json={
            "client_batch_id": unique("B"),
            "ops": [
                {
                    "op": "create",
                    "tmp_id": "t1",
                    "values": {"item": sku, "price_list": "retail", "price": "7", "valid_from": "2026-02-01"},
                }
            ],
        },
    )
    assert grid.status_code == 422 and "倒签" in str(grid.get_json())
    assert len(prices(app, sku)) == 4
    later = {"item": sku, "price_list": "retail", "price": "13", "valid_from": "2026-09-01"}
    saved = admin_api.post(
        "/api/v1/grid/item_price/batch",
        json={"client_batch_id": unique("B"), "ops": [{"op": "create", "tmp_id": "t2", "values": later}]},
    )
    assert saved.status_code == 200, saved.get_json()
    assert prices(app, sku)[2:4] == [("retail", "2026-06-01", "2026-08-31"), ("retail", "2026-09-01", None)]
    undone = admin_api.post(
        f"/api/v1/grid/batches/{saved.get_json()['batch_id']}/undo", json={"client_batch_id": unique("U")}
    )
    assert undone.status_code == 200, undone.get_json()
    assert prices(app, sku)[2:] == [("retail", "2026-06-01", None), ("wholesale", "2026-03-01", None)]


def test_a_price_list_import_closes_prices_names_refused_rows_and_its_undo_reopens_them(app, admin_api):
    sku = new_item(admin_api)
    before = price(admin_api, item=sku, price_list="retail", price="4", valid_from="2025-01-01")["id"]
    header = ["*商品", "*价格类型", "*单价", "生效日期", "备注"]
    tag = unique("PL")
    rows = [
        header,
        [sku, "零售价", "5", "2026-01-01", tag],
        [sku, "零售价", "6", "2026-02-01", tag],
        [sku, "批发价", "4.5", None, tag],
        [sku, "零售价", "5.5", "2026-01-15", tag],  # back-dated behind the row above it
    ]
    refused = run(app, "item_price", workbook(rows))
    assert not refused.applied and [i.line("en").split("：")[0] for i in refused.issues] == [
        "row 5, column 生效日期: 不能倒签价格"
    ]
    assert prices(app, sku) == [("retail", "2025-01-01", None)]  # all or nothing: nothing written
    applied = import_as_admin(app, "item_price", workbook(rows[:4]))
    assert applied.applied and applied.created == 3, [i.line() for i in applied.issues]
    assert prices(app, sku) == [
        ("retail", "2025-01-01", "2025-12-31"),
        ("retail", "2026-01-01", "2026-01-31"),
        ("retail", "2026-02-01", None),
        ("wholesale", None, None),
    ]
    assert undo(app, applied.import_id) == {"deleted": 3, "restored": 1}
    assert prices(app, sku) == [("retail", "2025-01-01", None)]
    assert admin_api.get(f"/api/v1/item_price/{before}").get_json()["result"]["valid_to"] is None
