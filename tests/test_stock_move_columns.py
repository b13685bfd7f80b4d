"""The 库存流水 (stock_move) list shows each move's date, document (type and number) and direction (入/出),
in the reader's language, from metadata/models/stock_move.yaml: `direction` is computed from the sign of
the quantity when a move is posted, and for the moves already there when the column is added."""

from __future__ import annotations

import html
import re
from pathlib import Path

from sqlalchemy import select, text

from app.extensions import db, registry
from app.meta.loader import load_metadata
from app.meta.schema import sync_schema
from tests.ledger_helpers import new_item, post, receive

META, _ = load_metadata(Path(__file__).resolve().parent.parent / "metadata")
FIRST = ["商品", "业务日期", "单据类型", "单据编号", "方向", "仓库", "数量", "结存数量"]


def test_document_types_are_labelled_as_their_models():
    """Every select whose options name models (a move's document, a line's or payment's source document)
    shows them by the models' own labels, never by their keys."""
    naming = [
        (model.key, spec)
        for model in META.models.values()
        for spec in model.fields
        if spec.options and all(option.value in META.models for option in spec.options)
    ]
    assert {"stock_move", "sales_delivery_line", "payment_line"} <= {key for key, _ in naming}
    for key, spec in naming:
        for option in spec.options:
            assert option.label == META.models[option.value].label, (key, spec.name, option.value)
    text_sources = [
        (model.key, spec.name)
        for model in META.models.values()
        for spec in model.fields
        if spec.name == "source_model" and not spec.options
    ]
    assert text_sources == []  # a source type kept as free text would show its key (sales_order)


def _cells(page: str) -> tuple[list[str], list[list[str]]]:
    heads = [html.unescape(h).strip() for h in re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", page, re.S)]
    rows = [
        [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td(?:\s[^>]*)?>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr(?:\s[^>]*)?>(.*?)</tr>", page.split("<tbody>", 1)[-1], re.S)
    ]
    return heads, rows


def test_stock_move_list_shows_date_document_and_direction(app, admin_api, login_as):
    sku = new_item(admin_api)
    received = receive(admin_api, sku, "5", "2")
    delivered = post(admin_api, "sales_delivery", [{"item": sku, "qty": "2", "price": "3"}], warehouse="WH01")
    moves = admin_api.get(
        f"/api/v1/stock_move/?q=(filters:!((col:document_number,opr:eq,value:'{received['number']}')))"
    )
    assert [m["direction"] for m in moves.get_json()["result"]] == ["in"]

    browser = login_as("warehouse")

    def listed(number: str) -> tuple[list[str], list[str]]:
        heads, rows = _cells(browser.get(f"/m/stock_move/?search={number}").get_data(as_text=True))
        return heads, next(row for row in rows if len(row) == len(heads) and row[3] == number)

    heads, row = listed(received["number"])
    assert heads == FIRST
    assert row[1:5] == [received["date"], "采购入库单", received["number"], "入"]
    assert listed(delivered["number"])[1][2:5] == ["销售出库单", delivered["number"], "出"]

    browser.get("/lang/en")  # kept on the user: back to Chinese for the tests after this one (the keeper's home)
    try:
        heads, row = listed(delivered["number"])
        assert heads[1:5] == ["Date", "Document type", "Document number", "Direction"]
        assert (row[2], row[4]) == ("Sales delivery", "Out")
    finally:
        browser.get("/lang/zh")

    with app.app_context():  # a database from before the column: added, and computed for the moves there
        with db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE stock_move DROP COLUMN direction"))
        with db.engine.begin() as conn:
            assert "compute stock_move.direction" in sync_schema(conn, registry())
        move = registry().cls("stock_move")
        found = dict(db.session.execute(select(move.document_number, move.direction).where(move.batch == "")).all())
        db.session.remove()
    assert (found[received["number"]], found[delivered["number"]]) == ("in", "out")
