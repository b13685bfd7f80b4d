"""The grid API on SQLite and PostgreSQL: Tabulator paging, batch saves (all or nothing, every cell error,
conflicts, retries), server-side undo / redo, masks and scope, the change feed, lookups, layouts and the
xlsx export of the current view.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from tests.conftest import csrf_from, unique
from tests.ledger_helpers import post

BATCH = "/api/v1/grid/item/batch"


def new_items(api: Any, count: int, tag: str, **fields: Any) -> list[dict[str, Any]]:
    """Create `count` items named after `tag` through one grid batch; return their rows."""
    ops = [
        {
            "op": "create",
            "tmp_id": f"t{i}",
            "values": {"sku": f"{tag}-{i:04d}", "name": f"网格测试 {tag} {i}", "unit": "PCS", **fields},
        }
        for i in range(count)
    ]
    response = save(api, ops, source="paste")
    assert response.status_code == 200, response.get_json()
    rows = response.get_json()["rows"]
    assert [r["tmp_id"] for r in rows] == [f"t{i}" for i in range(count)]
    return rows


def new_complaints(api: Any, count: int, tag: str, **fields: Any) -> list[dict[str, Any]]:
    """Create `count` complaints numbered after `tag` through one grid batch (a model with an amount: 补偿金额)."""
    ops = [
        {
            "op": "create",
            "tmp_id": f"t{i}",
            "values": {
                "number": f"{tag}-{i:04d}",
                "summary": f"网格测试 {tag} {i}",
                "partner": "K001",
                "type": "quality",
            }
            | fields,
        }
        for i in range(count)
    ]
    response = save(api, ops, source="paste", url="/api/v1/grid/complaint/batch")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["rows"]


def save(api: Any, ops: list[dict[str, Any]], source: str = "edit", batch_id: str | None = None, url: str = BATCH):
    return api.post(url, json={"client_batch_id": batch_id or uuid.uuid4().hex, "source": source, "ops": ops})


def rows(api: Any, model: str = "item", **params: Any) -> dict[str, Any]:
    response = api.get(f"/api/v1/grid/{model}/rows", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def tag_filter(tag: str) -> dict[str, str]:
    return {"filter[0][field]": "sku", "filter[0][type]": "like", "filter[0][value]": tag}


def item(api: Any, pk: int) -> dict[str, Any]:
    return api.get(f"/api/v1/item/{pk}").get_json()["result"]


def undo(api: Any, batch_id: int):
    return api.post(f"/api/v1/grid/batches/{batch_id}/undo", json={"client_batch_id": uuid.uuid4().hex})


def test_rows_follow_tabulator_paging_sorting_and_filters(admin_api):
    tag = unique("GR")
    new_items(admin_api, 7, tag, sale_price="1.10", safety_stock="1.5")
    params = {"page": 2, "size": 3, "sort[0][field]": "sku", "sort[0][dir]": "desc", **tag_filter(tag)}
    page = rows(admin_api, **params)
    assert (page["last_page"], page["last_row"]) == (3, 7)
    assert [r["sku"] for r in page["data"]] == [f"{tag}-0003", f"{tag}-0002", f"{tag}-0001"]
    assert all(isinstance(r["id"], int) and r["version"] == 1 and r["_readonly"] is False for r in page["data"])
    assert page["data"][0]["unit"]["key"] == "PCS"
    # a unit price adds up to nothing, nor does an item's 安全库存 (a level of its own); amounts: test_sums
    assert "sale_price" not in page["sums"] and "safety_stock" not in page["sums"]
    ids = admin_api.get("/api/v1/grid/item/ids", query_string={**params, "start": 2, "count": 4}).get_json()
    assert ids["total"] == 7
    assert [r["id"] for r in ids["rows"][:3]] == [r["id"] for r in rows(admin_api, **dict(params, page=1))["data"]][
        2:
    ] + [
        page["data"][0]["id"],
        page["data"][1]["id"],
    ]
    by_unit = rows(
        admin_api,
        **{**tag_filter(tag), "filter[1][field]": "unit", "filter[1][type]": "like", "filter[1][value]": "个"},
    )
    assert by_unit["last_row"] == 7  # a link column is filtered by its key or name


def test_a_page_is_encoded_as_jsonify_would_encode_it(app):
    """Grid pages are encoded by orjson (fast_json): the same JSON as Flask's jsonify, values orjson would write
    its own way (dates, decimals) included, and the trailing newline."""
    from flask import jsonify

    from app.api.responses import fast_json

    payload = {
        "data": [
            {"id": 1, "name": '网格 "引号" \\ \u2028', "price": Decimal("1.10"), "n": 2**40, "f": 0.1, "ok": True},
            {"id": 2, "day": dt.date(2026, 1, 2), "at": dt.datetime(2026, 1, 2, 3, 4, 5), "none": None, "list": []},
        ],
        7: "a key that is a number",
        "sums": {"shelf_life_days": Decimal("22473"), "tax_rate": None},
    }
    with app.test_request_context():
        fast, slow = fast_json(payload), jsonify(payload)
    assert fast.mimetype == slow.mimetype == "application/json"
    assert json.loads(fast.get_data()) == json.loads(slow.get_data())
    assert json.loads(fast.get_data())["sums"]["shelf_life_days"] == "22473"
    assert fast.get_data().endswith(b"}\n")


@pytest.mark.parametrize(
    "params",
    [
        {"sort[0][field]": "no_such_field", "sort[0][dir]": "asc"},
        {"filter[0][field]": "name); drop table item; --", "filter[0][type]": "=", "filter[0][value]": "x"},
        {"filter[0][field]": "active", "filter[0][type]": "like", "filter[0][value]": "x"},
    ],
)
def test_rows_refuse_unknown_fields_and_operators(admin_api, params):
    response = admin_api.get("/api/v1/grid/item/rows", query_string=params)
    assert response.status_code == 400
    assert response.get_json()["message"]


def test_a_filter_on_a_linked_rows_field_is_named_by_its_labels(admin_api, login_as):
    """A filter on a field of a linked row (`partner.name`, `item.category.code`) is refused naming it as a person reads
    it, 客户 · 名称, in the grid's answer, a list page's filter and a schedule's parameters, never by the dotted key."""
    grid = admin_api.get(
        "/api/v1/grid/sales_order_line/rows",
        query_string={"filter[0][field]": "item.category.code", "filter[0][type]": "=", "filter[0][value]": "C01"},
    )
    assert grid.status_code == 400 and grid.get_json()["message"] == "不能按「商品 · 商品分类 · 分类编码」筛选"
    page = login_as("admin").get("/m/sales_order/", query_string={"filter": "partner.name:惠民"})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and "不能按「客户 · 单位名称」筛选" in text and "partner.name" not in text
    body = {"name": unique("dot").lower(), "kind": "report", "cron": "0 8 * * 1", "recipients": ["admin"]}
    params = {"report": "sales_order", "filters": {"partner.name": "惠民"}}
    saved = admin_api.post("/api/v1/schedules/", json=body | {"params": params})
    assert saved.status_code == 422 and "不能按「客户 · 单位名称」筛选" in str(saved.get_json()), saved.get_json()


