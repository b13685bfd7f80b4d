"""A new 往来单位 of a salesperson is a 客户 and a purchaser's a 供应商 when they leave 单位类型 blank: the one kind
wholly on the sides their role reads (roles.yaml `sides`, `Access.own_side`), preset on the form and filled by the
one write path (API, form, grid); whoever reads every side (a clerk, an admin) still chooses."""

from __future__ import annotations

import re

from tests.conftest import csrf_from, unique


def _kind_chosen(page: str) -> str:
    found = re.search(r'<select[^>]*id="f-kind".*?</select>', page, re.S)
    assert found, page[:500]
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', found.group(0))
    return chosen.group(1) if chosen else ""


def test_a_salespersons_new_partner_is_a_customer(admin_api, api_as, login_as):
    seller = login_as("salesperson")
    page = seller.get("/m/partner/new").get_data(as_text=True)
    assert _kind_chosen(page) == "customer"
    code = unique("KS")
    saved = seller.post("/m/partner/new", data={"csrf_token": csrf_from(page), "code": code, "name": "新客户 " + code})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:1500]
    pk = int(saved.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    made = admin_api.get(f"/api/v1/partner/{pk}").get_json()["result"]
    assert made["kind"] == "customer" and made["owner"]["key"] == "u_salesperson"

    by_api = api_as("salesperson").post("/api/v1/partner/", json={"code": unique("KA"), "name": "接口客户"})
    assert by_api.status_code == 201, by_api.get_json()
    assert by_api.get_json()["result"]["kind"] == "customer"
    grid_code = unique("KG")
    by_grid = api_as("salesperson").post(
        "/api/v1/grid/partner/batch",
        json={
            "client_batch_id": unique("b"),
            "source": "edit",
            "ops": [{"op": "create", "tmp_id": "n1", "values": {"code": grid_code, "name": "表格客户"}}],
        },
    )
    assert by_grid.status_code == 200, by_grid.get_json()
    found = admin_api.get(f"/api/v1/partner/?q=(filters:!((col:code,opr:eq,value:{grid_code})))").get_json()
    assert [row["kind"] for row in found["result"]] == ["customer"]


def test_a_purchasers_new_partner_is_a_supplier_and_a_clerk_still_chooses(api_as, login_as):
    assert _kind_chosen(login_as("purchaser").get("/m/partner/new").get_data(as_text=True)) == "supplier"
    made = api_as("purchaser").post("/api/v1/partner/", json={"code": unique("SA"), "name": "接口供应商"})
    assert made.status_code == 201 and made.get_json()["result"]["kind"] == "supplier"
    assert _kind_chosen(login_as("clerk").get("/m/partner/new").get_data(as_text=True)) == ""
    refused = api_as("clerk").post("/api/v1/partner/", json={"code": unique("CA"), "name": "未选类型"})
    assert refused.status_code == 422 and "kind" in refused.get_json()["message"]
