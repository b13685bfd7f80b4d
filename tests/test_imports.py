"""Master-data imports on SQLite and PostgreSQL: the committed table of real workbooks (tests/data/imports,
cases.yaml) with the exact outcome of each, the template built from metadata, permissions and masks, and
the command line."""

from __future__ import annotations

import io
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import hide_prices, unique
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
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
    """xlsx bytes of `rows`; text is text (openpyxl would make "=1+1" a formula)."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    for cells in book.active.iter_rows():
        for cell in cells:
            if cell.data_type == "f":
                cell.data_type = "s"
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
        done = (outcome.created, outcome.updated, outcome.unchanged)
        assert done == (case.get("created", 0), case.get("updated", 0), case.get("unchanged", 0)), where
        assert outcome.skipped == case.get("skipped", 0), where
        if "errors" in case:
            assert [i.line("en") for i in outcome.issues] == case["errors"], where
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
                ["商品", "价格类型", "往来单位", "单价", "生效日期", "备注"],
                ["SP0002", "客户价", "K003", "1", 46357.0, tag],
                ["SP0002", "客户价", "K003", "2", "2026年12月2日", tag],
                ["SP0002", "客户价", "K003", "3", "2026/12/3", tag],
            ]
        )
    outcome = run(app, "item_price", data, action="create")
    assert outcome.applied and outcome.created == 3, [i.line() for i in outcome.issues]
    with app.app_context():
        days = db.session.execute(
            select(cls.valid_from).where(cls.item_id == sp2, cls.price_list == "customer").order_by(cls.price)
        ).scalars()
        assert [d.isoformat() for d in days][-3:] == ["2026-12-01", "2026-12-02", "2026-12-03"]


def test_the_progress_of_a_set_based_create_counts_every_row_of_the_file(app):
    """The jobs page's bar: a file of new rows (written a chunk at a time) reports done out of all its rows."""
    tag = unique("P")
    rows = [["商品编码", "商品名称", "基本单位"]] + [[f"{tag}-{n}", f"商品 {n}", "个"] for n in range(2500)]
    seen: list[tuple[int, int | None]] = []
    outcome = run(app, "item", workbook(rows), progress=lambda done, total=None: seen.append((done, total)))
    assert outcome.applied and outcome.created == 2500, [i.line() for i in outcome.issues]
    assert seen and {total for _, total in seen} == {2500}, seen
    assert seen[-1] == (2500, 2500) and [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_a_refused_file_leaves_nothing_and_a_dry_run_writes_nothing(app):
    tag = unique("N")
    rows = [["商品编码", "商品名称", "基本单位"], [f"{tag}-1", "好", "个"], [f"{tag}-2", "坏", "没有这个单位"]]
    refused = run(app, "item", workbook(rows))
    assert refused.refused and refused.created == 0
    assert [i.line("en") for i in refused.issues] == ["row 3, column 基本单位: 找不到「没有这个单位」"]
    assert stored(app, "item", "sku", f"{tag}-1") is None
    dry = run(app, "item", workbook(rows[:2]), dry_run=True)
    assert dry.created == 1 and not dry.applied and not dry.issues
    assert stored(app, "item", "sku", f"{tag}-1") is None


def test_update_by_business_key_changes_only_the_given_cells(app):
    tag = unique("U")
    assert run(app, "item", workbook([["sku", "name", "unit", "sale_price"], [tag, "原名", "PCS", "5"]])).applied
    outcome = run(app, "item", workbook([["SKU", "零售价"], [tag, "6.5"], ["NO-SUCH-SKU", "1"]]), action="update")
    assert [i.line("en") for i in outcome.issues] == ["row 3, column SKU: 找不到「NO-SUCH-SKU」"]
    assert not outcome.applied
    outcome = run(app, "item", workbook([["SKU", "零售价"], [tag, "6.5"]]), action="update")
    assert outcome.applied and outcome.updated == 1
    row = stored(app, "item", "sku", tag)
    assert row is not None and row["name"] == "原名" and Decimal(row["sale_price"]) == Decimal("6.5")


def test_a_row_imported_as_it_is_stored_is_unchanged_and_writes_nothing(app):
    """An update (or upsert) file whose row holds the values already stored counts it unchanged, not updated: no new
    version, no history line, nothing in the import's undo record; the row that does change is updated."""
    from app.extensions import db, registry
    from app.services.records.tables import audit_log
    from importers.tables import import_change

    tag = unique("UC")
    rows = [["sku", "name", "unit", "sale_price"], [f"{tag}-1", "原名", "PCS", "5"], [f"{tag}-2", "乙", "PCS", "7"]]
    assert run(app, "item", workbook(rows)).applied

    def versions_and_history() -> tuple[list[int], int]:
        with app.app_context():
            cls = registry().cls("item")
            found = db.session.execute(select(cls.id, cls.version).where(cls.sku.like(f"{tag}-%")).order_by(cls.sku))
            ids, versions = zip(*found.all(), strict=True)
            history = db.session.execute(
                select(audit_log.c.id).where(audit_log.c.model == "item", audit_log.c.record_id.in_(ids))
            ).all()
            return list(versions), len(history)

    before = versions_and_history()
    again = run(app, "item", workbook([rows[0], rows[1], [f"{tag}-2", "乙", "PCS", "7.5"]]), action="upsert")
    assert again.applied and (again.created, again.updated, again.unchanged) == (0, 1, 1), again.summary()
    assert again.summary()["unchanged"] == 1
    after = versions_and_history()
    assert after == ([before[0][0], before[0][1] + 1], before[1] + 1)  # only the changed row: a version, a line
    with app.app_context():
        from app.services.users.access import access_for
        from importers.service import import_file

        access = access_for(app.appbuilder.sm.find_user(username="admin"))
        same = workbook([["SKU", "零售价"], [f"{tag}-1", "5.00"]])
        outcome = import_file(db.session, access, "item", same, "same.xlsx", action="update")
        assert outcome.applied and (outcome.updated, outcome.unchanged) == (0, 1)
        db.session.commit()
        recorded = db.session.execute(select(import_change).where(import_change.c.import_id == outcome.import_id))
        assert recorded.all() == []  # nothing for an undo to put back
    assert versions_and_history() == after


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


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # built from metadata, not the database
def fill_template(app: Any, sheet: Any, values: dict[str, Any], model: str = "item") -> None:
    """Row 2 of a template's sheet: `values` by field key (each header's comment starts with its field's key), and
    a value of its type in each other required column without a default (a field another test added)."""
    from app.clock import business_today
    from app.extensions import registry

    typed = {"text": "x", "long_text": "x", "integer": 1, "decimal": 1, "money": 1, "quantity": 1}
    with app.app_context():
        spec = registry().model(model)
    for col, cell in enumerate(sheet[1], start=1):
        key = cell.comment.text.split("\n")[0]
        field = spec.field(key)
        if key in values:
            sheet.cell(row=2, column=col, value=values[key])
        elif field is not None and field.required and field.default is None and field.default_setting is None:
            value = business_today() if field.type == "date" else typed.get(field.type)
            assert value is not None, f"no value to fill the required column {cell.value} ({field.type}) with"
            sheet.cell(row=2, column=col, value=value)


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
    assert sheet.column_dimensions["A"].number_format == "@"  # the SKU column is text: 00123 stays 00123
    column = headers.index("导入颜色")
    validations = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    lists = book["lists"]
    assert lists.sheet_state == "hidden"
    picked = {tuple(c.value for c in lists[get_column_letter(column + 1)] if c.value) for v in validations}
    assert ("红", "蓝") in picked
    assert book.sheetnames[-1] == "填写说明"
    notes = {row[0]: row[4] for row in book["填写说明"].iter_rows(min_row=4, values_only=True)}
    assert notes["商品分类"] == "填「商品分类」的编码或名称"  # the linked model by its name (it said 「category」)
    english = load_workbook(io.BytesIO(admin_api.get("/api/v1/imports/template/item?lang=en").data)).worksheets[0]
    assert [c.value for c in english[1]][:2] == ["*SKU", "*Name"]
    # the template filled in is imported as it is, whatever fields other tests added to the item
    tag = unique("T")
    fill_template(app, sheet, {"sku": tag, "name": "模板商品", "category": "饮料", "unit": "PCS", name: "蓝"})
    out = io.BytesIO()
    book.save(out)
    outcome = run(app, "item", out.getvalue())
    assert outcome.applied and outcome.created == 1, [i.line() for i in outcome.issues] + outcome.problems
    assert stored(app, "item", "sku", tag)[name] == "blue"
    # who may not import gets no template
    assert api_as("u_purchaser").get("/api/v1/imports/template/item").status_code == 403
    assert admin_api.get("/api/v1/imports/template/no_such_model").status_code == 403


def test_fields_stored_with_one_label_are_headed_apart_and_the_template_imports(app, admin_api):
    """Two item fields stored with the same label (added before a repeated label was refused, or a YAML field shipped
    later beside a field of the same name): the template heads each with its key as well, 原产地（key）, and filled
    in it is imported as it is (two columns 原产地 made a header that named either field, and the file was refused).
    A clerk's own column headed 原产地 alone is refused, naming both headers to choose from."""
    import json

    from sqlalchemy import update

    from app.extensions import db
    from app.meta.tables import meta_field
    from app.services.records.runtime_fields import bump_version

    first, second = (f"imp_{unique('o').lower()}" for _ in range(2))
    tail = zlib.crc32(first.encode())  # digits: a Chinese label holds no Latin word (test_i18n reads every label)
    label = {"zh": f"原产地{tail}", "en": f"Origin {tail}"}
    for name, end in ((first, ""), (second, "二")):
        spec = {"name": name, "type": "text", "label": {"zh": label["zh"] + end, "en": f"{label['en']}{end and ' b'}"}}
        assert admin_api.post("/api/v1/meta/item/fields", json=spec).status_code == 201
    with app.app_context():  # as a database from before the rule keeps them: both labelled alike
        for name in (first, second):
            stored_spec = {"type": "text", "label": label, "section": "basic"}
            db.session.execute(update(meta_field).where(meta_field.c.name == name).values(spec=json.dumps(stored_spec)))
        bump_version(db.session)
        db.session.commit()
    book = load_workbook(io.BytesIO(admin_api.get("/api/v1/imports/template/item?lang=zh").data))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert f"原产地{tail}（{first}）" in headers and f"原产地{tail}（{second}）" in headers
    assert f"原产地{tail}" not in headers
    notes = [row[0] for row in book["填写说明"].iter_rows(min_row=4, values_only=True)]
    assert f"原产地{tail}（{first}）" in notes
    english = [
        c.value
        for c in load_workbook(io.BytesIO(admin_api.get("/api/v1/imports/template/item?lang=en").data)).worksheets[0][1]
    ]
    assert f"Origin {tail} ({first})" in english and f"Origin {tail} ({second})" in english
    tag = unique("T")
    fill_template(
        app, sheet, {"sku": tag, "name": "同名字段", "category": "饮料", "unit": "PCS", first: "云南", second: "浙江"}
    )
    out = io.BytesIO()
    book.save(out)
    outcome = run(app, "item", out.getvalue())
    assert outcome.applied and outcome.created == 1, [i.line() for i in outcome.issues] + outcome.problems
    row = stored(app, "item", "sku", tag)
    assert row is not None and (row[first], row[second]) == ("云南", "浙江")
    own = workbook([["商品编码", "商品名称", "基本单位", f"原产地{tail}"], [unique("T"), "自己的表", "PCS", "云南"]])
    refused = run(app, "item", own)
    assert not refused.applied
    both = "、".join(f"「原产地{tail}（{name}）」" for name in sorted((first, second)))
    assert f"「原产地{tail}」列可以指{both}中的任一个字段，请把表头写成其中一个的完整名称" in refused.problems, (
        refused.problems
    )
    # the grid's export heads them apart as well: edited, it is imported back (its two 原产地 columns were refused)
    tagged = f"filter[0][field]=sku&filter[0][type]=like&filter[0][value]={tag}"
    exported = admin_api.get(f"/api/v1/grid/item/export?{tagged}")
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.data)).active
    headers = [c.value for c in sheet[1]]
    assert f"原产地{tail}（{first}）" in headers and f"原产地{tail}（{second}）" in headers
    sheet.cell(row=2, column=headers.index(f"原产地{tail}（{second}）") + 1, value="福建")
    edited = io.BytesIO()
    sheet.parent.save(edited)
    outcome = run(app, "item", edited.getvalue(), action="update")
    assert outcome.applied and outcome.updated == 1, [i.line() for i in outcome.issues] + outcome.problems
    assert stored(app, "item", "sku", tag)[second] == "福建"
    csv_head = admin_api.get(f"/api/v1/grid/item/export?format=csv&{tagged}").data.decode("utf-8-sig").splitlines()[0]
    assert f"原产地{tail}（{first}）" in csv_head.split(","), csv_head
    few = admin_api.get(f"/api/v1/grid/item/export?columns=sku,name,{first}&{tagged}")  # the other one left out
    assert [c.value for c in load_workbook(io.BytesIO(few.data)).active[1]][2] == f"原产地{tail}（{first}）"