def test_batch_parses_spreadsheet_text_and_saves_all_rows(app, admin_api):
    tag = unique("GP")
    created = new_items(admin_api, 3, tag)
    ops = [
        {"op": "update", "id": created[0]["id"], "version": 1, "values": {"sale_price": "1,234.50"}},
        {"op": "update", "id": created[1]["id"], "version": 1, "values": {"sale_price": "¥1,200", "unit": "个"}},
        {"op": "update", "id": created[2]["id"], "version": 1, "values": {"sale_price": "１２．５", "name": "新\t名"}},
    ]
    response = save(admin_api, ops, source="paste")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [r["version"] for r in body["rows"]] == [2, 2, 2]
    assert [item(admin_api, r["id"])["sale_price"] for r in created] == ["1234.50", "1200.00", "12.50"]
    assert item(admin_api, created[2]["id"])["name"] == "新\t名"
    history = admin_api.get(f"/api/v1/item/{created[0]['id']}/history").get_json()
    assert history["result"][0]["action"] == "update"


def test_every_bad_cell_is_reported_and_nothing_is_saved(admin_api):
    tag = unique("GB")
    created = new_items(admin_api, 4, tag)
    ops = [
        {"op": "update", "id": created[0]["id"], "version": 1, "values": {"sale_price": "abc"}},
        {"op": "update", "id": created[1]["id"], "version": 1, "values": {"sale_price": "9.99"}},
        {"op": "update", "id": created[2]["id"], "version": 1, "values": {"unit": "NO-SUCH-UNIT"}},
        {"op": "update", "id": created[3]["id"], "version": 1, "values": {"sale_price": "-1"}},
        {"op": "create", "tmp_id": "n1", "values": {"sku": "", "name": "缺编码", "unit": "PCS"}},
    ]
    response = save(admin_api, ops)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    cells = {(e.get("id") or e.get("tmp_id"), e["field"]) for e in errors}
    assert cells == {
        (created[0]["id"], "sale_price"),
        (created[2]["id"], "unit"),
        (created[3]["id"], "sale_price"),
        ("n1", "sku"),
    }
    assert all(e["message"] for e in errors)
    assert "4" in response.get_json()["message"]
    assert item(admin_api, created[1]["id"])["sale_price"] is None  # the good cell was not saved either
    assert rows(admin_api, **tag_filter(tag))["last_row"] == 4


