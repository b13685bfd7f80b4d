"""Set-based statements for the stock side of posting: chunked IN lists, bulk inserts, bulk updates.

A posting of ten lines and a stocktake of 100,000 take the same path: rows are read and locked with
one statement per chunk of keys (in the one fixed key order), written with one INSERT per chunk, and
updated with one UPDATE per chunk (PostgreSQL: UPDATE ... FROM (VALUES ...); SQLite: executemany).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from itertools import compress
from operator import is_not
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, insert, inspect, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import NO_VALUE, set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app.services.records.bulk import array_param, insert_rows, map_distinct, unnest_insert
from app.services.records.with_commit import STALE, TAKEN, InsertRace, send_with_commit

T = TypeVar("T")

# keys per statement: a tuple IN of (item, warehouse, batch) binds 3 parameters a key, well inside
# PostgreSQL's 65,535 and SQLite's 32,766 bound parameters
CHUNK = 5000


def chunked(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size` (nothing for an empty sequence)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT the rows (all with the same keys), in order: COPY on PostgreSQL, one executemany on SQLite."""
    insert_rows(session, table, rows)


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
    if session.get_bind().dialect.name == "sqlite":
        _sqlite_update(session, table, rows, names, increments, versioned)
        return
    if session.get_bind().dialect.name != "postgresql":
        stmt = update(table).where(table.c.id == bindparam("_id"))
        if versioned:
            stmt = stmt.where(table.c.version == bindparam("__version"))
        bumped = (*increments, "version") if versioned else increments  # as PostgreSQL's statement does
        stmt = stmt.values({name: bindparam(f"_{name}") for name in names} | {n: table.c[n] + 1 for n in bumped})
        for part in chunked(rows, 1000):
            done = session.execute(stmt, [{f"_{k}": v for k, v in row.items()} for row in part])
            if versioned and done.rowcount != len(part):
                raise StaleDataError(f"{table.name}: {len(part) - done.rowcount} rows changed meanwhile")
        return
    dialect = session.get_bind().dialect
    sql = _unnest_update(table, tuple(names), tuple(increments), versioned, dialect)
    columns = ["id", *names] + (["_version"] if versioned else [])
    for part in chunked(rows, CHUNK):
        done = session.execute(sql, {name: array_param([row[name] for row in part]) for name in columns})
        if versioned and done.rowcount != len(part):
            raise StaleDataError(f"{table.name}: {len(part) - done.rowcount} rows changed meanwhile")


def _sqlite_update(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    names: list[str],
    increments: Sequence[str],
    versioned: bool,
) -> None:
    """`bulk_update` on SQLite: one executemany of the driver per chunk, each column's values through its bind
    processor once per distinct value (`map_distinct`, as `insert_columns` sends rows), not SQLAlchemy's parameter
    dict and processing per row (a third of the SQLite posting of a 20,000-line opening balance's item costs)."""
    dialect = session.get_bind().dialect
    quote = dialect.identifier_preparer.quote
    bumped = (*increments, "version") if versioned else tuple(increments)  # as PostgreSQL's statement does
    sets = [f"{quote(name)} = ?" for name in names] + [f"{quote(name)} = {quote(name)} + 1" for name in bumped]
    where = "id = ?" + (" AND version = ?" if versioned else "")
    sql = f"UPDATE {dialect.identifier_preparer.format_table(table)} SET {', '.join(sets)} WHERE {where}"
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]  # noqa: SLF001
    keyed = ["id", "_version"] if versioned else ["id"]
    for part in chunked(rows, CHUNK):
        columns = [
            map_distinct([row[name] for row in part], process) for name, process in zip(names, processors, strict=True)
        ]
        columns += [[row[name] for row in part] for name in keyed]
        done = session.connection().exec_driver_sql(sql, list(zip(*columns, strict=True)))
        if versioned and done.rowcount != len(part):
            raise StaleDataError(f"{table.name}: {len(part) - done.rowcount} rows changed meanwhile")


