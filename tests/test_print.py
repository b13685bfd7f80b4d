"""Printed 单据: amounts in Chinese capital numerals and the print page of a document."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from app.ledger.compute import rmb_upper
from tests.conftest import PASSWORD
from tests.ledger_helpers import document, new_item, post, receive


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


def _print_of(login_as, model: str, pk: int) -> str:
    page = login_as("admin").get(f"/m/{model}/{pk}/print")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_print_shows_a_share_as_a_percent_and_leaves_internal_ids_off(app, admin_api, login_as):
    """折扣率 is stored as a share (0.075) and printed as 7.5%; the line's 源单ID / 源单行ID (row ids a 下推
    carries) are not printed, while 源单类型 still is."""
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "5")
    order = post(
        admin_api, "sales_order", [{"item": sku, "qty": "3", "price": "20", "discount_rate": "0.075"}], warehouse="WH01"
    )
    pushed = admin_api.post(f"/api/v1/sales_order/{order['id']}/push/sales_delivery", json={})
    assert pushed.status_code == 201, pushed.get_json()
    draft = pushed.get_json()["result"]
    assert draft["lines"][0]["discount_rate"] == "0.075" and draft["lines"][0]["source_line_id"]
    html = _print_of(login_as, "sales_delivery", draft["id"])
    assert "7.5%" in html and "0.075" not in html
    assert "源单ID" not in html and "源单行ID" not in html and "源单类型" in html
    assert ">折扣率<" in html
    show = login_as("admin").get(f"/m/sales_delivery/{draft['id']}").get_data(as_text=True)
    assert "7.5%" in show  # the record's page reads it the same way


def test_print_signs_maker_and_poster_by_their_names(app, api_as, login_as):
    """制单 is whoever made the document and 审核 whoever posted it (blank until then), by their names."""
    tag = uuid.uuid4().hex[:6]
    with app.app_context():
        from app.extensions import db
        from app.services.users.accounts import create_user

        create_user(f"x_maker{tag}", "manager", PASSWORD, name=f"王制单{tag}")
        create_user(f"x_poster{tag}", "manager", PASSWORD, name=f"李审核{tag}")
        db.session.commit()
    maker, poster = api_as(f"x_maker{tag}"), api_as(f"x_poster{tag}")
    sku = new_item(maker)
    doc = document(maker, "purchase_receipt", [{"item": sku, "qty": "2", "price": "3"}], warehouse="WH01")
    draft = _print_of(login_as, "purchase_receipt", doc["id"])
    assert f"制单：王制单{tag}" in draft and "审核：<" in draft
    assert poster.post(f"/api/v1/purchase_receipt/{doc['id']}/submit").status_code == 200
    posted = _print_of(login_as, "purchase_receipt", doc["id"])
    assert f"制单：王制单{tag}" in posted and f"审核：李审核{tag}" in posted


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("12345678.9", "12,345,678.90"),
        (Decimal("-1234.567"), "-1,234.57"),  # to the cent, half up
        ("999.995", "1,000.00"),
        ("0", "0.00"),
        (None, ""),
    ],
)
def test_money_reads_as_the_grid_shows_it(value, text):
    from app.meta.types import money_text

    assert money_text(value) == text


def test_the_statement_is_headed_by_the_company_printed_and_exported(app, admin_api, login_as):
    """The 对账单 printed or exported for a partner names the company with its address, phone and tax id
    (settings.yaml's company), as a printed 单据 does with the same heading; its amounts read 13,950,617.16."""
    import io
    import re

    import openpyxl

    from app.meta.types import money_text

    lines = [{"item": "SP0001", "qty": "1000", "price": "12345.6789"}]
    receipt = post(admin_api, "purchase_receipt", lines, warehouse="WH01")
    heading = [
        "示例商贸有限公司",
        "地址：上海市浦东新区示例路 88 号",
        "电话：021-5888 8888",
        "税号：91310115MA1J000088",
    ]
    query = "partner=S001&side=payable&period=2026-11-01..2026-11-30"
    html = login_as("admin").get(f"/reports/partner_statement/print?{query}").get_data(as_text=True)
    letterhead = html.split('id="jxc-letterhead"', 1)[1].split("</header>", 1)[0]
    assert [text.strip() for text in re.findall(r">([^<>]+)<", letterhead) if text.strip()] == heading
    assert money_text(receipt["total_with_tax"]) in html and receipt["total_with_tax"] not in html
    document_print = _print_of(login_as, "purchase_receipt", receipt["id"])
    assert letterhead in document_print  # one heading for every printed paper
    assert f"¥{money_text(receipt['total_with_tax'])}" in document_print
    book = admin_api.get(f"/api/v1/reports/partner_statement?{query}&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(book.get_data())).worksheets[0]
    assert [sheet.cell(row=r, column=1).value for r in range(1, 6)] == [*heading, "对账单"]
    other = admin_api.get("/api/v1/reports/inventory_summary?period=2026-11-01..2026-11-30&format=xlsx")
    assert openpyxl.load_workbook(io.BytesIO(other.get_data())).worksheets[0]["A1"].value == "进销存汇总表"
