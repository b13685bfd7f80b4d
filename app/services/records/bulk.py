"""Many new rows into one table in the caller's transaction: COPY on PostgreSQL, one executemany on SQLite.

A multi-row INSERT through psycopg sends its rows one statement at a time (pipeline mode); COPY streams
them in one command, several times faster. On SQLite the rows go to the driver's executemany as tuples,
without SQLAlchemy building a parameter dict per row. Values go through each column type's bind processor
first, as an INSERT would send them (ExactDecimal's scaled integers on SQLite); a table whose missing
columns have client-side defaults takes the plain INSERT.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from operator import is_not
from typing import Any

from sqlalchemy import ARRAY, String, Table, any_, bindparam, func, insert, literal_column, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import NullType, TypeDecorator

from app.extensions import begin_now


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` (dicts of column name -> value, all with the same keys) into `table`."""
    if rows:
        insert_columns(session, table, {name: [row[name] for row in rows] for name in rows[0]})


def insert_columns(session: Session, table: Table, columns: dict[str, list[Any]]) -> None:
    """Insert rows given as columns ({column name: its values, one per row}, all of one length) into `table`:
    what `insert_rows` does, for a writer that holds its rows column by column (`create_many`)."""
    names = list(columns)
    count = len(columns[names[0]]) if names else 0
    if not count:
        return
    names = [n for n in names if not _left_null(table.c[n], columns[n])] or names
    columns = {n: columns[n] for n in names}
    dialect = session.get_bind().dialect
    copy = dialect.name == "postgresql"
    if not (copy or dialect.paramstyle == "qmark") or _needs_defaults(table, names):
        rows = zip(*columns.values(), strict=True)
        session.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
        return
    bound = [map_distinct(columns[n], table.c[n].type._cached_bind_processor(dialect)) for n in names]  # noqa: SLF001
    values = list(zip(*bound, strict=True))
    quoted = ", ".join(dialect.identifier_preparer.quote(n) for n in names)
    target = dialect.identifier_preparer.format_table(table)
    if copy:
        begin_now(session.connection())  # COPY goes past SQLAlchemy's events
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {target} ({quoted}) FROM STDIN") as stream:
            for value in values:
                stream.write_row(value)
    else:
        marks = ", ".join("?" * len(names))
        session.connection().exec_driver_sql(f"INSERT INTO {target} ({quoted}) VALUES ({marks})", values)


def _left_null(column: Any, values: list[Any]) -> bool:
    """Whether a column of the rows to insert may be left out of the INSERT: every value None, and nothing but NULL
    would fill it (no default of the table or of SQLAlchemy, nullable, not the key). SQLite binds and copies a
    parameter per cell whatever it holds: an item's 13 blank columns were a third of its executemany's CPU."""
    return (
        column.nullable
        and not column.primary_key
        and column.default is None
        and column.server_default is None
        and not any(map(is_not, values, repeat(None)))
    )


def new_ids(session: Session, table: Table, count: int) -> list[int]:
    """Ids for `count` new rows, in ascending order, taken before the INSERT so it needs no RETURNING (which
    writes the rows one statement of a thousand at a time, each parsed by the driver in Python, to keep their
    order): the table's sequence on PostgreSQL, on SQLite the ids after the highest (writers hold the database's
    write lock until they commit)."""
    if not count:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.execute(select(func.pg_get_serial_sequence(table.name, "id"))).scalar_one()
        numbers = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        return sorted(session.execute(numbers).scalars())
    highest = session.execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(highest + 1, highest + 1 + count))


_UNNEST_INSERTS: dict[tuple[str, str, tuple[str, ...]], str] = {}


def unnest_insert(
    session: Session, table: Table, rows: list[dict[str, Any]], prefix: str = "i_"
) -> tuple[str, dict[str, list[Any]]] | None:
    """PostgreSQL: `INSERT INTO table (...) SELECT * FROM unnest(CAST(:i_0 AS type[]), ...)` for these rows (all with
    the same keys) and its parameters, one array a column as the bind processors send them: any number of rows in
    one statement and one round trip (COPY waits for the server twice, at its start and at its end), which a
    caller may send as a data-modifying WITH of another statement. None when a column left out has a default
    SQLAlchemy fills in (`insert_rows` then)."""
    names = list(rows[0])
    if _needs_defaults(table, names):
        return None
    dialect = session.get_bind().dialect
    key = (table.name, prefix, tuple(names))
    if key not in _UNNEST_INSERTS:
        preparer = dialect.identifier_preparer
        arrays = ", ".join(
            f"CAST(:{prefix}{n} AS {table.c[name].type.compile(dialect=dialect)}[])" for n, name in enumerate(names)
        )
        quoted = ", ".join(preparer.quote(name) for name in names)
        _UNNEST_INSERTS[key] = f"INSERT INTO {preparer.format_table(table)} ({quoted}) SELECT * FROM unnest({arrays})"
    params = {
        f"{prefix}{n}": array_param(
            map_distinct([row[name] for row in rows], table.c[name].type._cached_bind_processor(dialect))  # noqa: SLF001
        )
        for n, name in enumerate(names)
    }
    return _UNNEST_INSERTS[key], params


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _naive(value: datetime) -> str:
    if value.tzinfo is not None:
        raise TypeError("an aware datetime goes to psycopg, which converts it")
    return '"' + value.isoformat(" ") + '"'


