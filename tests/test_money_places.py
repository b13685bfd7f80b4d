"""Money is read to the cent: the ledger keeps 库存余额's 结存金额 to 4 places (6.6667), and the grid, its sums row,
its Excel export and the emailed listing show 6.67, the sums of the exact values rounded (13.33, not the 13.34 of
the rounded rows). The value itself stays exact: the API, a csv and the Excel cell keep every place. A unit price
is read to every place it has."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import openpyxl

from app.extensions import db, registry
from app.meta.types import FIELD_TYPES
from app.schedules.reporting import model_listing
from app.services.users.access import access_for
from tests.conftest import unique
from tests.ledger_helpers import balance, new_item, post, receive


def thirds(app: Any, api: Any) -> tuple[str, list[str]]:
    """A warehouse holding two items of 2 each worth 6.6667 (3 bought for 10.00, one sold at the average cost)."""
    code = unique("W")
    assert api.post("/api/v1/warehouse/", json={"code": code, "name": f"三分仓 {code}"}).status_code == 201
    skus = [new_item(api), new_item(api)]
    for sku in skus:
        receive(api, sku, "3", "3.3333", warehouse=code)  # 9.9999, to the cent: 10.00
        post(api, "sales_delivery", [{"item": sku, "qty": "1", "price": "5"}], warehouse=code)
        assert balance(app, sku, code) == (Decimal(2), Decimal("6.6667"))
    return code, skus


def by_warehouse(code: str) -> dict[str, str]:
    return {"filter[0][field]": "warehouse", "filter[0][type]": "like", "filter[0][value]": code}


def test_money_is_read_to_the_cent_a_unit_price_to_its_places():
    with_places = {
        (model.key, spec.name): FIELD_TYPES[spec.type].read_places(spec)
        for model in registry_models()
        for spec in model.fields
        if FIELD_TYPES[spec.type].numeric
    }
    assert with_places[("stock_balance", "value")] == 2 and with_places[("stock_move", "value_after")] == 2
    assert with_places[("stock_balance", "avg_cost")] is None and with_places[("sales_order_line", "price")] is None
    assert with_places[("stock_balance", "qty")] is None  # a quantity: every place it has
    money = FIELD_TYPES["money"]
    value = next(s for m in registry_models() if m.key == "stock_balance" for s in m.fields if s.name == "value")
    assert [money.read_text(value, v) for v in ("6.6667", "-0.004", "9.995", None)] == ["6.67", "0.00", "10.00", ""]
    assert money.grid_look(value)["places"] == 2 and money.excel_format(value) == {"num_format": "#,##0.00"}


def registry_models() -> list[Any]:
    from pathlib import Path

    from app.meta.loader import load_metadata

    meta, errors = load_metadata(Path(__file__).resolve().parent.parent / "metadata")
    assert errors == [] and meta is not None
    return list(meta.models.values())


def test_the_grid_export_and_the_emailed_listing_show_the_same_cents(app, admin_api):
    code, skus = thirds(app, admin_api)
    page = admin_api.get("/api/v1/grid/stock_balance/rows", query_string={"page": 1, "size": 50, **by_warehouse(code)})
    assert page.status_code == 200, page.get_json()
    body = page.get_json()
    assert [row["value"] for row in body["data"]] == ["6.6667", "6.6667"]  # the API: exact
    assert body["sums"]["value"] == "13.3334"  # exact; the browser shows it to the cent (test_grid_browser)

    export = admin_api.get(
        "/api/v1/grid/stock_balance/export", query_string={**by_warehouse(code), "columns": "item,warehouse,qty,value"}
    )
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    cells = [sheet.cell(row=r, column=4) for r in (2, 3)]
    assert [Decimal(str(c.value)) for c in cells] == [Decimal("6.6667")] * 2  # the cell exact ...
    assert {c.number_format for c in cells} == {"#,##0.00"}  # ... shown to the cent, as the grid shows it

    with app.app_context():
        access = access_for(app.appbuilder.sm.find_user(username="admin"))
        warehouse = db.session.execute(
            db.select(registry().cls("warehouse").id).where(registry().cls("warehouse").code == code)
        ).scalar_one()
        listing = model_listing(db.session, access, "stock_balance", {"filters": {"warehouse": warehouse}})
        db.session.rollback()
    assert [row["value"] for row in listing.rows] == ["6.67", "6.67"]
    assert listing.totals["value"] == "13.33"  # the exact values summed, then rounded: not 13.34
    assert [row["qty"] for row in listing.rows] == ["2", "2"]


def test_a_report_shows_money_to_its_places_and_keeps_it_exact(app, admin_api):
    """库存余额（按日期）: 金额 (money) read to the cent on the page, in the mail and in the Excel cell's format, its
    total the exact sum rounded (13.33); 平均成本 (a unit cost, 4 places) to its 4; the API and the csv exact."""
    from app.schedules.reporting import runner_report

    code, _ = thirds(app, admin_api)
    answer = admin_api.get("/api/v1/reports/stock_as_of", query_string={"warehouse": code})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    places = {c["name"]: c["places"] for c in body["columns"]}
    assert (places["value"], places["avg_cost"], places["qty"]) == (2, 4, None)
    assert [row["value"] for row in body["rows"]] == ["6.6667", "6.6667"] and body["totals"]["value"] == "13.3334"

    csv_text = admin_api.get("/api/v1/reports/stock_as_of", query_string={"warehouse": code, "format": "csv"})
    lines = csv_text.get_data(as_text=True).strip().splitlines()
    assert lines[1].endswith(",2,3.3334,6.6667") and lines[-1].endswith(",13.3334")

    xlsx = admin_api.get("/api/v1/reports/stock_as_of", query_string={"warehouse": code, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    header = next(r for r in range(1, 10) if sheet.cell(row=r, column=1).value == "商品")
    first = [sheet.cell(row=header + 1, column=c) for c in (4, 5)]
    assert [c.value for c in first] == [3.3334, 6.6667]
    assert [c.number_format for c in first] == ["#,##0.0000", "#,##0.00"]

    with app.app_context():
        from app.services.users.access import access_for

        mailed = runner_report(
            db.session, access_for(app.appbuilder.sm.find_user(username="admin")), "stock_as_of", {"warehouse": code}
        )
    assert [row["value"] for row in mailed.rows] == ["6.67", "6.67"] and mailed.totals["value"] == "13.33"
    assert [row["avg_cost"] for row in mailed.rows] == ["3.3334", "3.3334"]
