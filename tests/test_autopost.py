"""弱审核: with `approve_before_post` off, saving a document posts it (forms and API); refusals keep the draft."""

from __future__ import annotations

from decimal import Decimal as D

from tests.conftest import csrf_from
from tests.ledger_helpers import balance, new_item, receive


def test_saving_posts_when_approval_is_not_required(app, admin_api, api_as, login_as):
    sku = new_item(admin_api)
    receive(admin_api, sku, "5", "2")
    body = {
        "date": "2026-11-25",
        "partner": "K001",
        "warehouse": "WH01",
        "lines": [{"item": sku, "qty": "2", "price": "9"}],
    }
    held = admin_api.post("/api/v1/sales_delivery/", json=body)
    assert held.status_code == 201 and held.get_json()["posted"] is False
    assert held.get_json()["result"]["status"] == "draft" and balance(app, sku)[0] == D(5)
    assert admin_api.put("/api/v1/settings/approve_before_post", json={"value": False}).status_code == 200
    try:
        posted = api_as("clerk").post("/api/v1/sales_delivery/", json=body)
        assert posted.status_code == 201, posted.get_json()
        assert posted.get_json()["posted"] is True and posted.get_json()["result"]["status"] == "submitted"
        assert balance(app, sku)[0] == D(3)

        too_many = dict(body, lines=[{"item": sku, "qty": "50", "price": "9"}])
        refused = api_as("clerk").post("/api/v1/sales_delivery/", json=too_many)
        assert refused.status_code == 201 and refused.get_json()["posted"] is False
        assert refused.get_json()["post_error"] and refused.get_json()["result"]["status"] == "draft"
        assert balance(app, sku)[0] == D(3)

        browser = login_as("clerk")
        token = csrf_from(browser.get("/m/sales_delivery/new").get_data(as_text=True))
        form = {
            "csrf_token": token,
            "date": "2026-11-25",
            "partner": "K001",
            "warehouse": "WH01",
            "lines-0-item": sku,
            "lines-0-qty": "1",
            "lines-0-price": "9",
        }
        saved = browser.post("/m/sales_delivery/new", data=form, follow_redirects=True)
        assert saved.status_code == 200 and "已审核" in saved.get_data(as_text=True)
        assert balance(app, sku)[0] == D(2)
    finally:
        admin_api.put("/api/v1/settings/approve_before_post", json={"value": True})
