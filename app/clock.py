"""The business's clock: timestamps are stored in UTC, dates are the business's own (Asia/Shanghai), so
a document written at 07:00 in Beijing is dated that day, not the UTC day before."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

BUSINESS_TIMEZONE = "Asia/Shanghai"


def business_today() -> dt.date:
    """Today's date where the business is."""
    return dt.datetime.now(ZoneInfo(BUSINESS_TIMEZONE)).date()


def utcnow() -> dt.datetime:
    """Current UTC time without zone (how timestamps are stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def business_time(stored: dt.datetime) -> dt.datetime:
    """A stored UTC timestamp (naive) as the business's wall time (naive), for people and spreadsheets."""
    return stored.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(BUSINESS_TIMEZONE)).replace(tzinfo=None)
