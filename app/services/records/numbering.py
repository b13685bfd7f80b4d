"""Document numbers like CG20261125-0001: unique and safe under concurrency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.services.records.tables import sequence

MAX_SKIPS = 1000  # numbers taken by hand in a row before giving up


def next_number(session: Session, prefix: str, day: dt.date, taken: Callable[[str], bool] = lambda _n: False) -> str:
    """Take the next number for prefix+day that is not `taken` (a number a client chose by hand is skipped);
    the row lock holds until the transaction ends."""
    for _skip in range(MAX_SKIPS):
        number = _bump(session, f"{prefix}{day:%Y%m%d}")
        if not taken(number):
            return number
    raise RuntimeError(f"no free number for {prefix}{day:%Y%m%d} in {MAX_SKIPS} tries")


def _bump(session: Session, key: str) -> str:
    for _attempt in range(3):
        bumped = session.execute(update(sequence).where(sequence.c.key == key).values(value=sequence.c.value + 1))
        if bumped.rowcount == 0:
            try:
                with session.begin_nested():
                    session.execute(insert(sequence).values(key=key, value=1))
            except IntegrityError:
                continue  # another transaction created it first: bump that one
        value = session.execute(select(sequence.c.value).where(sequence.c.key == key)).scalar_one()
        return f"{key}-{value:04d}"
    raise RuntimeError(f"could not allocate a number for {key}")
