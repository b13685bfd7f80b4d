"""Set-based statements for the stock side of posting: chunked IN lists, bulk inserts, bulk updates.

A posting of ten lines and a stocktake of 100,000 take the same path: rows are read and locked with
one statement per chunk of keys (in the one fixed key order), written with one INSERT per chunk, and
updated with one UPDATE per chunk (PostgreSQL: UPDATE ... FROM (VALUES ...); SQLite: executemany).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, insert, inspect, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

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


def bulk_update(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    increments: Sequence[str] = (),
    versioned: bool = False,
) -> None:
    """UPDATE rows by id: each dict has "id" and the new values of the same columns; `increments` are
    integer columns raised by one (a row's version). `versioned`: each dict also has "_version", the
    version the row must still have (else StaleDataError, as the ORM's flush would raise), and the
    row's version becomes _version + 1. One statement per chunk on PostgreSQL."""
    if not rows:
        return
    names = [name for name in rows[0] if name not in ("id", "_version")]
    if session.get_bind().dialect.name != "postgresql":
        stmt = update(table).where(table.c.id == bindparam("_id"))
        if versioned:
            stmt = stmt.where(table.c.version == bindparam("__version"))
        stmt = stmt.values({name: bindparam(f"_{name}") for name in names} | {n: table.c[n] + 1 for n in increments})
        for part in chunked(rows, 1000):
            done = session.execute(stmt, [{f"_{k}": v for k, v in row.items()} for row in part])
            if versioned and done.rowcount != len(part):
                raise StaleDataError(f"{table.name}: {len(part) - done.rowcount} rows changed meanwhile")
        return
    dialect = session.get_bind().dialect
    sql = _unnest_update(table, tuple(names), tuple(increments), versioned, dialect)
    columns = ["id", *names] + (["_version"] if versioned else [])
    for part in chunked(rows, CHUNK):
        done = session.execute(sql, {name: [row[name] for row in part] for name in columns})
        if versioned and done.rowcount != len(part):
            raise StaleDataError(f"{table.name}: {len(part) - done.rowcount} rows changed meanwhile")


def write_changed(session: Session, objects: Sequence[Any]) -> None:
    """Write the changed columns of these persistent ORM rows (a document's lines, after posting set
    their cost) set-based instead of one UPDATE each: grouped by which columns changed, version
    checked and raised as the ORM would, then marked as saved on the objects."""
    groups: dict[tuple[str, ...], list[tuple[Any, dict[str, Any]]]] = defaultdict(list)
    for obj in objects:
        state = inspect(obj)
        if not state.persistent or not state.modified:
            continue
        changed = {}
        for attr in state.mapper.column_attrs:
            history = state.attrs[attr.key].history
            if history.added and (not history.deleted or history.added[0] != history.deleted[0]):
                changed[attr.key] = history.added[0]
        if changed and "version" not in changed and "id" not in changed:
            groups[tuple(sorted(changed))].append((obj, changed))
    for names, members in groups.items():
        mapper = inspect(members[0][0]).mapper
        table = mapper.local_table
        columns = {name: mapper.column_attrs[name].columns[0].name for name in names}
        rows = [
            {"id": obj.id, "_version": obj.version} | {columns[name]: changed[name] for name in names}
            for obj, changed in members
        ]
        with session.no_autoflush:  # the ORM would write these very changes first, one row at a time
            bulk_update(session, table, rows, increments=(), versioned=True)
        for obj, changed in members:
            version = obj.version
            for name in names:
                set_committed_value(obj, name, changed[name])
            set_committed_value(obj, "version", version + 1)


_UPDATES: dict[tuple[str, tuple[str, ...], tuple[str, ...], bool], Any] = {}


def _unnest_update(
    table: Table, names: tuple[str, ...], increments: tuple[str, ...], versioned: bool, dialect: Any
) -> Any:
    """UPDATE table SET ... FROM unnest(:id, :a, ...) AS v(id, a, ...) WHERE table.id = v.id: one
    statement for any number of rows, its text built once (PostgreSQL)."""
    key = (table.name, names, increments, versioned)
    if key not in _UPDATES:
        types = {name: table.c[name].type.compile(dialect=dialect) for name in ["id", *names]}
        if versioned:
            types["_version"] = table.c.version.type.compile(dialect=dialect)
        arrays = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in types.items())
        sets = [f"{name} = v.{name}" for name in names] + [f"{name} = {table.name}.{name} + 1" for name in increments]
        where = f"{table.name}.id = v.id"
        if versioned:
            sets.append("version = v._version + 1")
            where += f" AND {table.name}.version = v._version"
        _UPDATES[key] = text(
            f"UPDATE {table.name} SET {', '.join(sets)} FROM unnest({arrays}) AS v({', '.join(types)}) WHERE {where}"
        )
    return _UPDATES[key]