def import_as_admin(app: Any, model: str, data: bytes, **options: Any) -> Any:
    """Through importers.service (the same file twice, undo records), committed when applied."""
    from app.extensions import db
    from app.services.users.access import access_for
    from importers.service import import_file

    with app.app_context():
        access = access_for(app.appbuilder.sm.find_user(username="admin"))
        outcome = import_file(db.session, access, model, data, "items.xlsx", **options)
        db.session.commit() if outcome.applied else db.session.rollback()
        return outcome


def undo(app: Any, import_id: int) -> dict[str, Any]:
    from app.extensions import db
    from app.services.users.access import access_for
    from importers.runs import undo_import

    with app.app_context():
        access = access_for(app.appbuilder.sm.find_user(username="admin"))
        try:
            result = undo_import(db.session, access, import_id)
        except Exception:
            db.session.rollback()
            raise
        db.session.commit()
        return result


def test_the_same_file_twice_names_the_first_import_at_the_business_time(app, monkeypatch):
    """Stored in UTC, said as the business's wall time (Asia/Shanghai): 20:30 UTC is 04:30 the next day."""
    monkeypatch.setenv("JXC_CLOCK", "2026-12-01T20:30:00+00:00")
    data = workbook([["sku", "name", "unit"], [unique("B"), "北京时间", "PCS"]])
    first = import_as_admin(app, "item", data)
    assert first.applied
    again = import_as_admin(app, "item", data)
    said = f"这个文件已经导入过（导入记录 #{first.import_id}，2026-12-02 04:30）"
    assert again.refused.startswith(said), again.refused