def test_stale_versions_are_conflicts_with_current_values(admin_api):
    created = new_items(admin_api, 2, unique("GC"))
    first = created[0]
    assert (
        save(admin_api, [{"op": "update", "id": first["id"], "version": 1, "values": {"spec": "A"}}]).status_code == 200
    )
    stale = [
        {"op": "update", "id": created[1]["id"], "version": 1, "values": {"spec": "ok"}},
        {"op": "update", "id": first["id"], "version": 1, "values": {"spec": "B"}},
    ]
    response = save(admin_api, stale)
    assert response.status_code == 409
    conflicts = response.get_json()["conflicts"]
    assert conflicts == [{"id": first["id"], "current": conflicts[0]["current"]}]
    assert conflicts[0]["current"]["spec"] == "A" and conflicts[0]["current"]["version"] == 2
    assert item(admin_api, created[1]["id"])["spec"] is None
    overwrite = [dict(stale[1], version=2)]
    assert save(admin_api, overwrite).status_code == 200
    assert item(admin_api, first["id"])["spec"] == "B"


def test_unique_values_are_checked_against_the_rows_before_them_in_the_batch(admin_api):
    tag = unique("GQ")
    created = new_items(admin_api, 3, tag)
    pasted = [
        {"op": "create", "tmp_id": "a", "values": {"sku": f"{tag}-NEW", "name": "甲", "unit": "PCS"}},
        {"op": "create", "tmp_id": "b", "values": {"sku": f"{tag}-NEW", "name": "乙", "unit": "PCS"}},
    ]
    response = save(admin_api, pasted, source="paste")
    assert response.status_code == 422, response.get_json()
    assert [(e.get("tmp_id"), e["field"]) for e in response.get_json()["errors"]] == [("b", "sku")]

    first, second, third = created
    ops = [
        {"op": "update", "id": first["id"], "version": 1, "values": {"sku": f"{tag}-SAME"}},
        {"op": "update", "id": second["id"], "version": 1, "values": {"sku": f"{tag}-SAME"}},
        {"op": "update", "id": third["id"], "version": 1, "values": {"sku": first["sku"]}},  # freed by the first
    ]
    response = save(admin_api, ops, source="paste")
    assert response.status_code == 422, response.get_json()
    assert [(e.get("id"), e["field"]) for e in response.get_json()["errors"]] == [(second["id"], "sku")]
    assert [item(admin_api, r["id"])["sku"] for r in created] == [r["sku"] for r in created]  # nothing saved
    assert rows(admin_api, **tag_filter(f"{tag}-NEW"))["last_row"] == 0

    response = save(admin_api, [ops[0], ops[2]], source="paste")
    assert response.status_code == 200, response.get_json()
    assert [item(admin_api, r["id"])["sku"] for r in created] == [f"{tag}-SAME", second["sku"], first["sku"]]
    assert [r["version"] for r in response.get_json()["rows"]] == [2, 2]


