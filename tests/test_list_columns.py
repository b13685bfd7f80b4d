"""The order lists show who an order belongs to: 采购员 / 销售员 stay among a list's first columns beside the
入库状态 / 出库状态 and 关闭状态 (the approval levels given so far, 0 on most documents, are left to the document's
page), with the user's name in each row."""

from __future__ import annotations

import re

from tests.ledger_helpers import document


def _headers(html: str) -> list[str]:
    found = re.search(r"<thead><tr>(.*?)</tr></thead>", html, re.S)
    assert found, html[:500]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th[^>]*>.*?</th>", found.group(1), re.S)]


def test_the_order_lists_show_the_salesperson_and_the_purchaser(admin_api, login_as):
    sold = document(admin_api, "sales_order", [{"item": "SP0001", "qty": "1", "price": "2"}], warehouse="WH01")
    bought = document(admin_api, "purchase_order", [{"item": "SP0001", "qty": "1", "price": "1"}], warehouse="WH01")
    assert admin_api.put(f"/api/v1/sales_order/{sold['id']}", json={"salesperson": "u_salesperson"}).status_code == 200
    assert admin_api.put(f"/api/v1/purchase_order/{bought['id']}", json={"purchaser": "u_purchaser"}).status_code == 200
    client = login_as("admin")
    for model, person, number in (
        ("sales_order", "销售员", sold["number"]),
        ("purchase_order", "采购员", bought["number"]),
    ):
        html = client.get(f"/m/{model}/?search={number}").get_data(as_text=True)
        headers = _headers(html)
        assert person in headers and "已审批级数" not in headers, headers
        assert {"状态", "关闭状态"} <= set(headers) and ("出库状态" in headers or "入库状态" in headers)
        row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{number}.*?</tr>", html, re.S)
        assert row and ("u_salesperson" in row.group(0) or "u_purchaser" in row.group(0)), html[-3000:]
