"""A field added live while a `jxc worker` runs is in force in the worker's next job (real Redis, real worker):
an import applied there writes the new columns (it left them empty, the page's check having matched them)."""

from __future__ import annotations

import io
import uuid
import zlib

import pytest
import servers
from conftest import REDIS_URL, unique
from openpyxl import Workbook
from servers import jxc_worker
from test_jobs import wait_for

pytestmark = pytest.mark.slow
FIELDS_REDIS = REDIS_URL.rsplit("/", 1)[0] + "/9"  # this module's own Redis database


def workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def import_on_worker(app, admin_api, data: bytes) -> dict:
    response = admin_api.post(
        "/api/v1/imports/",
        data={"model": "item", "file": (io.BytesIO(data), "items.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return wait_for(app, response.get_json()["job_id"], timeout=60)


def test_an_import_on_a_worker_started_before_a_field_was_added_writes_it(app, backend, admin_api, monkeypatch):
    queue = f"jxc-lf-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(servers, "START_TIMEOUT", 120)  # a worker boots the whole app: slow on a busy machine
    monkeypatch.setitem(app.config, "REDIS_URL", FIELDS_REDIS)
    monkeypatch.setitem(app.config, "JXC_QUEUE", queue)
    brand, origin = f"brand_{uuid.uuid4().hex[:6]}", f"origin_{uuid.uuid4().hex[:6]}"
    with jxc_worker(backend.url, backend.instance, FIELDS_REDIS, queue, name="worker-live-fields"):
        # (not required: the suite's other tests make items without it)
        for name, zh in ((brand, "品牌"), (origin, "产地")):
            # a label of its own: a repeated one is refused (imports match by header)
            spec = {"name": name, "type": "text", "label": {"zh": f"{zh}{zlib.crc32(name.encode())}", "en": name}}
            assert admin_api.post("/api/v1/meta/item/fields", json=spec).status_code == 201
        sku = unique("LFW")
        book = workbook(["sku", "name", "unit", brand, origin], [sku, "新字段", "PCS", "好牌", "杭州"])
        done = import_on_worker(app, admin_api, book)
        assert done["status"] == "done" and done["counts"].get("created") == 1, done
    found = admin_api.get("/api/v1/item/", query_string={"q": f"(filters:!((col:sku,opr:eq,value:{sku})))"})
    row = found.get_json()["result"][0]
    assert (row[brand], row[origin]) == ("好牌", "杭州")