def test_a_duplicate_composite_key_is_reported_on_its_row(admin_api):
    category = rows(admin_api, model="category", size=1)["data"][0]["code"]
    url = "/api/v1/grid/budget/batch"
    values = [{"period": f"2091-0{month}", "category": category, "amount": "5"} for month in (1, 2, 3)]
    created = save(admin_api, [{"op": "create", "tmp_id": str(i), "values": v} for i, v in enumerate(values)], url=url)
    assert created.status_code == 200, created.get_json()
    first, second, third = created.get_json()["rows"]
    ops = [
        {"op": "update", "id": first["id"], "values": {"amount": "7"}},
        {"op": "update", "id": second["id"], "values": {"period": "2091-03"}},  # the third row's pair
        {"op": "update", "id": third["id"], "values": {"amount": "9"}},
    ]
    response = save(admin_api, ops, url=url)
    assert response.status_code == 422, response.get_json()
    assert [e.get("id") for e in response.get_json()["errors"]] == [second["id"]]
    assert admin_api.get(f"/api/v1/budget/{first['id']}").get_json()["result"]["amount"] == "5.00"


def test_a_row_changed_twice_in_one_batch_is_a_conflict_on_its_old_version(admin_api):
    row = new_items(admin_api, 1, unique("GT"))[0]
    twice = [{"op": "update", "id": row["id"], "version": 1, "values": {"spec": spec}} for spec in ("A", "B")]
    response = save(admin_api, twice)
    assert response.status_code == 409
    assert [c["id"] for c in response.get_json()["conflicts"]] == [row["id"]]
    assert item(admin_api, row["id"])["spec"] is None and item(admin_api, row["id"])["version"] == 1


def test_rows_a_batch_would_move_out_of_the_users_scope_are_cell_errors(api_as):
    sales = api_as("salesperson")
    theirs = {p["code"]: p for p in rows(sales, model="partner", size=100)["data"]}
    ops = [
        {"op": "update", "id": theirs["K001"]["id"], "values": {"owner": "admin"}},
        {"op": "update", "id": theirs["K002"]["id"], "values": {"remark": unique("R")}},
    ]
    response = save(sales, ops, url="/api/v1/grid/partner/batch")
    assert response.status_code == 422, response.get_json()
    assert [(e.get("id"), e["field"]) for e in response.get_json()["errors"]] == [(theirs["K001"]["id"], "owner")]
    after = {p["code"]: p for p in rows(sales, model="partner", size=100)["data"]}
    assert after["K001"]["version"] == theirs["K001"]["version"]
    assert after["K002"]["remark"] == theirs["K002"]["remark"]


def test_a_retried_batch_is_saved_once(admin_api):
    created = new_items(admin_api, 1, unique("GI"))[0]
    batch_id = uuid.uuid4().hex
    sku = unique("GI")
    ops = [
        {"op": "update", "id": created["id"], "values": {"spec": "once"}},
        {"op": "create", "tmp_id": "t-new", "values": {"sku": sku, "name": "重试", "unit": "PCS"}},
    ]
    first = save(admin_api, ops, batch_id=batch_id)
    again = save(admin_api, ops, batch_id=batch_id)
    assert first.status_code == again.status_code == 200
    assert again.get_json()["replayed"] is True and again.get_json()["batch_id"] == first.get_json()["batch_id"]
    assert item(admin_api, created["id"])["version"] == 2
    assert rows(admin_api, **tag_filter(sku))["last_row"] == 1
    created_again = [r for r in again.get_json()["rows"] if r.get("tmp_id") == "t-new"]
    assert len(created_again) == 1 and created_again[0]["sku"] == sku  # the client can match its new row


def test_undo_and_redo_of_a_paste_and_refusal_naming_changed_cells(admin_api):
    tag = unique("GU")
    created = new_items(admin_api, 3, tag, sale_price="5")
    paste = [
        {"op": "update", "id": r["id"], "version": 1, "values": {"sale_price": str(10 + i)}}
        for i, r in enumerate(created)
    ]
    paste.append({"op": "create", "tmp_id": "x", "values": {"sku": f"{tag}-NEW", "name": "新增", "unit": "PCS"}})
    saved = save(admin_api, paste, source="paste").get_json()
    new_id = next(r["id"] for r in saved["rows"] if r.get("tmp_id") == "x")
    stacks = admin_api.get("/api/v1/grid/item/batches").get_json()
    assert stacks["undo"][0] == saved["batch_id"] and stacks["redo"] == []

    undone = undo(admin_api, saved["batch_id"])
    assert undone.status_code == 200, undone.get_json()
    assert [item(admin_api, r["id"])["sale_price"] for r in created] == ["5.00"] * 3
    assert admin_api.get(f"/api/v1/item/{new_id}").status_code == 404
    assert undo(admin_api, saved["batch_id"]).status_code == 409  # already undone
    stacks = admin_api.get("/api/v1/grid/item/batches").get_json()
    assert stacks["redo"][0] == undone.get_json()["batch_id"]

    redone = undo(admin_api, undone.get_json()["batch_id"])
    assert redone.status_code == 200, redone.get_json()
    assert [item(admin_api, r["id"])["sale_price"] for r in created] == ["10.00", "11.00", "12.00"]
    assert rows(admin_api, **tag_filter(f"{tag}-NEW"))["last_row"] == 1

    current = item(admin_api, created[1]["id"])
    assert (
        save(
            admin_api,
            [{"op": "update", "id": current["id"], "version": current["version"], "values": {"sale_price": "99"}}],
        ).status_code
        == 200
    )
    refused = undo(admin_api, redone.get_json()["batch_id"])
    assert refused.status_code == 409
    assert refused.get_json()["conflicts"] == [
        {"id": created[1]["id"], "field": "sale_price", "key": f"{tag}-0001", "label": "零售价"}
    ]
    assert f"{tag}-0001" in refused.get_json()["message"]
    assert item(admin_api, created[0]["id"])["sale_price"] == "10.00"  # nothing undone