def insert_and_update(
    session: Session,
    insert_table: Table,
    inserts: list[dict[str, Any]],
    update_table: Table,
    updates: list[dict[str, Any]],
    increments: Sequence[str] = (),
    versioned: tuple[Table, list[dict[str, Any]]] | None = None,
    with_commit: bool = False,
    also: tuple[Table, list[dict[str, Any]]] | None = None,
    creates: list[dict[str, Any]] | None = None,
) -> None:
    """`also`'s rows inserted (a posting's audit row), bulk_insert(inserts), `creates` inserted into `update_table`
    (`create_new`: a stock's first balance rows, with their final values), bulk_update(updates), then the `versioned`
    rows' bulk_update (versioned=True: a posting's lines, their cost). On PostgreSQL, when each fits one statement, all
    are one statement (each a data-modifying WITH; the created and versioned rows counted by the statement's SELECT):
    one round trip where COPY and the UPDATEs took four, and one statement where the audit row was another. Posting
    holds its balance locks from their read to the commit, and on a busy machine a thread waits for a core and its
    process's interpreter after every answer from the server: each round trip less is that wait less under the
    locks. `with_commit`: that one statement is sent with the transaction's COMMIT (`send_with_commit`; what it counts
    checked by the statement itself); elsewhere `also`'s rows are too. A created row another transaction created
    first raises InsertRace (`TAKEN` from the COMMIT's statement), a versioned row that moved StaleDataError."""
    dialect = session.get_bind().dialect
    others = versioned[1] if versioned is not None else []
    added_rows = also[1] if also is not None else []
    new_rows = creates or []
    together = (
        dialect.name == "postgresql"
        and ((inserts and updates) or new_rows)
        and max(len(inserts), len(updates), len(others), len(added_rows), len(new_rows)) <= CHUNK
    )
    parts: list[tuple[str, str]] = []  # (name, data-modifying statement) of the WITH, in order
    params: dict[str, Any] = {}
    added_table = also[0] if also is not None else insert_table  # (no rows without `also`)
    for name, table, rows, prefix in (
        ("added", added_table, added_rows, "a_"),
        ("inserted", insert_table, inserts, "i_"),
        ("created", update_table, new_rows, "n_"),
    ):
        if not together or not rows:
            continue
        made = unnest_insert(session, table, rows, prefix=prefix)
        if made is None:
            together = False
            break
        sql = f"{made[0]} ON CONFLICT DO NOTHING RETURNING 1" if name == "created" else made[0]
        parts.append((name, sql))
        params.update(made[1])
    if not together:
        if also is not None:
            _insert_apart(session, also[0], added_rows, with_commit)
        bulk_insert(session, insert_table, inserts)
        create_new(session, update_table, new_rows)
        bulk_update(session, update_table, updates, increments)
        if versioned is not None:
            bulk_update(session, versioned[0], others, versioned=True)
        return
    if updates:
        names = tuple(name for name in updates[0] if name != "id")
        parts.append(("updated", _unnest_update(update_table, names, tuple(increments), False, dialect).text))
        params.update({name: array_param([row[name] for row in updates]) for name in ("id", *names)})
    table = versioned[0] if versioned is not None else update_table
    if others:
        changed = tuple(name for name in others[0] if name not in ("id", "_version"))
        parts.append(("changed", _unnest_update(table, changed, (), True, dialect, prefix="v_").text + " RETURNING 1"))
        params.update({f"v_{n}": array_param([row[n] for row in others]) for n in ("id", *changed, "_version")})
    counted = [(name, expected) for name, expected in (("created", new_rows), ("changed", others)) if expected]
    key = (*(sql for _, sql in parts), str(with_commit), *(name for name, _ in counted))
    if key not in _TOGETHER:
        _TOGETHER[key] = text(_together_sql(parts, [name for name, _ in counted], with_commit))
    params.update({f"{name}_expected": len(rows) for name, rows in counted})
    if with_commit:
        send_with_commit(session, _TOGETHER[key], params)
        return
    if not counted:
        session.execute(_TOGETHER[key], params)
        return
    done = dict(zip([name for name, _ in counted], session.execute(_TOGETHER[key], params).one(), strict=True))
    if done.get("created", len(new_rows)) != len(new_rows):
        raise InsertRace(f"{update_table.name}: {len(new_rows) - done['created']} rows created meanwhile")
    if done.get("changed", len(others)) != len(others):
        raise StaleDataError(f"{table.name}: {len(others) - done['changed']} rows changed meanwhile")


