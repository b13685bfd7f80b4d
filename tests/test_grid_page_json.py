"""A grid page's JSON values made column by column (issue 19): every value as its field type's `to_json` makes it
(timestamps without a call per value), and link labels read through the session's connection still seeing what
the session holds unflushed, as `Session.execute` did.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import unique
from tests.test_grid_api import new_items, rows, tag_filter


def test_page_values_are_each_field_types_json_on_every_read(app, admin_api):
    """The page's values are the field types' own `to_json` of the stored values, every read alike: decimals of every
    scale, zero, integral and long ones, and timestamps (their text made without the type's call per value)."""
    from sqlalchemy import select

    from app.extensions import db, registry
    from app.meta.types import FIELD_TYPES

    tag = unique("GJ")
    prices = ["0", "1.10", "100", "12.3456", "0.0001", "98765.4321"]
    for index, price in enumerate(prices):
        new_items(admin_api, 1, f"{tag}{index}", sale_price=price, safety_stock=str(index * 7), purchase_price=price)
    first = rows(admin_api, size=50, **tag_filter(tag))["data"]
    again = rows(admin_api, size=50, **tag_filter(tag))["data"]
    assert first == again and len(first) == len(prices)
    with app.app_context():
        model, cls = registry().model("item"), registry().cls("item")
        stored = {r.id: r for r in db.session.execute(select(*cls.__table__.c).where(cls.sku.like(f"{tag}%"))).all()}
        checked = 0
        for row in first:
            for spec in model.fields:
                if spec.name not in row or spec.is_link:
                    continue
                value = getattr(stored[row["id"]], spec.column)
                expected = None if value is None else FIELD_TYPES[spec.type].to_json(spec, value)
                assert row[spec.name] == expected, (spec.name, value)
                checked += 1
        assert checked > len(prices) * 10
    assert sorted(Decimal(r["sale_price"]) for r in first) == sorted(Decimal(p) for p in prices)
    assert {r["created_at"][10] for r in first} == {"T"} and all(len(r["created_at"]) == 19 for r in first)


def test_link_labels_see_the_sessions_unflushed_changes(app, admin_api):
    """Labels are read through the session's connection, past the ORM's execution layers: what the session holds
    unflushed (a category renamed in the same request) is flushed first, as Session.execute flushed it."""
    from sqlalchemy import select

    from app.extensions import db, registry
    from app.services.records.serialize import rows_to_json
    from app.services.users.access import access_for

    tag = unique("GL")
    category = admin_api.post("/api/v1/category/", json={"code": tag, "name": f"标签 {tag}"})
    assert category.status_code in (200, 201), category.get_json()
    new_items(admin_api, 1, tag, category=tag)
    with app.app_context():
        try:
            access = access_for(app.appbuilder.sm.find_user(username="admin"))
            model, cls = registry().model("item"), registry().cls("item")
            category_cls = registry().cls("category")
            renamed = db.session.execute(select(category_cls).where(category_cls.code == tag)).scalar_one()
            renamed.name = f"改名 {tag}"  # unflushed
            page = db.session.connection().execute(select(*cls.__table__.c).where(cls.sku.like(f"{tag}%"))).all()
            (data,) = rows_to_json(db.session, access, model, page)
            assert data["category"]["key"] == tag and data["category"]["name"] == f"改名 {tag}"
        finally:
            db.session.rollback()
            db.session.remove()


def test_a_rows_request_reads_past_the_orm_sessions_execution(app, admin_api):
    """A grid page's statements (stamps, sign-in, rows, count, labels) are plain reads through the session's
    connection: none of them goes through `Session.execute`'s ORM layers (the labels and the sign-in did)."""
    from sqlalchemy import event

    from app.extensions import db

    tag = unique("GO")
    new_items(admin_api, 3, tag, category="C01")
    through_orm: list[str] = []

    def seen(state: Any) -> None:
        through_orm.append(str(state.statement)[:80])

    with app.app_context():
        session_class = db.session.session_factory.class_
    event.listen(session_class, "do_orm_execute", seen)
    try:
        page = rows(admin_api, size=10, **tag_filter(tag))
    finally:
        event.remove(session_class, "do_orm_execute", seen)
    assert len(page["data"]) == 3 and {r["category"]["key"] for r in page["data"]} == {"C01"}
    assert through_orm == []


def test_rows_arguments_given_twice_count_by_their_first_value_and_a_bad_q_is_still_refused(admin_api):
    """The rows view reads its arguments from a plain dict of their first values (Werkzeug's `get` of an argument not
    given raised and caught a KeyError): what it answers is what `request.args.get` read, and the check of `q` before
    every API view still refuses a `q` that is not rison."""
    tag = unique("GA")
    new_items(admin_api, 3, tag)
    sku = f"filter[0][field]=sku&filter[0][type]=like&filter[0][value]={tag}"
    twice = admin_api.get(f"/api/v1/grid/item/rows?size=2&size=3&{sku}&sort[0][field]=sku&sort[0][dir]=desc")
    assert twice.status_code == 200, twice.get_json()
    body = twice.get_json()
    assert len(body["data"]) == 2 and body["last_page"] == 2
    assert [r["sku"] for r in body["data"]] == [f"{tag}-0002", f"{tag}-0001"]
    assert body == rows(admin_api, size=2, **tag_filter(tag), **{"sort[0][field]": "sku", "sort[0][dir]": "desc"})
    refused = admin_api.get(f"/api/v1/grid/item/rows?q=(a:&{sku}")
    assert refused.status_code == 422, refused.get_data(as_text=True)[:300]
