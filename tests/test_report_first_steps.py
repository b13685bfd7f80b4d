"""A new business (no demo data, nothing posted): the home page says what to do first instead of empty tiles,
and `jxc report run` answers a report with its presets; the presets 本月 / 上月 / 本季 / 本年 as dates."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.errors import ValidationFailed
from reports.params import parse_period, preset
from tests.servers import HtmlSession, jxc_server, run_jxc, server_env

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("name", "today", "expected"),
    [
        ("this_month", dt.date(2026, 2, 10), "2026-02-01..2026-02-28"),
        ("last_month", dt.date(2026, 1, 31), "2025-12-01..2025-12-31"),
        ("last_month", dt.date(2026, 3, 31), "2026-02-01..2026-02-28"),
        ("this_quarter", dt.date(2026, 11, 15), "2026-10-01..2026-12-31"),
        ("this_quarter", dt.date(2026, 3, 1), "2026-01-01..2026-03-31"),
        ("this_year", dt.date(2028, 2, 29), "2028-01-01..2028-12-31"),
    ],
)
def test_presets_are_whole_periods(name: str, today: dt.date, expected: str) -> None:
    assert preset(name, today).text == expected


def test_a_typed_range_and_a_bad_one() -> None:
    assert parse_period("2026-11-03..2026-11-09").text == "2026-11-03..2026-11-09"
    with pytest.raises(ValidationFailed) as refused:
        parse_period("2026-11-09..2026-11-03")
    assert "2026-11-09..2026-11-03" in refused.value.errors[0].message


@pytest.mark.parametrize("word", ["本月", "This month", " this_month "])
def test_a_preset_is_named_by_its_word_as_the_form_shows_it(word: str) -> None:
    assert parse_period(word).text == parse_period("this_month").text


def test_the_report_form_shows_the_preset_as_its_word(app: Any, login_as: Any, admin_api: Any) -> None:
    page = login_as("admin").get("/reports/inventory_summary/").get_data(as_text=True)
    assert 'value="本月"' in page and 'value="this_month"' not in page
    assert admin_api.get("/api/v1/reports/inventory_summary?period=本季").status_code == 200


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A server on a new SQLite database with no demo data."""
    instance = tmp_path_factory.mktemp("empty") / "instance"
    url = f"sqlite:///{instance / 'jxc.db'}"
    with jxc_server(url, instance, name="empty") as running:
        running.database_url, running.instance = url, instance
        yield running


def test_an_empty_business_sees_its_first_steps(empty: Any) -> None:
    web = HtmlSession(empty.url, accept_language="zh-CN")
    web.login("admin")
    home = web.get("/").text
    assert 'id="jxc-first-steps"' in home
    steps = [href for href in ("/m/item/", "/m/opening_balance/new", "/m/purchase_receipt/new") if href in home]
    assert steps == ["/m/item/", "/m/opening_balance/new", "/m/purchase_receipt/new"], home[:2000]
    assert "录入期初库存和往来余额（期初单）" in home and "/m/stock_adjustment/new" not in home


def jxc(empty: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return run_jxc(*args, env=server_env(empty.database_url, empty.instance), timeout=120)


def test_jxc_report_run_with_a_preset_as_a_user(empty: Any, tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    done = jxc(empty, "report", "run", "inventory_summary", "--param", "period=this_quarter", "-o", str(out))
    assert done.returncode == 0, done.stderr
    answer = json.loads(out.read_text(encoding="utf-8"))
    start, _, end = answer["params"]["period"].partition("..")
    assert start[5:7] in ("01", "04", "07", "10") and start.endswith("-01") and answer["rows"] == []
    assert (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days in range(89, 92)
    assert "opening_qty" in {c["name"] for c in answer["columns"]}
    csv_text = jxc(empty, "report", "run", "sales_analysis", "--param", "by=customer").stdout
    assert csv_text.splitlines()[0].split(",")[0] == "客户"  # by customer: headed by what it groups by
    refused = jxc(empty, "report", "run", "sales_analysis", "--param", "period=someday")
    assert refused.returncode != 0 and "someday" in refused.stderr
    nobody = jxc(empty, "report", "run", "sales_analysis", "--user", "nobody")
    assert nobody.returncode != 0 and "nobody" in nobody.stderr
