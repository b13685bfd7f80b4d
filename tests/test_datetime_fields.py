"""A date-time field an admin adds: people type and read it in the business's time (Asia/Shanghai here), the
API's JSON stays UTC. A form shows yyyy-mm-dd hh:mm in a text input (a browser's date-time input follows its locale
and has no zone) and takes what is typed there as business time; a spreadsheet's time without a zone is business
time too, as exports write it, so a view exported and imported back changes nothing."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from typing import Any

import prison
from conftest import csrf_from
from openpyxl import load_workbook
from test_imports import run, workbook
from test_live_fields import add_field, field_name, first_item


def datetime_field(api: Any) -> tuple[str, str]:
    """A new date-time field on items: its name and its Chinese label (a header an import matches)."""
    name = field_name("due")
    number = str(uuid.uuid4().int)[:8]  # no Latin letter in a Chinese label (test_i18n reads every label)
    heading = f"约定时间{number}"
    add_field(api, {"name": name, "type": "datetime", "label": {"zh": heading, "en": f"Agreed time {number}"}})
    return name, heading


def items_around_a_business_day(api: Any, prefix: str) -> tuple[str, str]:
    """A new date-time field and three items under a new sku prefix, named A, B, C by when they fall: stored UTC, A is
    2026-12-05 01:00 in Shanghai, B 12-05 23:30, C 12-06 00:30. The field's name and the prefix."""
    name, _ = datetime_field(api)
    tag = field_name(prefix).upper()
    for letter, utc in (("A", "2026-12-04T17:00:00"), ("B", "2026-12-05T15:30:00"), ("C", "2026-12-05T16:30:00")):
        created = api.post("/api/v1/item/", json={"sku": f"{tag}{letter}", "name": letter, "unit": "PCS", name: utc})
        assert created.status_code == 201, created.get_data(as_text=True)
    return name, tag


def stored(api: Any, pk: int, name: str) -> Any:
    return api.get(f"/api/v1/item/{pk}").get_json()["result"][name]


