"""The business's clock: its time zone is a setting, and the clock can be set (tests move it, never sleep)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from app.clock import business_now, business_time, business_times, business_today, utcnow
from app.config import build_config


def test_the_business_day_follows_the_time_zone_setting(monkeypatch):
    monkeypatch.setenv("JXC_CLOCK", "2026-11-24T23:30:00+00:00")
    assert utcnow() == dt.datetime(2026, 11, 24, 23, 30)
    assert business_today() == dt.date(2026, 11, 25)  # default Asia/Shanghai: 07:30 the next day
    assert business_now().utcoffset() == dt.timedelta(hours=8)
    monkeypatch.setenv("JXC_TIMEZONE", "Europe/Berlin")
    assert business_now().replace(tzinfo=None) == dt.datetime(2026, 11, 25, 0, 30)
    monkeypatch.setenv("JXC_TIMEZONE", "America/New_York")
    assert business_today() == dt.date(2026, 11, 24)
    assert business_time(dt.datetime(2026, 11, 24, 23, 30)) == dt.datetime(2026, 11, 24, 18, 30)


def test_a_time_zone_that_does_not_exist_stops_start_up_with_its_name(monkeypatch, tmp_path):
    monkeypatch.setenv("JXC_TIMEZONE", "Asia/Beijing")
    with pytest.raises(ValueError, match="Asia/Beijing"):
        build_config({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Shanghai"])
def test_many_timestamps_in_business_time_as_one_by_one_also_across_a_change_of_offset(zone):
    # every 7 minutes 13 seconds over the days around a change of offset (Lord Howe's is half an hour, at :30 UTC)
    start = {"America/New_York": dt.datetime(2026, 3, 7), "Australia/Lord_Howe": dt.datetime(2026, 4, 3)}
    first = start.get(zone, dt.datetime(2026, 11, 24))
    stored = [first + dt.timedelta(seconds=433 * n, microseconds=n) for n in range(1200)] + [None]
    convert = business_times(ZoneInfo(zone))
    expected = [None if value is None else business_time(value, ZoneInfo(zone)) for value in stored]
    assert [convert(value) for value in stored] == expected
    assert len({value - moment for value, moment in zip(expected[:-1], stored, strict=False)}) == (
        1 if zone in ("Asia/Kolkata", "Asia/Shanghai") else 2
    )
    late = dt.datetime.max - dt.timedelta(minutes=30)  # east of UTC past what a datetime holds: as one by one

    def outcome(convert_one):
        try:
            return convert_one(late)
        except OverflowError:
            return OverflowError

    assert outcome(convert) == outcome(lambda value: business_time(value, ZoneInfo(zone)))
