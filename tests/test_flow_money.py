"""Issue 17's money and approval side: the 待审批 inbox page and its menu count, approval steps on the
document, payments from open items (unpaid receipts less returns and earlier payments, oldest first)."""

from __future__ import annotations

import re
from decimal import Decimal as D
from typing import Any

from tests.conftest import csrf_from
from tests.ledger_helpers import new_item, new_partner, post


def _receipts(api: Any, supplier: str, sku: str, amounts: list[str]) -> list[dict[str, Any]]:
    """Posted receipts of one unit each at these prices, one day apart (oldest first)."""
    return [
        post(
            api,
            "purchase_receipt",
            [{"item": sku, "qty": "1", "price": a}],
            partner=supplier,
            warehouse="WH01",
            date=f"2026-11-{10 + i:02d}",
        )
        for i, a in enumerate(amounts)
    ]


def _open(api: Any, partner_id: int, **args: str) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    response = api.get(f"/api/v1/accounts/{partner_id}/open_items?side=payable&{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _messages(response: Any) -> str:
    return " ".join(e["message"] for e in response.get_json()["errors"])


def test_a_payment_picked_from_open_items_settles_exactly_what_it_names(app, admin_api, login_as):
    supplier, supplier_id = new_partner(admin_api, "supplier")
    sku = new_item(admin_api)
    first, second, third = _receipts(admin_api, supplier, sku, ["100", "200", "300"])
    post(
        admin_api,
        "purchase_return",
        [{"item": sku, "qty": "1", "price": "200"}],
        partner=supplier,
        warehouse="WH01",
        source_number=second["number"],
        date="2026-11-20",
    )  # the second came back whole
    earlier = admin_api.post(
        f"/api/v1/accounts/{supplier_id}/open_items",
        json={"account": "A002", "items": [{"number": third["number"], "amount": "50"}]},
    )
    assert earlier.status_code == 201, earlier.get_json()
    assert admin_api.post(f"/api/v1/payment/{earlier.get_json()['id']}/submit").status_code == 200

    found = _open(admin_api, supplier_id, amount="150")
    assert [(i["number"], i["open"]) for i in found["result"]] == [
        (first["number"], "100.00"),
        (third["number"], "250.00"),
    ]
    assert (found["result"][1]["paid"], found["open_total"]) == ("50.00", "350.00")
    assert found["allocation"] == [
        {"number": first["number"], "amount": "100.00"},
        {"number": third["number"], "amount": "50.00"},
    ]  # oldest first

    # beyond what is open, or a document that is not the partner's open item: 422 in Chinese, nothing made
    over = admin_api.post(
        f"/api/v1/accounts/{supplier_id}/open_items",
        json={"account": "A002", "items": [{"number": first["number"], "amount": "100.01"}]},
    )
    assert over.status_code == 422 and "超过该单据未核销金额 100.00" in _messages(over)
    settled = admin_api.post(
        f"/api/v1/accounts/{supplier_id}/open_items", json={"account": "A002", "items": [second["number"]]}
    )
    assert settled.status_code == 422 and second["number"] in _messages(settled) and "未结清" in _messages(settled)

    # the payment names the first whole and 60 of the third, and pays 200: 40 is an advance that settles nothing
    made = admin_api.post(
        f"/api/v1/accounts/{supplier_id}/open_items",
        json={
            "account": "A002",
            "amount": "200",
            "reference_no": "BANK-17",
            "items": [{"number": third["number"], "amount": "60"}, first["number"]],
        },
    )
    assert made.status_code == 201, made.get_json()
    draft = made.get_json()["result"]
    assert (draft["direction"], draft["amount"], draft["status"], draft["reference_no"]) == (
        "payment",
        "200.00",
        "draft",
        "BANK-17",
    )
    assert [(line["source_number"], line["allocated_amount"]) for line in draft["lines"]] == [
        (first["number"], "100.00"),
        (third["number"], "60.00"),
    ]
    assert _open(admin_api, supplier_id)["open_total"] == "350.00"  # a draft settles nothing
    assert admin_api.post(f"/api/v1/payment/{draft['id']}/submit").status_code == 200
    after = _open(admin_api, supplier_id)["result"]
    assert [(i["number"], i["open"], i["paid"]) for i in after] == [(third["number"], "190.00", "110.00")]
    account = admin_api.get(f"/api/v1/accounts/{supplier_id}?side=payable").get_json()
    assert D(account["payable"]) == D(600) - D(200) - D(50) - D(200)

    # the page: the picker lists the open item, and an amount alone is allocated oldest first
    client = login_as("admin")
    page = client.get(f"/m/payment/open_items?partner={supplier_id}&direction=payment").get_data(as_text=True)
    assert third["number"] in page and first["number"] not in page and "190.00" in page and "按未结单据收付款" in page
    made_page = client.post(
        f"/m/payment/open_items?partner={supplier_id}&direction=payment",
        data={"csrf_token": csrf_from(page), "amount": "90", "account": "1"},
    )
    assert made_page.status_code == 302 and "/m/payment/" in made_page.headers["Location"]
    pk = int(made_page.headers["Location"].rstrip("/").split("/")[-1])
    lines = admin_api.get(f"/api/v1/payment/{pk}").get_json()["result"]["lines"]
    assert [(line["source_number"], line["allocated_amount"]) for line in lines] == [(third["number"], "90.00")]
    assert "按未结单据收付款" in client.get("/m/payment/new").get_data(as_text=True)


def _badge(html: str) -> int:
    found = re.findall(r'jxc-inbox-badge">(\d+)<', html)
    return int(found[-1]) if found else 0


def test_the_inbox_page_counts_on_the_menu_and_approves_with_a_comment(app, admin_api, api_as, login_as):
    clerk = api_as("clerk")
    sku = new_item(admin_api)
    made = [
        clerk.post(
            "/api/v1/purchase_request/",
            json={"date": "2026-11-25", "warehouse": "WH01", "lines": [{"item": sku, "qty": "2", "price": p}]},
        )
        for p in ("3", "4")
    ]
    requests = [m.get_json()["result"] for m in made]
    for request in requests:
        assert clerk.post(f"/api/v1/purchase_request/{request['id']}/submit").status_code == 200

    manager = login_as("manager")
    page = manager.get("/inbox/").get_data(as_text=True)
    count = api_as("manager").get("/api/v1/inbox/").get_json()["count"]
    assert count >= 2 and _badge(page) == count  # the menu's badge is the inbox's count
    assert all(r["number"] in page for r in requests) and "待审批" in page and "第 1 / 1 级" in page
    assert f"/inbox/purchase_request/{requests[0]['id']}/approve" in page
    clerk_page = login_as("clerk").get("/inbox/").get_data(as_text=True)
    assert requests[0]["number"] not in clerk_page  # the clerk made them and approves no requests

    done = manager.post(
        f"/inbox/purchase_request/{requests[0]['id']}/approve",
        data={"csrf_token": csrf_from(page), "comment": "同意，尽快下单"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/inbox/")
    back = manager.post(
        f"/inbox/purchase_request/{requests[1]['id']}/reject",
        data={"csrf_token": csrf_from(page), "comment": "数量不对"},
    )
    assert back.status_code == 302
    after = manager.get("/inbox/").get_data(as_text=True)
    assert _badge(after) == count - 2 and f'data-number="{requests[0]["number"]}"' not in after
    assert f"{requests[0]['number']}：已通过全部 1 级审批" in after  # what happened, said on the inbox
    assert [admin_api.get(f"/api/v1/purchase_request/{r['id']}").get_json()["result"]["status"] for r in requests] == [
        "submitted",
        "draft",
    ]
    again = manager.post(
        f"/inbox/purchase_request/{requests[0]['id']}/approve",
        data={"csrf_token": csrf_from(page)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "待审批" in again and "alert-danger" in again  # no longer pending: said, not a 500

    shown = manager.get(f"/m/purchase_request/{requests[0]['id']}").get_data(as_text=True)
    steps = shown.split("jxc-approval-steps")[1].split("</table>")[0]
    assert "提交审批" in steps and "审批通过" in steps and "同意，尽快下单" in steps and "u_manager" in steps
    assert "u_clerk" in steps
    sent_back = manager.get(f"/m/purchase_request/{requests[1]['id']}").get_data(as_text=True)
    assert "数量不对" in sent_back.split("jxc-approval-steps")[1].split("</table>")[0]


def test_a_payment_request_from_two_receipts_approved_and_paid(app, admin_api, api_as, login_as):
    purchaser, manager, finance = api_as("purchaser"), api_as("manager"), api_as("finance")
    supplier, supplier_id = new_partner(admin_api, "supplier")
    sku = new_item(admin_api)
    first, second = _receipts(admin_api, supplier, sku, ["100", "250"])

    one = purchaser.post(f"/api/v1/purchase_receipt/{first['id']}/push/payment_request")
    assert one.status_code == 201, one.get_json()
    assert [(x["source_number"], x["amount"]) for x in one.get_json()["result"]["lines"]] == [
        (first["number"], "100.00")
    ]
    assert purchaser.delete(f"/api/v1/payment_request/{one.get_json()['id']}").status_code == 200

    made = purchaser.post("/api/v1/payment_request/pick", json={"source_ids": [first["id"], second["id"]]})
    assert made.status_code == 201, made.get_json()
    draft = made.get_json()["result"]
    assert (draft["partner"]["key"], draft["total_amount"], draft["pay_status"]) == (supplier, "350.00", "unpaid")
    assert [(x["source_number"], x["source_id"], x["amount"]) for x in draft["lines"]] == [
        (first["number"], first["id"], "100.00"),
        (second["number"], second["id"], "250.00"),
    ]
    sent = purchaser.post(f"/api/v1/payment_request/{draft['id']}/submit")
    assert sent.status_code == 200 and sent.get_json()["result"]["status"] == "pending"
    assert any(w["number"] == draft["number"] for w in manager.get("/api/v1/inbox/").get_json()["result"])
    again = purchaser.post("/api/v1/payment_request/pick", json={"source_ids": [first["id"]]})
    assert again.status_code == 422 and first["number"] in _messages(again)  # already asked by a live request
    early = finance.post(f"/api/v1/payment_request/{draft['id']}/push/payment", json={"account": "A002"})
    assert early.status_code == 422 and "尚未审核" in _messages(early)

    approved = manager.post(f"/api/v1/payment_request/{draft['id']}/approve", json={"comment": "同意付款"})
    assert approved.status_code == 200, approved.get_json()
    assert "可据此付款" in approved.get_json()["message"]
    flow = admin_api.get(f"/api/v1/purchase_receipt/{first['id']}/flow").get_json()["result"]["follow_ons"]
    assert [(f["number"], f["status"], f["pay_status_text"]) for f in flow] == [
        (draft["number"], "submitted", "未付款")
    ]
    refused = admin_api.post(f"/api/v1/purchase_receipt/{second['id']}/cancel")
    assert refused.status_code == 422 and draft["number"] in _messages(refused)

    pushed = finance.post(f"/api/v1/payment_request/{draft['id']}/push/payment", json={"account": "A002"})
    assert pushed.status_code == 201, pushed.get_json()
    payment = pushed.get_json()["result"]
    assert (payment["direction"], payment["amount"], payment["payment_request"]) == (
        "payment",
        "350.00",
        draft["number"],
    )
    assert [(x["source_number"], x["allocated_amount"]) for x in payment["lines"]] == [
        (first["number"], "100.00"),
        (second["number"], "250.00"),
    ]
    assert finance.post(f"/api/v1/payment/{payment['id']}/submit").status_code == 200
    paid = admin_api.get(f"/api/v1/payment_request/{draft['id']}").get_json()["result"]
    assert (paid["pay_status"], paid["payment_number"]) == ("paid", payment["number"])
    assert _open(admin_api, supplier_id)["result"] == []  # both receipts settled by exactly what was asked
    twice = finance.post(f"/api/v1/payment_request/{draft['id']}/push/payment", json={"account": "A002"})
    assert twice.status_code == 422 and payment["number"] in _messages(twice)
    shown = login_as("admin").get(f"/m/purchase_receipt/{first['id']}").get_data(as_text=True)
    assert draft["number"] in shown and "已付款" in shown.split("jxc-flow-follow-ons")[1]

    assert admin_api.post(f"/api/v1/payment/{payment['id']}/cancel").status_code == 200
    unpaid = admin_api.get(f"/api/v1/payment_request/{draft['id']}").get_json()["result"]
    assert (unpaid["pay_status"], unpaid["payment_number"]) == ("unpaid", None)


def test_a_receipt_settled_by_a_payment_line_without_its_type_is_not_cancelled(admin_api):
    """A payment line may name a document by number alone (源单类型 blank: the payment's side's document, as the
    allocations count it); that payment still settles the receipt, so the receipt is not cancelled under it."""
    supplier, supplier_id = new_partner(admin_api, "supplier")
    (receipt,) = _receipts(admin_api, supplier, new_item(admin_api), ["100"])
    lines = [{"source_number": receipt["number"], "allocated_amount": "30"}]
    paid = post(admin_api, "payment", lines, direction="payment", partner=supplier, account="A001", amount="30")
    assert _open(admin_api, supplier_id)["result"][0]["paid"] == "30.00"
    refused = admin_api.post(f"/api/v1/purchase_receipt/{receipt['id']}/cancel")
    assert refused.status_code == 422 and paid["number"] in _messages(refused)
    follow_ons = admin_api.get(f"/api/v1/purchase_receipt/{receipt['id']}/flow").get_json()["result"]["follow_ons"]
    assert paid["number"] in [f["number"] for f in follow_ons]


def test_the_receipt_page_pushes_a_payment_with_the_account_chosen_beside_the_button(app, admin_api, login_as):
    """下推：收付款单 on the page offers the accounts and sends the one chosen: the draft opens with it and the
    receipt's amount (pressed with none it said only 必填, and a payment could not be pushed from a page at all)."""
    supplier, _ = new_partner(admin_api, "supplier")
    (receipt,) = _receipts(admin_api, supplier, new_item(admin_api), ["33.33"])
    client = login_as("admin")
    page = client.get(f"/m/purchase_receipt/{receipt['id']}").get_data(as_text=True)
    offered = re.search(r'<select name="account"[^>]*aria-label="结算账户">(.*?)</select>', page, re.S)
    assert offered and re.search(r'<option value="(\d+)">A002 ', offered.group(1)), page[:3000]
    account = re.search(r'<option value="(\d+)">A002 ', offered.group(1)).group(1)
    pushed = client.post(
        f"/m/purchase_receipt/{receipt['id']}/push/payment", data={"csrf_token": csrf_from(page), "account": account}
    )
    assert pushed.status_code == 302 and re.search(r"/m/payment/\d+/edit$", pushed.headers["Location"]), pushed.headers
    payment_id = int(re.search(r"/m/payment/(\d+)/edit$", pushed.headers["Location"]).group(1))
    payment = admin_api.get(f"/api/v1/payment/{payment_id}").get_json()["result"]
    assert (payment["account"]["key"], payment["amount"], payment["status"]) == (
        "A002",
        receipt["total_with_tax"],
        "draft",
    )
