"""Plain rows of a kept SELECT, executed on the DBAPI cursor (PostgreSQL): the statements every grid page sends
(the stamps, the sign-in, the page with its capped count, the count's EXPLAIN, the link labels).

`Connection.execute` works out, on every execution of even a cached statement, its cache key's parameters, an
execution context, the compiled parameters, psycopg's description of the result's columns (a `Column` object per
column, 32 on an item page), the result's metadata and a `Row` per row: about a quarter of a grid page's Python
around ~1.5 ms of server-side SQL. `plain_rows` compiles a statement once per statement object (the statements
it is given are kept: per metadata version, per view, per user model) and then only builds the parameters and
runs the cursor. What the engine's execution guarantees is kept: the connection's `before_cursor_execute` and
`after_cursor_execute` listeners run around the cursor's execute as they do for `Connection.execute` (a
read-only request's lazy BEGIN, the benchmarks' SQL time and the tests' statement counts depend on them), a
database error is wrapped and handled by the connection (a lost connection invalidates the pool), bind and
result processors are applied. Anything else goes to `Connection.execute` as before: SQLite, an echoing engine,
a connection outside a transaction, a statement with expanding or literal-execute parameters or a schema
translation.
"""

from __future__ import annotations

import keyword
import weakref
from collections import namedtuple
from typing import Any

from psycopg.types.string import TextLoader
from sqlalchemy.engine import Connection
from sqlalchemy.exc import InvalidRequestError

from app.meta.sqltypes import DATE_OID, NUMERIC_OID, TIMESTAMP_OID

_SHAPES: weakref.WeakKeyDictionary[Any, _Shape | bool | None] = weakref.WeakKeyDictionary()


