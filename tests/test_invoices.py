"""发票: deliveries invoiced (未开票 -> 已开票, number and date), many at once from the list of uninvoiced
ones; receipts waiting for the supplier's input invoice; the columns added to an older database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from app.extensions import db, registry
from app.meta.schema import sync_schema
from tests.conftest import csrf_from, unique
from tests.ledger_helpers import document, new_item, new_partner, post, receive


def _messages(response: Any) -> str:
    return " ".join(e["message"] for e in response.get_json()["errors"])


def test_three_deliveries_invoiced_at_once(app, admin_api, api_as, login_as):
    sku = new_item(admin_api)
    receive(admin_api, sku, "30", "2")
    customer, _ = new_partner(admin_api, "customer")
    deliveries = [
        post(admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "9"}], partner=customer, warehouse="WH01")
        for _ in range(4)
    ]
    draft = document(
        admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "9"}], partner=customer, warehouse="WH01"
    )
    assert {d["invoice_status"] for d in deliveries} == {"uninvoiced"}

    client = login_as("clerk")
    listing = client.get("/m/sales_delivery/?invoice=waiting").get_data(as_text=True)
    assert all(d["number"] in listing for d in deliveries) and draft["number"] not in listing
    assert "未开票" in listing and 'id="jxc-invoice-make"' in listing
    invoice_no = unique("FP")
    done = client.post(
        "/m/sales_delivery/invoice",
        data={
            "csrf_token": csrf_from(listing),
            "id": [str(d["id"]) for d in deliveries[:3]],
            "invoice_number": invoice_no,
            "invoice_date": "2026-11-28",
        },
    )
    assert done.status_code == 302
    after = client.get("/m/sales_delivery/?invoice=waiting").get_data(as_text=True)
    assert "已为 3 张单据登记发票" in after
    assert deliveries[3]["number"] in after and all(d["number"] not in after for d in deliveries[:3])
    for d in deliveries[:3]:
        got = admin_api.get(f"/api/v1/sales_delivery/{d['id']}").get_json()["result"]
        assert (got["invoice_status"], got["invoice_number"], got["invoice_date"]) == (
            "invoiced",
            invoice_no,
            "2026-11-28",
        )
        history = admin_api.get(f"/api/v1/sales_delivery/{d['id']}/history").get_json()["result"]
        assert history[0]["action"] == "invoice" and history[0]["after"]["invoice_number"] == invoice_no

    # all or none, every reason in Chinese: one already invoiced, one a draft
    refused = admin_api.post(
        "/api/v1/sales_delivery/invoice",
        json={"ids": [deliveries[0]["id"], deliveries[3]["id"], draft["id"]], "invoice_number": unique("FP")},
    )
    assert refused.status_code == 422
    said = _messages(refused)
    assert deliveries[0]["number"] in said and "已开票" in said and draft["number"] in said and "未审核" in said
    assert (
        admin_api.get(f"/api/v1/sales_delivery/{deliveries[3]['id']}").get_json()["result"]["invoice_status"]
        == "uninvoiced"
    )
    blank = admin_api.post("/api/v1/sales_delivery/invoice", json={"ids": [deliveries[3]["id"]], "invoice_number": " "})
    assert blank.status_code == 422 and "发票号码" in _messages(blank)
    assert (
        api_as("warehouse")
        .post("/api/v1/sales_delivery/invoice", json={"ids": [deliveries[3]["id"]], "invoice_number": "X1"})
        .status_code
        == 403
    )  # keepers do not invoice
    assert (
        api_as("finance")
        .post("/api/v1/sales_delivery/invoice", json={"ids": [deliveries[3]["id"]], "invoice_number": "X1"})
        .status_code
        == 200
    )


def test_an_invoice_withdrawn_lets_the_delivery_be_cancelled_or_invoiced_again(app, admin_api, api_as, login_as):
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "2")
    customer, _ = new_partner(admin_api, "customer")
    sold = post(
        admin_api, "sales_delivery", [{"item": sku, "qty": "1", "price": "9"}], partner=customer, warehouse="WH01"
    )
    wrong = unique("FP")
    recorded = admin_api.post("/api/v1/sales_delivery/invoice", json={"ids": [sold["id"]], "invoice_number": wrong})
    assert recorded.status_code == 200
    # the tax invoice stands for the goods: no 反审核 while it is recorded
    refused = admin_api.post(f"/api/v1/sales_delivery/{sold['id']}/cancel")
    assert refused.status_code == 422 and wrong in _messages(refused) and "撤销开票" in _messages(refused)
    assert admin_api.get(f"/api/v1/sales_delivery/{sold['id']}").get_json()["result"]["status"] == "submitted"
    # keepers may not withdraw; the clerk does it from the document's page
    withdraw = {"ids": [sold["id"]]}
    assert api_as("warehouse").post("/api/v1/sales_delivery/invoice/withdraw", json=withdraw).status_code == 403
    clerk = login_as("clerk")
    page = clerk.get(f"/m/sales_delivery/{sold['id']}").get_data(as_text=True)
    assert 'id="jxc-invoice-withdraw"' in page and "撤销开票" in page
    done = clerk.post(f"/m/sales_delivery/{sold['id']}/invoice/withdraw", data={"csrf_token": csrf_from(page)})
    assert done.status_code == 302
    page = clerk.get(f"/m/sales_delivery/{sold['id']}").get_data(as_text=True)
    assert "已撤销 1 张单据的发票" in page and 'id="jxc-invoice-withdraw"' not in page
    got = admin_api.get(f"/api/v1/sales_delivery/{sold['id']}").get_json()["result"]
    assert (got["invoice_status"], got["invoice_number"], got["invoice_date"]) == ("uninvoiced", None, None)
    history = admin_api.get(f"/api/v1/sales_delivery/{sold['id']}/history").get_json()["result"]
    assert history[0]["action"] == "invoice_withdraw" and history[0]["before"]["invoice_number"] == wrong
    # nothing to withdraw now: refused by number; the right number recorded again
    again = admin_api.post("/api/v1/sales_delivery/invoice/withdraw", json=withdraw)
    assert again.status_code == 422 and sold["number"] in _messages(again) and "尚未开票" in _messages(again)
    right = unique("FP")
    assert (
        admin_api.post(
            "/api/v1/sales_delivery/invoice", json={"ids": [sold["id"]], "invoice_number": right}
        ).status_code
        == 200
    )
    assert admin_api.get(f"/api/v1/sales_delivery/{sold['id']}").get_json()["result"]["invoice_number"] == right
    # withdrawn once more, the delivery may be cancelled
    assert admin_api.post("/api/v1/sales_delivery/invoice/withdraw", json=withdraw).status_code == 200
    assert admin_api.post(f"/api/v1/sales_delivery/{sold['id']}/cancel").status_code == 200


def test_receipts_waiting_for_the_supplier_invoice(app, admin_api, api_as):
    supplier, _ = new_partner(admin_api, "supplier")
    sku = new_item(admin_api)
    receipts = [
        post(
            admin_api, "purchase_receipt", [{"item": sku, "qty": "2", "price": "5"}], partner=supplier, warehouse="WH01"
        )
        for _ in range(2)
    ]
    assert {r["invoice_status"] for r in receipts} == {"awaiting"}
    finance = api_as("finance")
    got = finance.post(
        "/api/v1/purchase_receipt/invoice",
        json={"ids": [receipts[0]["id"]], "invoice_number": "JX-0001", "invoice_date": "2026-11-29"},
    )
    assert got.status_code == 200, got.get_json()
    waiting = admin_api.get(
        "/api/v1/purchase_receipt/?q=(filters:!((col:invoice_status,opr:eq,value:awaiting),"
        f"(col:partner,opr:eq,value:{supplier})))"
    ).get_json()["result"]
    assert [r["number"] for r in waiting] == [receipts[1]["number"]]
    bad = finance.post("/api/v1/purchase_order/invoice", json={"ids": [1], "invoice_number": "X"})
    assert bad.status_code == 404  # purchase orders take no invoices: the route is not there (nor in the OpenAPI)


def test_invoice_columns_added_to_an_older_database_are_backfilled(app, admin_api):
    sku = new_item(admin_api)
    doc = receive(admin_api, sku, "1", "1")
    with app.app_context():
        with db.engine.begin() as conn:  # as a JXC without invoices left it
            for table, status in (("purchase_receipt", "invoice_status"), ("sales_delivery", "invoice_status")):
                conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {status}"))
        with db.engine.begin() as conn:
            changes = sync_schema(conn, registry())
        assert {"backfill purchase_receipt.invoice_status", "backfill sales_delivery.invoice_status"} <= set(changes)
        db.session.remove()
    assert admin_api.get(f"/api/v1/purchase_receipt/{doc['id']}").get_json()["result"]["invoice_status"] == "awaiting"


def _row_of(listing: str, number: str) -> str:
    """The list's table row holding this document number."""
    start = listing.index(number)
    return listing[listing.rindex("<tr>", 0, start) : listing.index("</tr>", start)]


