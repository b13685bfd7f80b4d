"""The business's clock: timestamps are stored in UTC, dates are the business's own, so a document written
at 07:00 in Beijing is dated that day, not the UTC day before.

The business's time zone is the setting `JXC_TIMEZONE` (an IANA name, default Asia/Shanghai); schedules
read their cron strings in it. `JXC_CLOCK` (an ISO UTC time) sets the clock itself: tests and rehearsals
move time with it instead of sleeping, also in the processes they start (`jxc cron`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
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


def business_times(zone: ZoneInfo | None = None) -> Callable[[dt.datetime | None], dt.datetime | None]:
    """`business_time` for many stored timestamps (None stays None), as an export makes a column's cells:
    the zone's offset looked up once per UTC hour and added, which is what `business_time` gives for every
    timestamp of an hour whose offset is the same at its start and at its end (the hour of a change of offset
    goes timestamp by timestamp). A third of `business_time`'s cost per timestamp with ZoneInfo."""
    zone = zone or business_zone()
    offsets: dict[int, dt.timedelta | None] = {}

    def hour_offset(stored: dt.datetime) -> dt.timedelta | None:
        start = stored.replace(minute=0, second=0, microsecond=0)
        last = start + LAST_OF_HOUR
        try:
            offset = business_time(start, zone) - start
            return offset if business_time(last, zone) - last == offset else None
        except OverflowError:  # the last hours a datetime holds
            return None

    def convert(stored: dt.datetime | None) -> dt.datetime | None:
        if stored is None:
            return None
        hour = stored.toordinal() * 24 + stored.hour
        if hour not in offsets:
            offsets[hour] = hour_offset(stored)
        offset = offsets[hour]
        return business_time(stored, zone) if offset is None else stored + offset

    return convert


LAST_OF_HOUR = dt.timedelta(hours=1, microseconds=-1)
