"""Every committed change leaves an audit row in the same transaction; failures leave none."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db, registry
from app.services.records.tables import audit_log
from tests.conftest import unique
from tests.factories import make_payload
from tests.ledger_helpers import document, new_item


def audit_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(audit_log)).scalar_one()


def test_create_update_delete_are_audited_with_request_id(app, admin_api):
    with app.app_context():
        payload = make_payload(db.session, registry(), "partner")
    created = admin_api.post("/api/v1/partner/", json=payload, headers={"X-Request-ID": "req-create-1"})
    pk = created.get_json()["id"]
    admin_api.put(f"/api/v1/partner/{pk}", json={"remark": "新备注"})
    admin_api.delete(f"/api/v1/partner/{pk}")
    with app.app_context():
        rows = db.session.execute(
            select(audit_log)
            .where(audit_log.c.model == "partner", audit_log.c.record_id == pk)
            .order_by(audit_log.c.id)
        ).all()
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert rows[0].request_id == "req-create-1" and rows[0].username == "admin" and rows[0].before is None
    assert '"新备注"' in rows[1].after and '"新备注"' not in (rows[1].before or "")
    assert rows[2].after is None and payload["code"] in rows[2].before
    assert all(r.request_id for r in rows)


def test_failed_changes_leave_no_audit_row(app, admin_api):
    before = audit_count(app)
    assert admin_api.post("/api/v1/item/", json={"sku": "X", "unit": "NOPE"}).status_code == 422
    assert admin_api.put("/api/v1/item/987654321", json={"name": "x"}).status_code == 404
    with app.app_context():
        payload = make_payload(db.session, registry(), "item")
    admin_api.post("/api/v1/item/", json=payload)
    after_first = audit_count(app)
    assert admin_api.post("/api/v1/item/", json=payload).status_code == 422
    assert audit_count(app) == after_first == before + 1


def test_history_api_is_masked_for_the_reader(app, admin_api, api_as):
    listed = api_as("salesperson").get("/api/v1/item/").get_json()
    pk = listed["ids"][0]
    admin_api.put(f"/api/v1/item/{pk}", json={"purchase_price": "3.3300", "remark": "审计"})
    seen_by_admin = admin_api.get(f"/api/v1/item/{pk}/history").get_json()["result"][0]
    assert seen_by_admin["after"]["purchase_price"] == "3.33"
    seen_by_sales = api_as("salesperson").get(f"/api/v1/item/{pk}/history").get_json()["result"][0]
    assert "purchase_price" not in seen_by_sales["after"] and seen_by_sales["after"]["remark"] == "审计"


def test_global_audit_for_managers_only(api_as):
    assert api_as("manager").get("/api/v1/audit/").status_code == 200
    assert api_as("clerk").get("/api/v1/audit/").status_code == 403


def test_audit_rows_cannot_be_changed_or_deleted(app):
    with app.app_context():
        for statement in ("UPDATE jxc_audit SET username = 'x'", "DELETE FROM jxc_audit"):
            with pytest.raises(DBAPIError), db.engine.begin() as conn:
                conn.execute(text(statement))
        assert db.session.execute(select(func.count()).select_from(audit_log)).scalar_one() > 0


def test_a_records_history_leaves_out_a_deleted_record_that_had_its_id(app, admin_api):
    """SQLite hands the id of a deleted last row to the next one: the new record's history is its own."""
    gone = admin_api.post("/api/v1/unit/", json={"code": unique("U"), "name": "删除的单位"}).get_json()["id"]
    admin_api.put(f"/api/v1/unit/{gone}", json={"name": "改过的单位"})
    assert admin_api.delete(f"/api/v1/unit/{gone}").status_code == 200
    kept = unique("U")
    pk = admin_api.post("/api/v1/unit/", json={"code": kept, "name": "新单位"}).get_json()["id"]
    if app.config["JXC_BACKEND"] == "sqlite":
        assert pk == gone  # the id was reused
    history = admin_api.get(f"/api/v1/unit/{pk}/history").get_json()["result"]
    assert [entry["action"] for entry in history] == ["create"]
    assert history[0]["after"]["code"] == kept


def test_snapshot_texts_built_column_by_column_are_the_texts_of_each_rows_dict():
    """json_objects writes each row's JSON as the audit trail writes the row's dict: values equal but written
    differently (1 and True, Decimal 1.0 and 1.00, 0.0 and -0.0) kept apart, a column of one value, text with
    quotes, % and other scripts, nested values, blanks."""
    import datetime as dt
    from decimal import Decimal

    from app.services.records.audit import _TO_JSON, json_objects

    columns = {
        "id": [1, 2, 3, 4],
        "name%s": ['引号"和%', None, "行\n末\x01", '引号"和%'],
        "mixed": [True, 1, 1.0, Decimal("1.50")],
        "decimal": [Decimal("1.0"), Decimal("1.00"), Decimal("1.0"), None],
        "float": [0.0, -0.0, 0.0, 2.5],
        "at": [dt.datetime(2026, 12, 3, 8, 0)] * 4,
        "day": [dt.date(2026, 12, 3), dt.date(2026, 12, 3), None, False],
        "json": [{"k": [1]}, [1, 2], None, {"k": [1]}],
        "blank": [None] * 4,
        "same": ["%s"] * 4,
        "big": [10**30, -1, 0, None],
    }
    expected = [_TO_JSON(dict(zip(columns, row, strict=True))) for row in zip(*columns.values(), strict=True)]
    assert json_objects(columns) == expected
    assert json_objects({"id": [], "name": []}) == []
    assert json_objects({"id": [7, 7]}) == ['{"id": 7}', '{"id": 7}']


def test_a_document_saved_unchanged_adds_no_history(admin_api):
    """A draft opened and saved as it was rewrote its lines' versions and its history read 「修改 入库明细：2 行明细 →
    2 行明细」, a change nobody made."""
    sku = new_item(admin_api)
    lines = [{"item": sku, "qty": "2", "price": "3"}, {"item": sku, "qty": "1", "price": "4"}]
    doc = document(admin_api, "purchase_receipt", lines, warehouse="WH01")
    kept = ("id", "item", "unit", "qty", "price", "tax_rate", "remark", "version")
    echoed = [
        {k: v["key"] if isinstance(v, dict) else v for k, v in line.items() if k in kept} for line in doc["lines"]
    ]
    saved = admin_api.put(f"/api/v1/purchase_receipt/{doc['id']}", json={"version": doc["version"], "lines": echoed})
    assert saved.status_code == 200, saved.get_json()
    history = admin_api.get(f"/api/v1/purchase_receipt/{doc['id']}/history").get_json()["result"]
    assert [h["action"] for h in history] == ["create"], history
