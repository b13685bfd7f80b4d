"""Sums add up amounts only: the grid's sums row and a scheduled listing's totals, on SQLite and PostgreSQL. A unit
price (零售价, 单价), a rate (税率, 折扣率, 换算率) or a number of days is no figure once added over rows; what a
field's numbers are is its `measure:` (docs/metadata.md), checked when metadata loads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.extensions import db, registry
from app.meta.loader import load_metadata
from app.meta.spec import MEASURES
from app.meta.types import FIELD_TYPES
from app.schedules.reporting import model_listing
from app.services.users.access import access_for
from tests.conftest import unique
from tests.test_grid_api import new_complaints, new_items, rows, tag_filter


def number_filter(tag: str) -> dict[str, str]:
    return {"filter[0][field]": "number", "filter[0][type]": "like", "filter[0][value]": tag}


METADATA = Path(__file__).resolve().parent.parent / "metadata"
LABEL = {"zh": "测试", "en": "Test"}


def runtime(name: str, **spec: object) -> dict[str, object]:
    return {"model": "item", "name": name, "spec": {"label": LABEL, **spec}}


def test_every_summed_field_of_every_model_is_an_amount_and_every_price_or_rate_says_so():
    """Over every model and field: only money and quantities add up, a money field kept to a unit price's places
    says what it is, and a field of every other measure is left out of the sums."""
    meta, errors = load_metadata(METADATA)
    assert errors == [] and meta is not None
    measures: dict[str, set[str]] = {measure: set() for measure in MEASURES}
    for model in meta.models.values():
        for spec in model.fields:
            ftype = FIELD_TYPES[spec.type]
            if not ftype.numeric:
                assert ftype.measure_of(spec) is None and not ftype.summed(spec), f"{model.key}.{spec.name}"
                continue
            measure = ftype.measure_of(spec)
            measures[measure].add(f"{model.key}.{spec.name}")
            assert ftype.summed(spec) == (measure == "amount"), f"{model.key}.{spec.name}"
            if ftype.summed(spec):
                assert spec.type in ("money", "quantity"), f"{model.key}.{spec.name} is a summed {spec.type}"
            if spec.type == "money" and ftype.scale(spec) > 2 and not spec.compute:
                assert spec.measure is not None, f"{model.key}.{spec.name}: a unit price's places, measure unsaid"
            if spec.is_fraction:
                assert measure == "rate", f"{model.key}.{spec.name}"
    assert {"item.sale_price", "item.purchase_price", "sales_order_line.price", "stock_balance.avg_cost"} <= (
        measures["price"]
    )
    assert {"item.tax_rate", "sales_order_line.discount_rate", "item_unit.ratio"} <= measures["rate"]
    assert {"item.shelf_life_days", "partner.payment_terms_days", "stock_move.qty_after"} <= measures["number"]
    # a master record's quantity is a level of its own (安全库存, 再订货点, 建议采购量, 最高库存): it adds up to nothing
    assert {"item.safety_stock", "item.reorder_point", "item.reorder_qty", "item.max_stock"} <= measures["number"]
    assert {"sales_order_line.amount", "sales_order.total_with_tax", "stock_balance.value"} <= measures["amount"]
    assert {"sales_order_line.qty", "stock_balance.qty", "stock_move.qty"} <= measures["amount"]


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"type": "quantity", "measure": "price"}, "measure 'price' is money per unit"),
        ({"type": "decimal", "min": 0, "max": 1}, "a decimal bounded 0..1 is a share"),
        ({"type": "money", "figure": "sale", "scale": 4}, "money with 4 decimals"),
        ({"type": "text", "measure": "amount"}, "measure 'amount' is not one of a number's"),
        ({"type": "money", "figure": "sale", "measure": "cost"}, "measure 'cost' is not one of a number's"),
    ],
)
def test_a_measure_that_does_not_fit_its_field_is_refused_at_load(spec, problem):
    meta, errors = load_metadata(METADATA, [runtime("extra", **spec)])
    assert meta is None and any(problem in e.message for e in errors), [str(e) for e in errors]


def test_a_field_added_from_the_admin_page_is_summed_by_its_type_unless_it_says_what_it_is():
    meta, errors = load_metadata(
        METADATA,
        [
            runtime("deposit", type="money", figure="sale"),
            runtime("list_price", type="money", figure="sale", measure="price"),
            runtime("boxes", type="integer", measure="amount"),
            runtime("weight", type="decimal"),
            runtime("pieces", type="quantity"),  # an item's own quantity: a level, as 安全库存
            runtime("packed", type="quantity", measure="amount"),
            {"model": "complaint", "name": "returned", "spec": {"label": LABEL, "type": "quantity"}},
            {"model": "sales_order", "name": "boxes", "spec": {"label": LABEL, "type": "quantity"}},
        ],
    )
    assert errors == [] and meta is not None
    item = meta.model("item")
    names = ("deposit", "list_price", "boxes", "weight", "pieces", "packed")
    assert {name for name in names if summed_field(item, name)} == {"deposit", "boxes", "packed"}
    assert not summed_field(meta.model("complaint"), "returned") and summed_field(meta.model("sales_order"), "boxes")


def summed_field(model, name: str) -> bool:
    spec = model.field(name)
    return FIELD_TYPES[spec.type].summed(spec)


def test_the_grid_sums_amounts_not_prices_rates_days_or_an_items_levels(admin_api):
    tag = unique("SUM")
    levels = {"safety_stock": "2", "reorder_point": "3", "reorder_qty": "10", "max_stock": "50"}
    new_items(admin_api, 3, tag, sale_price="1.10", tax_rate="13", shelf_life_days=30, **levels)
    sums = rows(admin_api, **tag_filter(tag))["sums"]
    assert not {"sale_price", "wholesale_price", "purchase_price", "cost_price", "tax_rate", "shelf_life_days"} & set(
        sums
    ), sums
    assert not set(levels) & set(sums), sums
    new_complaints(admin_api, 7, tag, credit_amount="1.5", qty="2")
    params = {"page": 2, "size": 3, "sort[0][field]": "number", "sort[0][dir]": "desc", **number_filter(tag)}
    page = rows(admin_api, model="complaint", **params)
    assert (page["last_page"], page["last_row"]) == (3, 7)
    assert page["sums"]["credit_amount"] == "4.50"  # the page's three: 补偿金额 is an amount
    assert "qty" not in page["sums"]  # a complaint's own 涉及数量, of whatever item: no total


def test_every_models_grid_sums_exactly_its_visible_amounts(app, admin_api, api_as):
    """Every model a reader may read: the sums row holds the amounts they see and nothing else (a masked amount
    included: the salesperson's page sums no purchase figure). The live metadata: fields other tests added count."""
    for role, api in (("admin", admin_api), ("salesperson", api_as("salesperson"))):
        with app.app_context():
            keys = list(registry().meta.models)
        for key in keys:
            response = api.get(f"/api/v1/grid/{key}/rows", query_string={"page": 1, "size": 5})
            if response.status_code != 200:
                continue
            page = response.get_json()
            with app.app_context():
                model = registry().meta.models[key]  # as the request read it, with fields added meanwhile
            shown = set().union(*(row.keys() for row in page["data"])) if page["data"] else None
            for name in page["sums"]:
                spec = model.field(name)
                assert spec is not None and FIELD_TYPES[spec.type].summed(spec), (role, model.key, name)
                assert shown is None or name in shown, (role, model.key, name)


def test_a_scheduled_listing_totals_amounts_only(app, admin_api):
    tag = unique("SUML")
    new_items(admin_api, 2, tag, sale_price="1.10", tax_rate="13", safety_stock="2")
    new_complaints(admin_api, 2, tag, credit_amount="1.5", qty="2")
    with app.app_context():
        access = access_for(app.appbuilder.sm.find_user(username="admin"))
        result = model_listing(db.session, access, "item", {"filters": {"name": f"网格测试 {tag} 0"}})
        complaints = model_listing(db.session, access, "complaint", {"filters": {"summary": f"网格测试 {tag} 0"}})
        db.session.rollback()
    assert len(result.rows) == 1 and len(complaints.rows) == 1
    assert not {"sale_price", "tax_rate", "shelf_life_days", "safety_stock"} & set(result.totals), result.totals
    assert complaints.totals["credit_amount"] == "1.50" and "qty" not in complaints.totals
