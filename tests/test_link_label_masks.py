"""A linked row's code and name, wherever a record names it (its JSON, the grid, its history on the page and the
timeline API), say no more than the linked row's own page and lookup: a name the reader's field masks hide
(roles.yaml `hidden_fields`) is not shown, and a row out of their scope is not named in a history line."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import Api, another_instance, unique
from tests.ledger_helpers import document, new_partner


def test_a_hidden_name_of_a_linked_row_is_not_in_the_record_the_grid_or_its_history(
    app, admin_api, login_as, monkeypatch
):
    take = document(admin_api, "stocktake", [], warehouse="WH01")
    name = admin_api.get("/api/v1/grid/lookup/warehouse", query_string={"q": "WH01"}).get_json()["results"][0]["name"]
    with another_instance(app) as started:
        roles = started.extensions["jxc_registry"].current.meta.roles
        hidden = {**roles["warehouse"].hidden_fields, "warehouse": ("name",)}
        monkeypatch.setitem(roles, "warehouse", replace(roles["warehouse"], hidden_fields=hidden))
        keeper = Api(started, "u_warehouse")
        record = keeper.get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
        assert (record["warehouse"]["key"], record["warehouse"]["name"]) == ("WH01", None)
        rows = keeper.get(f"/api/v1/grid/stocktake/rows?ids={take['id']}").get_json()["data"]
        assert (rows[0]["warehouse"]["key"], rows[0]["warehouse"]["name"]) == ("WH01", None)
        timeline = keeper.get(f"/api/v1/collab/stocktake/{take['id']}/timeline").get_data(as_text=True)
        assert "WH01" in timeline and name not in timeline
        page = login_as("warehouse", on=started).get(f"/m/stocktake/{take['id']}").get_data(as_text=True)
        history = page.split('class="table table-condensed jxc-history"', 1)[1]
        assert "WH01" in history and name not in history
        seen = Api(started, "admin").get(f"/api/v1/stocktake/{take['id']}").get_json()["result"]
        assert seen["warehouse"]["name"] == name  # a reader without the mask reads it


def test_a_link_typed_as_its_code_and_a_masked_name_is_not_matched_by_that_name(app, admin_api, monkeypatch):
    """A link is read as its code and name, as the exports write it (「WH01 主仓库」), only by a reader who sees the
    name: one whose masks hide it cannot learn it by trying names."""
    name = admin_api.get("/api/v1/grid/lookup/warehouse", query_string={"q": "WH01"}).get_json()["results"][0]["name"]
    body = {"date": "2026-11-25", "lines": [], "warehouse": f"WH01 {name}"}
    with another_instance(app) as started:
        roles = started.extensions["jxc_registry"].current.meta.roles
        hidden = {**roles["warehouse"].hidden_fields, "warehouse": ("name",)}
        monkeypatch.setitem(roles, "warehouse", replace(roles["warehouse"], hidden_fields=hidden))
        refused = Api(started, "u_warehouse").post("/api/v1/stocktake/", json=body)
        assert refused.status_code == 422, refused.get_json()
        assert refused.get_json()["message"] == {"warehouse": [f"找不到「WH01 {name}」"]}
        taken = Api(started, "admin").post("/api/v1/stocktake/", json=body)
        assert taken.status_code == 201 and taken.get_json()["result"]["warehouse"]["key"] == "WH01", taken.get_json()


def test_a_history_does_not_name_a_row_out_of_the_readers_scope(app, admin_api, api_as, login_as):
    """An order of the salesperson's moved by someone else to a customer that is not theirs: the order is still
    theirs to read, its customer reads as empty on the record, and its history does not name that customer."""
    own, _ = new_partner(admin_api, "customer", owner="u_salesperson")
    other, other_id = new_partner(admin_api, "customer", name=f"别人的客户 {unique('N')}")
    order = document(admin_api, "sales_order", [], partner=own, salesperson="u_salesperson", warehouse="WH01")
    moved = admin_api.put(f"/api/v1/sales_order/{order['id']}", json={"partner": other, "version": order["version"]})
    assert moved.status_code == 200, moved.get_json()
    seller = api_as("salesperson")
    assert seller.get(f"/api/v1/sales_order/{order['id']}").get_json()["result"]["partner"] is None
    other_name = admin_api.get(f"/api/v1/partner/{other_id}").get_json()["result"]["name"]
    page = login_as("salesperson").get(f"/m/sales_order/{order['id']}").get_data(as_text=True)
    history = page.split('class="table table-condensed jxc-history"', 1)[1]
    assert own in history and other not in history and other_name not in history
    admin_page = login_as("admin").get(f"/m/sales_order/{order['id']}").get_data(as_text=True)
    assert other_name in admin_page.split('class="table table-condensed jxc-history"', 1)[1]
