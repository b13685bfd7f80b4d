"""Grid pages of views without filters or search, on SQLite and PostgreSQL: their statements are kept per
metadata version when the reader sees every row of the model (`page_statements`). What the reader may see is
still decided per request: another reader's masks and row scope, a field added live, and the page itself
(size, offset, keyset cursor) all show in the next page."""

from __future__ import annotations

from typing import Any

from tests.conftest import PASSWORD, unique
from tests.ledger_helpers import new_item, receive
from tests.test_grid_api import new_items, rows
from tests.test_live_fields import add_field, field_name, text_spec

SKU_DESC = {"sort[0][field]": "sku", "sort[0][dir]": "desc"}
ID_ASC = {"sort[0][field]": "id", "sort[0][dir]": "asc"}


def ids(body: dict[str, Any]) -> list[int]:
    return [row["id"] for row in body["data"]]


def test_pages_of_a_kept_view_follow_their_parameters(admin_api):
    new_items(admin_api, 12, unique("KP"))
    first = rows(admin_api, page=1, size=5, **SKU_DESC)
    second = rows(admin_api, page=2, size=5, **SKU_DESC)
    third = rows(admin_api, page=3, size=5, **SKU_DESC)
    assert len(set(ids(first) + ids(second) + ids(third))) == 15
    skus = [row["sku"] for body in (first, second, third) for row in body["data"]]
    assert skus == sorted(skus, reverse=True)
    # the same kept statements with other parameters: a keyset page, another size, an OFFSET page again
    assert ids(rows(admin_api, page=2, size=5, after=ids(first)[-1], **SKU_DESC)) == ids(second)
    assert ids(rows(admin_api, page=3, size=5, after=ids(second)[-1], **SKU_DESC)) == ids(third)
    assert ids(rows(admin_api, page=1, size=10, **SKU_DESC)) == ids(first) + ids(second)
    assert ids(rows(admin_api, page=2, size=5, **SKU_DESC)) == ids(second)
    id_desc = {"sort[0][field]": "id", "sort[0][dir]": "desc"}
    by_id = rows(admin_api, page=1, size=5, **id_desc)
    after_id = rows(admin_api, page=2, size=5, after=ids(by_id)[-1], **id_desc)
    assert ids(after_id) == ids(rows(admin_api, page=2, size=5, **id_desc))
    assert ids(by_id) + ids(after_id) == sorted(ids(by_id) + ids(after_id), reverse=True)


def test_a_masked_reader_after_the_admin_sees_the_view_through_their_masks(admin_api, api_as):
    by_price = {"sort[0][field]": "purchase_price", "sort[0][dir]": "asc"}
    admin_page = rows(admin_api, page=1, size=5, **by_price)
    assert "purchase_price" in admin_page["data"][0]
    sales = api_as("salesperson")  # item: no row scope, purchase and cost figures masked
    assert sales.get("/api/v1/grid/item/rows", query_string={"page": 1, "size": 5, **by_price}).status_code == 400
    sales_page = rows(sales, page=1, size=5, **SKU_DESC)
    admin_same = rows(admin_api, page=1, size=5, **SKU_DESC)
    assert ids(sales_page) == ids(admin_same)
    for row in sales_page["data"]:
        assert "purchase_price" not in row and "cost_price" not in row and "sale_price" in row
    assert "purchase_price" not in sales_page["sums"]
    # sums as each reader sees: the stock's 结存金额 (a cost) is summed for the admin, never for the salesperson
    receive(admin_api, new_item(admin_api), "3", "2.5")
    stock_sales = rows(sales, model="stock_balance", page=1, size=5, **ID_ASC)
    stock_admin = rows(admin_api, model="stock_balance", page=1, size=5, **ID_ASC)
    assert ids(stock_sales) == ids(stock_admin) and stock_admin["data"]
    assert {"qty", "value"} <= set(stock_admin["sums"]) and "value" not in stock_sales["sums"]
    assert stock_sales["sums"]["qty"] == stock_admin["sums"]["qty"]


def test_a_reader_with_a_row_scope_gets_their_rows_before_and_after_the_admin(admin_api, api_as):
    by_code = {"sort[0][field]": "code", "sort[0][dir]": "asc"}
    sales = api_as("salesperson")  # partner: {owner: me}
    before = rows(sales, model="partner", page=1, size=1000, **by_code)
    every = rows(admin_api, model="partner", page=1, size=1000, **by_code)
    after = rows(sales, model="partner", page=1, size=1000, **by_code)
    assert ids(before) == ids(after)
    assert every["last_row"] > after["last_row"]
    assert set(ids(after)) < set(ids(every))
    assert all(row["owner"] is None or row["owner"]["key"] == "u_salesperson" for row in after["data"])


