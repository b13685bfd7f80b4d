"""How often a schedule runs in words (每天 / 每周一 / 每月 1 日 or 月末 at 08:00) and its cron, both ways; the API
takes the words (`frequency`) as it takes a cron, stores the cron and answers both, on SQLite and PostgreSQL; bad
words are refused in Chinese, day 29 to 31 of a month among them."""

from __future__ import annotations

import pytest
from conftest import unique
from test_own_schedules import own

from app.schedules.frequency import Frequency, describe, from_cron, read, to_cron

ROUND_TRIPS = [  # (frequency as the API takes it, its cron, in words)
    ({"every": "day", "time": "08:00"}, "0 8 * * *", "每天 08:00"),
    ({"every": "day", "time": "7:05"}, "5 7 * * *", "每天 07:05"),
    ({"every": "week", "time": "08:00", "weekdays": [1]}, "0 8 * * 1", "每周一 08:00"),
    ({"every": "week", "time": "08:00", "weekdays": [1, 2, 3, 4, 5]}, "0 8 * * 1-5", "每周一至五 08:00"),
    ({"every": "week", "time": "18:30", "weekdays": [5, 1, 3]}, "30 18 * * 1,3,5", "每周一、三、五 18:30"),
    ({"every": "week", "time": "09:00", "weekdays": [6, 7]}, "0 9 * * 0,6", "每周六、日 09:00"),
    ({"every": "month", "time": "08:00", "day": 1}, "0 8 1 * *", "每月 1 日 08:00"),
    ({"every": "month", "time": "23:59", "day": "last"}, "59 23 L * *", "每月最后一天 23:59"),
]


@pytest.mark.parametrize(("raw", "cron", "words"), ROUND_TRIPS)
def test_a_frequency_is_a_cron_and_the_cron_reads_back_as_it(raw, cron, words):
    freq, problems = read(raw)
    assert problems == [] and freq is not None
    assert to_cron(freq) == cron
    assert from_cron(cron) == freq
    assert describe(cron) == words


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("0 8 * * 1-5", "每周一至五 08:00"),
        ("0 8 * * 1,2,3,4,5", "每周一至五 08:00"),
        ("0 8 * * 7", "每周日 08:00"),
        ("0 8 * * 0-6", "每周一至日 08:00"),
        ("0 8  *  * 1", "每周一 08:00"),
    ],
)
def test_crons_written_by_hand_read_as_words_when_they_are_a_frequency(cron, words):
    assert describe(cron) == words


@pytest.mark.parametrize(
    "cron", ["*/15 * * * *", "0 8,17 * * *", "0 8 1 1 *", "0 8 1 * 1", "0 8 31 * *", "0 8-18 * * *", "0 8 * * MON", "x"]
)
def test_other_crons_stay_crons(cron):
    assert from_cron(cron) is None and describe(cron) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"every": "week", "time": "08:00", "weekdays": []}, "每周发送请至少选择一天（周一至周日）"),
        ({"every": "day", "time": "25:00"}, "时间「25:00」无效：请按 时:分 填写，例如 08:00"),
        ({"every": "day", "time": "早上八点"}, "时间「早上八点」无效"),
        ({"every": "month", "time": "08:00", "day": 31}, "每月 31 日：有的月份没有这一天，那几个月就不会发送"),
        ({"every": "month", "time": "08:00", "day": 0}, "每月的日期「0」无效"),
        ({"every": "week", "time": "08:00", "weekdays": [8]}, "星期「8」无效：请用 1（周一）至 7（周日）"),
        ({"every": "hourly", "time": "08:00"}, "频率须为每天、每周或每月"),
    ],
)
def test_bad_frequencies_are_refused_in_chinese(raw, message):
    freq, problems = read(raw)
    assert freq is None and any(message in p.message for p in problems), problems


def test_the_last_day_is_a_frequency_of_its_own():
    assert read({"every": "month", "time": "08:00", "day": "月末"})[0] == Frequency("month", 8, 0, day="last")


