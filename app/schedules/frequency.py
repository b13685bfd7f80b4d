"""How often a schedule runs, in words a shop owner picks (每天 / 每周一、三 / 每月 1 日 or 月末, at 08:00) and the
cron string it is stored as, both ways.

The schedule keeps its cron (`jxc_schedule.cron`, what `cron.py` reads); a frequency is another way to write one
(the report page's 定时发送, the 定时任务 page's picker, `frequency` in the API) and a way to read one back: a cron of
one of these shapes is shown in words (`0 8 * * 1` is 每周一 08:00), any other stays a cron (高级).

A frequency is `{"every": "day" | "week" | "month", "time": "HH:MM", "weekdays": [1..7], "day": 1..28 | "last"}`:
weekdays ISO (1 Monday .. 7 Sunday; the cron writes Sunday 0), `weekdays` only for `week`, `day` only for `month`.
Days 29 to 31 are refused, not stored: a cron of day 31 never fires in April, so "每月 31 日" would silently skip
five months a year; the message offers 月末 (the cron's `L`, the last day of every month) instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.errors import CellError
from app.i18n import t, texts_under

EVERY = ("day", "week", "month")
LAST = "last"
MAX_DAY = 28  # the last day every month has
_TIME = re.compile(r"^\s*(\d{1,2})\s*[:：]\s*(\d{2})\s*$")
_NUMBER = re.compile(r"^\d{1,2}$")


@dataclass(frozen=True)
class Frequency:
    """One frequency, checked: `weekdays` sorted ISO days (week), `day` 1..28 or "last" (month)."""

    every: str
    hour: int
    minute: int
    weekdays: tuple[int, ...] = field(default=())
    day: int | str | None = None

    @property
    def time(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"every": self.every, "time": self.time}
        if self.every == "week":
            out["weekdays"] = list(self.weekdays)
        if self.every == "month":
            out["day"] = self.day
        return out


def to_cron(freq: Frequency) -> str:
    """The cron string of a frequency (read in the business's time zone, as every schedule's)."""
    day = "*"
    weekdays = "*"
    if freq.every == "week":
        weekdays = _cron_days(freq.weekdays)
    elif freq.every == "month":
        day = "L" if freq.day == LAST else str(freq.day)
    return f"{freq.minute} {freq.hour} {day} * {weekdays}"


def _cron_days(days: tuple[int, ...]) -> str:
    """ISO weekdays as the cron's day-of-week field: Sunday 0, runs of three or more as a range (1-5)."""
    numbers = sorted(0 if d == 7 else d for d in days)
    parts, start = [], 0
    while start < len(numbers):
        end = start
        while end + 1 < len(numbers) and numbers[end + 1] == numbers[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"{numbers[start]}-{numbers[end]}")
        else:
            parts.extend(str(n) for n in numbers[start : end + 1])
        start = end + 1
    return ",".join(parts)


def from_cron(cron: str) -> Frequency | None:
    """The frequency a cron string is, or None when it is not one of the picker's shapes (every 15 minutes, two
    hours a day, a month named, day and weekday both set: shown as the cron, changed as one)."""
    parts = str(cron or "").split()
    if len(parts) != 5 or not (_NUMBER.match(parts[0]) and _NUMBER.match(parts[1])) or parts[3] != "*":
        return None
    minute, hour, day, _month, weekdays = parts
    if int(minute) > 59 or int(hour) > 23:
        return None
    if day == "*" and weekdays == "*":
        return Frequency("day", int(hour), int(minute))
    if day == "*":
        days = _iso_days(weekdays)
        return Frequency("week", int(hour), int(minute), weekdays=days) if days else None
    if weekdays != "*":
        return None
    if day == "L":
        return Frequency("month", int(hour), int(minute), day=LAST)
    if _NUMBER.match(day) and 1 <= int(day) <= MAX_DAY:
        return Frequency("month", int(hour), int(minute), day=int(day))
    return None


def _iso_days(field_text: str) -> tuple[int, ...] | None:
    """A cron day-of-week field of numbers and ranges (0 and 7 Sunday) as sorted ISO days; None for any other."""
    days: set[int] = set()
    for part in field_text.split(","):
        low, _, high = part.partition("-")
        if not _NUMBER.match(low) or (high and not _NUMBER.match(high)):
            return None
        first, last = int(low), int(high or low)
        if not 0 <= first <= last <= 7:
            return None
        days.update(7 if d == 0 else d for d in range(first, last + 1))
    return tuple(sorted(days))


def describe(cron: str) -> str | None:
    """A cron in words (每周一 08:00, 每周一至五 08:00, 每月最后一天 08:00), or None when it is no frequency."""
    freq = from_cron(cron)
    return words(freq) if freq is not None else None