def test_a_file_whose_every_row_was_skipped_imports_once_its_rows_are_put_right(app, admin_api):
    """只导入正确的行 with every row refused (a unit the items do not have yet) wrote nothing, yet was recorded as an
    import: the page offered to undo it, and the same file, uploaded again once the unit was added, was refused as
    「这个文件已经导入过（导入记录 #n）」 until that empty import was undone or forced."""
    tag = unique("SK")
    rows = [["sku", "name", "unit"]] + [[f"{tag}-{n}", f"跳过 {n}", tag] for n in range(1, 3)]
    data = workbook(rows)
    skipped = import_as_admin(app, "item", data, mode="valid")
    assert skipped.applied and skipped.created == 0 and skipped.skipped == 2
    assert [i.message for i in skipped.issues] == [f"找不到「{tag}」"] * 2
    assert skipped.import_id is None  # nothing to undo
    status = admin_api.post("/api/v1/unit/", json={"code": tag, "name": f"单位{tag}"}).status_code
    assert status == 201
    again = import_as_admin(app, "item", data, mode="valid")
    assert again.applied and again.created == 2 and not again.issues, again.refused
    assert again.import_id and undo(app, again.import_id) == {"deleted": 2, "restored": 0}


def test_an_exported_list_edited_and_imported_back_updates_its_rows(app, admin_api, api_as):
    """A clerk exports the item list (导出 Excel), changes a price and imports the file back (更新): each link cell of
    the export reads 「C01 饮料」 (key and name, as the grid shows it), and every row was refused three times over,
    找不到「C01 饮料」. A link is also read as its key and its name; a key with another row's name is still refused."""
    tag = unique("RT")
    category = f"{tag}C"
    status = admin_api.post("/api/v1/category/", json={"code": category, "name": "冷藏 饮料"}).status_code
    assert status == 201
    skus = []
    for n in range(2):
        sku = f"{tag}-{n}"
        body = {"sku": sku, "name": f"往返 {n}", "unit": "PCS", "category": category, "default_supplier": "S001"}
        assert admin_api.post("/api/v1/item/", json={**body, "sale_price": "5"}).status_code == 201
        skus.append(sku)
    clerk = api_as("clerk")
    exported = clerk.get(f"/api/v1/grid/item/export?filter[0][field]=sku&filter[0][type]=like&filter[0][value]={tag}")
    assert exported.status_code == 200
    book = load_workbook(io.BytesIO(exported.data))
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    first = {h: c.value for h, c in zip(headers, sheet[2], strict=True)}
    assert first["商品分类"] == f"{category} 冷藏 饮料" and first["基本单位"].startswith("PCS ")
    assert first["默认供应商"].startswith("S001 ")
    sheet.cell(row=2, column=headers.index("零售价") + 1, value=7.5)
    edited = io.BytesIO()
    book.save(edited)
    outcome = run(app, "item", edited.getvalue(), username="u_clerk", action="update")
    said = [i.line() for i in outcome.issues] + outcome.problems
    assert outcome.applied and outcome.updated == 1 and outcome.unchanged == 1, said
    query = f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:'{first['商品编码']}')))"
    (row,) = admin_api.get(query).get_json()["result"]
    assert row["sale_price"] == "7.50" and row["category"]["key"] == category and row["unit"]["key"] == "PCS"
    assert row["default_supplier"]["key"] == "S001"

    sheet.cell(row=2, column=headers.index("商品分类") + 1, value=f"{category} 饮料")  # its key, another name
    wrong = io.BytesIO()
    book.save(wrong)
    refused = run(app, "item", wrong.getvalue(), username="u_clerk", action="update")
    assert [i.line() for i in refused.issues] == [f"第 2 行，「商品分类」列：找不到「{category} 饮料」"]
    item = clerk.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:'{skus[1]}')))").get_json()["result"][0]
    answer = clerk.put(
        f"/api/v1/item/{item['id']}", json={"category": f"{category} 冷藏 饮料", "version": item["version"]}
    )
    assert answer.status_code == 200 and answer.get_json()["result"]["category"]["key"] == category, answer.get_json()


def test_an_exported_partner_list_names_its_salesperson_as_the_import_reads_them(app, admin_api, api_as):
    """The partner export writes 业务员 as 「zhang3 张三」 (user name and name, as pages show a person); imported back
    it was 找不到用户「zhang3 张三」 on every row with one. A user is read so too; another person's name is refused."""
    from app.extensions import db
    from app.services.users.accounts import create_user

    tag = unique("RU")
    username = f"{tag}".lower()
    with app.app_context():
        create_user(username, "salesperson", "Walk!pass2026x", name="李四光")  # test_user_lookup counts its 张三丰s
        db.session.commit()
    status = admin_api.post(
        "/api/v1/partner/", json={"code": tag, "name": f"往返客户 {tag}", "kind": "customer", "owner": username}
    ).status_code
    assert status == 201
    clerk = api_as("clerk")
    exported = clerk.get(
        f"/api/v1/grid/partner/export?filter[0][field]=code&filter[0][type]=like&filter[0][value]={tag}"
    )
    book = load_workbook(io.BytesIO(exported.data))
    headers = [c.value for c in book.active[1]]
    owner = book.active.cell(row=2, column=headers.index("业务员") + 1)
    assert owner.value == f"{username} 李四光"
    book.active.cell(row=2, column=headers.index("备注") + 1, value="导回")
    edited = io.BytesIO()
    book.save(edited)
    outcome = run(app, "partner", edited.getvalue(), username="u_clerk", action="update")
    assert outcome.applied and outcome.updated == 1, [i.line() for i in outcome.issues]
    owner.value = f"{username} 王五"
    wrong = io.BytesIO()
    book.save(wrong)
    refused = run(app, "partner", wrong.getvalue(), username="u_clerk", action="update")
    assert [i.message for i in refused.issues] == [f"找不到用户「{username} 王五」"]


def test_the_same_file_twice_undo_in_one_step_and_undo_refused_after_a_change(app):
    from app.errors import ValidationFailed

    tag = unique("I")
    rows = [["sku", "name", "unit"]] + [[f"{tag}-{n}", f"撤销 {n}", "PCS"] for n in range(1, 4)]
    data = workbook(rows)
    first = import_as_admin(app, "item", data)
    assert first.applied and first.import_id and first.created == 3
    again = import_as_admin(app, "item", data)
    assert not again.applied and again.refused.startswith(f"这个文件已经导入过（导入记录 #{first.import_id}")
    assert undo(app, first.import_id) == {"deleted": 3, "restored": 0}
    assert stored(app, "item", "sku", f"{tag}-1") is None
    second = import_as_admin(app, "item", data)  # after the undo the same content may come in again
    assert second.applied and second.created == 3
    edit = import_as_admin(app, "item", workbook([["sku", "name"], [f"{tag}-3", "导入后又改"]]), action="update")
    assert edit.applied
    with pytest.raises(ValidationFailed) as refused:
        undo(app, second.import_id)  # row 3 changed after the import that created it
    assert refused.value.summary == "有 1 行在导入后被修改过，不能撤销；请先处理这些行"
    assert [e.message for e in refused.value.errors] == [f"「{tag}-3」在导入后被修改或删除过"]
    # an update import is undone to the values it replaced
    change = workbook([["sku", "name"], [f"{tag}-1", "改过的名字"], [f"{tag}-2", "也改了"]])
    updated = import_as_admin(app, "item", change, action="update")
    assert updated.applied and updated.updated == 2
    assert undo(app, updated.import_id) == {"deleted": 0, "restored": 2}
    assert stored(app, "item", "sku", f"{tag}-1")["name"] == "撤销 1"
    assert stored(app, "item", "sku", f"{tag}-1") is not None  # nothing undone


