"""Fields without code: a field added at run time is live at once, in this process and in others.

API part: the in-process app on SQLite and PostgreSQL (the `app` fixture).
Process part: two real gunicorn servers on one database (Flask refuses new routes after the first
request, so a new field is swapped in behind the existing ones): a field added through server A is in
server B's very next request, with no restart in between.
"""

from __future__ import annotations

import re
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import prison
import psycopg
import pytest
from conftest import PASSWORD, PG_URL, csrf_from, unique
from servers import HtmlSession, HttpApi, jxc_servers
from sqlalchemy import inspect

ITEM_FIELDS = "/api/v1/meta/item/fields"


def field_name(prefix: str = "f") -> str:
    """A unique, valid field name (lower-case letters and digits)."""
    return unique(prefix).lower()


def labelled(name: str, zh: str, en: str) -> dict[str, str]:
    """Labels of its own for the field `name` (产地40213577): the tests share one database per backend, and a label
    another field of the model has is refused (an import's column headed so could fill either). Digits: a Chinese
    label holds no Latin word (test_i18n reads every label)."""
    tail = zlib.crc32(name.encode())
    return {"zh": f"{zh}{tail}", "en": f"{en} {tail}"}


def text_spec(name: str, **extra: Any) -> dict[str, Any]:
    spec = {
        "name": name,
        "type": "text",
        "label": labelled(name, "产地", "Origin"),
        "help": {"zh": "商品的原产地", "en": "Where the item comes from"},
    }
    spec.update(extra)
    return spec


def meta_version(api: Any) -> int:
    response = api.get("/api/v1/meta/models")
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(response.get_json()["version"])


def item_columns(app: Any) -> set[str]:
    from app.extensions import db

    with app.app_context():
        return {c["name"] for c in inspect(db.engine).get_columns("item")}


def field_audit(api: Any) -> list[dict[str, Any]]:
    response = api.get("/api/v1/audit/?model=jxc_meta_field&page_size=500")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["result"]


