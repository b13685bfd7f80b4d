"""A payment line without an account moves the header's 结算账户 (app/services/money/cash.py): its page and its print
showed an empty 结算账户 column on every line; they show the header's account there, and a line that names another
account (payments over several accounts) its own."""

from __future__ import annotations

import re

from tests.ledger_helpers import post, receive


def _line_cells(html: str, label: str) -> list[str]:
    cells = re.findall(rf'<td data-label="{label}">(.*?)</td>', html, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def test_a_payment_line_shows_the_headers_account(admin_api, login_as):
    receive(admin_api, "SP0002", "5", "1")
    sold = post(admin_api, "sales_delivery", [{"item": "SP0002", "qty": "2", "price": "3"}], warehouse="WH01")
    made = admin_api.post(
        "/api/v1/payment/",
        json={
            "date": "2026-11-25",
            "direction": "receipt",
            "partner": "K001",
            "account": "A002",
            "amount": "6.78",
            "lines": [{"source_model": "sales_delivery", "source_number": sold["number"], "allocated_amount": "6.78"}],
        },
    )
    assert made.status_code == 201, made.get_json()
    pk = made.get_json()["id"]
    assert made.get_json()["result"]["lines"][0]["account"] is None  # stored blank: the header's, not a copy
    client = login_as("admin")
    shown = client.get(f"/m/payment/{pk}").get_data(as_text=True)
    assert _line_cells(shown, "结算账户") == ["A002 工商银行基本户"], _line_cells(shown, "结算账户")
    printed = client.get(f"/m/payment/{pk}/print").get_data(as_text=True)
    assert "工商银行基本户" in printed.split("<tbody>", 1)[-1]
