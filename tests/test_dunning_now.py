"""催款 by hand: finance (and a salesperson, for their own customers) mails one customer what is overdue now, from
the account page and the API, through the 催款 schedule's builder and the mail queue (aiosmtpd on loopback, the
clock moved by JXC_CLOCK), on SQLite and PostgreSQL; a customer without an address or with nothing overdue is
answered in words, and the reminder is on the customer's 催款记录 and the asker's bell."""

from __future__ import annotations

from typing import Any

from conftest import _csrf_from
from ledger_helpers import new_item, new_partner, post, receive
from test_alerts import DUE_DAY
from test_schedules import wait_run


def customer_owing(admin_api: Any, sku: str, date: str, **fields: Any) -> tuple[str, int, dict[str, Any]]:
    """A customer (5 days' terms) with one delivery of that date: (code, id, the delivery)."""
    code, pk = new_partner(admin_api, "customer", payment_terms_days=5, **fields)
    lines = [{"item": sku, "qty": "1", "price": "40"}]
    sold = post(admin_api, "sales_delivery", lines, partner=code, warehouse="WH01", date=date)
    return code, pk, sold


def bell_texts(api: Any) -> list[str]:
    return [n["text"] for n in api.get("/api/v1/notifications/").get_json()["result"]]


def test_finance_sends_a_reminder_now_through_the_dunning_path(app, admin_api, api_as, smtp, login_as, monkeypatch):
    monkeypatch.setenv("JXC_CLOCK", DUE_DAY)  # 5 December
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "5")
    code, pk, sold = customer_owing(admin_api, sku, "2026-11-25", email="pay@late.example", owner="u_salesperson")
    finance = api_as("finance")
    answer = finance.post(f"/api/v1/accounts/{pk}/dunning")
    assert answer.status_code == 202, answer.get_json()
    assert f"已把催款邮件交给邮件队列，发往客户 {code}" in answer.get_json()["message"]
    assert wait_run(app, answer.get_json()["run_id"]).status == "done"
    (mail,) = smtp.about(f"往来单位 {code}")
    assert str(mail["To"]) == "pay@late.example"
    body = mail.get_body(("plain",)).get_content()
    assert sold["number"] in body and "2026-11-30" in body and "逾期 5 天" in body  # due 25 November + 5 days
    assert any(p.get_filename().endswith(".xlsx") for p in mail.iter_attachments())  # the statement
    assert any(f"催款邮件已发给客户 {code}" in text for text in bell_texts(finance))
    page = login_as("finance").get(f"/accounts/{pk}").get_data(as_text=True)
    assert "pay@late.example" in page and "手动" in page
    # asked again by hand, it is sent again (the scheduled run reminds a step once; a person asked)
    again = finance.post(f"/api/v1/accounts/{pk}/dunning")
    assert wait_run(app, again.get_json()["run_id"]).status == "done"
    assert len(smtp.about(f"往来单位 {code}")) == 2
    # the salesperson for their own customer; another's customer is not theirs to see
    seller = api_as("salesperson")
    assert seller.post(f"/api/v1/accounts/{pk}/dunning").status_code == 202
    other, other_pk, _ = customer_owing(admin_api, sku, "2026-11-25", email="x@other.example")
    assert seller.post(f"/api/v1/accounts/{other_pk}/dunning").status_code == 404
    assert api_as("purchaser").post(f"/api/v1/accounts/{pk}/dunning").status_code == 403


def test_a_reminder_now_is_refused_in_words_without_an_address_or_anything_overdue(
    app, admin_api, api_as, smtp, login_as, monkeypatch
):
    monkeypatch.setenv("JXC_CLOCK", DUE_DAY)
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "5")
    finance = api_as("finance")
    unaddressed, pk, _ = customer_owing(admin_api, sku, "2026-11-25", phone="13900139000")
    answer = finance.post(f"/api/v1/accounts/{pk}/dunning")
    assert answer.status_code == 422
    message = answer.get_json()["message"]
    assert f"客户 {unaddressed} 往来单位 {unaddressed} 没有邮箱地址" in message and "13900139000" in message
    early, early_pk, _ = customer_owing(admin_api, sku, "2026-12-01", email="early@payer.example")  # due 6 Dec
    answer = finance.post(f"/api/v1/accounts/{early_pk}/dunning")
    assert answer.status_code == 422
    assert f"客户 {early} 往来单位 {early} 没有逾期未付的款项，无需催款" in answer.get_json()["message"]
    assert smtp.about(f"往来单位 {early}") == [] and smtp.about(f"往来单位 {unaddressed}") == []
    client = login_as("finance")  # the page says the same
    page = client.get(f"/accounts/{early_pk}").get_data(as_text=True)
    shown = client.post(f"/accounts/{early_pk}/dunning", data={"csrf_token": _csrf_from(page)}, follow_redirects=True)
    assert "没有逾期未付的款项，无需催款" in shown.get_data(as_text=True)


def test_the_overdue_list_and_the_phones_customer_page_offer_the_reminder_to_whoever_may_send_it(
    app, admin_api, smtp, login_as, monkeypatch
):
    """逾期应收 has the account page's 催款 on each customer's row, answered back on the list; the phone's customer page
    (its statement) has it for whoever reads receivables, not for a purchaser."""
    monkeypatch.setenv("JXC_CLOCK", DUE_DAY)
    sku = new_item(admin_api)
    receive(admin_api, sku, "10", "5")
    code, pk, _ = customer_owing(admin_api, sku, "2026-11-25", email="list@late.example")
    client = login_as("finance")
    listing = client.get("/accounts/overdue").get_data(as_text=True)
    assert f'data-dunning="{code}"' in listing
    form = {"csrf_token": _csrf_from(listing), "back": "overdue"}
    shown = client.post(f"/accounts/{pk}/dunning", data=form)
    assert shown.status_code == 302 and shown.headers["Location"].endswith("/accounts/overdue")
    page = client.get("/accounts/overdue").get_data(as_text=True)
    assert f"已把催款邮件交给邮件队列，发往客户 {code}" in page
    phone = client.get(f"/phone/customer/{pk}").get_data(as_text=True)
    assert f'data-dunning="/api/v1/accounts/{pk}/dunning"' in phone
    assert "data-dunning" not in login_as("purchaser").get(f"/phone/customer/{pk}").get_data(as_text=True)
