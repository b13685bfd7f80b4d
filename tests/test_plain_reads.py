"""Kept SELECTs read on the DBAPI cursor (`app.meta.plain_reads`, issue 19): a grid page's statements compiled once
per statement object, read as `Connection.execute` reads them, with the engine's cursor events, bind and result
processors and its handling of a database error kept; SQLite and anything unusual through `Connection.execute`.
"""

from __future__ import annotations

import gc
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import unique
from tests.test_grid_api import new_items, rows, tag_filter
from tests.test_money_places import by_warehouse, thirds


def _counting(engine: Any) -> tuple[dict[str, int], Any]:
    from sqlalchemy import event

    counts = {"statements": 0, "executions": 0}

    def statement(*_: Any) -> None:
        counts["statements"] += 1

    def execution(*_: Any) -> None:
        counts["executions"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "before_execute", execution)

    def stop() -> None:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "before_execute", execution)

    return counts, stop


def test_a_rows_request_runs_its_kept_statements_on_the_cursor(app, admin_api, backend):
    """Once a view's statements are kept, a rows request (stamps, sign-in, the page with its count, the labels) runs
    them on the DBAPI cursor on PostgreSQL, past SQLAlchemy's execution (its `before_execute` never fires), every
    statement still seen by the engine's cursor events; on SQLite every one goes through `Connection.execute`. The
    page is the same either way."""
    from app.extensions import db

    tag = unique("PR")
    new_items(admin_api, 3, tag, category="C01", sale_price="12.5000")
    view = {"size": 10, **tag_filter(tag), "sort[0][field]": "sku", "sort[0][dir]": "desc"}
    first, second = rows(admin_api, **view), rows(admin_api, **view)  # the statements seen, then compiled
    with app.app_context():
        engine = db.engine
    counts, stop = _counting(engine)
    try:
        third = rows(admin_api, **view)
    finally:
        stop()
    assert first == second == third
    assert [r["sku"] for r in third["data"]] == [f"{tag}-0002", f"{tag}-0001", f"{tag}-0000"]
    assert {r["sale_price"] for r in third["data"]} == {"12.50"}
    assert counts["statements"] >= 4
    if backend.name == "postgresql":
        assert counts["executions"] == 0, counts
    else:
        assert counts["executions"] >= 4, counts  # (SQLite's BEGIN is a cursor statement of its own)


def test_a_kept_pages_decimals_and_their_sums_are_exact_at_every_read(app, admin_api):
    """A page's decimals read as PostgreSQL's texts once its statements are kept: the values and the page's sums are
    the same exact texts at the first read (Decimals through `Connection.execute`) and every read after."""
    code, _ = thirds(app, admin_api)
    bodies = []
    for _ in range(3):
        page = admin_api.get(
            "/api/v1/grid/stock_balance/rows", query_string={"page": 1, "size": 50, **by_warehouse(code)}
        )
        assert page.status_code == 200, page.get_json()
        bodies.append(page.get_json())
    assert bodies[0] == bodies[1] == bodies[2]
    assert [row["value"] for row in bodies[2]["data"]] == ["6.6667", "6.6667"] and bodies[2]["sums"][
        "value"
    ] == "13.3334"


def test_plain_rows_read_what_connection_execute_reads(app):
    """By position, by name and `_fields`, bind processors (the labels' id array) and result processors (SQLite's
    scaled integers made Decimals), the statement's own values and the ones given; NUMERIC as PostgreSQL's text when
    asked (a Decimal on SQLite); an expanding IN list is left to `Connection.execute`."""
    from sqlalchemy import Integer, bindparam, cast, literal, literal_column, select, type_coerce

    from app.extensions import db, registry
    from app.meta.plain_reads import _SHAPES, plain_rows
    from app.meta.sqltypes import ExactDecimal
    from app.services.records.serialize import ids_in

    with app.app_context():
        conn = db.session.connection()
        try:
            dialect = conn.dialect.name
            unit = registry().cls("unit")
            ids = [pk for (pk,) in conn.execute(select(unit.id).order_by(unit.id).limit(3)).all()]
            price = (  # SQLite holds the scaled integer, which the type's result processor makes a Decimal
                cast(literal("12.3400"), ExactDecimal(18, 4))
                if dialect == "postgresql"
                else type_coerce(literal_column("123400"), ExactDecimal(18, 4))
            )
            stmt = (
                select(unit.id, unit.code, literal("甲").label("tag"), price.label("price"))
                .where(ids_in(unit.id, ids, dialect, "jxc_ids"), unit.id >= bindparam("jxc_low", type_=Integer()))
                .order_by(unit.id)
            )
            params = {"jxc_ids": ids, "jxc_low": ids[-1]}
            expected = conn.execute(stmt, params).all()
            for _ in range(3):  # seen, compiled, kept
                found = plain_rows(conn, stmt, params)
                assert [tuple(r) for r in found] == [tuple(r) for r in expected] and len(found) == 1
                assert [(r.id, r.code, r.tag, r.price) for r in found] == [
                    (r.id, r.code, r.tag, r.price) for r in expected
                ]
                assert found[0]._fields == ("id", "code", "tag", "price") and found[0].price == Decimal("12.34")
            texts = plain_rows(conn, stmt, params, numeric_text=True)
            assert {r.price for r in texts} == ({"12.3400"} if dialect == "postgresql" else {Decimal("12.34")})
            if dialect == "postgresql":  # a compiled statement's entry goes with the statement (a scoped reader's)
                with db.engine.connect() as own, own.execution_options(compiled_cache=None).begin():
                    once = select(unit.id).where(unit.id == bindparam("jxc_one", type_=Integer()))
                    for _ in range(3):
                        assert [r.id for r in plain_rows(own, once, {"jxc_one": ids[0]})] == [ids[0]]
                    kept = len(_SHAPES)
                    del once
                    gc.collect()
                    assert len(_SHAPES) == kept - 1
            expanding = select(unit.id).where(unit.id.in_(bindparam("jxc_all", expanding=True))).order_by(unit.id)
            for _ in range(3):
                assert [pk for (pk,) in plain_rows(conn, expanding, {"jxc_all": ids})] == ids
        finally:
            db.session.rollback()
            db.session.remove()