def test_a_form_shows_and_takes_the_business_time_the_api_stays_utc(admin_api, login_as):
    name, _ = datetime_field(admin_api)
    item = first_item(admin_api)
    client = login_as("admin")
    edit = f"/m/item/{item['id']}/edit"
    page = client.get(edit).get_data(as_text=True)
    box = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert box and 'type="datetime-local"' not in box.group(0) and "年-月-日 时:分" in box.group(0), box
    fields = {k: v for k, v in item.items() if isinstance(v, str) and k not in ("created_at", "updated_at")}
    saved = client.post(
        edit, data={**fields, "csrf_token": csrf_from(page), "version": item["version"], name: "2026/12/5 10:00"}
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert stored(admin_api, item["id"], name) == "2026-12-05T02:00:00"  # 10:00 in Shanghai is 02:00 UTC
    page = client.get(edit).get_data(as_text=True)
    assert re.search(rf'name="{name}" value="2026-12-05 10:00"', page), "the form shows what was typed"
    # the API's JSON without a zone is UTC, as the API writes it
    version = admin_api.get(f"/api/v1/item/{item['id']}").get_json()["result"]["version"]
    put = admin_api.put(f"/api/v1/item/{item['id']}", json={name: "2026-12-05T10:00:00", "version": version})
    assert put.status_code == 200, put.get_data(as_text=True)
    assert stored(admin_api, item["id"], name) == "2026-12-05T10:00:00"
    page = client.get(edit).get_data(as_text=True)
    assert re.search(rf'name="{name}" value="2026-12-05 18:00"', page)


def test_a_form_saved_back_keeps_the_seconds(admin_api, login_as):
    name, _ = datetime_field(admin_api)
    item = first_item(admin_api)
    version = admin_api.get(f"/api/v1/item/{item['id']}").get_json()["result"]["version"]
    admin_api.put(f"/api/v1/item/{item['id']}", json={name: "2026-12-05T10:00:07", "version": version})
    client = login_as("admin")
    page = client.get(f"/m/item/{item['id']}/edit").get_data(as_text=True)
    assert re.search(rf'name="{name}" value="2026-12-05 18:00:07"', page)


def test_a_sheets_time_is_business_time_and_an_export_imports_back_unchanged(app, admin_api):
    name, heading = datetime_field(admin_api)
    item = first_item(admin_api)
    sku = item["sku"]
    data = workbook([["商品编码", heading], [sku, dt.datetime(2026, 12, 5, 10, 0)]])
    outcome = run(app, "item", data, action="update")
    assert outcome.applied and outcome.updated == 1, (outcome.refused, [i.line() for i in outcome.issues])
    assert stored(admin_api, item["id"], name) == "2026-12-05T02:00:00"
    data = workbook([["商品编码", heading], [sku, "2026年12月6日 9:30"]])
    assert run(app, "item", data, action="update").applied
    assert stored(admin_api, item["id"], name) == "2026-12-06T01:30:00"
    # exported (business time) and imported back: the same instant
    view = f"filter[0][field]=sku&filter[0][type]==&filter[0][value]={sku}&columns=sku,{name}"
    exported = admin_api.get(f"/api/v1/grid/item/export?format=xlsx&{view}")
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    exported.close()
    assert [sku, dt.datetime(2026, 12, 6, 9, 30)] in rows, rows
    assert run(app, "item", workbook(rows), action="update").applied
    assert stored(admin_api, item["id"], name) == "2026-12-06T01:30:00"


def grid_skus(api: Any, tag: str, name: str, typed: str) -> list[str]:
    """The SKUs of the `tag` items the grid shows under `typed` in the column's filter (as rows.js sends it)."""
    operator, value = re.fullmatch(r"(>=|<=|!=|>|<|=)?(.*)", typed).groups()
    params = {
        "filter[0][field]": "sku",
        "filter[0][type]": "like",
        "filter[0][value]": tag,
        "filter[1][field]": name,
        "filter[1][type]": operator or "=",
        "filter[1][value]": value,
        "sort[0][field]": "sku",
        "sort[0][dir]": "asc",
    }
    response = api.get("/api/v1/grid/item/rows", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [row["sku"][-1] for row in response.get_json()["data"]]


def test_the_grids_filter_reads_a_day_and_a_time_as_the_business_time(admin_api):
    name, tag = items_around_a_business_day(admin_api, "DT")
    assert grid_skus(admin_api, tag, name, "2026-12-05") == ["A", "B"]  # the whole business day
    assert grid_skus(admin_api, tag, name, "2026/12/5") == ["A", "B"]
    assert grid_skus(admin_api, tag, name, "!=2026-12-05") == ["C"]
    assert grid_skus(admin_api, tag, name, "<=2026-12-05") == ["A", "B"]
    assert grid_skus(admin_api, tag, name, "<2026-12-05") == []
    assert grid_skus(admin_api, tag, name, ">2026-12-05") == ["C"]
    assert grid_skus(admin_api, tag, name, ">=2026-12-06") == ["C"]
    assert grid_skus(admin_api, tag, name, ">=2026-12-05 9:00") == ["B", "C"]  # 01:00 UTC
    # the REST API's q stays UTC, as its JSON is
    q = {
        "filters": [
            {"col": "sku", "opr": "sw", "value": tag},
            {"col": name, "opr": "ge", "value": "2026-12-05T00:00:00"},
        ]
    }
    found = admin_api.get("/api/v1/item/", query_string={"q": prison.dumps(q)})
    assert found.status_code == 200, found.get_data(as_text=True)
    assert sorted(row["name"] for row in found.get_json()["result"]) == ["B", "C"]


def test_a_scheduled_listings_filter_reads_a_day_as_the_business_day(app, admin_api):
    """A schedule's listing filtered on a date-time column by a typed day (as the 定时任务 page takes it) mails that
    whole business day, as the grid shows it: not the UTC day, eight hours off."""
    from app.extensions import db
    from app.schedules.reporting import run_report
    from app.services.users.access import access_for

    name, tag = items_around_a_business_day(admin_api, "SD")
    with app.app_context():
        reader = access_for(app.appbuilder.sm.find_user(username="admin"))
        asked = {"report": "item", "columns": ["sku", "name"], "filters": {name: "2026-12-05"}}
        result = run_report(db.session, reader, asked)
    assert sorted(row["name"] for row in result.rows if row["sku"].startswith(tag)) == ["A", "B"]