def test_undo_of_a_delete_brings_the_row_back(admin_api):
    tag = unique("GD")
    created = new_items(admin_api, 2, tag, spec="规格")
    deleted = save(admin_api, [{"op": "delete", "id": r["id"], "version": 1} for r in created], source="delete")
    assert deleted.status_code == 200 and sorted(deleted.get_json()["deleted"]) == sorted(r["id"] for r in created)
    assert rows(admin_api, **tag_filter(tag))["last_row"] == 0
    assert undo(admin_api, deleted.get_json()["batch_id"]).status_code == 200
    back = rows(admin_api, **tag_filter(tag), **{"sort[0][field]": "sku", "sort[0][dir]": "asc"})["data"]
    assert [(r["sku"], r["spec"], r["unit"]["key"]) for r in back] == [
        (f"{tag}-0000", "规格", "PCS"),
        (f"{tag}-0001", "规格", "PCS"),
    ]


def test_one_undo_step_for_a_thousand_row_paste(admin_api):
    tag = unique("GK")
    created = new_items(admin_api, 1000, tag)
    response = save(
        admin_api, [{"op": "update", "id": r["id"], "version": 1, "values": {"spec": "批量"}} for r in created], "paste"
    )
    assert response.status_code == 200 and len(response.get_json()["rows"]) == 1000
    assert undo(admin_api, response.get_json()["batch_id"]).status_code == 200
    page = rows(admin_api, size=1000, **tag_filter(tag))
    assert page["last_row"] == 1000 and {r["spec"] for r in page["data"]} == {None}


def test_a_middle_page_counts_its_view_with_its_rows(admin_api):
    """The view's count comes with a page's rows (capped at COUNT_EXACT_UP_TO + 1): exact at or below the cap,
    by offset and by keyset alike; past the cap the plan's estimate decides, and a small view is counted."""
    tag = unique("GC")
    created = new_items(admin_api, 1000, tag)
    small = {"filter[0][field]": "sku", "filter[0][type]": "like", "filter[0][value]": f"{tag}-00"}
    page = rows(admin_api, page=2, size=40, **small)  # 100 of them: GC..-0000 .. -0099
    assert (page["last_row"], page["last_row_exact"], page["last_page"], len(page["data"])) == (100, True, 3, 40)
    after = rows(admin_api, page=2, size=20, after=page["data"][19]["id"], **small)  # the page after row 60
    assert (after["last_row"], after["last_row_exact"], after["last_page"]) == (100, True, 5)
    assert [r["sku"] for r in after["data"]] == [f"{tag}-{i:04d}" for i in range(60, 80)]
    at_cap = rows(admin_api, page=2, size=100, **tag_filter(tag))
    assert (at_cap["last_row"], at_cap["last_row_exact"], at_cap["last_page"]) == (1000, True, 10)
    new_items(admin_api, 5, f"{tag}-X")  # 1,005: past the cap, counted again (the estimate is far below 10,000)
    past = rows(admin_api, page=3, size=100, **tag_filter(tag))
    assert (past["last_row"], past["last_row_exact"], past["last_page"]) == (1005, True, 11)
    assert [r["id"] for r in past["data"]] == [r["id"] for r in created[200:300]]