def test_undo_deletes_in_sets_audits_each_row_and_names_one_still_in_use(app, admin_api):
    """An import's undo deletes its rows a chunk at a time (one DELETE each), with an audit row per row; a row a
    document uses since is named and nothing at all is undone."""
    from app.errors import ValidationFailed
    from app.extensions import db
    from app.services.records.tables import audit_log
    from tests.ledger_helpers import document

    tag = unique("U")
    rows = [["sku", "name", "unit"]] + [[f"{tag}-{n}", f"成批撤销 {n}", "PCS"] for n in range(1, 6)]
    used = import_as_admin(app, "item", workbook(rows))
    assert used.applied and used.created == 5
    document(admin_api, "purchase_order", [{"item": f"{tag}-4", "qty": "1", "price": "1"}], warehouse="WH01")
    with pytest.raises(ValidationFailed) as refused:
        undo(app, used.import_id)
    assert [e.message for e in refused.value.errors] == ["已被其他记录引用，不能删除"]
    assert all(stored(app, "item", "sku", f"{tag}-{n}") is not None for n in range(1, 6))  # nothing undone
    free = import_as_admin(
        app, "item", workbook([["sku", "name", "unit"], [f"{tag}-a", "甲", "PCS"], [f"{tag}-b", "乙", "PCS"]])
    )
    ids = [pk for pk, _version in free.created_ids]
    from sqlalchemy import event

    deletes: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM ITEM"):
            deletes.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert undo(app, free.import_id) == {"deleted": 2, "restored": 0}
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(deletes) == 1  # the two rows in one statement
    assert stored(app, "item", "sku", f"{tag}-a") is None and stored(app, "item", "sku", f"{tag}-b") is None
    with app.app_context():
        trail = db.session.execute(
            select(audit_log.c.record_id, audit_log.c.action, audit_log.c.before, audit_log.c.after)
            .where(audit_log.c.model == "item", audit_log.c.record_id.in_(ids))
            .order_by(audit_log.c.id)
        ).all()
        db.session.remove()
    assert [(row.record_id, row.action) for row in trail] == [(ids[0], "create"), (ids[1], "create")] + [
        (ids[0], "delete"),
        (ids[1], "delete"),
    ]
    assert '"name": "甲"' in trail[2].before
    # each deleted row audited as it was created (read back column by column, written as one snapshot text)
    assert [trail[2].before, trail[3].before] == [trail[0].after, trail[1].after]
    assert trail[2].after is None and trail[0].before is None


