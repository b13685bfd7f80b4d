"""Printed 单据: amounts in Chinese capital numerals and the print page of a document."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.ledger.compute import rmb_upper
from tests.ledger_helpers import document, new_item


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.4", "肆角整"),
        ("10.50", "壹拾元伍角整"),
        ("20", "贰拾元整"),
        ("59.97", "伍拾玖元玖角柒分"),
        ("1001.01", "壹仟零壹元零壹分"),
        ("10001", "壹万零壹元整"),
        ("100000", "壹拾万元整"),
        ("100010000", "壹亿零壹万元整"),
        ("1234567.89", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
        ("1000000000000.5", "壹万亿元伍角整"),
        ("-3.2", "负叁元贰角整"),
        ("2.345", "贰元叁角伍分"),  # rounded half up to the fen
    ],
)
def test_capital_numerals(amount, words):
    assert rmb_upper(Decimal(amount)) == words


def test_print_page_shows_lines_total_and_capital_amount(app, admin_api, login_as):
    sku = new_item(admin_api)
    doc = document(admin_api, "purchase_receipt", [{"item": sku, "qty": "3", "price": "19.99"}], warehouse="WH01")
    page = login_as("admin").get(f"/m/purchase_receipt/{doc['id']}/print")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert doc["number"] in html and sku in html
    assert "¥59.97" in html and "伍拾玖元玖角柒分" in html
    assert "script-src" in page.headers["Content-Security-Policy"] and "<script>" not in html
    assert login_as("admin").get(f"/m/purchase_receipt/{doc['id']}").get_data(as_text=True).count("/print") == 1
    assert login_as("salesperson").get(f"/m/purchase_receipt/{doc['id']}/print").status_code in (302, 403, 404)
