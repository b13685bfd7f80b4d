"""Master-data imports on SQLite and PostgreSQL: the committed table of real workbooks (tests/data/imports,
cases.yaml) with the exact outcome of each, the template built from metadata, permissions and masks, and
the command line."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import unique
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

DATA = Path(__file__).resolve().parent / "data" / "imports"
CASES = yaml.safe_load((DATA / "cases.yaml").read_text(encoding="utf-8"))


def run(app: Any, model: str, data: bytes, username: str = "admin", **options: Any) -> Any:
    """Import `data` as `username` through the pipeline and commit it when it was applied."""
    from app.extensions import db
    from app.services.users.access import access_for
    from importers.pipeline import run_import

    with app.app_context():
        access = access_for(app.appbuilder.sm.find_user(username=username))
        outcome = run_import(db.session, access, model, data, **options)
        if outcome.applied:
            db.session.commit()
        else:
            db.session.rollback()
        return outcome


def stored(app: Any, model: str, key_field: str, key: str) -> dict[str, Any] | None:
    """The stored row with business key `key`, as JSON values."""
    from app.extensions import db, registry
    from app.meta.types import FIELD_TYPES

    with app.app_context():
        spec = registry().model(model)
        cls = registry().cls(model)
        row = db.session.execute(select(cls).where(getattr(cls, key_field) == key)).scalar_one_or_none()
        if row is None:
            return None
        return {
            f.name: FIELD_TYPES[f.type].to_json(f, getattr(row, f.column))
            for f in spec.data_fields
            if f.type != "lines"
        }


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_table_of_real_workbooks(app):
    """Every committed workbook gives exactly its expected outcome (rows applied, the exact errors)."""
    for case in CASES:
        outcome = run(
            app,
            case["model"],
            (DATA / case["file"]).read_bytes(),
            filename=case["file"],
            mode=case.get("mode", "all"),
            action=case.get("action", "create"),
        )
        where = f"{case['file']} ({case.get('action', 'create')}, {case.get('mode', 'all')})"
        assert outcome.refused == case.get("refused", ""), where
        assert outcome.applied == (not case.get("refused")), where
        assert (outcome.created, outcome.updated) == (case.get("created", 0), case.get("updated", 0)), where
        assert outcome.skipped == case.get("skipped", 0), where
        if "errors" in case:
            assert [i.line() for i in outcome.issues] == case["errors"], where
        if "error_count" in case:
            assert len(outcome.issues) == case["error_count"], where
        if "unknown" in case:
            assert outcome.unknown_columns == case["unknown"], where
        key_field = "sku" if case["model"] == "item" else "code"
        for key, expected in (case.get("rows") or {}).items():
            row = stored(app, case["model"], key_field, key)
            assert row is not None, (where, key)
            for name, value in expected.items():
                got = row[name]
                if isinstance(value, str) and isinstance(got, str) and value.replace(".", "").isdigit():
                    got, value = Decimal(got), Decimal(value)
                assert got == value, (where, key, name)
    upserted = stored(app, "partner", "code", "IMP-P1")
    assert upserted is not None and upserted["name"] == "导入客户一（改名）" and upserted["kind"] == "customer"
    assert stored(app, "partner", "code", "IMP-P3") is None


def test_dates_as_serials_and_as_text_in_one_column(app):
    from app.extensions import db, registry

    with app.app_context():
        cls, items = registry().cls("item_price"), registry().cls("item")
        sp2 = db.session.execute(select(items.id).where(items.sku == "SP0002")).scalar_one()
        tag = unique("D")
        data = workbook(
            [
                ["商品", "价格类型", "单价", "生效日期", "备注"],
                ["SP0002", "客户价", "1", 46357.0, tag],
                ["SP0002", "客户价", "2", "2026年12月2日", tag],
                ["SP0002", "客户价", "3", "2026/12/3", tag],
            ]
        )
    outcome = run(app, "item_price", data, action="create")
    assert outcome.applied and outcome.created == 3, [i.line() for i in outcome.issues]
    with app.app_context():
        days = db.session.execute(
            select(cls.valid_from).where(cls.item_id == sp2, cls.price_list == "customer").order_by(cls.price)
        ).scalars()
        assert [d.isoformat() for d in days][-3:] == ["2026-12-01", "2026-12-02", "2026-12-03"]


def test_a_refused_file_leaves_nothing_and_a_dry_run_writes_nothing(app):
    tag = unique("N")
    rows = [["商品编码", "商品名称", "基本单位"], [f"{tag}-1", "好", "个"], [f"{tag}-2", "坏", "没有这个单位"]]
    refused = run(app, "item", workbook(rows))
    assert refused.refused and refused.created == 0
    assert [i.line() for i in refused.issues] == ["row 3, column 基本单位: 找不到「没有这个单位」"]
    assert stored(app, "item", "sku", f"{tag}-1") is None
    dry = run(app, "item", workbook(rows[:2]), dry_run=True)
    assert dry.created == 1 and not dry.applied and not dry.issues
    assert stored(app, "item", "sku", f"{tag}-1") is None


def test_update_by_business_key_changes_only_the_given_cells(app):
    tag = unique("U")
    assert run(app, "item", workbook([["sku", "name", "unit", "sale_price"], [tag, "原名", "PCS", "5"]])).applied
    outcome = run(app, "item", workbook([["SKU", "零售价"], [tag, "6.5"], ["NO-SUCH-SKU", "1"]]), action="update")
    assert [i.line() for i in outcome.issues] == ["row 3, column SKU: 找不到「NO-SUCH-SKU」"] and not outcome.applied
    outcome = run(app, "item", workbook([["SKU", "零售价"], [tag, "6.5"]]), action="update")
    assert outcome.applied and outcome.updated == 1
    row = stored(app, "item", "sku", tag)
    assert row is not None and row["name"] == "原名" and Decimal(row["sale_price"]) == Decimal("6.5")


def test_permissions_masks_and_the_import_action(app):
    from app.errors import Forbidden

    data = workbook([["sku", "name", "unit"], [unique("P"), "x", "PCS"]])
    with pytest.raises(Forbidden):
        run(app, "item", data, username="u_purchaser")  # may write items, not import them
    with pytest.raises(Forbidden):
        run(app, "stock_move", data)  # the ledger is never imported
    outcome = run(app, "item", workbook([["sku", "name", "unit"], [unique("P"), "x", "PCS"]]), username="u_clerk")
    assert outcome.applied and outcome.created == 1


def test_columns_matched_by_key_or_label_and_a_remembered_correction(app):
    from importers.matcher import match_columns, normalise_header

    tag = unique("M")
    rows = [["  Ｓｋｕ ", "商品 名称", "单位?", "色"], [tag, "映射", "PCS", "红"]]
    outcome = run(app, "item", workbook(rows))
    assert outcome.refused == "缺少必填列「基本单位」" and outcome.unknown_columns == ["单位?", "色"]
    corrected = {normalise_header("单位?"): "unit", normalise_header("色"): ""}
    outcome = run(app, "item", workbook(rows), remembered=corrected)
    assert outcome.applied and outcome.unknown_columns == [], outcome.refused
    assert match_columns(rows, [], None).signature == outcome.signature


def test_template_from_metadata_with_required_marks_dropdowns_and_notes(app, admin_api, api_as):
    name = f"imp_{unique('f').lower()}"
    spec = {
        "name": name,
        "type": "select",
        "label": {"zh": "导入颜色", "en": "Import colour"},
        "options": [
            {"value": "red", "label": {"zh": "红", "en": "Red"}},
            {"value": "blue", "label": {"zh": "蓝", "en": "Blue"}},
        ],
    }
    assert admin_api.post("/api/v1/meta/item/fields", json=spec).status_code in (200, 201)
    response = admin_api.get("/api/v1/imports/template/item?lang=zh")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["*商品编码", "*商品名称", "规格型号"] and "导入颜色" in headers
    assert "拼音码" not in headers and "成本价" not in headers  # computed and read-only fields are not filled in
    column = headers.index("导入颜色")
    validations = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    lists = book["lists"]
    assert lists.sheet_state == "hidden"
    picked = {tuple(c.value for c in lists[chr(65 + column)] if c.value) for v in validations}
    assert ("红", "蓝") in picked
    assert book.sheetnames[-1] == "填写说明"
    english = load_workbook(io.BytesIO(admin_api.get("/api/v1/imports/template/item?lang=en").data)).worksheets[0]
    assert [c.value for c in english[1]][:2] == ["*SKU", "*Name"]
    # the template filled in is imported as it is
    tag = unique("T")
    for col, value in enumerate([tag, "模板商品", None, "饮料", "PCS"], start=1):
        sheet.cell(row=2, column=col, value=value)
    sheet.cell(row=2, column=column + 1, value="蓝")
    out = io.BytesIO()
    book.save(out)
    outcome = run(app, "item", out.getvalue())
    assert outcome.applied and outcome.created == 1, [i.line() for i in outcome.issues] + outcome.problems
    assert stored(app, "item", "sku", tag)[name] == "blue"
    # who may not import gets no template
    assert api_as("u_purchaser").get("/api/v1/imports/template/item").status_code == 403
    assert admin_api.get("/api/v1/imports/template/no_such_model").status_code == 403
