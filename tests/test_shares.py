"""A share (折扣率, a decimal bounded 0..1, stored 0.075) is read and typed as a percent, as a rate kept in percent
(税率 13) is: the grid, forms, prints, pastes and imports show 7.5% and take 7.5% (a bare 7.5 where a person types:
the grid's editor and paste, a form); the API keeps the stored share (docs/grid.md, docs/metadata.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from app.meta.loader import load_metadata
from app.meta.types import FIELD_TYPES, ValueProblem
from tests.conftest import csrf_from
from tests.ledger_helpers import document, new_item

META, _ = load_metadata(Path(__file__).resolve().parent.parent / "metadata")
DISCOUNT = META.model("sales_order_line").field("discount_rate")
TAX = META.model("sales_order_line").field("tax_rate")
PRICE = META.model("sales_order_line").field("price")
DECIMAL = FIELD_TYPES["decimal"]


@pytest.mark.parametrize(
    ("raw", "stored"), [("7.5%", "0.0750"), ("7.5 ％", "0.0750"), ("100%", "1.0000"), ("0.075", "0.0750")]
)
def test_a_share_takes_a_percent_typed_with_its_sign(raw, stored):
    assert DECIMAL.parse(DISCOUNT, raw) == Decimal(stored)


def test_a_rate_kept_in_percent_takes_the_sign_too_and_a_price_does_not():
    assert DECIMAL.parse(TAX, "13%") == Decimal("13")
    with pytest.raises(ValueProblem):
        FIELD_TYPES["money"].parse(PRICE, "13%")
    with pytest.raises(ValueProblem, match="7.5%"):  # out of range: said in percents, not "at most 1"
        DECIMAL.parse(DISCOUNT, "7.5")


def test_forms_the_grid_and_spreadsheets_show_a_share_as_a_percent():
    assert DECIMAL.form_value(DISCOUNT, "0.0750", readonly=False) == "7.5%"
    assert DECIMAL.form_value(DISCOUNT, "8%", readonly=False) == "8%"  # as typed, shown again after an error
    assert DECIMAL.form_value(TAX, "13", readonly=False) == "13"
    assert DECIMAL.form_raw(DISCOUNT, MultiDict({"d": "7.5"}), "d") == "7.5%"  # a bare number typed is a percent
    assert DECIMAL.form_raw(TAX, MultiDict({"d": "13"}), "d") == "13"
    assert DECIMAL.grid_look(DISCOUNT)["percent"] is True and DECIMAL.grid_look(TAX)["percent"] is False
    assert DECIMAL.excel_format(DISCOUNT) == {"num_format": "0.00%"}  # Excel's 7.5% is the cell 0.075
    assert DECIMAL.read_text(DISCOUNT, "0.0750") == "7.5%"


def test_a_share_written_as_a_percent_is_stored_as_the_share(admin_api):
    sku = new_item(admin_api, tax_rate="13")
    line = {"item": sku, "qty": "2", "price": "100", "discount_rate": "7.5%", "tax_rate": "13%"}
    saved = document(admin_api, "sales_order", [line], warehouse="WH01")["lines"][0]
    assert (saved["discount_rate"], saved["tax_rate"], saved["amount"]) == ("0.075", "13", "185.00")


def test_a_document_form_shows_the_share_as_a_percent_and_takes_a_bare_number_as_one(admin_api, login_as):
    sku = new_item(admin_api)
    client = login_as("admin")
    token = csrf_from(client.get("/m/sales_order/new").get_data(as_text=True))
    data = {"csrf_token": token, "partner": "K001", "date": "2026-11-25", "warehouse": "WH01"}
    data.update({"lines-0-item": sku, "lines-0-qty": "2"})
    data.update({"lines-0-price": "100", "lines-0-discount_rate": "7.5"})
    saved = client.post("/m/sales_order/new", data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    pk = int(saved.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert admin_api.get(f"/api/v1/sales_order/{pk}").get_json()["result"]["lines"][0]["discount_rate"] == "0.075"
    edit = client.get(f"/m/sales_order/{pk}/edit").get_data(as_text=True)
    assert 'value="7.5%" inputmode="decimal" data-share="1"' in edit
