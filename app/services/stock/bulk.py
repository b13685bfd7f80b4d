"""Set-based statements for the stock side of posting: chunked IN lists, bulk inserts, bulk updates.

A posting of ten lines and a stocktake of 100,000 take the same path: rows are read and locked with
one statement per chunk of keys (in the one fixed key order), written with one INSERT per chunk, and
updated with one UPDATE per chunk (PostgreSQL: UPDATE ... FROM (VALUES ...); SQLite: executemany).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, insert, text, update
from sqlalchemy.orm import Session

T = TypeVar("T")

# keys per statement: a tuple IN of (item, warehouse, batch) binds 3 parameters a key, well inside
# PostgreSQL's 65,535 and SQLite's 32,766 bound parameters
CHUNK = 5000


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size` (nothing for an empty sequence)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT the rows, one executemany per chunk (SQLAlchemy sends it as multi-row VALUES)."""
    for part in chunked(rows, 1000):
        session.execute(insert(table), list(part))


def bulk_update(session: Session, table: Table, rows: list[dict[str, Any]], increments: Sequence[str] = ()) -> None:
    """UPDATE rows by id: each dict has "id" and the new values of the same columns; `increments` are
    integer columns raised by one (a row's version). One statement per chunk on PostgreSQL."""
    if not rows:
        return
    names = [name for name in rows[0] if name != "id"]
    if session.get_bind().dialect.name != "postgresql":
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({name: bindparam(f"_{name}") for name in names} | {n: table.c[n] + 1 for n in increments})
        )
        for part in chunked(rows, 1000):
            session.execute(stmt, [{f"_{k}": v for k, v in row.items()} for row in part])
        return
    dialect = session.get_bind().dialect
    sql = _unnest_update(table, tuple(names), tuple(increments), dialect)
    for part in chunked(rows, CHUNK):
        session.execute(sql, {name: [row[name] for row in part] for name in ["id", *names]})


_UPDATES: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Any] = {}


def _unnest_update(table: Table, names: tuple[str, ...], increments: tuple[str, ...], dialect: Any) -> Any:
    """UPDATE table SET ... FROM unnest(:id, :a, ...) AS v(id, a, ...) WHERE table.id = v.id: one
    statement for any number of rows, its text built once (PostgreSQL)."""
    key = (table.name, names, increments)
    if key not in _UPDATES:
        columns = ["id", *names]
        arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in columns)
        sets = [f"{name} = v.{name}" for name in names] + [f"{name} = {table.name}.{name} + 1" for name in increments]
        _UPDATES[key] = text(
            f"UPDATE {table.name} SET {', '.join(sets)} FROM unnest({arrays}) AS v({', '.join(columns)}) "
            f"WHERE {table.name}.id = v.id"
        )
    return _UPDATES[key]