def first_item(api: Any) -> dict[str, Any]:
    response = api.get(
        "/api/v1/item/",
        query_string={"q": prison.dumps({"page_size": 1, "order_column": "id", "order_direction": "asc"})},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    pk = response.get_json()["ids"][0]
    got = api.get(f"/api/v1/item/{pk}")
    assert got.status_code == 200
    return got.get_json()["result"]


def add_field(api: Any, spec: dict[str, Any]) -> dict[str, Any]:
    response = api.post(ITEM_FIELDS, json=spec)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


# --- through the API, both backends ------------------------------------------------------------


def test_added_field_is_live_everywhere(app, admin_api):
    name = field_name("origin")
    before_row = first_item(admin_api)
    version = meta_version(admin_api)
    assert name not in item_columns(app)

    spec = text_spec(name)
    body = add_field(admin_api, spec)
    assert body["result"]["name"] == name
    assert body["result"]["label"] == spec["label"] and spec["label"]["zh"].startswith("产地")
    assert meta_version(admin_api) == version + 1
    assert name in item_columns(app), "the field must be a real column"

    info = admin_api.get("/api/v1/item/_info").get_json()
    by_name = {f["name"]: f for f in info["fields"]}
    assert name in by_name and by_name[name]["type"] == "text" and not by_name[name]["readonly"]
    assert name in [c["name"] for c in info["add_columns"]] and name in [c["name"] for c in info["edit_columns"]]
    assert "ct" in info["filters"][name]

    schemas = admin_api.get("/api/v1/_openapi").get_json()["components"]["schemas"]
    assert name in schemas["ItemApi.get"]["properties"]
    assert name in schemas["ItemApi.post"]["properties"]

    # existing rows keep their data; the new key is there, empty
    after_row = admin_api.get(f"/api/v1/item/{before_row['id']}").get_json()["result"]
    assert after_row[name] is None
    assert {k: v for k, v in after_row.items() if k != name} == before_row

    # write and read through POST / PUT / GET
    sku = unique("LF")
    created = admin_api.post("/api/v1/item/", json={"sku": sku, "name": "测试商品", "unit": "PCS", name: "云南"})
    assert created.status_code == 201, created.get_data(as_text=True)
    pk = created.get_json()["id"]
    assert created.get_json()["result"][name] == "云南"
    updated = admin_api.put(f"/api/v1/item/{pk}", json={name: "浙江 杭州"})
    assert updated.status_code == 200, updated.get_data(as_text=True)
    assert admin_api.get(f"/api/v1/item/{pk}").get_json()["result"][name] == "浙江 杭州"
    listed = admin_api.get(
        "/api/v1/item/",
        query_string={"q": prison.dumps({"filters": [{"col": name, "opr": "eq", "value": "浙江 杭州"}]})},
    )
    assert listed.status_code == 200, listed.get_data(as_text=True)
    assert listed.get_json()["ids"] == [pk]

    # audited, and listed as a field added from the database
    audit = [row for row in field_audit(admin_api) if row["after"] and row["after"].get("name") == name]
    assert len(audit) == 1
    assert audit[0]["user"] == "admin" and audit[0]["after"]["model"] == "item"
    models = admin_api.get("/api/v1/meta/models").get_json()["result"]
    item = next(m for m in models if m["key"] == "item")
    added = next(f for f in item["fields"] if f["name"] == name)
    assert added["origin"] == "db"
    assert next(f for f in item["fields"] if f["name"] == "sku")["origin"] == "yaml"


BAD_SPECS = {
    "unknown_type": ({"type": "colour"}, "type", "colour"),
    "clash_with_yaml_field": ({"name": "sku"}, "name", "sku"),
    "link_to_missing_model": ({"type": "link", "to": "no_such_model"}, "to", "no_such_model"),
    "missing_label": ({"label": None}, "label", "标签"),
    "label_without_english": ({"label": {"zh": "产地"}}, "label", "英文"),
    "bad_name": ({"name": "Bad Name"}, "name", "Bad Name"),
    "name_too_long": ({"name": "a" * 41}, "name", "最多 40 个字符"),
    "side_on_a_model_without_sides": ({"type": "money", "figure": "side"}, "figure", "按往来方向"),
    # purchasers write items and see no sale figure: they could save no item without it
    "required_where_a_writer_may_not_see_it": (
        {"type": "money", "figure": "sale", "required": True},
        "required",
        "purchaser",
    ),
    "lines_type": ({"type": "lines"}, "type", "lines"),
    "bad_default": ({"type": "integer", "default": "many"}, "default", "many"),
    "select_without_options": ({"type": "select"}, "options", "选项"),
    "unknown_option": ({"colour": "red"}, "spec", "colour"),
}


@pytest.mark.parametrize("case", list(BAD_SPECS))
def test_bad_spec_is_refused_and_nothing_written(app, admin_api, case):
    change, field, needle = BAD_SPECS[case]
    name = field_name("bad")
    spec = text_spec(name)
    spec.update(change)
    spec = {k: v for k, v in spec.items() if v is not None}
    version = meta_version(admin_api)
    audit_count = len(field_audit(admin_api))
    columns = item_columns(app)

    response = admin_api.post(ITEM_FIELDS, json=spec)

    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    errors = body["errors"]
    assert errors and all(e["message"] for e in errors)
    assert field in {e["field"] for e in errors}, errors
    assert any(needle in e["message"] for e in errors if e["field"] == field), errors
    assert body["message"][field]
    # nothing written
    assert meta_version(admin_api) == version
    assert item_columns(app) == columns
    assert len(field_audit(admin_api)) == audit_count
    item = next(m for m in admin_api.get("/api/v1/meta/models").get_json()["result"] if m["key"] == "item")
    assert spec["name"] == "sku" or spec["name"] not in {f["name"] for f in item["fields"]}


def test_not_a_json_object_is_refused(admin_api):
    version = meta_version(admin_api)
    response = admin_api.post(ITEM_FIELDS, data="name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert response.get_json()["errors"]
    assert meta_version(admin_api) == version


def test_unknown_model_is_404_and_ledger_is_refused(admin_api):
    version = meta_version(admin_api)
    assert admin_api.post("/api/v1/meta/no_such_model/fields", json=text_spec(field_name())).status_code == 404
    assert admin_api.post("/api/v1/meta/stock_move/fields", json=text_spec(field_name())).status_code == 403
    assert meta_version(admin_api) == version


@pytest.mark.parametrize("role", ["manager", "clerk"])
def test_only_admins_add_fields(app, admin_api, api_as, role):
    name = field_name("nope")
    version = meta_version(admin_api)
    columns = item_columns(app)
    response = api_as(role).post(ITEM_FIELDS, json=text_spec(name))
    assert response.status_code == 403, response.get_data(as_text=True)
    assert meta_version(admin_api) == version
    assert item_columns(app) == columns


def test_select_field_with_options(admin_api):
    name = field_name("grade")
    spec = {
        "name": name,
        "type": "select",
        "label": labelled(name, "等级", "Grade"),
        "help": {"zh": "质量等级", "en": "Quality grade"},
        "options": [
            {"value": "a", "label": {"zh": "一等品", "en": "First grade"}},
            {"value": "b", "label": {"zh": "二等品", "en": "Second grade"}},
        ],
    }
    add_field(admin_api, spec)
    info = {f["name"]: f for f in admin_api.get("/api/v1/item/_info").get_json()["fields"]}
    assert [o["value"] for o in info[name]["options"]] == ["a", "b"]
    assert info[name]["options"][0]["label"] == "一等品"

    created = admin_api.post("/api/v1/item/", json={"sku": unique("SEL"), "name": "选择测试", "unit": "PCS", name: "b"})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["result"][name] == "b"
    refused = admin_api.put(f"/api/v1/item/{created.get_json()['id']}", json={name: "z"})
    assert refused.status_code == 422
    assert name in refused.get_json()["message"]
    assert admin_api.get(f"/api/v1/item/{created.get_json()['id']}").get_json()["result"][name] == "b"


def test_money_field_with_default(admin_api):
    name = field_name("deposit")
    add_field(
        admin_api,
        {
            "name": name,
            "type": "money",
            "figure": "sale",  # what figure it is: hidden from the roles that hide selling figures
            "default": "12.50",
            "min": 0,
            "label": labelled(name, "押金", "Deposit"),
            "help": {"zh": "包装押金", "en": "Packaging deposit"},
        },
    )
    created = admin_api.post("/api/v1/item/", json={"sku": unique("MNY"), "name": "押金测试", "unit": "PCS"})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["result"][name] == "12.50"
    pk = created.get_json()["id"]
    assert admin_api.put(f"/api/v1/item/{pk}", json={name: "0.10"}).status_code == 200
    assert admin_api.get(f"/api/v1/item/{pk}").get_json()["result"][name] == "0.10"
    too_precise = admin_api.put(f"/api/v1/item/{pk}", json={name: "0.105"})
    assert too_precise.status_code == 422
    negative = admin_api.put(f"/api/v1/item/{pk}", json={name: "-1"})
    assert negative.status_code == 422
    assert admin_api.get(f"/api/v1/item/{pk}").get_json()["result"][name] == "0.10"


def refusal(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.get_data(as_text=True)
    return [(e["field"], e["message"]) for e in response.get_json()["errors"]]


def test_a_name_or_label_another_field_has_is_refused(app, admin_api):
    """Excel imports match columns by their header text: a field labelled as another field of the model (in either
    language, however spaced, cased or full-width), named as another's label, or labelled as another without its
    unit (保质期 for 保质期（天）) would head a column that could fill either, and the template could not be imported
    back. Refused on the option, 「商品」已有名为「…」的字段, and nothing is added."""
    taken = field_name("origin")
    spec = text_spec(taken)
    add_field(admin_api, spec)
    zh, en = spec["label"]["zh"], spec["label"]["en"]
    say = "「商品」已有名为「{}」的字段，导入时表头会分不清，请换一个名称"
    cases = [
        ({"zh": zh, "en": "Elsewhere"}, None, [("label", say.format(zh))]),
        ({"zh": "别处", "en": f" {en.upper()} "}, None, [("label", say.format(f" {en.upper()} "))]),
        (
            {"zh": "商品名称", "en": "Ｎａｍｅ"},
            None,
            [("label", say.format("商品名称")), ("label", say.format("Ｎａｍｅ"))],
        ),
        ({"zh": "保质期", "en": "Keeps"}, None, [("label", say.format("保质期"))]),
        (
            {"zh": "别处", "en": "Elsewhere"},
            en.replace(" ", "").lower(),
            [("name", say.format(en.replace(" ", "").lower()))],
        ),
    ]
    version, columns = meta_version(admin_api), item_columns(app)
    for label, name, errors in cases:
        asked = {**text_spec(name or field_name("again")), "label": label}
        assert refusal(admin_api.post(ITEM_FIELDS, json=asked)) == errors, label
    assert meta_version(admin_api) == version and item_columns(app) == columns
    from test_i18n import EN, token_client

    client, auth = token_client(app)  # no session cookie: the language the call asks for
    english = client.post(
        ITEM_FIELDS,
        json={**text_spec(field_name("again")), "label": {"zh": zh, "en": "Elsewhere"}},
        headers=dict(auth, **{"Accept-Language": EN}),
    )
    assert refusal(english) == [
        (
            "label",
            f"'Item' already has a field named '{zh}': an import's column headed so could fill either; "
            "choose another name",
        )
    ]


def item_count(api: Any) -> int:
    return int(api.get("/api/v1/item/", query_string={"q": prison.dumps({"page_size": 1})}).get_json()["count"])


def test_a_required_field_on_a_model_with_rows_asks_what_they_take(app, admin_api):
    """Items exist: a required field added without a value for them (or a default) would leave every one of them
    unsaveable, so it is refused, saying why, and nothing is added; with the value asked for them they all take it
    in the same change, new rows the default, and an item saved through its form saves."""
    name = field_name("origin")
    version, columns, rows = meta_version(admin_api), item_columns(app), item_count(admin_api)
    spec = text_spec(name, required=True)
    assert refusal(admin_api.post(ITEM_FIELDS, json=spec)) == [
        (
            "backfill",
            f"「商品」已有 {rows} 条记录：添加必填字段时请填写“已有记录取值”（或默认值），这些记录将取这个值；"
            "否则它们都将无法保存",
        )
    ]
    assert meta_version(admin_api) == version and item_columns(app) == columns

    before = first_item(admin_api)
    add_field(admin_api, {**spec, "default": "国产", "backfill": "进口"})
    assert admin_api.get(f"/api/v1/item/{before['id']}").get_json()["result"][name] == "进口"
    assert (
        admin_api.get(
            "/api/v1/item/",
            query_string={
                "q": prison.dumps({"filters": [{"col": name, "opr": "eq", "value": "进口"}], "page_size": 1})
            },
        ).get_json()["count"]
        == rows
    )
    created = admin_api.post("/api/v1/item/", json={"sku": unique("REQ"), "name": "必填测试", "unit": "PCS"})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["result"][name] == "国产"


def test_a_required_field_on_a_model_with_rows_takes_its_default_there_too(admin_api):
    name = field_name("grade")
    before = first_item(admin_api)
    add_field(admin_api, text_spec(name, required=True, default="合格"))
    assert admin_api.get(f"/api/v1/item/{before['id']}").get_json()["result"][name] == "合格"


def test_a_required_date_defaulting_to_today_gives_the_rows_the_day_it_was_added(admin_api):
    from app.clock import business_today

    name = field_name("since")
    before = first_item(admin_api)
    add_field(
        admin_api,
        {
            "name": name,
            "type": "date",
            "label": labelled(name, "启用日期", "Since"),
            "required": True,
            "default": "today",
        },
    )
    assert admin_api.get(f"/api/v1/item/{before['id']}").get_json()["result"][name] == business_today().isoformat()


def test_an_optional_field_fills_the_rows_with_the_value_asked_for_them_only(admin_api):
    """Not required: the rows take a value only when one is asked for them (a default is for new rows)."""
    asked, defaulted = field_name("asked"), field_name("dflt")
    before = first_item(admin_api)
    add_field(
        admin_api, {"name": asked, "type": "integer", "label": labelled(asked, "层数", "Layers"), "backfill": "3"}
    )
    add_field(admin_api, text_spec(defaulted, default="无"))
    row = admin_api.get(f"/api/v1/item/{before['id']}").get_json()["result"]
    assert row[asked] == 3 and row[defaulted] is None


def test_an_existing_item_saves_through_its_form_after_a_required_field_is_added(admin_api, login_as):
    name = field_name("shelf")
    item = first_item(admin_api)
    add_field(admin_api, text_spec(name, required=True, default="A1", backfill="Z9"))
    client = login_as("admin")
    page = client.get(f"/m/item/{item['id']}/edit").get_data(as_text=True)
    assert f'name="{name}"' in page and 'value="Z9"' in page
    fields = {k: v for k, v in item.items() if isinstance(v, str) and k not in ("created_at", "updated_at")}
    saved = client.post(
        f"/m/item/{item['id']}/edit",
        data={**fields, "csrf_token": csrf_from(page), "version": item["version"], "name": item["name"] + "·改"},
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert admin_api.get(f"/api/v1/item/{item['id']}").get_json()["result"][name] == "Z9"


ROWS_REFUSALS = {
    # one value cannot be unique over many rows (a database error, a 500, when it reached the unique index)
    "unique": ({"default": "X", "unique": True}, "unique", "唯一的字段无法让它们取同一个值"),
    "unique_not_required": ({"required": False, "backfill": "X", "unique": True}, "unique", "唯一的字段"),
    # a link's value is a row of another model: not one typed value here
    "link": ({"type": "link", "to": "unit"}, "required", "关联字段无法为它们统一取值"),
    "link_with_a_value": ({"type": "link", "to": "unit", "backfill": "PCS"}, "backfill", "关联字段无法"),
    "bad_value": ({"type": "integer", "backfill": "many"}, "backfill", "已有记录取值「many」无效"),
}


@pytest.mark.parametrize("case", list(ROWS_REFUSALS))
def test_a_field_the_rows_cannot_take_is_refused(app, admin_api, case):
    change, option, needle = ROWS_REFUSALS[case]
    version, columns = meta_version(admin_api), item_columns(app)
    errors = refusal(admin_api.post(ITEM_FIELDS, json={**text_spec(field_name("r"), required=True), **change}))
    assert any(field == option and needle in message for field, message in errors), errors
    assert meta_version(admin_api) == version and item_columns(app) == columns


def field_section(api: Any, model: str, name: str) -> str:
    models = api.get("/api/v1/meta/models").get_json()["result"]
    fields = next(m for m in models if m["key"] == model)["fields"]
    return next(f for f in fields if f["name"] == name).get("section", "basic")


def test_a_field_added_without_a_group_joins_the_fields_of_its_type(admin_api, login_as):
    """A money field lands where the model keeps its money: the item's 价格, the partner's 财务; a number where its
    numbers are; a text in 基本信息; a group the admin chose is kept."""
    deposit, credit, shelf_life, note, chosen = (field_name(p) for p in ("dep", "cred", "days", "note", "pick"))

    def money(name: str) -> dict[str, Any]:
        return {"name": name, "type": "money", "figure": "sale", "label": labelled(name, "押金", "Deposit")}

    add_field(admin_api, money(deposit))
    assert admin_api.post("/api/v1/meta/partner/fields", json=money(credit)).status_code == 201
    add_field(
        admin_api, {"name": shelf_life, "type": "integer", "label": labelled(shelf_life, "保鲜天数", "Fresh days")}
    )
    add_field(admin_api, text_spec(note))
    add_field(admin_api, {**money(chosen), "section": "other"})
    assert field_section(admin_api, "item", deposit) == "price"
    assert field_section(admin_api, "partner", credit) == "finance"
    assert field_section(admin_api, "item", shelf_life) == "stock"
    assert field_section(admin_api, "item", note) == "basic"
    assert field_section(admin_api, "item", chosen) == "other"
    form = login_as("admin").get("/m/item/new").get_data(as_text=True)
    groups = dict(re.findall(r'<h4 class="jxc-section">([^<]+)</h4>(.*?)(?=<h4 |$)', form, re.S))
    assert f'name="{deposit}"' in groups["价格"] and f'name="{chosen}"' in groups["其他"], list(groups)


def test_a_required_figure_added_while_prices_are_hidden_from_a_writer_is_refused(admin_api):
    """With 价格屏蔽 on salespeople, who write complaints, a required selling figure without a default added to 客诉
    would lock them out of saving any: refused as `jxc meta check` refuses it for a role's own masks (metadata.md
    `required`), naming the field and the role; nothing added."""
    name = field_name("fee")
    label = {"zh": "服务费", "en": "Service fee"}
    spec = {"name": name, "type": "money", "figure": "sale", "required": True, "label": label}
    masks = "/api/v1/settings/hide_prices_from_roles"
    assert admin_api.put(masks, json={"value": ["salesperson"]}).status_code == 200
    try:
        refused = admin_api.post("/api/v1/meta/complaint/fields", json=spec)
    finally:
        assert admin_api.put(masks, json={"value": []}).status_code == 200
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert [(e["field"], e["message"]) for e in refused.get_json()["errors"]] == [
        (
            "required",
            "必填字段「服务费」对角色「销售员」隐藏或只读，而该角色可以新建和修改这类记录：请取消必填、给它默认值，"
            "或让该角色能看到它",
        )
    ]
    assert name not in {f["name"] for f in admin_api.get("/api/v1/complaint/_info").get_json()["fields"]}


def test_field_with_read_roles_is_hidden_from_others(admin_api, api_as):
    name = field_name("secret")
    add_field(admin_api, text_spec(name, read_roles=["manager"], label=labelled(name, "内部备注", "Internal note")))
    created = admin_api.post(
        "/api/v1/item/", json={"sku": unique("SEC"), "name": "可见性测试", "unit": "PCS", name: "只给经理看"}
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    pk = created.get_json()["id"]

    manager = api_as("manager").get(f"/api/v1/item/{pk}").get_json()
    assert manager["result"][name] == "只给经理看"

    clerk = api_as("clerk")
    row = clerk.get(f"/api/v1/item/{pk}")
    assert row.status_code == 200
    assert name not in row.get_json()["result"]
    assert name not in row.get_json()["show_columns"]
    listed = clerk.get("/api/v1/item/", query_string={"q": prison.dumps({"page_size": 100})}).get_json()
    assert all(name not in r for r in listed["result"])
    assert name not in {f["name"] for f in clerk.get("/api/v1/item/_info").get_json()["fields"]}
    # no side channel through filters
    probe = clerk.get(
        "/api/v1/item/",
        query_string={"q": prison.dumps({"filters": [{"col": name, "opr": "eq", "value": "只给经理看"}]})},
    )
    assert probe.status_code == 400


# --- two real server processes on one database ---------------------------------------------------


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def two_servers(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Any]]:
    """Two gunicorn servers (separate processes) on one fresh, initialised database."""
    backend = request.param
    instance = tmp_path_factory.mktemp(f"live-{backend}") / "instance"
    instance.mkdir()
    db_name = f"jxc_live_{uuid.uuid4().hex[:10]}"
    if backend == "postgresql":
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        url = f"{PG_URL.rsplit('/', 1)[0]}/{db_name}"
    else:
        url = f"sqlite:///{instance / 'jxc.db'}"
    try:
        with jxc_servers(url, instance, [f"live-{backend}-a", f"live-{backend}-b"]) as servers:
            yield servers
    finally:
        if backend == "postgresql":
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


@pytest.mark.slow
def test_field_added_on_one_server_is_live_on_another(two_servers):
    server_a, server_b = two_servers
    a = HttpApi(server_a.url)
    b = HttpApi(server_b.url)
    unit_code = unique("U")
    status, body = a.post("/api/v1/unit/", {"code": unit_code, "name": "个"})
    assert status == 201, body
    status, body = a.post("/api/v1/item/", {"sku": unique("LIVE"), "name": "旧商品", "unit": unit_code})
    assert status == 201, body
    pk = body["id"]
    status, old_on_b = b.get(f"/api/v1/item/{pk}")
    assert status == 200, old_on_b
    page_b = HtmlSession(server_b.url)
    page_b.login("admin", PASSWORD)
    assert page_b.get("/m/item/new").status == 200  # B has built (and could have cached) the item form

    name = field_name("origin")
    assert name not in old_on_b["result"]
    status, body = a.post(ITEM_FIELDS, text_spec(name))
    assert status == 201, (body, server_a.log_tail())

    # B's very next request sees the field: no restart, no reload signal
    status, row = b.get(f"/api/v1/item/{pk}")
    assert status == 200, (row, server_b.log_tail())
    assert name in row["result"], f"server B did not pick up {name}: {sorted(row['result'])}"
    assert row["result"][name] is None
    assert {k: v for k, v in row["result"].items() if k != name} == old_on_b["result"]
    status, row = b.put(f"/api/v1/item/{pk}", {name: "云南 普洱"})
    assert status == 200, (row, server_b.log_tail())
    assert row["result"][name] == "云南 普洱"
    status, row = a.get(f"/api/v1/item/{pk}")
    assert status == 200 and row["result"][name] == "云南 普洱"

    status, created = b.post(
        "/api/v1/item/", {"sku": unique("LIVE"), "name": "新商品", "unit": unit_code, name: "福建"}
    )
    assert status == 201, created
    assert created["result"][name] == "福建"
    status, info = b.get("/api/v1/item/_info")
    assert name in {f["name"] for f in info["fields"]}
    status, spec = b.get("/api/v1/_openapi")
    assert name in spec["components"]["schemas"]["ItemApi.post"]["properties"]

    # B's generated pages too (FAB would have cached the form)
    form = page_b.get("/m/item/new")
    assert form.status == 200 and f'name="{name}"' in form.text and "产地" in form.text
    detail = page_b.get(f"/m/item/{pk}")
    assert detail.status == 200 and "云南 普洱" in detail.text

    for server in (server_a, server_b):
        assert server.process.poll() is None
        assert server.log.read_text(errors="replace").count("Booting worker") == 1, server.log_tail()


@pytest.mark.parametrize("reserved", ["metadata", "registry"])
def test_names_reserved_by_sqlalchemy_are_refused(two_servers, reserved):
    """A column named like a declarative class attribute (`metadata`, `registry`) must be refused with 422:
    SQLAlchemy warns and the mapped class loses its MetaData / registry attribute."""
    server_a, _ = two_servers
    a = HttpApi(server_a.url)
    status, before = a.get("/api/v1/meta/models")
    assert status == 200
    status, body = a.post(ITEM_FIELDS, text_spec(reserved))
    assert status == 422, (status, body, server_a.log_tail(1500))
    assert "name" in body["message"], body
    status, after = a.get("/api/v1/meta/models")
    assert after["version"] == before["version"]


def test_a_link_and_a_user_field_are_added_live(app, admin_api):
    """SQLite takes a foreign key only inside ADD COLUMN (Alembic's separate ALTER of the constraint was a 500)."""
    customer, buyer = field_name("cust"), field_name("buyer")
    add_field(
        admin_api,
        {"name": customer, "type": "link", "to": "partner", "label": labelled(customer, "首选客户", "Customer")},
    )
    add_field(admin_api, {"name": buyer, "type": "user", "label": labelled(buyer, "采购负责人", "Buyer")})
    assert {f"{customer}_id", f"{buyer}_id"} <= item_columns(app)
    partner = admin_api.post("/api/v1/partner/", json={"code": unique("LP"), "name": "首选客户", "kind": "customer"})
    assert partner.status_code == 201, partner.get_json()
    key = partner.get_json()["result"]["code"]
    item = first_item(admin_api)
    changed = admin_api.put(
        f"/api/v1/item/{item['id']}", json={customer: key, buyer: "admin", "version": item["version"]}
    )
    assert changed.status_code == 200, changed.get_json()
    assert (
        changed.get_json()["result"][customer]["key"] == key and changed.get_json()["result"][buyer]["key"] == "admin"
    )
    assert admin_api.delete(f"/api/v1/partner/{partner.get_json()['id']}").status_code == 422  # still linked: in use


def test_two_long_unique_fields_get_an_index_each(app, admin_api):
    """Index names are cut to PostgreSQL's 63 characters: two long names alike to there got one name, and the
    second field's unique index was silently not made."""
    from app.extensions import db
    from app.meta.schema import index_names

    stem = field_name("u") + "x" * 40
    names = [f"{stem[:38]}{end}" for end in ("aa", "bb")]
    for name in names:
        spec = {"name": name, "type": "text", "unique": True, "label": labelled(name, "合同号", "Contract")}
        assert admin_api.post("/api/v1/meta/purchase_request_line/fields", json=spec).status_code == 201
    with app.app_context(), db.engine.connect() as conn:
        found = index_names(conn, "purchase_request_line")
    assert len([n for n in found if n.startswith(f"uq_purchase_request_line_{stem[:20]}")]) == 2
