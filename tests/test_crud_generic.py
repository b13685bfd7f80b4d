"""One CRUD test over every metadata model through the REST API (STYLE principle 8)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from app.extensions import db, registry
from app.meta.loader import load_metadata
from tests.factories import bad_value_for, is_exact_type, make_payload, writable_models

META, _ = load_metadata(Path(__file__).resolve().parent.parent / "metadata")
MODELS = writable_models(type("R", (), {"meta": META})())  # type: ignore[arg-type]


def _live(app, model_key):
    """The model as the app has it now: other tests of the session may have added fields to it live."""
    with app.app_context():
        return registry().meta.model(model_key)


def _payload(app, model_key, **overrides):
    with app.app_context():
        return make_payload(db.session, registry(), model_key, **overrides)


def _same(spec, sent, got):
    if spec.is_link:
        return got is not None and (got["key"] == sent or got["id"] == sent)
    if is_exact_type(spec):
        return Decimal(str(got)) == Decimal(str(sent))
    if spec.type == "datetime":
        return got.startswith(str(sent)[:16])
    return got == sent


def _changeable(model):
    """A field the admin may change, with a new valid value for it."""
    for spec in model.data_fields:
        if spec.readonly or spec.name in (model.business_key, "number") or spec.pattern:
            continue
        if spec.type in ("text", "long_text"):
            return spec, "改过了"
        if is_exact_type(spec) and (spec.max is None or Decimal(str(spec.max)) >= Decimal("0.75")):
            return spec, "0.75"
        if spec.type == "date":
            return spec, "2026-12-01"
    raise AssertionError(f"{model.key} has nothing to change")


@pytest.mark.parametrize("model_key", MODELS)
def test_create_read_update_delete(app, admin_api, model_key):
    model = _live(app, model_key)
    payload = _payload(app, model_key)
    created = admin_api.post(f"/api/v1/{model_key}/", json=payload)
    assert created.status_code == 201, created.get_json()
    pk = created.get_json()["id"]
    got = admin_api.get(f"/api/v1/{model_key}/{pk}").get_json()["result"]
    for name, sent in payload.items():
        if name == "lines":
            assert len(got["lines"]) == len(sent)
            continue
        assert _same(model.field(name), sent, got[name]), (name, sent, got[name])
    assert got["version"] == 1
    if model.kind == "document":
        assert got["status"] == "draft" and got["number"].startswith(model.number_prefix)

    field, new_value = _changeable(model)
    updated = admin_api.put(f"/api/v1/{model_key}/{pk}", json={field.name: new_value, "version": 1})
    assert updated.status_code == 200, updated.get_json()
    assert _same(field, new_value, updated.get_json()["result"][field.name])
    assert updated.get_json()["result"]["version"] == 2

    stale = admin_api.put(f"/api/v1/{model_key}/{pk}", json={field.name: new_value, "version": 1})
    assert stale.status_code == 409
    assert admin_api.get(f"/api/v1/{model_key}/{pk}").get_json()["result"]["version"] == 2

    key = model.business_key
    key_value = got[key] if key != "id" else pk
    listed = admin_api.get(
        f"/api/v1/{model_key}/", query_string={"q": f"(filters:!((col:{key},opr:eq,value:'{key_value}')))"}
    )
    assert listed.status_code == 200, listed.get_json()
    assert listed.get_json()["ids"] == [pk]

    assert admin_api.delete(f"/api/v1/{model_key}/{pk}").status_code == 200
    assert admin_api.get(f"/api/v1/{model_key}/{pk}").status_code == 404


@pytest.mark.parametrize("model_key", MODELS)
def test_every_bad_value_reported_at_once(app, admin_api, model_key):
    model = _live(app, model_key)
    payload = _payload(app, model_key)
    expected = set()
    for spec in model.data_fields:
        bad = bad_value_for(spec)
        if spec.readonly or spec.name in ("number",) or bad is None:
            continue
        payload[spec.name] = bad
        expected.add(spec.name)
    payload["no_such_field"] = 1
    expected.add("no_such_field")
    response = admin_api.post(f"/api/v1/{model_key}/", json=payload)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert set(body["message"]) == expected
    assert all(e["message"] for e in body["errors"])


@pytest.mark.parametrize("model_key", [m for m in MODELS if META.model(m).business_key not in ("id",)])
def test_duplicate_business_key_is_422_and_nothing_written(app, admin_api, model_key):
    model = _live(app, model_key)
    payload = _payload(app, model_key)
    first = admin_api.post(f"/api/v1/{model_key}/", json=payload)
    assert first.status_code == 201, first.get_json()
    key = model.business_key
    again = dict(_payload(app, model_key), **{key: first.get_json()["result"][key]})
    second = admin_api.post(f"/api/v1/{model_key}/", json=again)
    assert second.status_code == 422
    assert key in second.get_json()["message"]
    count = admin_api.get(
        f"/api/v1/{model_key}/",
        query_string={"q": f"(filters:!((col:{key},opr:eq,value:'{first.get_json()['result'][key]}')))"},
    ).get_json()["count"]
    assert count == 1


def test_required_fields_and_readonly_fields(app, admin_api):
    missing = admin_api.post("/api/v1/item/", json={"name": "没有编码"})
    assert missing.status_code == 422
    assert set(missing.get_json()["message"]) >= {"sku", "unit"}
    readonly = admin_api.post("/api/v1/item/", json=_payload(app, "item", cost_price="9.99", created_by=1))
    assert readonly.status_code == 422
    assert set(readonly.get_json()["message"]) == {"cost_price", "created_by"}


def test_wrong_json_shapes_are_clear_errors(admin_api):
    assert admin_api.post("/api/v1/item/", data="not json", content_type="application/json").status_code == 400
    assert admin_api.post("/api/v1/item/", json=[1, 2]).status_code == 422
    bad_lines = admin_api.post("/api/v1/purchase_order/", json={"date": "2026-11-25", "lines": "x"})
    assert bad_lines.status_code == 422 and "lines" in bad_lines.get_json()["message"]
    bad_filter = admin_api.get("/api/v1/item/", query_string={"q": "(filters:!((col:nope,opr:eq,value:1)))"})
    assert bad_filter.status_code == 400
    bad_op = admin_api.get("/api/v1/item/", query_string={"q": "(filters:!((col:active,opr:ct,value:x)))"})
    assert bad_op.status_code == 400
    bad_order = admin_api.get(
        "/api/v1/item/", query_string={"q": "(order_column:'1;drop table item',order_direction:asc)"}
    )
    assert bad_order.status_code == 400
    assert admin_api.get("/api/v1/item/", query_string={"q": "(page_size:100000)"}).status_code == 422


def test_document_lines_totals_and_exact_amounts(app, admin_api):
    payload = dict(_payload(app, "purchase_order"), prices_include_tax=False)  # amounts before the item's 13% VAT
    item = payload["lines"][0]["item"]
    payload["lines"] = [
        {"item": item, "qty": "0.1", "price": "19.99"},
        {"item": item, "qty": "0.1", "price": "19.99"},
        {"item": item, "qty": "0.1", "price": "19.99"},
    ]
    created = admin_api.post("/api/v1/purchase_order/", json=payload)
    assert created.status_code == 201, created.get_json()
    result = created.get_json()["result"]
    assert result["total_qty"] == "0.3"
    line_amounts = [Decimal(line["amount"]) for line in result["lines"]]
    assert Decimal(result["total_amount"]) == sum(line_amounts)
    pk = result["id"]
    kept = result["lines"][0]
    changed = admin_api.put(
        f"/api/v1/purchase_order/{pk}", json={"lines": [{"id": kept["id"], "item": item, "qty": "3", "price": "19.99"}]}
    )
    assert changed.status_code == 200, changed.get_json()
    lines = changed.get_json()["result"]["lines"]
    assert [line["id"] for line in lines] == [kept["id"]]
    assert changed.get_json()["result"]["total_amount"] == "59.97"


def test_big_amounts_stay_exact(app, admin_api):
    payload = _payload(app, "partner", credit_limit="9999999999999.99")
    created = admin_api.post("/api/v1/partner/", json=payload)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["result"]["credit_limit"] == "9999999999999.99"
    found = admin_api.get(
        "/api/v1/partner/", query_string={"q": "(filters:!((col:credit_limit,opr:ge,value:'9999999999999.99')))"}
    ).get_json()
    assert created.get_json()["id"] in found["ids"]


def test_lines_and_ledger_are_not_written_directly(admin_api):
    assert admin_api.post("/api/v1/purchase_order_line/", json={}).status_code in (404, 405)
    assert admin_api.post("/api/v1/stock_move/", json={}).status_code in (404, 405)
    assert admin_api.get("/api/v1/stock_move/").status_code == 200


@pytest.mark.parametrize("model_key", ["item", "purchase_order"])
def test_info_describes_writable_columns_as_fab_clients_read_them(app, admin_api, model_key):
    """`add_columns` / `edit_columns` as FAB's objects: name, label (the reader's language), type, required."""
    info = admin_api.get(f"/api/v1/{model_key}/_info").get_json()
    model = _live(app, model_key)
    for key in ("add_columns", "edit_columns"):
        columns = {c["name"]: c for c in info[key]}
        assert columns, key
        for name, column in columns.items():
            spec = model.field(name)
            assert spec is not None and not spec.readonly, name
            assert column["label"] == spec.label["zh"] and column["required"] is spec.required, column
            assert column["type"] in ("String", "Integer", "Decimal", "Date", "DateTime", "Boolean", "Related", "List")
    assert {c["name"]: c["type"] for c in info["add_columns"]}.get("date", "Date") == "Date"