def test_a_database_error_is_raised_as_connection_execute_raises_it(app):
    """An error of the database is SQLAlchemy's wrapped error (the app's handlers and the pool's handling of a lost
    connection see what they saw), and the session is usable after its rollback; every execution is seen by the
    engine's cursor events, the failing one too."""
    from sqlalchemy import Integer, bindparam, select
    from sqlalchemy.exc import DBAPIError

    from app.extensions import db
    from app.meta.plain_reads import plain_rows

    stmt = select((bindparam("jxc_a", type_=Integer()) / bindparam("jxc_b", type_=Integer())).label("q"))
    with app.app_context():
        counts, stop = _counting(db.engine)
        try:
            for _ in range(3):
                assert [tuple(r) for r in plain_rows(db.session.connection(), stmt, {"jxc_a": 6, "jxc_b": 3})] == [(2,)]
            if db.engine.dialect.name == "postgresql":
                with pytest.raises(DBAPIError):
                    plain_rows(db.session.connection(), stmt, {"jxc_a": 1, "jxc_b": 0})
                db.session.rollback()
            assert [r.q for r in plain_rows(db.session.connection(), stmt, {"jxc_a": 9, "jxc_b": 3})] == [3]
        finally:
            stop()
            db.session.rollback()
            db.session.remove()
        if db.engine.dialect.name == "postgresql":
            assert counts["statements"] == 5
        else:  # and SQLite's BEGIN
            assert counts["statements"] >= 4


def test_dates_and_timestamps_read_as_postgresqls_text_write_the_json_their_objects_write(app):
    """`temporal_text`: a DATE and a TIMESTAMP as PostgreSQL's ISO text (date and datetime objects on SQLite), and
    the grid's JSON of either the same text (`date_text`, `timestamp_text`: cut to the second); a text of another
    shape is refused as the loader refused it."""
    import datetime as dt

    from sqlalchemy import Date, DateTime, bindparam, cast, select

    from app.extensions import db
    from app.meta.plain_reads import plain_rows
    from app.meta.types import date_text, timestamp_text

    moments = [dt.datetime(2026, 11, 25, 8, 30, 5, 123456), dt.datetime(987, 1, 2, 3, 4, 5), dt.datetime(2026, 1, 1)]
    at, day = bindparam("jxc_at", type_=DateTime()), bindparam("jxc_day", type_=Date())
    with app.app_context():
        conn = db.session.connection()
        pg = conn.dialect.name == "postgresql"  # SQLite's CAST of a text to DATETIME makes a number of it
        stmt = select((cast(at, DateTime()) if pg else at).label("at"), (cast(day, Date()) if pg else day).label("day"))
        try:
            for moment in moments:
                params = {"jxc_at": moment, "jxc_day": moment.date()}
                for _ in range(3):  # seen (through Connection.execute: objects), compiled, kept
                    ((at_read, day_read),) = plain_rows(conn, stmt, params, temporal_text=True)
                    assert (at_read, day_read) == (moment, moment.date()) or pg
                    assert plain_rows(conn, stmt, params)[0] == (moment, moment.date())  # not asked: objects
                if pg:
                    assert (type(at_read), type(day_read)) == (str, str)
                    assert timestamp_text(at_read) == moment.isoformat(timespec="seconds")
                    assert date_text(day_read) == moment.date().isoformat()
        finally:
            db.session.rollback()
            db.session.remove()
    for refused in ("infinity", "2026-11-25 08:30:05 BC", "10000-01-01 00:00:00"):
        with pytest.raises(ValueError):
            timestamp_text(refused)
    with pytest.raises(ValueError):
        date_text("infinity")
