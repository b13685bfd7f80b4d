"""Answers built from metadata only (`/api/v1/meta/models`, a model's `_info`, the list of reports) are kept
per metadata version, language and reader's rights (`app.api.responses.kept_answer`): each reader still gets
their own answer, and what changes it (a field added live, a role or its masks, the language) shows in the
very next answer. Both backends (the `app` fixture)."""

from __future__ import annotations

import zlib
from typing import Any

from conftest import PASSWORD, Api, hide_prices, unique

EN = "en-US,en;q=0.9"
ZH = "zh-CN,zh;q=0.9"


def models(api: Any, language: str = ZH) -> dict[str, dict[str, Any]]:
    response = api.get("/api/v1/meta/models", headers={"Accept-Language": language})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {m["key"]: m for m in response.get_json()["result"]}


def item_info(api: Any, language: str = ZH) -> dict[str, Any]:
    response = api.get("/api/v1/item/_info", headers={"Accept-Language": language})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def field_names(info: dict[str, Any]) -> set[str]:
    return {f["name"] for f in info["fields"]}


def item_fields(api: Any, language: str = ZH) -> set[str]:
    return {f["name"] for f in models(api, language)["item"]["fields"]}


def new_user(app: Any, role: str) -> str:
    from app.services.users.accounts import create_user

    username = f"x_{unique('meta').lower()}"
    with app.app_context():
        create_user(username, role, PASSWORD)
    return username


def fresh_api(app: Any, role: str) -> Api:
    """A new user's client without cookies: its language is each call's Accept-Language alone (no language
    remembered for the user or kept in a session by another test)."""
    api = Api(app, new_user(app, role))
    api.client = app.test_client(use_cookies=False)
    return api


def reports(api: Any) -> set[str]:
    response = api.get("/api/v1/reports/")
    assert response.status_code == 200, response.get_data(as_text=True)
    return {r["name"] for r in response.get_json()["result"]}


def test_readers_with_other_rights_never_get_each_others_answer(api_as):
    readers = ("admin", "salesperson", "purchaser", "salesperson", "admin", "purchaser")
    first: dict[str, tuple[Any, Any, Any]] = {}
    for role in readers * 2:  # interleaved: each answer is built by one reader, then kept, then asked by another
        api = api_as(role)
        got = (models(api), item_info(api), reports(api))
        first.setdefault(role, got)
        assert got == first[role], role
    admin_models, admin_info, admin_reports = first["admin"]
    sales_models, sales_info, sales_reports = first["salesperson"]
    buyer_models, buyer_info, buyer_reports = first["purchaser"]
    assert sales_reports < admin_reports and buyer_reports < admin_reports and sales_reports != buyer_reports
    assert "purchase_price" in field_names(buyer_info) and "purchase_price" not in field_names(sales_info)
    assert "purchase_price" in {f["name"] for f in buyer_models["item"]["fields"]}
    assert "purchase_price" not in {f["name"] for f in sales_models["item"]["fields"]}
    assert set(sales_models) < set(admin_models) and set(buyer_models) < set(admin_models)
    assert set(sales_models) != set(buyer_models)
    assert "can_delete" in admin_info["permissions"] and "can_delete" not in sales_info["permissions"]


def test_field_added_live_is_in_the_next_answer(app, admin_api):
    readers = (fresh_api(app, "admin"), fresh_api(app, "clerk"))
    for api in readers:  # answers kept before the field exists
        models(api), models(api, EN), item_info(api), item_info(api, EN)
    name = unique("kept").lower()
    number = zlib.crc32(name.encode())  # a label of its own: a repeated one is refused (imports match by header)
    spec = {"name": name, "type": "text", "label": {"zh": f"产地{number}", "en": f"Origin {number}"}}
    assert admin_api.post("/api/v1/meta/item/fields", json=spec).status_code == 201
    for api in readers:
        for language, text in ((ZH, f"产地{number}"), (EN, f"Origin {number}")):
            assert {f["name"]: f["label"] for f in item_info(api, language)["fields"]}[name] == text
            assert name in item_fields(api, language)


def test_labels_follow_the_language_of_each_call(app):
    api = fresh_api(app, "manager")
    for _ in range(2):  # the second round answers from what the first kept
        zh, en = item_info(api, ZH), item_info(api, EN)
        assert {f["name"]: f["label"] for f in zh["fields"]}["sku"] == "商品编码"
        assert {f["name"]: f["label"] for f in en["fields"]}["sku"] == "SKU"
        assert models(api, ZH)["item"]["label"] == "商品" and models(api, EN)["item"]["label"] == "Item"


def test_price_mask_switched_on_shows_at_once(app, admin_api, api_as):
    clerk, manager = api_as("clerk"), api_as("manager")
    assert "sale_price" in field_names(item_info(clerk)) and "sale_price" in item_fields(clerk)
    hide_prices(app, ["clerk"])
    try:
        assert "sale_price" not in field_names(item_info(clerk)) and "sale_price" not in item_fields(clerk)
        assert "sale_price" in field_names(item_info(manager)) and "sale_price" in item_fields(manager)
    finally:
        assert admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []}).status_code == 200
    assert "sale_price" in field_names(item_info(clerk)) and "sale_price" in item_fields(clerk)


def test_a_users_new_role_shows_at_once(app, api_as):
    from app.extensions import db

    username = new_user(app, "salesperson")
    api = api_as(username)
    before = item_info(api)
    assert "purchase_price" not in field_names(before) and "purchase_price" not in item_fields(api)
    with app.app_context():
        sm = app.appbuilder.sm
        sm.find_user(username=username).roles = [sm.find_role("purchaser")]
        db.session.commit()
    assert "purchase_price" in field_names(item_info(api)) and "purchase_price" in item_fields(api)