# how each kind of value is written inside a PostgreSQL array literal (None is NULL)
_ELEMENTS: dict[type, Callable[[Any], str]] = {
    int: str,
    Decimal: str,
    bool: lambda value: "t" if value else "f",
    str: _quoted,
    date: date.isoformat,
    datetime: _naive,
}
_NUMBERS = {int, Decimal}
# kinds whose equal values are written alike (not Decimal: 1.0 and 1.00 are equal, and written apart)
_REPEATED = frozenset({str, bool, date, datetime})


def array_param(values: list[Any]) -> Any:
    """A column's values as one parameter for `CAST(:p AS type[])` (PostgreSQL): the array's text, written here in
    one join, where psycopg's array dumper looks up a dumper and runs a regular expression per element (3 s of a
    20,000-line stocktake's posting); the list itself, for psycopg, when a value is of another kind."""
    kinds = set(map(type, values))
    nulls = type(None) in kinds  # not `None in values`: each == of a Decimal with None asks isinstance(Rational)
    kinds.discard(type(None))
    if kinds <= _NUMBERS:
        element: Callable[[Any], str] = str
    elif len(kinds) == 1 and next(iter(kinds)) in _ELEMENTS:
        element = _ELEMENTS[next(iter(kinds))]
    else:
        return values
    try:
        if element is _quoted and not nulls:  # texts: one join, unless one needs escaping
            joined = '","'.join(values)
            if "\\" not in joined and '"' not in joined:
                return '{"' + joined + '"}' if values else "{}"
        if kinds & _REPEATED and len(values) > 8:  # a chunk's stamps, dates, batches: each distinct value written once
            written = {value: element(value) for value in set(values) if value is not None}
            if len(written) * 2 <= len(values):
                written[None] = "NULL"
                return "{" + ",".join(map(written.__getitem__, values)) + "}"
        if nulls:
            return "{" + ",".join("NULL" if value is None else element(value) for value in values) + "}"
        return "{" + ",".join(map(element, values)) + "}"
    except TypeError:
        return values


_HASHED = frozenset({str, int, Decimal, bool, date, datetime})  # kinds whose equal values are processed alike


def map_distinct(values: list[Any], process: Any) -> list[Any]:
    """`process` of each value, each distinct value processed once (a chunk's rows share their timestamps,
    prices and flags; None stays None): a column's values as its bind processor sends them, or as the audit
    trail has them."""
    if process is None:
        return values
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if len(kinds) == 1 and next(iter(kinds)) in _HASHED:  # one kind of value: keyed by the value alone, in C
        table = {value: process(value) for value in set(values) if value is not None}
        table[None] = None
        return list(map(table.__getitem__, values))
    done: dict[tuple[type, Any], Any] = {}
    out = []
    for value in values:
        key = (value.__class__, value)  # True and 1, 1 and 1.0 are equal but not sent alike
        try:
            found = done[key] if value is not None else None
        except KeyError:
            found = done[key] = process(value)
        except TypeError:  # unhashable (a JSON value)
            found = process(value)
        out.append(found)
    return out


def _needs_defaults(table: Table, names: list[str]) -> bool:
    """Whether a column left out has a default SQLAlchemy fills in (COPY would leave it empty)."""
    given = set(names)
    return any(c.name not in given and c.default is not None for c in table.columns)


TEXTS_AS_JSON = 50  # `among` on SQLite: more texts or ids than this go as one JSON array
_AS_JSON = ({str}, {int})  # the kinds of value a JSON array gives back as they were (not bools, decimals, dates)