def test_a_field_added_live_is_in_the_next_page_and_can_be_sorted_on(admin_api):
    rows(admin_api, page=1, size=5, **SKU_DESC)  # the view's statements kept for this metadata version
    name = field_name("kept")
    add_field(admin_api, text_spec(name))
    created = new_items(admin_api, 1, unique("KF"))[0]
    changed = admin_api.put(f"/api/v1/item/{created['id']}", json={name: "后加的"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    page = rows(admin_api, page=1, size=5, **SKU_DESC)
    assert all(name in row for row in page["data"])
    by_new = rows(admin_api, page=1, size=1, **{"sort[0][field]": name, "sort[0][dir]": "desc"})
    if by_new["data"][0][name] is None:  # PostgreSQL sorts NULLs first when descending
        by_new = rows(admin_api, page=1, size=1, **{"sort[0][field]": name, "sort[0][dir]": "asc"})
    assert (by_new["data"][0]["id"], by_new["data"][0][name]) == (created["id"], "后加的")


def by_category(code: str) -> dict[str, str]:
    return {"filter[0][field]": "category", "filter[0][type]": "=", "filter[0][value]": code, **SKU_DESC}


def test_a_kept_filtered_view_reads_the_row_its_typed_link_names_when_the_page_is_read(admin_api):
    """A filtered view's statements are kept (per set of rights): the category typed into the filter is looked up
    when each page is read, not when the view was first built."""
    code, other = unique("KC"), unique("KD")
    made = admin_api.post("/api/v1/category/", json={"code": code, "name": f"分类 {code}"})
    assert made.status_code == 201, made.get_data(as_text=True)
    first = new_items(admin_api, 3, unique("KQ"), category=code)
    assert sorted(ids(rows(admin_api, page=1, size=10, **by_category(code)))) == sorted(r["id"] for r in first)
    # the code moves to a new category: the kept view now reads that one's items, and the old code none
    renamed = admin_api.put(f"/api/v1/category/{made.get_json()['id']}", json={"code": other})
    assert renamed.status_code == 200, renamed.get_data(as_text=True)
    assert rows(admin_api, page=1, size=10, **by_category(code))["data"] == []
    again = admin_api.post("/api/v1/category/", json={"code": code, "name": f"新分类 {code}"})
    assert again.status_code == 201, again.get_data(as_text=True)
    second = new_items(admin_api, 2, unique("KR"), category=code)
    assert sorted(ids(rows(admin_api, page=1, size=10, **by_category(code)))) == sorted(r["id"] for r in second)
    assert sorted(ids(rows(admin_api, page=1, size=10, **by_category(other)))) == sorted(r["id"] for r in first)
    # by the category's name when no code is typed (the unique name), and a name two share names none
    assert len(rows(admin_api, page=1, size=10, **by_category(f"新分类 {code}"))["data"]) == 2
    twin = admin_api.post("/api/v1/category/", json={"code": unique("KT"), "name": f"新分类 {code}"})
    assert twin.status_code == 201, twin.get_data(as_text=True)
    assert rows(admin_api, page=1, size=10, **by_category(f"新分类 {code}"))["data"] == []


def test_a_filter_on_a_link_read_through_a_row_scope_is_each_readers_own(app, admin_api, api_as):
    """Two salespeople have the same rights, each sees their own customers: a filter on an item's 默认供应商 (a
    link to partners, read through that scope) is never kept for their rights, so the second does not read
    the first one's view of the suppliers."""
    from app.services.users.accounts import create_user

    other = f"x_{unique('sp').lower()}"
    with app.app_context():
        create_user(other, "salesperson", PASSWORD)
    supplier = unique("KS")
    made = admin_api.post(
        "/api/v1/partner/",
        json={"code": supplier, "name": f"供应商 {supplier}", "kind": "both", "owner": "u_salesperson"},
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    item = new_items(admin_api, 1, unique("KI"), default_supplier=supplier)[0]
    view = {"filter[0][field]": "default_supplier", "filter[0][type]": "=", "filter[0][value]": supplier}
    assert ids(rows(api_as("salesperson"), page=1, size=10, **view)) == [item["id"]]
    assert ids(rows(api_as(other), page=1, size=10, **view)) == []
    assert ids(rows(admin_api, page=1, size=10, **view)) == [item["id"]]
    assert ids(rows(api_as(other), page=1, size=10, **view)) == []