def words(freq: Frequency) -> str:
    if freq.every == "week":
        return t("schedules.freq.week", days=_day_words(freq.weekdays), time=freq.time)
    if freq.every == "month" and freq.day == LAST:
        return t("schedules.freq.month_last", time=freq.time)
    if freq.every == "month":
        return t("schedules.freq.month", day=freq.day, time=freq.time)
    return t("schedules.freq.day", time=freq.time)


def _day_words(days: tuple[int, ...]) -> str:
    """一、三、五; a run of three or more days as 一至五; every day of the week as 每天's word would be odd: 一至日."""
    if len(days) >= 3 and list(days) == list(range(days[0], days[-1] + 1)):
        return t(
            "schedules.freq.range", first=t(f"schedules.weekday.{days[0]}"), last=t(f"schedules.weekday.{days[-1]}")
        )
    return t("list_separator").join(t(f"schedules.weekday.{d}") for d in days)


def read(raw: Any) -> tuple[Frequency | None, list[CellError]]:
    """A frequency from the API's or a form's values, or the problems with it (each a sentence on `frequency`)."""
    if not isinstance(raw, dict):
        return None, [CellError("frequency", t("schedules.freq_bad_every"))]
    problems = []
    every = str(raw.get("every") or "").strip()
    if every not in EVERY:
        problems.append(t("schedules.freq_bad_every"))
    time_text = str(raw.get("time") or "").strip()
    matched = _TIME.match(time_text)
    hour, minute = (int(matched.group(1)), int(matched.group(2))) if matched else (-1, -1)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        problems.append(t("schedules.freq_bad_time", time=time_text))
    weekdays: tuple[int, ...] = ()
    day: int | str | None = None
    if every == "week":
        weekdays, bad = _weekdays(raw.get("weekdays"))
        problems.extend(bad)
    if every == "month":
        day, bad = _month_day(raw.get("day"))
        problems.extend(bad)
    if problems:
        return None, [CellError("frequency", text) for text in problems]
    return Frequency(every, hour, minute, weekdays=weekdays, day=day), []


def _weekdays(raw: Any) -> tuple[tuple[int, ...], list[str]]:
    values = raw if isinstance(raw, list | tuple) else [p for p in re.split(r"[,，、\s]+", str(raw or "")) if p]
    days, problems = set(), []
    for value in values:
        text = str(value).strip()
        if _NUMBER.match(text) and 1 <= int(text) <= 7:
            days.add(int(text))
        else:
            problems.append(t("schedules.freq_bad_weekday", day=text))
    if not days and not problems:
        problems.append(t("schedules.freq_no_weekday"))
    return tuple(sorted(days)), problems


def _month_day(raw: Any) -> tuple[int | str | None, list[str]]:
    text = str(raw if raw is not None else "").strip()
    if text.lower() == LAST or text == t("schedules.freq.last_day_word"):
        return LAST, []
    if _NUMBER.match(text) and 1 <= int(text) <= MAX_DAY:
        return int(text), []
    if _NUMBER.match(text) and MAX_DAY < int(text) <= 31:
        return None, [t("schedules.freq_short_month", day=text)]
    return None, [t("schedules.freq_bad_day", day=text)]


def picked(current: dict[str, Any] | None) -> dict[str, Any]:
    """What the frequency picker (jxc/_frequency.html) shows, with its words (`words`)."""
    return _picked(current) | {
        "words": {"every": texts_under("schedules.every."), "weekday": texts_under("schedules.weekday_name.")}
    }


def _picked(current: dict[str, Any] | None) -> dict[str, Any]:
    """What the frequency picker shows: a schedule's cron read as words when it is one of the picker's shapes (else
    高级 with the cron), a refused form's choice as it was made, a new schedule's 每周一至五 08:00."""
    current = current or {}
    chosen = current.get("frequency")
    if isinstance(chosen, dict):  # a refused form, as picked
        day = chosen.get("day")
        weekdays = {int(d) for d in chosen.get("weekdays") or [] if str(d).isdigit()}
        return {
            "every": chosen.get("every"),
            "time": chosen.get("time") or "",
            "weekdays": weekdays,
            "day": int(day) if str(day).isdigit() else day,
            "cron": "",
        }
    cron = current.get("cron") or "0 8 * * 1-5"
    freq = from_cron(cron)
    if freq is None:
        return {"every": "cron", "time": "08:00", "weekdays": {1}, "day": 1, "cron": cron}
    return {
        "every": freq.every,
        "time": freq.time,
        "weekdays": set(freq.weekdays) or {1},
        "day": freq.day or 1,
        "cron": cron,
    }
