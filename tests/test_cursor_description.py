"""psycopg cursors describe a result's columns when they are read (app/cursor_description.py): what they read is
psycopg's own description of that result, even after the cursor has moved on; the app's PostgreSQL engine uses
them, and what SQLAlchemy reads of a description (a text statement's column names, an ORM row) is unchanged."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import event, text

from app.cursor_description import LazyColumns, LazyDescriptionCursor
from tests.conftest import PG_URL

ROWS = "SELECT 1 AS one, 'x'::varchar(7) AS word, 2.50::numeric(18, 4) AS price, now() AS at, NULL::int AS nothing"


def _described(description: Any) -> list[tuple[Any, ...]]:
    return [(*column,) for column in description] if description is not None else None  # type: ignore[return-value]


@pytest.fixture
def connections() -> Any:
    with psycopg.connect(PG_URL) as lazy, psycopg.connect(PG_URL) as plain:
        lazy.cursor_factory = LazyDescriptionCursor
        yield lazy, plain


def test_a_description_read_is_psycopgs_own(connections):
    lazy, plain = connections
    for statement in (ROWS, "SELECT", "SELECT 1 WHERE false", "SET search_path TO public", "SHOW search_path"):
        expected = plain.execute(statement).description
        found = lazy.execute(statement).description
        assert _described(found) == _described(expected), statement
        if expected:
            assert isinstance(found, LazyColumns) and len(found) == len(expected)
            assert [c.name for c in found] == [c.name for c in expected]
            assert found[0].type_code == expected[0].type_code and found[-1].name == expected[-1].name
            assert [(*c,) for c in found[0:2]] == [(*c,) for c in expected[0:2]]
            assert found == list(found) and found != list(found)[:-1]  # compared as the list of its columns
            assert repr(found) == repr(expected)
        else:
            assert found == expected  # [] for a SELECT of no columns, None for no rows at all


def test_columns_read_after_the_cursor_moved_on_describe_their_own_result(connections):
    lazy, plain = connections
    cursor = lazy.cursor()
    first = cursor.execute(ROWS).description
    cursor.execute("SELECT 42 AS answer")
    assert [c.name for c in first] == ["one", "word", "price", "at", "nothing"]
    assert _described(first) == _described(plain.execute(ROWS).description)
    assert [c.name for c in cursor.description] == ["answer"]


def test_the_apps_postgresql_engine_describes_lazily_and_sqlalchemy_reads_the_same(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite's cursors are sqlite3's")
    from app.extensions import db

    seen: list[Any] = []

    def _cursor(_conn: Any, cursor: Any, *_: Any) -> None:
        seen.append(cursor)

    with app.app_context():
        event.listen(db.engine, "after_cursor_execute", _cursor)
        try:
            result = db.session.execute(text(ROWS)).mappings().one()  # a text statement: keys from the description
        finally:
            event.remove(db.engine, "after_cursor_execute", _cursor)
            db.session.rollback()
    assert seen and all(isinstance(cursor, LazyDescriptionCursor) for cursor in seen)
    assert list(result) == ["one", "word", "price", "at", "nothing"] and result["word"] == "x"
