"""A save that changes nothing writes nothing: a form sends every field, and 保存 without an edit made a new
version (another person's open form then met 已被他人修改), stamped the saver as 修改人 and changed updated_at."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from tests.conftest import unique
from tests.ledger_helpers import document, new_item


class _Inputs(HTMLParser):
    """The form's inputs and selects with their values, as a browser would send them unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag in ("input", "textarea") and name and a.get("type") not in ("file", "checkbox", "submit"):
            self.values[name] = a.get("value") or ""
        elif tag == "input" and name and a.get("type") == "checkbox" and "checked" in a:
            self.values[name] = a.get("value") or "y"
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def stamp(api: Any, model: str, pk: int) -> tuple[int, str, int]:
    body = api.get(f"/api/v1/{model}/{pk}").get_json()["result"]
    history = api.get(f"/api/v1/{model}/{pk}/history").get_json()["result"]
    return body["version"], body["updated_at"], len(history)


def test_an_item_saved_unchanged_through_the_api_and_its_form_keeps_its_version(app, admin_api, login_as):
    sku = new_item(admin_api, sale_price="12.5")
    item = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:'{sku}')))").get_json()["result"][0]
    pk = item["id"]
    before = stamp(admin_api, "item", pk)
    same = admin_api.put(f"/api/v1/item/{pk}", json={"name": item["name"], "sale_price": "12.50", "version": 1})
    assert same.status_code == 200, same.get_json()
    assert stamp(admin_api, "item", pk) == before

    browser = login_as("clerk")
    page = browser.get(f"/m/item/{pk}/edit").get_data(as_text=True)
    form = _Inputs()
    form.feed(page)
    saved = browser.post(f"/m/item/{pk}/edit", data=form.values)
    assert saved.status_code in (302, 303), saved.get_data(as_text=True)[:1500]
    assert stamp(admin_api, "item", pk) == before, "保存 without an edit wrote the item"

    changed = admin_api.put(f"/api/v1/item/{pk}", json={"name": f"改名 {unique('N')}", "version": 1})
    assert changed.status_code == 200 and changed.get_json()["result"]["version"] == 2
    assert stamp(admin_api, "item", pk)[2] == before[2] + 1  # a change is written and in the history


def test_a_document_saved_with_the_same_lines_keeps_its_version_and_a_changed_line_does_not(app, admin_api):
    order = document(
        admin_api,
        "purchase_order",
        [{"item": "SP0001", "qty": "2", "price": "1.5"}, {"item": "SP0002", "qty": "3", "price": "2"}],
        warehouse="WH01",
    )
    pk = order["id"]
    before = stamp(admin_api, "purchase_order", pk)
    lines = [{"id": line["id"], "item": line["item"]["key"], "qty": line["qty"], "price": line["price"]}
             for line in order["lines"]]  # fmt: skip
    header = {"partner": "S001", "warehouse": "WH01", "date": order["date"], "version": order["version"]}
    same = admin_api.put(f"/api/v1/purchase_order/{pk}", json={**header, "lines": lines})
    assert same.status_code == 200, same.get_json()
    assert stamp(admin_api, "purchase_order", pk) == before

    reordered = admin_api.put(f"/api/v1/purchase_order/{pk}", json={**header, "lines": lines[::-1]})
    assert reordered.status_code == 200 and reordered.get_json()["result"]["version"] == before[0] + 1
    lines = [{**line, "qty": "4"} if line["item"] == "SP0001" else line for line in lines[::-1]]
    header["version"] = before[0] + 1
    changed = admin_api.put(f"/api/v1/purchase_order/{pk}", json={**header, "lines": lines})
    assert changed.status_code == 200 and changed.get_json()["result"]["version"] == before[0] + 2
    assert stamp(admin_api, "purchase_order", pk)[2] == before[2] + 2


def test_a_partial_save_of_values_the_row_holds_writes_nothing_by_api_or_grid_cell(app, admin_api):
    """Only some fields sent (a PUT of one field, without the version; a grid cell edited to what it holds; a
    document's header alone), each as the row holds it: no new version, 修改人 or history line."""
    import uuid

    sku = new_item(admin_api, sale_price="12.5")
    item = admin_api.get(f"/api/v1/item/?q=(filters:!((col:sku,opr:eq,value:'{sku}')))").get_json()["result"][0]
    pk = item["id"]
    before = stamp(admin_api, "item", pk)
    for payload in ({"sale_price": "12.50"}, {"unit": "PCS", "active": True}, {"remark": None}, {"spec": ""}):
        same = admin_api.put(f"/api/v1/item/{pk}", json=payload)
        assert same.status_code == 200, same.get_json()
        assert stamp(admin_api, "item", pk) == before, payload
    cell = {"op": "update", "id": pk, "version": item["version"], "values": {"sale_price": "12.5"}}
    edited = admin_api.post(
        "/api/v1/grid/item/batch", json={"client_batch_id": uuid.uuid4().hex, "source": "edit", "ops": [cell]}
    )
    assert edited.status_code == 200 and edited.get_json()["rows"][0]["version"] == item["version"]
    assert stamp(admin_api, "item", pk) == before

    order = document(admin_api, "purchase_order", [{"item": "SP0001", "qty": "2", "price": "1.5"}], warehouse="WH01")
    held = stamp(admin_api, "purchase_order", order["id"])
    for payload in ({"warehouse": "WH01"}, {"date": order["date"], "partner": "S001"}, {"remark": ""}):
        same = admin_api.put(f"/api/v1/purchase_order/{order['id']}", json=payload)
        assert same.status_code == 200, same.get_json()
        assert stamp(admin_api, "purchase_order", order["id"]) == held, payload