class _Shape:
    """A statement compiled for PostgreSQL: its SQL, its parameters, its result columns' keys and types, its rows'
    class. It holds no reference to the statement (a compiled object does), so its entry goes with the statement."""

    __slots__ = ("binds", "columns", "processors", "row", "sql")

    def __init__(self, compiled: Any) -> None:
        self.sql: str = compiled.string
        escaped = compiled.escaped_bind_names or {}
        processors = compiled._bind_processors  # noqa: SLF001 - what the execution context applies
        # as `construct_params` reads them: (key, name, the name in the SQL, its bind processor, the parameter)
        self.binds = [
            (bind.key, name, escaped.get(name, name), processors.get(name), bind)
            for bind, name in compiled.bind_names.items()
        ]
        self.columns = [(column[0], column[3]) for column in compiled._result_columns]  # noqa: SLF001 - key, type
        keys = [key for key, _ in self.columns]
        named = keys and len(set(keys)) == len(keys) and all(_attribute_name(key) for key in keys)
        self.row = _row_class(tuple(keys)) if named else None  # rows read by name, or plain tuples
        self.processors: list[Any] | None = None  # the result processors, worked out at the first execution

    def parameters(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """The DBAPI parameters as `construct_params` and the execution context make them: a value given by the
        parameter's key or name, else the statement's own, each through its bind processor."""
        given = params or {}
        out = {}
        for key, name, sql_name, processor, bind in self.binds:
            if key in given:
                value = given[key]
            elif name in given:
                value = given[name]
            elif bind.required:
                raise InvalidRequestError(f"A value is required for bind parameter {key!r}", code="cd3x")
            else:
                value = bind.effective_value if bind.callable else bind.value
            out[sql_name] = value if processor is None else processor(value)
        return out


def _attribute_name(key: Any) -> bool:
    return isinstance(key, str) and key.isidentifier() and not keyword.iskeyword(key) and not key.startswith("_")


_ROW_CLASSES: dict[tuple[str, ...], type] = {}


def _row_class(keys: tuple[str, ...]) -> type:
    """A named tuple class per set of column keys (a row reads by position, by name and as `_fields`)."""
    found = _ROW_CLASSES.get(keys)
    if found is None:
        found = _ROW_CLASSES[keys] = namedtuple("PlainRow", keys)  # type: ignore[misc]  # noqa: PYI024
    return found


def _shape(stmt: Any, connection: Connection) -> _Shape | None:
    """The statement's shape; None the first time a statement object is seen (a statement built for one request,
    a scoped reader's, is executed as before and never compiled twice) and for a statement `plain_rows` leaves to
    `Connection.execute`."""
    found = _SHAPES.get(stmt, False)
    if found is not True:
        if found is False:
            _SHAPES[stmt] = True  # seen once: compiled at its second execution
        return found or None
    compiled = stmt.compile(dialect=connection.dialect)
    plain = not (
        getattr(compiled, "_collected_params", None)  # values given by `.params()` (SQLAlchemy 2.1)
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.schema_translate_map
        or compiled.isinsert
        or compiled.isupdate
        or compiled.isdelete
    )
    shape = _SHAPES[stmt] = _Shape(compiled) if plain else None
    return shape


def plain_rows(
    connection: Connection,
    stmt: Any,
    params: dict[str, Any] | None = None,
    *,
    numeric_text: bool = False,
    temporal_text: bool = False,
) -> list[Any]:
    """The rows of a SELECT as `Connection.execute(stmt, params).all()` reads them (by position, by name, `_fields`),
    for a statement object that is kept and executed again (compiled once per object). `numeric_text`: a NUMERIC
    may be read as PostgreSQL's text of it instead of a Decimal (the caller takes either: psycopg makes each
    Decimal from that text, and a grid page's 800 were about a twelfth of its Python, their texts made again from
    them as much). `temporal_text`: likewise a DATE or a TIMESTAMP (without time zone) as PostgreSQL's text of it,
    when the connection's DateStyle is ISO (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS[.ffffff]`: psycopg's own loaders
    read that text; under another DateStyle they are read as before). A grid page's 200 timestamps written back
    as JSON text through `datetime.isoformat` were a tenth of its instructions (CPython formats each through C's
    printf)."""
    if (
        connection.dialect.name != "postgresql"
        or connection._echo  # noqa: SLF001 - the engine's logging of each statement
        or not connection.in_transaction()
    ):
        return list(connection.execute(stmt, params).all())
    shape = _shape(stmt, connection)
    if shape is None:
        return list(connection.execute(stmt, params).all())
    sql, parameters = shape.sql, shape.parameters(params)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    if numeric_text:
        cursor.adapters.register_loader(NUMERIC_OID, TextLoader)
    if temporal_text and (cursor.connection.info.parameter_status("DateStyle") or "").startswith("ISO"):
        cursor.adapters.register_loader(DATE_OID, TextLoader)
        cursor.adapters.register_loader(TIMESTAMP_OID, TextLoader)
    events = connection._has_events or connection.engine._has_events  # noqa: SLF001 - as Connection checks
    try:
        if events:
            for listener in connection.dispatch.before_cursor_execute:
                sql, parameters = listener(connection, cursor, sql, parameters, None, False)
        cursor.execute(sql, parameters)
        if events:
            connection.dispatch.after_cursor_execute(connection, cursor, sql, parameters, None, False)
        rows = cursor.fetchall()
        if shape.processors is None:
            _first_result(shape, connection, cursor.description)
    except BaseException as exc:  # as Connection.execute: wrapped, a lost connection invalidated
        connection._handle_dbapi_exception(exc, sql, parameters, cursor, None)  # noqa: SLF001
        raise  # not reached: the connection raises the wrapped error
    finally:
        cursor.close()
    if shape.processors:
        rows = [tuple(v if p is None else p(v) for p, v in zip(shape.processors, row, strict=True)) for row in rows]
    row_class = shape.row
    if row_class is None:
        return rows
    make = tuple.__new__
    return [make(row_class, row) for row in rows]


def _first_result(shape: _Shape, connection: Connection, description: Any) -> None:
    """At the statement's first execution: the result columns' processors for the types the cursor reports ([]
    when there are none), and rows read by name only when the cursor's columns are the compiled ones."""
    columns = shape.columns
    if not columns or description is None or len(columns) != len(description):
        shape.row, shape.processors = None, []
        return
    dialect = connection.dialect
    processors = [
        type_._cached_result_processor(dialect, described[1])  # noqa: SLF001 - as the result's metadata does
        for (_, type_), described in zip(columns, description, strict=True)
    ]
    shape.processors = processors if any(p is not None for p in processors) else []
