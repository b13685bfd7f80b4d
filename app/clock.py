"""The business's clock: timestamps are stored in UTC, dates are the business's own, so a document written
at 07:00 in Beijing is dated that day, not the UTC day before.

The business's time zone is the setting `JXC_TIMEZONE` (an IANA name, default Asia/Shanghai); schedules
read their cron strings in it. `JXC_CLOCK` (an ISO UTC time) sets the clock itself: tests and rehearsals
move time with it instead of sleeping, also in the processes they start (`jxc cron`).
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"
BUSINESS_TIMEZONE = DEFAULT_TIMEZONE  # the default; business_timezone() is the setting in force


def business_timezone() -> str:
    """The business's IANA time zone name (JXC_TIMEZONE, default Asia/Shanghai)."""
    return os.environ.get("JXC_TIMEZONE") or DEFAULT_TIMEZONE


def business_zone() -> ZoneInfo:
    """The business's time zone; a name that is not a zone raises ValueError with the name."""
    name = business_timezone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"JXC_TIMEZONE={name!r} is not a time zone (for example Asia/Shanghai)") from exc


def utcnow() -> dt.datetime:
    """Current UTC time without zone (how timestamps are stored); JXC_CLOCK when set."""
    fixed = os.environ.get("JXC_CLOCK")
    if fixed:
        moment = dt.datetime.fromisoformat(fixed)
        return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def business_now() -> dt.datetime:
    """The business's wall time now, aware (in the business's zone)."""
    return utcnow().replace(tzinfo=dt.UTC).astimezone(business_zone())


def business_today() -> dt.date:
    """Today's date where the business is."""
    return business_now().date()


def business_time(stored: dt.datetime, zone: ZoneInfo | None = None) -> dt.datetime:
    """A stored UTC timestamp (naive) as the business's wall time (naive), for people and spreadsheets
    (`zone`: the business's zone when the caller already has it, as an export does once per column)."""
    return stored.replace(tzinfo=dt.UTC).astimezone(zone or business_zone()).replace(tzinfo=None)
