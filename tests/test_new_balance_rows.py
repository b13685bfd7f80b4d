"""A stock's first posting inserts its balance row with its final values (no empty row inserted to be locked and
then updated), and two first postings of the same new stock at once both post, the balance exact."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest

from tests.ledger_helpers import balance, document, ledger_problems, new_item, post, statements_sent


@pytest.mark.parametrize("costing", ["moving_average", "fifo"])
def test_a_first_posting_inserts_the_balance_with_its_final_values(app, admin_api, costing):
    sku = new_item(admin_api, costing=costing)
    doc = document(admin_api, "purchase_receipt", [{"item": sku, "qty": "3", "price": "3.3333"}], warehouse="WH02")
    with statements_sent(app) as sent:
        response = admin_api.post(f"/api/v1/purchase_receipt/{doc['id']}/submit")
    assert response.status_code == 200, response.get_json()
    writes = [statement for statement, _ in sent if re.search(r"(INSERT INTO|UPDATE) stock_balance\b", statement)]
    assert len(writes) == 1 and "INSERT INTO stock_balance" in writes[0], writes  # not INSERT empty, then UPDATE
    assert "UPDATE stock_balance" not in writes[0]  # a receipt of one new stock updates no balance row
    assert balance(app, sku, "WH02") == (D(3), D("10.00"))
    post(admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "9"}], warehouse="WH02")
    assert balance(app, sku, "WH02") == (D(2), D("6.6667"))  # the issue at the average cost, 3.3333
    assert ledger_problems(app) == []


@pytest.mark.parametrize("costing", ["moving_average", "fifo"])
def test_two_first_postings_of_one_new_stock_at_once_both_post_exactly(app, admin_api, backend, costing):
    """PostgreSQL race: the first posting's new balance row is not committed yet when the second, which found no row
    either, inserts the same one: it waits on that insert, finds the row taken when the first commits (InsertRace)
    and posts again from the start on the row as it is then. SQLite runs one writer at a time: nothing to race."""
    if backend.name != "postgresql":
        pytest.skip("SQLite serialises writers")
    sku = new_item(admin_api, costing=costing)
    first, second = (
        document(admin_api, "purchase_receipt", [{"item": sku, "qty": qty, "price": price}], warehouse="WH01")
        for qty, price in (("3", "2.00"), ("7", "3.3333"))
    )
    # the first posting's new balance row (3 / 6.00) is its own until it commits
    response = while_posting_first(
        app, first["id"], lambda: admin_api.post(f"/api/v1/purchase_receipt/{second['id']}/submit")
    )
    assert response.status_code == 200, response.get_json()
    assert balance(app, sku) == (D(10), D("29.33"))  # 6.00 + 23.33, each receipt in at its own amount
    assert ledger_problems(app) == []


def test_an_imported_document_meeting_another_first_posting_keeps_the_import_whole(app, admin_api, backend):
    """PostgreSQL race inside an import that posts (导入 with 审核): the file's second receipt is the first posting of a
    stock another posting is creating at that moment (its row not committed yet). That receipt posts again once the
    other commits, in the import's own transaction: the file's first receipt, posted before it, stays, and both are
    in the ledger. Before, the retry rolled back the whole import (`Session.rollback`), the first receipt with it,
    while the import still counted it created. SQLite runs one writer at a time: nothing to race."""
    if backend.name != "postgresql":
        pytest.skip("SQLite serialises writers")
    from tests.conftest import unique
    from tests.test_document_imports import documents
    from tests.test_imports import run, workbook

    first_sku, raced_sku = new_item(admin_api), new_item(admin_api)
    other = document(
        admin_api, "purchase_receipt", [{"item": raced_sku, "qty": "3", "price": "2.00"}], warehouse="WH01"
    )
    header = ["单据编号", "单据日期", "供应商", "入库仓库", "商品", "入库数量", "单价"]
    numbers = unique("R"), unique("R")
    rows = [header, [numbers[0], "2026-11-25", "S001", "WH01", first_sku, "4", "1.50"]]
    rows.append([numbers[1], "2026-11-25", "S001", "WH01", raced_sku, "7", "3.00"])
    # the other receipt's new balance row of raced_sku is its own until it commits
    outcome = while_posting_first(app, other["id"], lambda: run(app, "purchase_receipt", workbook(rows), post=True))
    assert outcome.applied and outcome.created == 2, [i.line() for i in outcome.issues]
    assert [d["status"] for n in numbers for d in documents(app, "purchase_receipt", n)] == ["submitted"] * 2
    assert balance(app, first_sku) == (D(4), D("6.00"))
    assert balance(app, raced_sku) == (D(10), D("27.00"))  # 6.00 + 21.00
    assert ledger_problems(app) == []


def while_posting_first(app: Any, receipt_id: int, work: Callable[[], Any]) -> Any:
    """`work`'s answer, run in a thread while the purchase receipt `receipt_id` is posted in a transaction of its own
    (the first posting of its stocks: their new balance rows are its own): `work` waits on that insert (asserted)
    until the receipt's transaction commits."""
    from sqlalchemy.orm import Session

    from app.extensions import db
    from app.services.posting.service import PostingService
    from app.services.users.access import access_for

    with app.app_context():
        held = Session(db.engine)
        admin = app.appbuilder.sm.find_user(username="admin")
        PostingService(held, access_for(admin), commit=False).submit("purchase_receipt", receipt_id)
        answer: dict[str, Any] = {}
        racer = threading.Thread(target=lambda: answer.update(result=work()))
        racer.start()
        try:
            racer.join(timeout=3.0)
            assert racer.is_alive()  # its insert of the same row waits for the held posting
            held.commit()
        finally:
            held.close()
        racer.join(timeout=60)
    return answer["result"]