def _together_sql(parts: list[tuple[str, str]], counted: list[str], with_commit: bool) -> str:
    """`insert_and_update`'s one statement: its parts as data-modifying WITHs, the last one the statement itself when
    nothing is counted; else a SELECT of how many rows each counted part wrote (`counted`), which, sent with the
    COMMIT (no answer read before it), fails itself when one is not the number expected (a count that is not the
    one expected does not cast to an integer, naming TAKEN or STALE), and the COMMIT does not happen."""
    if not counted:
        *ctes, (_, last) = parts
        return (f"WITH {', '.join(f'{name} AS ({sql})' for name, sql in ctes)} " if ctes else "") + last
    withs = f"WITH {', '.join(f'{name} AS ({sql})' for name, sql in parts)}"
    counts = {name: f"(SELECT count(*) FROM {name})" for name in counted}
    if not with_commit:
        return f"{withs} SELECT {', '.join(counts.values())}"
    marks = {"created": TAKEN, "changed": STALE}
    cases = " ".join(
        f"WHEN {counts[name]} <> :{name}_expected THEN CAST('{marks[name]} ' || {counts[name]} AS integer)"
        for name in counted
    )
    return f"{withs} SELECT CASE {cases} ELSE 0 END"


def create_new(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that no other transaction may have created first (a stock's first balance rows, with their final
    values), all or InsertRace. PostgreSQL: `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING RETURNING` a
    chunk at a time, which waits for a concurrent insert of the same key and, when that one commits, inserts nothing
    for it: counted, InsertRace. SQLite: the writer holds the database's write lock (every write transaction begins
    IMMEDIATE), so no other transaction creates a row meanwhile: one executemany."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        bulk_insert(session, table, rows)
        return
    for part in chunked(rows):
        made = unnest_insert(session, table, list(part), prefix="n_")
        assert made is not None  # every column with a default is given
        done = len(session.execute(text(f"{made[0]} ON CONFLICT DO NOTHING RETURNING 1"), made[1]).all())
        if done != len(part):
            raise InsertRace(f"{table.name}: {len(part) - done} rows created meanwhile")


def _insert_apart(session: Session, table: Table, rows: list[dict[str, Any]], with_commit: bool) -> None:
    """Insert `rows` by a statement of their own (reading nothing back): one a row sent with the COMMIT when
    `with_commit` (`send_with_commit`), else one executemany now."""
    if table.name not in _INSERTS:
        _INSERTS[table.name] = insert(table).inline()  # built (and its SQL keyed) once
    if not with_commit:
        if rows:
            session.execute(_INSERTS[table.name], rows)
        return
    for row in rows:
        send_with_commit(session, _INSERTS[table.name], row)


def write_changed(
    session: Session,
    objects: Sequence[Any],
    together: Callable[[tuple[Table, list[dict[str, Any]]] | None], None] | None = None,
) -> None:
    """Write the changed columns of these persistent ORM rows (a document's lines, after posting set
    their cost) set-based instead of one UPDATE each: grouped by which columns changed, version
    checked and raised as the ORM would, then marked as saved on the objects.

    Only the attributes set since the row was read are compared (not every column of every row), and a
    row with nothing else pending is marked clean, so that the next flush does not look at it again.
    `together` (a posting's stock writer) is called once, with the first group's (table, rows) to write
    with its own statement (None when nothing changed), instead of an UPDATE of their own."""
    groups: dict[tuple[str, ...], list[tuple[Any, dict[str, Any]]]] = defaultdict(list)
    clean = []  # rows whose pending changes are all columns: saved here, clean afterwards
    for obj in objects:
        state = inspect(obj)
        if not state.persistent or not state.modified:
            continue
        columns = state.mapper.column_attrs
        changed = {}
        only_columns = True
        for key, old in state.committed_state.items():
            if key not in columns:
                only_columns = False  # a relationship change: the flush writes it
                continue
            new = state.dict.get(key, NO_VALUE)
            if new is not NO_VALUE and not state.manager[key].impl.is_equal(new, old):
                changed[key] = new
        if "version" in changed or "id" in changed:
            continue
        if changed:
            groups[tuple(sorted(changed))].append((obj, changed))
        if only_columns:
            clean.append(state)
    if together is not None and not groups:
        together(None)
    for n, (names, members) in enumerate(groups.items()):
        mapper = inspect(members[0][0]).mapper
        table = mapper.local_table
        columns = {name: mapper.column_attrs[name].columns[0].name for name in names}
        rows = [
            {"id": obj.id, "_version": obj.version} | {columns[name]: changed[name] for name in names}
            for obj, changed in members
        ]
        with session.no_autoflush:  # the ORM would write these very changes first, one row at a time
            if n == 0 and together is not None:
                together((table, rows))
            else:
                bulk_update(session, table, rows, increments=(), versioned=True)
        for obj, changed in members:
            version = obj.version
            for name in names:
                set_committed_value(obj, name, changed[name])
            set_committed_value(obj, "version", version + 1)
    for state in clean:  # what the flush does for a row it saved (its columns equal the database's now)
        state._commit_all(state.dict, session.identity_map)


