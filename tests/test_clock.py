"""The business's clock: its time zone is a setting, and the clock can be set (tests move it, never sleep)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.clock import business_now, business_time, business_today, utcnow
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
