"""Statements sent with their transaction's COMMIT, in one round trip (PostgreSQL, psycopg's pipeline).

A posting holds its balance locks from their read to its COMMIT. On a busy machine a thread waits, after every
answer from the server, for a core and for its process's interpreter before it sends the next statement: the
last write's answer, then the COMMIT, were two such waits under the locks. What a transaction writes last and
reads nothing back from (the posting's moves, balances and lines, its audit row) is kept by `send_with_commit`
and sent, in the order kept, from the engine's commit event: after whatever the session's commit flushes or its
hooks write, in the same pipeline as the COMMIT. A failure of one of them is raised by the session's commit,
which then did not happen (the transaction is rolled back as after any failed statement); a statement that
must check what it wrote fails itself (`STALE`, raised as StaleDataError; `TAKEN`, a row it meant to create that
another transaction created first, raised as InsertRace: the work starts again). Elsewhere than PostgreSQL, or on
an engine without the event (`install_commit_with`), a statement is executed at once.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

STALE = "jxc: rows changed meanwhile"  # what a statement sent with the COMMIT fails with when it missed rows
TAKEN = "jxc: rows created meanwhile"  # ... and when a row it inserts (ON CONFLICT DO NOTHING) was another's first


class InsertRace(Exception):
    """A row this transaction meant to create (a stock's first balance, with its final values) was created by
    another transaction first: what was computed from "nothing there yet" is wrong, so the work starts again
    (`retrying`), where the row is read and locked as any other."""


_KEPT: WeakKeyDictionary[Connection, list[tuple[Any, dict[str, Any]]]] = WeakKeyDictionary()


def send_with_commit(session: Session, statement: Any, params: dict[str, Any]) -> None:
    """Send `statement` (nothing is read from its answer) with this transaction's COMMIT."""
    connection = session.connection()
    if not event.contains(connection.engine, "commit", _send_kept):
        session.execute(statement, params)
        return
    _KEPT.setdefault(connection, []).append((statement, params))


def install_commit_with(engine: Engine) -> None:
    """Send what `send_with_commit` kept with its transaction's COMMIT (PostgreSQL); forget it on a rollback."""
    if engine.dialect.name != "postgresql" or event.contains(engine, "commit", _send_kept):
        return
    event.listen(engine, "commit", _send_kept)
    event.listen(engine, "rollback", _forget_kept)


def _send_kept(connection: Connection) -> None:
    kept = _KEPT.pop(connection, None)
    if not kept:
        return
    raw: Any = connection.connection.driver_connection  # psycopg.Connection
    statement: Any = None
    try:
        with raw.pipeline():  # its exit sends the one Sync and reads every answer: one round trip for all
            for statement, params in kept:
                connection.execute(statement, params)  # queued: their answers come with the COMMIT's
            # queued too: psycopg's commit() would sync here, and the pipeline's exit sync again (a second round
            # trip, for nothing); the connection reads as committed after the exit, so SQLAlchemy's commit that
            # follows this event sends nothing
            raw.execute(b"COMMIT", prepare=False)
    except raw.Error as exc:
        if STALE in str(exc):
            raise StaleDataError(str(exc).splitlines()[0]) from exc
        if TAKEN in str(exc):
            raise InsertRace(str(exc).splitlines()[0]) from exc
        raise DBAPIError.instance(str(statement), None, exc, raw.Error, dialect=connection.dialect) from exc


def _forget_kept(connection: Connection) -> None:
    _KEPT.pop(connection, None)
