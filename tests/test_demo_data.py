"""The demo's master data (metadata/demo.yaml) is a business's: items carry the VAT rate they are sold at (13%,
9% for liquid milk), so a document of demo items has tax like a real one, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from app.meta.yamlload import load_yaml
from tests.ledger_helpers import document

DEMO = Path(__file__).resolve().parent.parent / "metadata" / "demo.yaml"


def test_every_demo_item_has_a_realistic_vat_rate():
    data, problems = load_yaml(DEMO)
    assert problems == []
    rates = {item["sku"]: Decimal(str(item.get("tax_rate", 0))) for item in data["item"]}
    assert set(rates.values()) <= {Decimal(9), Decimal(13)}, rates
    assert rates["SP0010"] == 9 and rates["SP0001"] == 13  # 纯牛奶 at the lower rate, water at the standard


def test_a_document_of_demo_items_takes_their_rate(admin_api):
    saved = document(admin_api, "sales_order", [{"item": "SP0001", "qty": "10", "price": "2"}], warehouse="WH01")
    line = saved["lines"][0]
    assert (line["tax_rate"], line["amount"], line["tax_amount"], line["amount_with_tax"]) == (
        "13",
        "20.00",
        "2.60",
        "22.60",
    )