def test_the_api_takes_a_frequency_stores_its_cron_and_answers_it_in_words(app, backend, api_as, monkeypatch):
    manager = api_as("manager")
    weekly = {"every": "week", "weekdays": [1], "time": "08:00"}
    params = {"report": "sales_order", "filters": {"remark": unique("freq")}}  # no twin of another test's
    made = own(manager, monkeypatch, params=params, recipients=["u_manager"], cron=None, frequency=weekly)
    assert made.status_code == 201, made.get_json()
    item = made.get_json()["result"]
    assert item["cron"] == "0 8 * * 1" and item["when"] == "每周一 08:00" and item["frequency"] == weekly
    assert item["next_run"] == "2026-12-07 08:00"  # made on Tuesday 1 December: the next Monday at 08:00
    listed = {s["id"]: s for s in manager.get("/api/v1/schedules/").get_json()["result"]}
    assert listed[item["id"]]["when"] == "每周一 08:00"
    # the GET's answer sent back carries both: the one changed is taken, either way; both changed differently (or a
    # new schedule given two) is refused, not one of them silently dropped
    back = {k: v for k, v in item.items() if k not in ("robots",)}
    assert manager.put(f"/api/v1/schedules/{item['id']}", json=back).status_code == 200
    monthly = {"every": "month", "day": "last", "time": "18:00"}
    picked = manager.put(f"/api/v1/schedules/{item['id']}", json=back | {"frequency": monthly})
    assert picked.status_code == 200 and picked.get_json()["result"]["cron"] == "0 18 L * *"
    assert picked.get_json()["result"]["next_run"] == "2026-12-31 18:00"
    back = picked.get_json()["result"]
    typed = manager.put(f"/api/v1/schedules/{item['id']}", json=back | {"cron": "30 9 * * 1-5"})
    assert typed.status_code == 200 and typed.get_json()["result"]["when"] == "每周一至五 09:30"
    both = manager.put(f"/api/v1/schedules/{item['id']}", json=back | {"cron": "0 7 * * *", "frequency": weekly})
    assert both.status_code == 422
    assert "频率（每周一 08:00）与 cron（0 7 * * *）不一致：请只填写其中一个" in both.get_json()["message"]
    new = own(manager, monkeypatch, params={"report": "sales_order"}, recipients=["u_manager"], frequency=weekly)
    assert new.status_code == 422  # (`own` sends the cron 0 8 * * * too)
    assert "频率（每周一 08:00）与 cron（0 8 * * *）不一致" in new.get_json()["message"]
    # a cron of no frequency's shape stays a cron (the page's 高级), in words nowhere
    odd = manager.put(f"/api/v1/schedules/{item['id']}", json=back | {"frequency": None, "cron": "*/30 8-18 * * 1-5"})
    assert odd.status_code == 200 and odd.get_json()["result"]["when"] is None
    assert manager.delete(f"/api/v1/schedules/{item['id']}").status_code == 200  # the reports' lists are others'


def test_bad_frequencies_are_refused_by_the_api_in_chinese_and_nothing_is_saved(app, backend, api_as, monkeypatch):
    manager = api_as("manager")
    before = len(manager.get("/api/v1/schedules/").get_json()["result"])
    for frequency, message in (
        ({"every": "month", "day": 31, "time": "08:00"}, "请选 1 至 28 日，或选「月末」（每月最后一天）"),
        ({"every": "day", "time": "8点"}, "时间「8点」无效"),
        ({"every": "week", "time": "08:00"}, "每周发送请至少选择一天"),
    ):
        answer = own(
            manager,
            monkeypatch,
            params={"report": "sales_order"},
            recipients=["u_manager"],
            cron=None,
            frequency=frequency,
        )
        assert answer.status_code == 422, answer.get_json()
        errors = answer.get_json()["errors"]
        assert any(e["field"] == "frequency" and message in e["message"] for e in errors), errors
    daily = {"every": "day", "time": "08:00"}
    nobody = own(manager, monkeypatch, params={"report": "sales_order"}, recipients=[], cron=None, frequency=daily)
    assert nobody.status_code == 422 and "请至少指定一个收件人" in nobody.get_json()["message"]
    assert len(manager.get("/api/v1/schedules/").get_json()["result"]) == before