def test_receipts_waiting_show_their_totals_and_keep_the_ticks_when_refused(app, admin_api, login_as):
    """Finance matches the ticked receipts against the invoice's 金额, 税额 and 价税合计: the list showed none of
    them, and a refusal (no invoice number) came back with nothing ticked and the date gone."""
    supplier, _ = new_partner(admin_api, "supplier")
    sku = new_item(admin_api)
    line = [{"item": sku, "qty": "3", "price": "9.99"}]
    receipts = [post(admin_api, "purchase_receipt", line, partner=supplier, warehouse="WH01") for _ in range(2)]
    client = login_as("finance")
    listing = client.get("/m/purchase_receipt/?invoice=waiting").get_data(as_text=True)
    assert all(f">{head}</th>" in listing for head in ("金额合计", "税额合计", "价税合计"))
    row = _row_of(listing, receipts[0]["number"])
    assert all(f">{receipts[0][name]}</td>" in row for name in ("total_amount", "total_tax", "total_with_tax")), row
    refused = client.post(
        "/m/purchase_receipt/invoice",
        data={"csrf_token": csrf_from(listing), "id": [str(r["id"]) for r in receipts], "invoice_date": "2026-11-28"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "请填写发票号码" in refused
    assert all('class="jxc-invoice-pick" checked' in _row_of(refused, r["number"]) for r in receipts)
    assert 'id="jxc-invoice-date" value="2026-11-28"' in refused
    assert {
        admin_api.get(f"/api/v1/purchase_receipt/{r['id']}").get_json()["result"]["invoice_status"] for r in receipts
    } == {"awaiting"}