def test_masks_scope_posted_documents_and_the_ledger(app, admin_api, api_as):
    sales = api_as("salesperson")
    data = rows(sales, size=5)["data"]
    assert data and "purchase_price" not in data[0] and "cost_price" not in data[0]
    assert sales.get("/api/v1/grid/item/rows", query_string={"sort[0][field]": "purchase_price"}).status_code == 400
    assert save(sales, [{"op": "update", "id": data[0]["id"], "values": {"name": "x"}}]).status_code == 403

    partners = rows(sales, model="partner", size=100)["data"]
    assert {p["code"] for p in partners} <= {"K001", "K002"} or all(
        p["owner"]["key"] == "u_salesperson" for p in partners
    )
    other = rows(
        admin_api, model="partner", **{"filter[0][field]": "code", "filter[0][type]": "=", "filter[0][value]": "K003"}
    )
    out_of_scope = {"op": "update", "id": other["data"][0]["id"], "values": {"name": "偷改"}}
    refused = save(sales, [out_of_scope], url="/api/v1/grid/partner/batch")
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["message"] == "记录不存在"

    sku = new_items(admin_api, 1, unique("GL"))[0]["sku"]
    doc = post(admin_api, "purchase_receipt", [{"item": sku, "qty": "1", "price": "1"}], warehouse="WH01")
    grid_doc = rows(admin_api, model="purchase_receipt", ids=str(doc["id"]))["data"][0]
    assert grid_doc["_readonly"] is True
    change = {"op": "update", "id": doc["id"], "values": {"remark": "改"}}
    assert save(admin_api, [change], url="/api/v1/grid/purchase_receipt/batch").status_code == 422
    assert (
        save(admin_api, [{"op": "delete", "id": doc["id"]}], url="/api/v1/grid/purchase_receipt/batch").status_code
        == 422
    )
    move = rows(admin_api, model="stock_move", size=1)["data"][0]
    assert save(admin_api, [{"op": "delete", "id": move["id"]}], url="/api/v1/grid/stock_move/batch").status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"client_batch_id": "", "ops": []},
        {"client_batch_id": "a", "source": "magic", "ops": []},
        {"client_batch_id": "a", "ops": [{"op": "truncate"}]},
        {"client_batch_id": "a", "ops": [{"op": "update", "id": "1", "values": {}}]},
        {"client_batch_id": "a", "ops": [{"op": "create", "values": {}}] * 5001},
    ],
)
def test_malformed_and_oversized_batches_are_refused(admin_api, body):
    response = admin_api.post(BATCH, json=body)
    assert response.status_code == 400
    assert response.get_json()["message"]


def test_change_feed_lookup_and_layout(app, admin_api, api_as, login_as):
    cursor = admin_api.get("/api/v1/grid/item/changes").get_json()["cursor"]
    created = new_items(admin_api, 2, unique("GF"))
    save(admin_api, [{"op": "delete", "id": created[1]["id"], "version": 1}])
    feed = admin_api.get("/api/v1/grid/item/changes", query_string={"since": cursor}).get_json()
    assert feed["changed"] == [created[0]["id"]] and feed["deleted"] == [created[1]["id"]]
    assert feed["cursor"] > cursor
    again = admin_api.get("/api/v1/grid/item/changes", query_string={"since": feed["cursor"]}).get_json()
    assert again["changed"] == [] and again["deleted"] == []
    cursor = feed["cursor"]
    partners = rows(admin_api, model="partner", size=100)["data"]
    theirs = next(p for p in partners if p["code"] == "K001")
    other = next(p for p in partners if p["code"] == "K003")
    for partner in (theirs, other):
        update = {"op": "update", "id": partner["id"], "values": {"remark": unique("R")}}
        assert save(admin_api, [update], url="/api/v1/grid/partner/batch").status_code == 200
    seen = api_as("salesperson").get("/api/v1/grid/partner/changes", query_string={"since": cursor}).get_json()
    assert seen["changed"] == [theirs["id"]]  # the other customer's id is not revealed

    found = admin_api.get("/api/v1/grid/lookup/item", query_string={"q": created[0]["sku"]}).get_json()["results"]
    assert found == [{"id": created[0]["id"], "key": created[0]["sku"], "name": created[0]["name"]}]
    by_pinyin = admin_api.get("/api/v1/grid/lookup/item", query_string={"q": "wgcs"}).get_json()["results"]
    assert by_pinyin and all("网格测试" in r["name"] for r in by_pinyin)

    layout = [{"field": "name", "width": 300, "visible": True}, {"field": "spec", "width": 90, "visible": False}]
    browser = login_as("admin")
    page = browser.get("/grid/item/")
    assert page.status_code == 200
    token = csrf_from(
        page.get_data(as_text=True).replace("&#34;", '"').replace('"csrf_token": "', 'name="csrf_token" value="')
    )
    assert browser.put("/api/v1/grid/item/layout", json={"columns": layout}).status_code == 400  # no CSRF token
    saved = browser.put("/api/v1/grid/item/layout", json={"columns": layout}, headers={"X-CSRFToken": token})
    assert saved.status_code == 200
    assert "&#34;width&#34;: 300" in browser.get("/grid/item/").get_data(as_text=True)


