"""psycopg cursors whose `description` builds its columns when they are read, not at every statement.

SQLAlchemy asks for `cursor.description` after every statement that returns rows, and psycopg answers with a
new list of `Column` objects, one per column, each decoding its name and looking up its type (about 2 us a
column: 70 us for a grid page's 32 columns). For a statement SQLAlchemy has compiled before (every statement of
a request, after the first), it only tests that the description is not None: the result's columns are the ones
it kept with the compiled statement. `LazyColumns` answers that test at once and builds psycopg's own columns
the first time anything reads them (an index, its length, an iteration), from the result they describe: the
same `Column` objects psycopg would have built, even when read after the cursor moved on to another statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from psycopg import Column, Cursor
from psycopg.pq import ExecStatus

_ROWS = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class _Described:
    """What psycopg's `Column` reads of its cursor, as it was for one result."""

    __slots__ = ("_encoding", "adapters", "pgresult")

    def __init__(self, cursor: Cursor[Any]) -> None:
        self.pgresult = cursor.pgresult
        self._encoding = cursor._encoding  # noqa: SLF001 - what Column decodes the names with
        self.adapters = cursor.adapters


class LazyColumns(Sequence[Column]):
    """The columns of one result, built (once) when first read."""

    __slots__ = ("_columns", "_described", "_count")

    def __init__(self, cursor: Cursor[Any], count: int) -> None:
        self._described: _Described | None = _Described(cursor)
        self._count = count
        self._columns: list[Column] = []

    def _built(self) -> list[Column]:
        if self._described is not None:
            described, self._described = self._described, None
            self._columns = [Column(described, index) for index in range(self._count)]  # type: ignore[arg-type]
        return self._columns

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        return self._built()[index]

    def __iter__(self) -> Iterator[Column]:
        return iter(self._built())

    def __eq__(self, other: object) -> bool:
        """As a list of its columns compares."""
        return self._built() == (other._built() if isinstance(other, LazyColumns) else other)

    # not hashable, as a list is not
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._built())


class LazyDescriptionCursor(Cursor[Any]):
    """psycopg's default cursor with `description` as `LazyColumns` (None and [] where psycopg answers them)."""

    @property
    def description(self) -> Any:
        res = self.pgresult
        if not res:
            return None
        count = res.nfields
        if count:
            return LazyColumns(self, count)
        return [] if res.status in _ROWS else None
