"""A stamp of the database's committed rows, for a figure kept between requests that must follow every write (the
menu's 待审批 count): two reads under the same stamp see the same rows.

On PostgreSQL the stamp is the text of the current snapshot, `xmin:xmax:ids in progress`. Which rows a statement
sees is decided by that snapshot alone (ids below xmax and not in progress have ended for good, committed or not).
A transaction that ends either leaves the list in progress (its id was below xmax) or moves xmax past its id, so
any write another reader could see between two reads gives them different stamps. The stamp is read
only on a connection with no transaction under way (a read-only request's, or one not yet used): a transaction's
own uncommitted rows are visible to it alone, and after a rollback the snapshot's text can come back. Elsewhere,
and on SQLite (no such snapshot), there is no stamp and the figure is computed afresh.
"""

from __future__ import annotations

from psycopg.pq import TransactionStatus
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.extensions import core_reads
from app.meta.plain_reads import plain_rows

_SNAPSHOT = text("SELECT pg_current_snapshot()::text")


def data_stamp(session: Session) -> str | None:
    """The committed rows' stamp as this connection sees them now; None when there is none to read honestly."""
    connection = core_reads(session)
    if connection.dialect.name != "postgresql":
        return None
    if connection.connection.driver_connection.info.transaction_status != TransactionStatus.IDLE:
        return None  # statements already ran in this transaction: it may have written
    ((stamp,),) = plain_rows(connection, _SNAPSHOT)  # on the cursor: a statement of every page
    return str(stamp)