class ReadRow:
    """A table's row as read, its columns as attributes, without the ORM's identity map, attribute events and
    state: what a posting in chunks holds of each of 5,000 lines (loaded as ORM objects and written back with
    `write_changed`, the lines' bookkeeping took a fifth of a stocktake's posting). Code that reads and sets a
    line's columns by attribute takes it as it takes a line; `write_read_rows` writes what was set since."""

    def __init__(self, names: tuple[str, ...], values: Sequence[Any]) -> None:
        self.__dict__.update(zip(names, values, strict=True))
        self.__dict__["_read"] = (names, tuple(values))

    def changed(self) -> dict[str, Any]:
        """The columns set to another value since the row was read (by type and value: 1 and 1.00 as decimals
        are the same amount, None only equals None)."""
        names, values = self.__dict__["_read"]
        now = list(map(self.__dict__.__getitem__, names))
        moved = list(map(is_not, now, values))  # a column not set is the very value read: compared in C first
        if not any(moved):
            return {}
        return {
            name: new
            for name, old, new in compress(zip(names, values, now, strict=True), moved)
            if type(new) is not type(old) or new != old
        }


def read_rows(session: Session, table: Table, where: Any) -> list[ReadRow]:
    """The rows of `table` matching `where`, every column, as ReadRows (through the session's connection: the
    transaction's, no ORM loading)."""
    names = tuple(column.name for column in table.c)
    return [ReadRow(names, row) for row in session.connection().execute(select(*table.c).where(where)).all()]


def write_read_rows(
    session: Session,
    table: Table,
    rows: Sequence[ReadRow],
    together: Callable[[tuple[Table, list[dict[str, Any]]] | None], None] | None = None,
) -> None:
    """Write what was set on these ReadRows since they were read, as `write_changed` does for ORM rows: one
    UPDATE per set of changed columns, each row's version checked (StaleDataError) and raised by one.
    `together` (a posting's stock writer), as for `write_changed`: called once, with the first group's (table,
    rows) to write in its own statement (None when nothing changed)."""
    groups: dict[tuple[str, ...], list[tuple[ReadRow, dict[str, Any]]]] = defaultdict(list)
    for row in rows:
        changed = row.changed()
        if changed and "id" not in changed and "version" not in changed:
            groups[tuple(sorted(changed))].append((row, changed))
    if together is not None and not groups:
        together(None)
    for n, members in enumerate(groups.values()):
        written = [{"id": row.id, "_version": row.version} | changed for row, changed in members]  # type: ignore[attr-defined]
        if n == 0 and together is not None:
            together((table, written))
        else:
            bulk_update(session, table, written, versioned=True)
        for row, _ in members:
            names = row.__dict__["_read"][0]
            now = row.__dict__
            now["version"] += 1
            row.__dict__["_read"] = (names, tuple(map(now.__getitem__, names)))


_UPDATES: dict[tuple[str, tuple[str, ...], tuple[str, ...], bool, str], Any] = {}
_TOGETHER: dict[tuple[str, ...], Any] = {}  # insert_and_update's statements by the texts of their parts
_INSERTS: dict[str, Any] = {}  # _insert_apart's statements by table


def _unnest_update(
    table: Table, names: tuple[str, ...], increments: tuple[str, ...], versioned: bool, dialect: Any, prefix: str = ""
) -> Any:
    """UPDATE table SET ... FROM unnest(:id, :a, ...) AS v(id, a, ...) WHERE table.id = v.id: one
    statement for any number of rows, its text built once (PostgreSQL); `prefix` before its parameters' names
    (two in one statement)."""
    key = (table.name, names, increments, versioned, prefix)
    if key not in _UPDATES:
        types = {name: table.c[name].type.compile(dialect=dialect) for name in ["id", *names]}
        if versioned:
            types["_version"] = table.c.version.type.compile(dialect=dialect)
        arrays = ", ".join(f"CAST(:{prefix}{name} AS {kind}[])" for name, kind in types.items())
        sets = [f"{name} = v.{name}" for name in names] + [f"{name} = {table.name}.{name} + 1" for name in increments]
        where = f"{table.name}.id = v.id"
        if versioned:
            sets.append("version = v._version + 1")
            where += f" AND {table.name}.version = v._version"
        _UPDATES[key] = text(
            f"UPDATE {table.name} SET {', '.join(sets)} FROM unnest({arrays}) AS v({', '.join(types)}) WHERE {where}"
        )
    return _UPDATES[key]