@pytest.fixture
def in_process(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app with jobs on its in-process pool."""
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    return app


def upload(api: Any, model: str, data: bytes, name: str = "items.xlsx", **form: Any) -> Any:
    fields = {"model": model, "file": (io.BytesIO(data), name), **form}
    return api.post("/api/v1/imports/", data=fields, content_type="multipart/form-data")


def check_job(api: Any, model: str, data: bytes) -> dict[str, Any]:
    """`data` checked through `POST /api/v1/imports/check`: the job, ended (done: a check that finds errors is one)."""
    response = api.post(
        "/api/v1/imports/check",
        data={"model": model, "file": (io.BytesIO(data), "checked.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    job = finished(api, response.get_json()["job_id"])
    assert job["status"] == "done" and job["kind"] == "import_check", job
    return job


def finished(api: Any, job_id: int, timeout: float = 30) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + timeout
    while True:
        job = api.get(f"/api/v1/jobs/{job_id}").get_json()
        if job["status"] in ("done", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_upload_runs_as_a_job_with_counts_and_an_annotated_errors_workbook(in_process, admin_api, api_as):
    tag = unique("J")
    bad = workbook([["sku", "name", "unit"], [f"{tag}-1", "好", "PCS"], [f"{tag}-2", "", "没有"], ["=1+1", "x", "PCS"]])
    response = upload(admin_api, "item", bad)
    assert response.status_code == 202, response.get_data(as_text=True)
    job = finished(admin_api, response.get_json()["job_id"])
    assert job["status"] == "failed" and job["message"].startswith("发现 2 处错误"), job
    assert "第 3 行，「unit」列：找不到「没有」" in job["log"]
    report = admin_api.get(f"/api/v1/imports/{job['id']}/errors.xlsx")
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.data)).active
    report.close()
    assert [c.value for c in sheet[1]] == ["sku", "name", "unit", "错误说明"]
    assert sheet["B3"].fill.fgColor.rgb.endswith("FFC7CE") and sheet["B3"].comment.text == "必填"
    assert sheet["C3"].comment.text == "找不到「没有」" and sheet["A2"].comment is None
    assert sheet["A4"].value == "=1+1" and sheet["A4"].data_type == "s"  # text stays text, never a formula
    assert stored(in_process, "item", "sku", f"{tag}-1") is None
    assert api_as("u_clerk").get(f"/api/v1/imports/{job['id']}/errors.xlsx").status_code == 404

    good = workbook([["sku", "name", "unit"], [f"{tag}-1", "好", "PCS"], [f"{tag}-2", "也好", "个"]])
    job = finished(admin_api, upload(admin_api, "item", good, mode="valid").get_json()["job_id"])
    counts = {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0, "errors": 0}
    assert job["status"] == "done" and job["counts"] == counts
    assert job["result"]["import_id"] and stored(in_process, "item", "sku", f"{tag}-2")["name"] == "也好"
    listed = admin_api.get("/api/v1/imports/?model=item").get_json()["result"]
    assert listed[0]["id"] == job["result"]["import_id"] and listed[0]["created"] == 2
    undo_job = admin_api.post(f"/api/v1/imports/{job['result']['import_id']}/undo")
    assert undo_job.status_code == 202
    assert finished(admin_api, undo_job.get_json()["job_id"])["status"] == "done"
    assert stored(in_process, "item", "sku", f"{tag}-2") is None
    # refused at the door: no file, a model the user may not import, a bad option
    assert upload(admin_api, "item", b"").status_code == 422
    assert upload(api_as("u_purchaser"), "item", good).status_code == 403
    assert upload(admin_api, "item", good, action="merge").status_code == 422


def test_a_check_finds_every_error_the_import_would_at_once_and_writes_nothing(in_process, admin_api):
    """检查文件 is the import run through the one write path and rolled back: a bad cell, a price that ends before it
    starts (the price list's rule) and a customer price naming a supplier are all reported by the check, on their
    cells, as the import itself then refuses them; the check writes no row, history line, import record, document
    number or layout. (The check only parsed the cells: the rules' errors came after 导入.) The import in mode all
    then names the same three and writes nothing either."""
    from sqlalchemy import func

    from app.extensions import db, registry
    from app.services.records.tables import audit_log, sequence
    from importers.tables import import_run

    tag = unique("CK")
    data = workbook(
        [
            ["商品", "价格类型", "往来单位", "单价", "生效日期", "失效日期", "备注"],
            ["SP0001", "零售价", None, "三块", "2027-01-01", None, tag],  # row 2: not a number
            ["SP0002", "零售价", None, "2.80", "2027-02-10", "2027-02-01", tag],  # row 3: ends before it starts
            ["SP0003", "客户价", "S001", "3", "2027-01-01", None, tag],  # row 4: a customer price naming a supplier
            ["SP0004", "零售价", None, "4", "2027-01-01", None, tag],  # row 5: good
        ]
    )

    def written() -> list[int]:
        """The prices, history lines, import records and document numbers stored."""
        with in_process.app_context():
            prices = registry().cls("item_price")
            counts = [
                db.session.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (prices, audit_log, import_run)
            ]
            counts.append(db.session.execute(select(func.coalesce(func.sum(sequence.c.value), 0))).scalar_one())
            db.session.rollback()
            return counts

    before = written()
    job = check_job(admin_api, "item_price", data)
    found = [(i["row"], i["column"], i["message"]) for i in job["result"]["issues"]]
    assert found == [
        (2, "单价", found[0][2]),
        (3, "失效日期", "失效日期不能早于生效日期"),
        (4, "往来单位", found[2][2]),
    ], found
    assert "S001" in found[2][2] and found[0][2]
    assert job["result"]["refused"].startswith("发现 3 处错误") and not job["result"]["applied"]
    assert job["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 3, "errors": 3}
    report = admin_api.get(f"/api/v1/imports/{job['id']}/errors.xlsx")
    assert report.status_code == 200
    report.close()
    assert written() == before
    # the page drops a check it no longer wants, which may have ended meanwhile: no refusal then
    assert admin_api.post(f"/api/v1/jobs/{job['id']}/cancel").status_code == 409
    dropped = admin_api.post(f"/api/v1/jobs/{job['id']}/cancel?if_active=1")
    assert dropped.status_code == 200 and dropped.get_json()["status"] == "done"

    # the import in mode all refuses the file naming the same three errors the check named, not the bad cell alone.
    # (It stopped at the cells' own problems, before writing, so as to write nothing: the clerk fixed 三块, imported
    # again, and only then met the other two. It now writes the rest through the one write path as the check does
    # and rolls it all back: still nothing written, every error at once.)
    imported = finished(admin_api, upload(admin_api, "item_price", data, "prices.xlsx").get_json()["job_id"])
    assert imported["status"] == "failed" and imported["result"]["issues"] == job["result"]["issues"]
    assert imported["result"]["refused"].startswith("发现 3 处错误")
    assert imported["counts"] == {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0, "errors": 3}
    assert written() == before
    dry = finished(admin_api, upload(admin_api, "item_price", data, "prices.xlsx", dry_run="1").get_json()["job_id"])
    assert dry["kind"] == "import_check" and dry["result"]["issues"] == job["result"]["issues"]
    assert written() == before


def test_the_errors_workbook_keeps_each_row_where_the_message_says_under_a_title_row(in_process, admin_api):
    """A sheet with a title above the header (row 1) and the header on row 2: the log's "第 4 行" is row 4 of
    the errors workbook too, and the title is still on row 1."""
    tag = unique("W")
    book = Workbook()
    book.active.append(["商品资料导入"])
    book.active.merge_cells("A1:C1")
    for row in (["商品编码", "商品名称", "基本单位"], [f"{tag}-1", "好", "个"], [f"{tag}-2", "坏", "打"]):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    job = finished(admin_api, upload(admin_api, "item", out.getvalue()).get_json()["job_id"])
    assert job["status"] == "failed" and job["log"] == ["第 4 行，「基本单位」列：找不到「打」"], job
    report = admin_api.get(f"/api/v1/imports/{job['id']}/errors.xlsx")
    sheet = load_workbook(io.BytesIO(report.data)).active
    report.close()
    assert sheet["A1"].value == "商品资料导入"
    assert [c.value for c in sheet[2]] == ["商品编码", "商品名称", "基本单位", "错误说明"]
    assert [c.value for c in sheet[4]][:3] == [f"{tag}-2", "坏", "打"]
    assert sheet["C4"].comment.text == "找不到「打」" and sheet["C4"].fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet["C3"].comment is None and sheet.max_row == 4


def test_csv_export_utf8_bom_or_gbk_and_as_a_job(in_process, admin_api):
    tag = unique("E")
    rows = [
        ["sku", "name", "unit", "remark"],
        [f"{tag}-1", "导出 一", "PCS", "=HYPERLINK(1)"],
        [f"{tag}-2", "导出 二", "个", ""],
    ]
    assert run(in_process, "item", workbook(rows)).applied
    view = f"filter[0][field]=sku&filter[0][type]=like&filter[0][value]={tag}&columns=sku,name,unit,remark"
    response = admin_api.get(f"/api/v1/grid/item/export?format=csv&{view}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = response.data.decode("utf-8-sig").splitlines()
    response.close()
    assert lines == [
        "商品编码,商品名称,基本单位,备注",
        f"{tag}-1,导出 一,PCS 个,'=HYPERLINK(1)",
        f"{tag}-2,导出 二,PCS 个,",
    ]
    gbk = admin_api.get(f"/api/v1/grid/item/export?format=csv&encoding=gbk&{view}")
    assert gbk.data.decode("gb18030").splitlines() == lines
    gbk.close()
    assert admin_api.get(f"/api/v1/grid/item/export?format=csv&encoding=latin1&{view}").status_code == 400
    # the same view as a job: the jobs page holds the file
    params = [["filter[0][field]", "sku"], ["filter[0][type]", "like"], ["filter[0][value]", tag]]
    args = {"model": "item", "params": params, "columns": "sku,name", "format": "csv"}
    submitted = admin_api.post("/api/v1/jobs/", json={"kind": "export", "args": args})
    assert submitted.status_code == 202, submitted.get_data(as_text=True)
    job = finished(admin_api, submitted.get_json()["job_id"])
    assert job["status"] == "done" and job["result"] == {"rows": 2, "format": "csv"}, job
    result = admin_api.get(job["result_url"])
    assert result.data.decode("utf-8-sig").splitlines()[1:] == [f"{tag}-1,导出 一", f"{tag}-2,导出 二"]
    result.close()


def test_an_xlsx_export_longer_than_a_read_chunk_has_every_row_typed(in_process, admin_api):
    from app.services.grid.export import CHUNK

    tag = unique("XC")
    count = CHUNK + 30
    rows = [["sku", "name", "unit", "sale_price", "active"]]
    rows += [[f"{tag}-{n:05d}", f"=SUM({n})" if n == 7 else f"导出 {n}", "PCS", "1234.5", "否"] for n in range(count)]
    assert run(in_process, "item", workbook(rows)).applied
    view = f"filter[0][field]=sku&filter[0][type]=like&filter[0][value]={tag}&columns=sku,name,sale_price,unit,active"
    response = admin_api.get(f"/api/v1/grid/item/export?sort[0][field]=sku&sort[0][dir]=asc&{view}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("商品编码", "商品名称", "零售价", "基本单位", "启用")
    assert [v[0] for v in values[1:]] == [f"{tag}-{n:05d}" for n in range(count)]
    assert values[8][1] == "=SUM(7)" and sheet.cell(row=9, column=2).data_type == "s"
    assert values[-1][1:] == (f"导出 {count - 1}", 1234.5, "PCS 个", "否")
    assert sheet.cell(row=count + 1, column=3).number_format == "#,##0.0000"  # the column's, money to 4 places


def test_the_imports_page_lists_what_each_role_may_import_and_each_entry_opens(app, login_as):
    """/imports/ (数据导入 in the menu): exactly the models the role's import and write rights allow."""
    import re

    from app.extensions import registry
    from app.services.users.access import access_for
    from importers.pipeline import may_import
    from tests.conftest import ROLES

    for role in ROLES:
        client = login_as(role)
        page = client.get("/imports/")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        listed = set(re.findall(r'<tr data-model="([a-z_]+)">', html))
        with app.app_context():
            user = app.appbuilder.sm.find_user(username="admin" if role == "admin" else f"u_{role}")
            access = access_for(user)
            expected = {key for key, model in registry().meta.models.items() if may_import(access, model)}
        assert listed == expected, (role, listed ^ expected)
        assert ('id="jxc-imports-none"' in html) == (not listed)
        assert ('href="/imports/"' in html) == bool(listed)  # 数据导入 in the menu of the roles that may import
        for key in sorted(listed)[:1]:
            assert client.get(f"/imports/{key}/").status_code == 200
    assert {"item", "opening_balance", "item_price", "partner"} <= set(
        re.findall(r'<tr data-model="([a-z_]+)">', login_as("admin").get("/imports/").get_data(as_text=True))
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # built from metadata, not the database
def test_a_template_is_kept_per_metadata_version_and_the_readers_columns(app, admin_api, api_as):
    """Templates are built once per registry, language and columns (issue 19): the same bytes again, a field
    added from the admin page in the next one, and a price-blind reader never gets the admin's columns."""

    def headers(api, lang="zh"):
        response = api.get(f"/api/v1/imports/template/item?lang={lang}")
        assert response.status_code == 200
        return response.data, [c.value for c in load_workbook(io.BytesIO(response.data)).worksheets[0][1]]

    data, zh = headers(admin_api)
    assert headers(admin_api)[0] == data and headers(admin_api, "en")[1][:2] == ["*SKU", "*Name"]
    assert "零售价" in zh
    name = f"imp_{unique('k').lower()}"
    spec = {"name": name, "type": "text", "label": {"zh": "导入备注二", "en": "Import note 2"}}
    assert admin_api.post("/api/v1/meta/item/fields", json=spec).status_code in (200, 201)
    assert "导入备注二" in headers(admin_api)[1]
    clerk = api_as("clerk")
    hide_prices(app, ["clerk"])
    try:
        blind = headers(clerk)[1]
    finally:
        assert admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []}).status_code == 200
    assert "导入备注二" in blind and "零售价" not in blind
    assert "零售价" in headers(clerk)[1]


# --- import ---


def test_rows_kept_cells_coerced_column_by_column_and_long_text_kept_as_typed(app):
    """The reader keeps a row whose first cell is blank but another is not, drops blank rows (spaces too); each
    column is coerced as `coerce` would (text trimmed, long text given as typed to its parser, a whole float as
    an integer), and a code column every cell of which is new is parsed as the grid parses it."""
    from importers.reader import read_table

    sku, other = unique("COL"), unique("COL")
    rows = [
        ["商品编码", "商品名称", "基本单位", "零售价", "备注"],
        [f"  {sku} ", " 列逐列 ", "PCS", 12.0, "  两端空格  "],
        ["   ", None, "", None, " "],  # blank: dropped
        [None, None, None, None, "无编码"],  # kept: its errors are reported on its row
        [other, "列逐列二", "PCS", "8.50", None],
    ]
    data = workbook(rows)
    table = read_table(data, "c.xlsx")
    assert [r[-1] for r in table.rows[1:]] == ["  两端空格  ", "无编码", ""] and table.row_numbers == [1, 2, 4, 5]
    refused = run(app, "item", data)
    assert not refused.applied and {(i.row, i.field) for i in refused.issues} >= {(4, "sku"), (4, "name")}
    done = run(app, "item", data, mode="valid")
    assert done.applied and done.created == 2, done.summary()
    first = stored(app, "item", "sku", sku)
    assert first is not None and first["name"] == "列逐列" and first["sale_price"] == "12.00"
    assert first["remark"] == "两端空格"  # long text as typed to its parser, which trims it
    second = stored(app, "item", "sku", other)
    assert second is not None and second["sale_price"] == "8.50" and second["remark"] is None


def test_map_distinct_keeps_kinds_apart_and_each_value_processed_once():
    from app.services.records.bulk import map_distinct

    calls: list[Any] = []

    def process(value: Any) -> Any:
        calls.append(value)
        return f"<{value!r}>"

    texts = ["a", None, "b", "a", None, "a"]
    assert map_distinct(texts, process) == ["<'a'>", None, "<'b'>", "<'a'>", None, "<'a'>"]
    assert sorted(calls) == ["a", "b"]
    calls.clear()
    mixed = [1, True, 1.0, Decimal("1.0"), None, 1]  # equal, but not sent alike
    assert map_distinct(mixed, process) == ["<1>", "<True>", "<1.0>", "<Decimal('1.0')>", None, "<1>"]
    assert len(calls) == 4
    assert map_distinct([{"a": 1}, None], process) == ["<{'a': 1}>", None]  # unhashable: processed each time
    assert map_distinct(texts, None) is texts


def test_a_value_parsed_without_remembering_is_parsed_alike_and_not_kept(app):
    """An import's codes and names, every cell new, are parsed by the batch's parser without its memo."""
    from app.extensions import db, registry
    from app.meta.types import ValueProblem
    from app.services.records.write import RecordService
    from app.services.users.access import access_for

    with app.app_context():
        records = RecordService(db.session, access_for(app.appbuilder.sm.find_user(username="admin")), batch=True)
        sku = registry().model("item").field("sku")
        price = registry().model("item").field("sale_price")
        assert records.parse_value(sku, " ab-1 ", remember=False) == records.parse_value(sku, " ab-1 ")
        assert len(records._parsed) == 1  # noqa: SLF001 - only the remembered one
        with pytest.raises(ValueProblem):
            records.parse_value(price, "十二", remember=False)
        assert len(records._parsed) == 1  # noqa: SLF001
        db.session.rollback()


def test_a_masked_column_is_refused_cell_by_cell_in_the_write_paths_words(in_process, admin_api, api_as):
    """A clerk under 价格屏蔽 imports a sheet with a 零售价 column (items) or a 单价 column (purchase orders): not an
    unknown column, but each filled cell refused as the write path refuses the field (「零售价」没有修改权限), the
    value never repeated; blank cells pass, 只导入正确的行 imports the rest, skipping the column imports every row
    (docs/imports.md "Matching columns")."""
    from importers.matcher import normalise_header

    tag, secret = unique("MK"), "987.6543"
    rows = [["sku", "name", "unit", "零售价"], [f"{tag}-1", "甲", "PCS", secret], [f"{tag}-2", "乙", "PCS", None]]
    clerk = api_as("clerk")
    hide_prices(in_process, ["clerk"])
    try:
        written = clerk.post("/api/v1/item/", json={"sku": f"{tag}-0", "name": "丙", "unit": "PCS", "sale_price": "1"})
        words = {e["field"]: e["message"] for e in written.get_json()["errors"]}["sale_price"]
        assert written.status_code == 422 and words == "「零售价」没有修改权限"
        outcome = run(in_process, "item", workbook(rows), username="u_clerk")
        assert outcome.unknown_columns == [] and not outcome.applied
        assert [i.line() for i in outcome.issues] == [f"第 2 行，「零售价」列：{words}"]
        assert secret not in str(outcome.summary()) and "987.65" not in outcome.issues[0].message
        valid = run(in_process, "item", workbook(rows), username="u_clerk", mode="valid")
        assert valid.applied and (valid.created, valid.skipped) == (1, 1)
        assert stored(in_process, "item", "sku", f"{tag}-2") is not None
        assert stored(in_process, "item", "sku", f"{tag}-1") is None
        skip = {normalise_header("零售价"): ""}  # the column skipped: row 2 goes in, row 3 exists by now
        skipped = run(in_process, "item", workbook(rows), username="u_clerk", mode="valid", remembered=skip)
        assert skipped.applied and skipped.created == 1 and [(i.row, i.field) for i in skipped.issues] == [(3, "sku")]
        assert stored(in_process, "item", "sku", f"{tag}-1")["sale_price"] in (None, "0.00")
        # the API's upload (a job) and the import page's check say the same on the same cell
        again = workbook([rows[0], [f"{tag}-3", "丁", "PCS", secret]])
        job = finished(clerk, upload(clerk, "item", again).get_json()["job_id"])
        assert job["status"] == "failed" and secret not in job["log"]
        assert f"第 2 行，「零售价」列：{words}" in job["log"]
        checked = clerk.post(
            "/api/v1/imports/preview",
            data={"model": "item", "file": (io.BytesIO(again), "items.xlsx")},
            content_type="multipart/form-data",
        ).get_json()
        assert checked["unknown_columns"] == []
        assert [(i["row"], i["column"], i["col_index"], i["message"]) for i in checked["issues"]] == [
            (2, "零售价", 3, words)
        ]
        # a document's line price: the same, on the line's row
        number = unique("PO")
        header = ["单据编号", "单据日期", "供应商", "入库仓库", "商品", "数量", "单价"]
        order = [header, [number, "2026-11-21", "S001", "WH01", "SP0001", "4", secret]]
        order.append([number, None, None, None, "SP0002", "1", None])
        refused = run(in_process, "purchase_order", workbook(order), username="u_clerk")
        assert refused.unknown_columns == [] and refused.created == 0
        assert [i.line() for i in refused.issues] == ["第 2 行，「单价」列：「单价」没有修改权限"]
    finally:
        assert admin_api.put("/api/v1/settings/hide_prices_from_roles", json={"value": []}).status_code == 200


def test_only_the_unit_a_label_is_built_with_may_be_left_out_of_a_header():
    """金额（含税）'s bracket says which amount it is, not its unit: the header 金额 does not name it (it did, by any
    bracket stripped); 税率 names 税率(%) (its unit %). A field's own label wins over another's without its unit; a
    header that names two fields is refused naming both (the stocktake's counts go through the same matcher)."""
    from app.meta.loader import load_metadata
    from app.meta.spec import FieldSpec
    from importers.matcher import match_columns

    meta, _ = load_metadata(Path(__file__).resolve().parent.parent / "metadata")
    income = list(meta.model("other_income_expense").data_fields)
    found = match_columns([["金额", "税率", "金额（含税）"]], income)
    assert found.mapping == {1: "tax_rate", 2: "amount"} and found.unknown == [0]
    plain = FieldSpec("net", "money", {"zh": "金额", "en": "Amount"})
    assert match_columns([["金额", "金额(含税)"]], [*income, plain]).mapping == {0: "net", 1: "amount"}
    percent, days = {"zh": "%", "en": "%"}, {"zh": "天", "en": "days"}
    rebate = FieldSpec("rebate", "decimal", {"zh": "返利(%)", "en": "Rebate (%)"}, measure="rate", unit=percent)
    rebate_days = FieldSpec("rebate_days", "integer", {"zh": "返利（天）", "en": "Rebate (days)"}, unit=days)
    rebate_own = FieldSpec("rebate_own", "text", {"zh": "返利", "en": "Rebate"})
    both = match_columns([["返利", "返利(%)"]], [rebate, rebate_days])
    assert both.mapping == {1: "rebate"} and both.unknown == []
    named = "「返利」列可以指「返利(%)」、「返利（天）」中的任一个字段，请把表头写成其中一个的完整名称"
    assert both.header_problems() == [named]
    assert match_columns([["返利"]], [rebate, rebate_days, rebate_own]).mapping == {0: "rebate_own"}


def test_a_template_filled_in_is_read_without_a_note_on_its_notes_sheet(app, admin_api):
    """The import template carries a visible 填写说明 sheet: a file made from it is not 'a workbook of 2 sheets'
    (every import from a template said so); a workbook with a second sheet of rows still says which it read."""
    from openpyxl import load_workbook

    def checked(data: bytes) -> dict[str, Any]:
        answer = admin_api.post(
            "/api/v1/imports/preview",
            data={"model": "unit", "file": (io.BytesIO(data), "units.xlsx")},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    template = admin_api.get("/api/v1/imports/template/unit?lang=zh").get_data()
    book = load_workbook(io.BytesIO(template))
    assert [s.title for s in book.worksheets if s.sheet_state == "visible"][1:] == ["填写说明"]
    book.worksheets[0].append([unique("U"), "个"])
    out = io.BytesIO()
    book.save(out)
    assert not [note for note in checked(out.getvalue())["notes"] if "可见工作表" in note]

    book.create_sheet("二月").append(["单位编码", "单位名称"])
    out = io.BytesIO()
    book.save(out)
    notes = checked(out.getvalue())["notes"]
    assert f"工作簿有 2 个可见工作表，已读取第一个「{book.worksheets[0].title}」" in notes, notes


def test_the_import_page_finds_the_users_import_still_running_on_that_model(app, login_as):
    """A page reloaded mid-import (or opened again) carries the import the user started there and has not seen end:
    theirs, of that model, queued or running; not another user's, another model's or one ended."""
    import html
    import json
    import re

    from app.extensions import db
    from app.jobs import store

    def config(client: Any, model: str) -> dict[str, Any]:
        page = client.get(f"/imports/{model}/").get_data(as_text=True)
        return json.loads(html.unescape(re.search(r'data-config="([^"]*)"', page).group(1)))

    with app.app_context():
        users = {name: app.appbuilder.sm.find_user(username=name).id for name in ("admin", "u_clerk")}

        def queued(user: str, model: str) -> int:  # a backend no runner serves: it stays queued
            return store.insert_job(
                db.session,
                kind="import",
                user_id=users[user],
                username=user,
                args={"model": model, "upload": "x"},
                key=None,
                max_attempts=1,
                backend="nobody",
            )

        mine, theirs, other_model = queued("admin", "item"), queued("u_clerk", "item"), queued("admin", "partner")
        db.session.commit()
    admin = login_as("admin")
    assert config(admin, "item")["active_job"] == mine
    assert config(login_as("clerk"), "item")["active_job"] == theirs
    assert config(admin, "partner")["active_job"] == other_model
    with app.app_context():
        for job_id in (mine, theirs, other_model):
            store.cancel_queued(db.session, job_id)
        db.session.commit()
    assert config(admin, "item")["active_job"] is None


def test_an_import_refusing_a_user_cell_quotes_it_as_typed(in_process, api_as):
    """A salesperson importing customers names another 业务员 by login, and one nobody has: the import refuses both
    rows quoting the cell as typed (「u_purchaser」, 「no_such_login」), as the form does; it quoted the id the
    login was parsed to (「4」). The row naming the salesperson themselves is created."""
    from tests.test_role_locks import _store_pair

    _store_pair(in_process, "salesperson", "can_import", "Partner", True)
    try:
        tag = unique("SU")
        data = workbook(
            [
                ["单位编码", "单位名称", "单位类型", "业务员"],
                [f"{tag}-1", "别人的客户", "客户", "u_purchaser"],
                [f"{tag}-2", "自己的客户", "客户", "u_salesperson"],
                [f"{tag}-3", "没人的客户", "客户", "no_such_login"],
            ]
        )
        sales = api_as("u_salesperson")
        response = upload(sales, "partner", data, name="customers.xlsx", mode="valid")
        assert response.status_code == 202, response.get_data(as_text=True)
        job = finished(sales, response.get_json()["job_id"])
        assert job["counts"]["created"] == 1, job
        assert [line for line in job["log"] if line.startswith("第 ")] == [
            "第 2 行，「业务员」列：业务员只能填写您本人，不能填写「u_purchaser」",
            "第 4 行，「业务员」列：业务员只能填写您本人，不能填写「no_such_login」",
        ], job["log"]
        assert stored(in_process, "partner", "code", f"{tag}-2")["name"] == "自己的客户"
        assert stored(in_process, "partner", "code", f"{tag}-1") is None
    finally:
        _store_pair(in_process, "salesperson", "can_import", "Partner", False)


@pytest.mark.parametrize("role", ["salesperson", "admin"])
def test_an_unknown_login_is_worded_in_an_import_as_the_form_words_it(in_process, api_as, login_as, role):
    """A login nobody has, typed in 业务员 on the partner form and in an import's 业务员 column: one message, the
    form's. A salesperson (who may name only themselves) is told 业务员只能填写您本人，不能填写「…」 by both, so an
    import no longer tells which logins exist (it said 找不到用户「…」); an admin is told 找不到用户「…」 by both."""
    import re

    from conftest import csrf_from

    from tests.test_role_locks import _store_pair

    login = unique("nobody").lower()
    me = "admin" if role == "admin" else f"u_{role}"
    client = login_as(role)
    page = client.get("/m/partner/new").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "code": unique("UF"), "name": "表单客户", "kind": "customer", "owner": login}
    refused = client.post("/m/partner/new", data=form)
    assert refused.status_code == 200  # the form again, with the field's error
    wording = {
        "salesperson": f"业务员只能填写您本人，不能填写「{login}」",
        "admin": f"找不到用户「{login}」",
    }[role]
    shown = re.sub(r"<[^>]+>", "", refused.get_data(as_text=True))
    assert wording in shown, shown[:3000]
    if role == "salesperson":
        _store_pair(in_process, "salesperson", "can_import", "Partner", True)
    try:
        data = workbook([["单位编码", "单位名称", "单位类型", "业务员"], [unique("UI"), "导入客户", "客户", login]])
        api = api_as(me)
        response = upload(api, "partner", data, name="customers.xlsx", mode="valid")
        assert response.status_code == 202, response.get_data(as_text=True)
        job = finished(api, response.get_json()["job_id"])
        assert [line for line in job["log"] if line.startswith("第 ")] == [f"第 2 行，「业务员」列：{wording}"]
    finally:
        if role == "salesperson":
            _store_pair(in_process, "salesperson", "can_import", "Partner", False)


def test_a_check_names_a_row_a_salesperson_may_not_write_for_their_scope(in_process, api_as):
    """A salesperson sees only the customers they own (row scope `owner: me`), here allowed to import them: a customer
    naming another 业务员 passes every cell's check (the preview), and only the write refuses it (业务员只能填写您本人).
    The check shows it with a missing name on another row, before anything is written; the row they may write would
    be created."""
    from app.extensions import db, registry
    from tests.test_role_locks import _store_pair

    _store_pair(in_process, "salesperson", "can_import", "Partner", True)
    try:
        tag = unique("SC")
        data = workbook(
            [
                ["单位编码", "单位名称", "单位类型", "业务员"],
                [f"{tag}-1", "别人的客户", "客户", "u_purchaser"],  # row 2: another's customer, out of their scope
                [f"{tag}-2", "", "客户", None],  # row 3: no name
                [f"{tag}-3", "自己的客户", "客户", None],  # row 4: good (theirs)
            ]
        )
        sales = api_as("u_salesperson")
        job = check_job(sales, "partner", data)
        found = [(i["row"], i["column"], i["message"][:10]) for i in job["result"]["issues"]]
        assert found == [(2, "业务员", "业务员只能填写您本人"), (3, "单位名称", "必填")], job["log"]
        assert job["result"]["issues"][0]["message"] == "业务员只能填写您本人，不能填写「u_purchaser」"
        preview = sales.post(
            "/api/v1/imports/preview",
            data={"model": "partner", "file": (io.BytesIO(data), "customers.xlsx")},
            content_type="multipart/form-data",
        ).get_json()
        assert [(i["row"], i["column"]) for i in preview["issues"]] == [(3, "单位名称")]  # the cells alone
        assert job["counts"]["created"] == 1
        with in_process.app_context():
            partners = registry().cls("partner")
            assert db.session.execute(select(partners.id).where(partners.code.like(f"{tag}-%"))).all() == []
            db.session.rollback()
    finally:
        _store_pair(in_process, "salesperson", "can_import", "Partner", False)


def exported(api: Any, model: str, sku: str) -> Any:
    """The workbook `api`'s user exports of `model`'s rows of the item `sku` (导出 Excel)."""
    answer = api.get(f"/api/v1/grid/{model}/export?filter[0][field]=item&filter[0][type]==&filter[0][value]={sku}")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return load_workbook(io.BytesIO(answer.data))


def saved(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_exported_price_list_and_item_units_edited_and_imported_back_update_their_rows(app, admin_api, api_as):
    """价格表 and 商品多单位 rows have no code: an update import asked for an id column that no export or template has,
    so a price list edited in Excel could not be imported back. Their natural key (metadata `natural_key`: a price's
    item, list, partner, unit and start day; an item's unit) finds the row now; two rows of one key are both refused."""
    sku = unique("PL")
    made = admin_api.post("/api/v1/item/", json={"sku": sku, "name": f"价格表 {sku}", "unit": "PCS"})
    assert made.status_code == 201, made.get_json()
    for body in (
        {"price_list": "retail", "price": "5", "valid_from": "2026-01-01"},
        {"price_list": "customer", "partner": "K001", "price": "4.5"},
        {"price_list": "retail", "unit": "BOX", "price": "100"},
    ):
        answer = admin_api.post("/api/v1/item_price/", json={"item": sku, **body})
        assert answer.status_code == 201, answer.get_json()
    assert admin_api.post("/api/v1/item_unit/", json={"item": sku, "unit": "BOX", "ratio": "24"}).status_code == 201
    clerk = api_as("clerk")

    book = exported(clerk, "item_price", sku)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    column = headers.index("单价") + 1
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=column, value=float(sheet.cell(row=row, column=column).value) + 1)
    outcome = run(app, "item_price", saved(book), username="u_clerk", action="update")
    assert outcome.applied and outcome.updated == 3, [i.line() for i in outcome.issues] + outcome.problems
    prices = clerk.get(f"/api/v1/item_price/?q=(filters:!((col:item,opr:eq,value:'{sku}')))").get_json()["result"]
    assert sorted(p["price"] for p in prices) == ["101.00", "5.50", "6.00"], prices
    assert len(prices) == 3  # changed in place, none added

    sheet.append([c.value for c in sheet[2]])  # row 2 again, as the file's last row
    twice = run(app, "item_price", saved(book), username="u_clerk", action="upsert", mode="valid")
    last = sheet.max_row
    assert [i.line() for i in twice.issues] == [
        f"第 2 行，「商品」列：与第 {last} 行改的是同一条记录，不知道以哪一行为准，两行都未导入（请合并为一行）",
        f"第 {last} 行，「商品」列：与第 2 行改的是同一条记录，不知道以哪一行为准，两行都未导入（请合并为一行）",
    ]
    assert twice.skipped == 2 and twice.created == 0
    sheet.delete_rows(last)
    start = headers.index("生效日期") + 1
    dated = next(row for row in range(2, last) if sheet.cell(row=row, column=start).value)
    sheet.cell(row=dated, column=start, value="2026-02-01")  # no price of its list starts that day
    gone = run(app, "item_price", saved(book), username="u_clerk", action="update")
    assert [i.line() for i in gone.issues] == [
        f"第 {dated} 行，「商品」列：找不到「{sku} 价格表 {sku}、零售价、2026-02-01」"
    ], [i.line() for i in gone.issues]

    new = workbook([["商品", "价格类型", "单价"], [sku, "零售价", 7]])  # no start day: from today, as a form takes it
    added = run(app, "item_price", new, username="u_clerk")
    assert added.applied and added.created == 1, [i.line() for i in added.issues]

    units = exported(clerk, "item_unit", sku)
    headers = [c.value for c in units.active[1]]
    units.active.cell(row=2, column=headers.index("换算率") + 1, value=12)
    outcome = run(app, "item_unit", saved(units), username="u_clerk", action="update")
    assert outcome.applied and outcome.updated == 1, [i.line() for i in outcome.issues] + outcome.problems
    (unit,) = clerk.get(f"/api/v1/item_unit/?q=(filters:!((col:item,opr:eq,value:'{sku}')))").get_json()["result"]
    assert unit["ratio"].startswith("12") and unit["unit"]["key"] == "BOX", unit
    again = run(app, "item_unit", workbook([["商品", "单位", "换算率"], [sku, "BOX", 6]]), username="u_clerk")
    assert [i.line() for i in again.issues] == [
        f"第 2 行，「商品」列：「{sku}、BOX」已存在（要修改已有数据请选择“更新”或“新增或更新”）"
    ]