def among(session: Session, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """`column IN values` for a long list: one array parameter on PostgreSQL (`= ANY(...)`, which psycopg and
    the planner take as one value), a parameter per value elsewhere."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        item = String() if isinstance(column.type, NullType) else column.type  # lower(code) has no type of its own
        return column == any_(bindparam(None, values, type_=ArrayText(item)))
    if dialect == "sqlite" and len(values) > TEXTS_AS_JSON and set(map(type, values)) in _AS_JSON:
        # many texts (codes, names) or ids: one JSON array parameter, read by json_each (the index on the column is
        # still searched); a parameter per value costs SQLAlchemy about 2 ms a thousand to render, each time
        return column.in_(_json_rows(bindparam(None, values, type_=JsonList()), 1))
    return column.in_(values)


class JsonList(TypeDecorator[Any]):
    """A list parameter sent as its JSON text (SQLite), read back as rows by `json_each` (`_json_rows`): one
    parameter for 5,000 ids or (item, warehouse, batch) keys, where an expanding IN has SQLAlchemy render and bind
    a parameter per value on every execution (a fifth of a 20,000-line opening balance's posting on SQLite)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.dumps(list(value), separators=(",", ":"))


def _json_rows(param: Any, width: int) -> Any:
    """SELECT of the JSON array `param`'s elements (width 1) or of its arrays' first `width` elements, as rows."""
    listed = func.json_each(param).table_valued("value")
    if width == 1:
        return select(listed.c.value)
    return select(*[func.json_extract(listed.c.value, literal_column(f"'$[{n}]'")) for n in range(width)])


class ArrayText(TypeDecorator[Any]):
    """An ARRAY parameter whose list is sent as the text of the array (`array_param`), cast to the array type as
    the query is parsed (`:p::INTEGER[]`, one constant for the planner as a list is): psycopg's own dumper looks
    up a dumper and runs a regular expression per element, 0.02 s for each chunk of 5,000 ids a stocktake's
    posting reads or locks by (200 of them at 100,000 lines). A list it cannot write goes to psycopg as it is."""

    impl = ARRAY
    cache_ok = True

    def bind_processor(self, dialect: Any) -> Any:  # in place of ARRAY's, which would take the text for a list
        return lambda value: None if value is None else array_param(list(value))


def among_param(dialect: str, column: Any, name: str) -> ColumnElement[bool]:
    """`among` with its values left to a named parameter (`among_value`): for a statement built once and run with
    other values each time (its SQL, and SQLAlchemy's key for it, are not worked out again)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ArrayText(column.type)))
    if dialect == "sqlite":  # one JSON text, as `among` sends a long list (ids, codes: texts and integers only)
        return column.in_(_json_rows(bindparam(name, type_=JsonList()), 1))
    return column.in_(bindparam(name, expanding=True))


def keys_among_param(dialect: str, columns: Sequence[Any], name: str) -> ColumnElement[bool]:
    """`keys_among` with its keys left to named parameters (`keys_among_values`), as `among_param`."""
    if dialect == "postgresql":
        arrays = [bindparam(f"{name}{n}", type_=ArrayText(c.type)) for n, c in enumerate(columns)]
        given = func.unnest(*arrays).table_valued(*[f"k{n}" for n in range(len(columns))]).render_derived()
        return tuple_(*columns).in_(select(*given.c))
    if dialect == "sqlite":  # the keys as one JSON array of arrays (ids and texts), read back by json_each
        return tuple_(*columns).in_(_json_rows(bindparam(name, type_=JsonList()), len(columns)))
    return tuple_(*columns).in_(bindparam(name, expanding=True))


def keys_among_values(dialect: str, name: str, width: int, keys: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The parameters of `keys_among_param(dialect, <width columns>, name)` for these keys."""
    if dialect == "postgresql":
        return {f"{name}{n}": [key[n] for key in keys] for n in range(width)}
    return {name: [tuple(key) for key in keys]}


def keys_among(session: Session, columns: Sequence[Any], keys: Sequence[Sequence[Any]]) -> ColumnElement[bool]:
    """`(a, b, ...) IN keys` for a long list of keys (a stock's item, warehouse and batch): on PostgreSQL one
    array parameter a column (`IN (SELECT * FROM unnest(...))`), not a parameter per value for psycopg to
    parse out of the query text and the planner to read as a list; on SQLite one JSON text (as `among`) when they
    are many and of ids and texts only; a parameter per value elsewhere."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        arrays = [bindparam(None, [key[n] for key in keys], type_=ArrayText(c.type)) for n, c in enumerate(columns)]
        given = func.unnest(*arrays).table_valued(*[f"k{n}" for n in range(len(columns))]).render_derived()
        return tuple_(*columns).in_(select(*given.c))
    if dialect == "sqlite" and len(keys) > TEXTS_AS_JSON and {type(v) for key in keys for v in key} <= {int, str}:
        return tuple_(*columns).in_(_json_rows(bindparam(None, keys, type_=JsonList()), len(columns)))
    return tuple_(*columns).in_(keys)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a bulk write runs (a file checked and written, a document of
    many lines posted): its rows are held as lists, dicts and tuples that refcounting frees, and each of the
    collector's passes walked every one of them (15% of the CPU time of a 20,000-row item import on SQLite). It is
    switched back on after, as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