def test_grid_page_needs_sign_in_and_a_readable_model(app, login_as):
    assert app.test_client().get("/grid/item/").status_code == 302
    assert login_as("admin").get("/grid/no_such_model/").status_code == 404
    assert login_as("warehouse").get("/grid/budget/").status_code == 404
    assert app.test_client().get("/api/v1/grid/item/rows").status_code == 401


def test_a_grid_of_lines_names_each_lines_document_and_filters_sorts_and_exports_by_it(admin_api):
    """销售出库单明细: each line's `parent` is its document by number ({id, key}); the grid filters (`like` on the
    number typed), sorts and exports by it as by any link, and the lines' own API answers it; a document's own
    answer does not repeat it in its lines."""
    tag = unique("PL")
    skus = [item["sku"] for item in new_items(admin_api, 3, tag)]
    made = []
    for lines in ([skus[0]], skus[1:]):
        body = {"partner": "K001", "warehouse": "WH01", "lines": [{"item": s, "qty": "1", "price": "2"} for s in lines]}
        response = admin_api.post("/api/v1/sales_delivery/", json=body)
        assert response.status_code == 201, response.get_json()
        made.append(response.get_json()["result"])
    assert all("parent" not in line for line in made[1]["lines"])
    mine = {"filter[0][field]": "item", "filter[0][type]": "like", "filter[0][value]": tag}
    by_number = {"filter[1][field]": "parent", "filter[1][type]": "like", "filter[1][value]": made[1]["number"]}
    rows = admin_api.get("/api/v1/grid/sales_delivery_line/rows", query_string=mine | by_number).get_json()["data"]
    assert [(row["parent"]["id"], row["parent"]["key"]) for row in rows] == [(made[1]["id"], made[1]["number"])] * 2
    newest_first = mine | {"sort[0][field]": "parent", "sort[0][dir]": "desc"}
    rows = admin_api.get("/api/v1/grid/sales_delivery_line/rows", query_string=newest_first).get_json()["data"]
    assert [row["parent"]["key"] for row in rows] == [made[1]["number"]] * 2 + [made[0]["number"]]
    exported = admin_api.get("/api/v1/grid/sales_delivery_line/export", query_string=newest_first)
    table = list(openpyxl.load_workbook(io.BytesIO(exported.data)).active.iter_rows(values_only=True))
    assert table[0][0] == "单据编号" and [row[0] for row in table[1:]] == [made[1]["number"]] * 2 + [made[0]["number"]]
    line = admin_api.get(f"/api/v1/sales_delivery_line/{made[0]['lines'][0]['id']}").get_json()["result"]
    assert line["parent"]["key"] == made[0]["number"]  # the lines' own API names it too


