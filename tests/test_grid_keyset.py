"""Grid pages by keyset (`after` = the id of the previous page's last row) on SQLite and PostgreSQL: the same
rows as the page read by OFFSET, for every sort direction, NULLs in the sort column, ties, a link column, and
a cursor the reader may not use (another view's row, a made-up id) falling back to OFFSET."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import unique
from tests.test_grid_api import rows, save, tag_filter


def pages(api: Any, params: dict[str, Any], size: int, keyset: bool) -> list[list[int]]:
    """Every page of the view, walked with `after` (keyset) or by page number alone."""
    out: list[list[int]] = []
    page, after = 1, None
    while True:
        args = dict(params, page=page, size=size)
        if keyset and after is not None:
            args["after"] = after
        body = rows(api, **args)
        ids = [r["id"] for r in body["data"]]
        if not ids:
            return out
        out.append(ids)
        if len(ids) < size:
            return out
        page, after = page + 1, ids[-1]


@pytest.mark.parametrize(
    ("field", "direction"),
    [("sku", "asc"), ("sku", "desc"), ("spec", "asc"), ("spec", "desc"), ("category", "asc"), ("id", "desc")],
)
def test_keyset_pages_are_the_offset_pages(admin_api, field, direction):
    tag = unique("KS")
    ops = [
        {
            "op": "create",
            "tmp_id": f"t{i}",
            "values": {
                "sku": f"{tag}-{i:03d}",
                "name": f"键集 {tag} {i}",
                "unit": "PCS",
                # ties (three rows share a spec) and NULLs among them
                **({"spec": f"规格{i // 3}"} if i % 4 else {}),
                **({"category": "C01"} if i % 2 else {}),
            },
        }
        for i in range(23)
    ]
    response = save(admin_api, ops, source="paste")
    assert response.status_code == 200, response.get_json()
    params = {"sort[0][field]": field, "sort[0][dir]": direction, **tag_filter(tag)}
    by_offset = pages(admin_api, params, 5, keyset=False)
    by_keyset = pages(admin_api, params, 5, keyset=True)
    assert [len(p) for p in by_offset] == [5, 5, 5, 5, 3]
    assert by_keyset == by_offset
    assert sorted(i for p in by_keyset for i in p) == sorted(r["id"] for r in response.get_json()["rows"])


def test_a_cursor_outside_the_view_falls_back_to_offset(admin_api):
    tag, other = unique("KS"), unique("KX")
    for t in (tag, other):
        ops = [
            {"op": "create", "tmp_id": f"t{i}", "values": {"sku": f"{t}-{i:03d}", "name": f"键集 {i}", "unit": "PCS"}}
            for i in range(6)
        ]
        assert save(admin_api, ops, source="paste").status_code == 200
    params = {"sort[0][field]": "sku", "sort[0][dir]": "asc", **tag_filter(tag), "size": 2, "page": 2}
    plain = [r["sku"] for r in rows(admin_api, **params)["data"]]
    assert plain == [f"{tag}-002", f"{tag}-003"]
    stranger = rows(admin_api, **tag_filter(other), size=1)["data"][0]["id"]
    for after in (stranger, 999999999):
        assert [r["sku"] for r in rows(admin_api, **params, after=after)["data"]] == plain


def test_one_and_two_character_searches_find_what_contains_finds(app, admin_api):
    tag = unique("SG")
    names = ["薯片原味", "乐事薯片", "薯条", "片仔癀", "原味瓜子", "Shu 片"]
    ops = [
        {"op": "create", "tmp_id": f"t{i}", "values": {"sku": f"{tag}-{i}", "name": n, "unit": "PCS"}}
        for i, n in enumerate(names)
    ]
    assert save(admin_api, ops, source="paste").status_code == 200
    for text in ("薯", "薯片", "片", "原味", "sh", "S", "乐事薯片"):
        found = rows(
            admin_api,
            **tag_filter(tag),
            **{"filter[1][field]": "name", "filter[1][type]": "like", "filter[1][value]": text},
            size=50,
        )["data"]
        assert sorted(r["name"] for r in found) == sorted(n for n in names if text.lower() in n.lower()), text
        searched = rows(admin_api, search=text, **tag_filter(tag), size=1000)["data"]
        assert {n for n in names if text.lower() in n.lower()} <= {r["name"] for r in searched}, text
    from sqlalchemy import text as sql

    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            indexes = set(
                db.session.execute(sql("SELECT indexname FROM pg_indexes WHERE tablename = 'item'")).scalars()
            )
            assert {f"ix_item_{field}_search" for field in ("name", "spec", "sku", "pinyin")} <= indexes
            db.session.rollback()


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_a_keyset_page_reads_its_cursor_in_the_page_statement(app, admin_api, direction):
    """The cursor row's sort value is read inside the keyset page's statement, not by a statement of its own: a
    full page after a cursor sends as many statements as the same page by OFFSET (and the same rows)."""
    from sqlalchemy import event

    from app.extensions import db

    tag = unique("KC")
    ops = [
        {"op": "create", "tmp_id": f"t{i}", "values": {"sku": f"{tag}-{i:03d}", "name": f"键集 {i}", "unit": "PCS"}}
        for i in range(9)
    ]
    assert save(admin_api, ops, source="paste").status_code == 200
    params = {"sort[0][field]": "sku", "sort[0][dir]": direction, **tag_filter(tag), "size": 3, "page": 2}
    first = rows(admin_api, **dict(params, page=1))["data"]
    with app.app_context():
        engine = db.engine
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        by_offset = rows(admin_api, **params)["data"]
        offset_statements = len(sent)
        sent.clear()
        by_keyset = rows(admin_api, **params, after=first[-1]["id"])["data"]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [r["id"] for r in by_keyset] == [r["id"] for r in by_offset] and len(by_keyset) == 3
    assert len(sent) == offset_statements, sent
