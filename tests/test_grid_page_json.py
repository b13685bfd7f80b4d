"""A grid page's JSON values made column by column (issue 19): every value as its field type's `to_json` makes it,
decimal texts kept between pages among equal values (zero and minus zero read apart), and link labels read
through the session's connection still seeing what the session holds unflushed, as `Session.execute` did.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import unique
from tests.test_grid_api import new_items, rows, tag_filter


def test_page_values_are_each_field_types_json_on_every_read(app, admin_api):
    """The page's values are the field types' own `to_json` of the stored values, the first read (texts made) and
    the next ones (texts kept) alike: decimals of every scale, zero, integral and long ones, and timestamps."""
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


def test_kept_decimal_texts_equal_format_decimal_whatever_came_first():
    """Equal values that read differently are not confused by the kept texts (0 and -0, in either order), values
    of other types and forms read as format_decimal reads them, and the kept texts stay bounded."""
    from app.meta.types import _DECIMAL_TEXTS, KEPT_DECIMAL_TEXTS, decimal_texts, format_decimal

    values: list[Any] = [Decimal("-0.00"), Decimal("0"), Decimal("0E-7"), Decimal("-0"), None, Decimal("1E+3")]
    values += [Decimal("1000"), Decimal("1000.0000"), Decimal("1.5"), Decimal("1.50"), Decimal("-2.3400"), 7, 0]
    values += [Decimal("12345678901234.123456"), Decimal("1E-7"), 2.5]
    for scale in (0, 2, 4):
        expected = [None if v is None else format_decimal(v, scale) for v in values]
        assert decimal_texts(values, scale) == expected
        assert decimal_texts(values, scale) == expected  # from the kept texts
        assert decimal_texts(list(reversed(values)), scale) == list(reversed(expected))
    assert decimal_texts([Decimal("-0.00")], 2) == ["-0.00"] and decimal_texts([Decimal("0.00")], 2) == ["0.00"]
    many = [Decimal(n).scaleb(-4) for n in range(KEPT_DECIMAL_TEXTS + 500)]
    assert decimal_texts(many, 2) == [format_decimal(v, 2) for v in many]
    assert decimal_texts(many[:10], 2) == [format_decimal(v, 2) for v in many[:10]]
    assert len(_DECIMAL_TEXTS[2]) <= KEPT_DECIMAL_TEXTS + 10  # forgotten past the bound, not grown for ever


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