def test_export_is_the_filtered_sorted_view_with_text_kept_as_text(admin_api, api_as):
    tag = unique("GX")
    created = new_items(admin_api, 3, tag, sale_price="1234567.8912")
    dangerous = {"name": '=HYPERLINK("http://evil","x")', "spec": "+1-2@3"}
    save(admin_api, [{"op": "update", "id": created[0]["id"], "version": 1, "values": dangerous}])
    params = {
        **tag_filter(tag),
        "sort[0][field]": "sku",
        "sort[0][dir]": "desc",
        "columns": "sku,name,spec,sale_price,unit",
    }
    response = admin_api.get("/api/v1/grid/item/export", query_string=params)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("商品编码", "商品名称", "规格型号", "零售价", "基本单位")
    assert [v[0] for v in values[1:]] == [f"{tag}-0002", f"{tag}-0001", f"{tag}-0000"]
    last = values[3]
    assert last[1] == dangerous["name"] and last[2] == dangerous["spec"]
    assert sheet.cell(row=4, column=2).data_type == "s"
    assert Decimal(str(last[3])) == Decimal("1234567.8912")
    assert last[4] == "PCS 个"
    assert api_as("salesperson").get("/api/v1/grid/item/export").status_code == 403  # no export right
    keeper = api_as("warehouse")
    masked = keeper.get("/api/v1/grid/purchase_receipt/export", query_string={"columns": "number,total_amount"})
    assert masked.status_code == 400 and masked.get_json()["message"].startswith("不能导出「")  # not "不能按…筛选"
    allowed = keeper.get("/api/v1/grid/purchase_receipt/export")
    header = next(openpyxl.load_workbook(io.BytesIO(allowed.data)).active.iter_rows(values_only=True))
    assert "单据编号" in header and len(header) > 3 and "total_amount" not in str(header)
    assert api_as("warehouse").get("/api/v1/grid/partner/export").status_code == 403


def test_a_lookup_for_a_scoped_field_offers_what_the_field_may_name(api_as, login_as):
    """A keeper of WH01 filling a stocktake's warehouse was offered WH02, which the save refuses (超出您的数据范围):
    a lookup for that field offers their warehouses; a transfer's from_warehouse (either end admits a row), a
    lookup for no field and an admin's still offer every warehouse. The form asks for its header fields."""
    keeper = api_as("warehouse")

    def keys(client: Any, purpose: str | None) -> list[str]:
        query = {"q": "WH", **({"for": purpose} if purpose else {})}
        return [r["key"] for r in client.get("/api/v1/grid/lookup/warehouse", query_string=query).get_json()["results"]]

    assert keys(keeper, "stocktake.warehouse") == keys(keeper, "purchase_receipt.warehouse") == ["WH01"]
    assert {"WH01", "WH02"} <= set(keys(keeper, "stock_transfer.from_warehouse"))
    assert {"WH01", "WH02"} <= set(keys(keeper, None)) and {"WH01", "WH02"} <= set(keys(keeper, "nothing.here"))
    assert {"WH01", "WH02"} <= set(keys(api_as("admin"), "stocktake.warehouse"))
    form = login_as("warehouse").get("/m/stocktake/new").get_data(as_text=True)
    assert 'data-model="stocktake"' in form


def test_a_cell_typed_again_as_it_is_logs_no_undo_step_and_keeps_redo(admin_api):
    """A clerk re-types a price as it stands and saves: nothing is written (the version stays), and no undo step is
    logged (it would undo nothing, and it cleared the redo stack); a batch that changes one row and leaves another as
    it was logs the changed row only, so its undo does not depend on the other."""
    tag = unique("GN")
    created = new_items(admin_api, 2, tag, sale_price="5")
    before = admin_api.get("/api/v1/grid/item/batches").get_json()
    same = [{"op": "update", "id": r["id"], "version": 1, "values": {"sale_price": "5.00"}} for r in created]
    saved = save(admin_api, same)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["batch_id"] is None
    assert [r["version"] for r in saved.get_json()["rows"]] == [1, 1]
    assert admin_api.get("/api/v1/grid/item/batches").get_json() == before
    assert [item(admin_api, r["id"])["version"] for r in created] == [1, 1]

    mixed = [
        {"op": "update", "id": created[0]["id"], "version": 1, "values": {"sale_price": "6"}},
        {"op": "update", "id": created[1]["id"], "version": 1, "values": {"sale_price": "5"}},
    ]
    batch_id = save(admin_api, mixed).get_json()["batch_id"]
    assert admin_api.get("/api/v1/grid/item/batches").get_json()["undo"][0] == batch_id
    other = item(admin_api, created[1]["id"])  # the row the batch left as it was, changed since
    changed = [{"op": "update", "id": other["id"], "version": other["version"], "values": {"sale_price": "7"}}]
    assert save(admin_api, changed).status_code == 200
    undone = undo(admin_api, batch_id)
    assert undone.status_code == 200, undone.get_json()
    assert item(admin_api, created[0]["id"])["sale_price"] == "5.00"
    assert item(admin_api, created[1]["id"])["sale_price"] == "7.00"
