"""The one parser: what each field type accepts, refuses and writes back, and exact decimals in both databases."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, func, insert, select
from sqlalchemy.engine import Engine

from app.config import normalise_database_url
from app.meta.spec import FieldSpec, Option
from app.meta.sqltypes import ExactDecimal
from app.meta.types import FIELD_TYPES, ValueProblem, format_decimal

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
FULL_WIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


def make_spec(type_name: str, **overrides: Any) -> FieldSpec:
    """A field spec of `type_name` with the given options."""
    return FieldSpec(name="f", type=type_name, label={"zh": "字段", "en": "Field"}, **overrides)


def parse(type_name: str, raw: Any, **overrides: Any) -> Any:
    """Parse `raw` as a field of `type_name`."""
    return FIELD_TYPES[type_name].parse(make_spec(type_name, **overrides), raw)


def refuses(type_name: str, raw: Any, **overrides: Any) -> str:
    """The message with which a field of `type_name` refuses `raw` (fails if it accepts it)."""
    with pytest.raises(ValueProblem) as info:
        parse(type_name, raw, **overrides)
    return str(info.value)


def gs1_check_digit(body: str) -> str:
    """The GS1 check digit for `body` (weights 3, 1, 3 ... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def wrong_check_digit(code: str) -> str:
    """`code` with its last digit changed."""
    return code[:-1] + str((int(code[-1]) + 1) % 10)


# text ---------------------------------------------------------------------------------------------


def test_text_is_trimmed():
    assert parse("text", "  苹果 \t") == "苹果"


def test_text_longer_than_max_length_is_refused_with_the_limit():
    assert parse("text", "x" * 5, max_length=5) == "xxxxx"
    assert "5" in refuses("text", "x" * 6, max_length=5)


def test_text_has_a_default_limit_of_255():
    assert len(parse("text", "y" * 255)) == 255
    assert "255" in refuses("text", "y" * 256)


def test_text_must_match_the_whole_pattern():
    assert parse("text", " SP0001 ", pattern=r"SP\d{4}") == "SP0001"
    refuses("text", "SP00012", pattern=r"SP\d{4}")
    refuses("text", "xSP0001", pattern=r"SP\d{4}")


def test_text_from_an_excel_number_loses_the_point_zero():
    assert parse("text", 123.0) == "123"


def test_empty_input_is_none_for_every_type():
    for type_name in FIELD_TYPES:
        if type_name not in ("link", "user", "lines"):
            assert parse(type_name, "  ", options=(Option("a", {"zh": "甲", "en": "A"}),)) is None, type_name


# integer ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1,234", 1234),
        ("１２３", 123),
        (" 42 ", 42),
        (7, 7),
        ("-5", -5),
        ("1,234,567", 1234567),
        (3.0, 3),
    ],
)
def test_integer_accepts(raw, value):
    assert parse("integer", raw) == value
    assert type(parse("integer", raw)) is int


@pytest.mark.parametrize("raw", ["1.5", 1.5, "abc", True, "1,23", "NaN", "inf"])
def test_integer_refuses(raw):
    refuses("integer", raw)


def test_integer_bounds():
    assert parse("integer", "0", min=0, max=10) == 0
    assert "0" in refuses("integer", "-1", min=0)
    assert "10" in refuses("integer", "11", max=10)


# decimal, money, quantity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1,234.50", "1234.5"),
        ("¥1,200", "1200"),
        ("￥1,200.5", "1200.5"),
        ("１，２３４．５", "1234.5"),
        (" 59.97 ", "59.97"),
        ("12元", "12"),
        ("-3.25", "-3.25"),
        (0.1, "0.1"),
        (19.99, "19.99"),
        (12, "12"),
        (Decimal("2.50"), "2.5"),
    ],
)
@pytest.mark.parametrize("type_name", ["decimal", "money", "quantity"])
def test_decimal_types_accept(type_name, raw, value):
    parsed = parse(type_name, raw)
    assert isinstance(parsed, Decimal)
    assert parsed == Decimal(value)


def test_float_input_means_what_it_shows():
    """0.1 is the float 0.1000000000000000055...; the field stores the 0.1 the user typed."""
    assert str(parse("quantity", 0.1)) == "0.1000"
    assert "2" in refuses("money", 1.1 + 2.2)  # 3.3000000000000003 is refused, not rounded


@pytest.mark.parametrize(
    ("type_name", "scale", "raw"),
    [
        ("money", None, "1.005"),
        ("money", 4, "19.99999"),
        ("quantity", None, "0.00001"),
        ("decimal", 0, "1.5"),
        ("decimal", 3, 1.0001),
    ],
)
def test_more_decimals_than_the_scale_is_refused_naming_the_scale(type_name, scale, raw):
    """Never rounded: the user is told how many places the field keeps."""
    expected_scale = scale if scale is not None else FIELD_TYPES[type_name].default_scale  # type: ignore[attr-defined]
    message = refuses(type_name, raw, scale=scale)
    assert str(expected_scale) in message
    assert "位小数" in message or "decimal" in message


def test_trailing_zeros_beyond_the_scale_are_not_extra_decimals():
    assert parse("money", "1.50000") == Decimal("1.5")


@pytest.mark.parametrize(
    "raw",
    [
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        "abc",
        "",
        "1,23",
        "1.2.3",
        "¥",
        True,
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        Decimal("-Infinity"),
        "sNaN",
        "1e3",  # Python's Decimal reads these three; a clerk's 1e3 is a slip, and Excel's 1.23E+05 a rounded text
        "1_000",
        "1.5E+2",
    ],
)
def test_decimal_refuses_what_is_not_a_finite_number(raw):
    if raw == "":
        assert parse("decimal", raw) is None
    else:
        refuses("decimal", raw)


@pytest.mark.parametrize(
    "raw", ["100000000000000", "1E+14", "-100000000000000", "1e30", "1" + "0" * 40, Decimal("1E+100")], ids=str
)
def test_decimal_beyond_its_precision_is_refused(raw):
    """precision 18 / scale 4 leaves 14 digits before the point."""
    refuses("decimal", raw)


def test_decimal_at_the_edge_of_its_precision_is_kept():
    assert parse("decimal", "99,999,999,999,999.9999") == Decimal("99999999999999.9999")
    assert parse("money", "9999999999999999.99") == Decimal("9999999999999999.99")
    refuses("money", "10000000000000000")


def test_decimal_bounds():
    assert parse("money", "0", min=0) == 0
    assert "0" in refuses("money", "-0.01", min=0)
    assert "100" in refuses("quantity", "100.0001", max=100)


def test_negative_zero_is_plain_zero():
    """-0 would show as '-0.00' in the API but come back from the database as '0.00'."""
    assert FIELD_TYPES["money"].to_json(make_spec("money"), parse("money", "-0")) == "0.00"
    assert FIELD_TYPES["quantity"].to_json(make_spec("quantity"), parse("quantity", "-0.000")) == "0"


@pytest.mark.parametrize(
    ("value", "scale", "text"),
    [
        (Decimal("59.9700"), 2, "59.97"),
        (Decimal("5"), 2, "5.00"),
        (Decimal("0.1250"), 2, "0.125"),
        (Decimal("3.5000"), 0, "3.5"),
        (Decimal("3.0000"), 0, "3"),
        (Decimal("0E-4"), 0, "0"),
        (Decimal("1E+3"), 0, "1000"),
        (Decimal("-12.3400"), 2, "-12.34"),
    ],
)
def test_format_decimal(value, scale, text):
    assert format_decimal(value, scale) == text


def test_money_json_keeps_two_places_and_quantity_strips_zeros():
    assert FIELD_TYPES["money"].to_json(make_spec("money", scale=4), parse("money", "12", scale=4)) == "12.00"
    assert FIELD_TYPES["money"].to_json(make_spec("money", scale=4), Decimal("1.2345")) == "1.2345"
    assert FIELD_TYPES["quantity"].to_json(make_spec("quantity"), parse("quantity", "2.5")) == "2.5"
    assert FIELD_TYPES["quantity"].to_json(make_spec("quantity"), None) is None


DECIMAL_SPECS = [
    ("decimal", 18, 4),
    ("money", 18, 2),
    ("money", 18, 4),
    ("quantity", 18, 4),
    ("decimal", 10, 0),
    ("decimal", 12, 8),
]


@st.composite
def spec_and_value(draw: Any) -> tuple[FieldSpec, Decimal]:
    """A decimal-type spec and a value with at most `scale` places that fits its precision."""
    type_name, precision, scale = draw(st.sampled_from(DECIMAL_SPECS))
    limit = 10**precision - 1
    units = draw(st.integers(min_value=-limit, max_value=limit))
    return make_spec(type_name, precision=precision, scale=scale), Decimal(units).scaleb(-scale)


@settings(max_examples=300, deadline=None)
@given(spec_and_value(), st.sampled_from(["plain", "grouped", "full_width", "decimal"]))
def test_any_decimal_within_scale_and_precision_round_trips_exactly(case, form):
    spec, value = case
    ftype = FIELD_TYPES[spec.type]
    raw: Any = {
        "plain": f"{value:f}",
        "grouped": f"{value:,f}",
        "full_width": f"{value:,f}".translate(FULL_WIDTH),
        "decimal": value,
    }[form]
    parsed = ftype.parse(spec, raw)
    assert parsed == value
    text = ftype.to_json(spec, parsed)
    again = ftype.parse(spec, text)
    assert again == value
    assert str(again) == str(parsed)


# date and datetime --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-25",
        "2026/11/25",
        "2026.11.25",
        "2026年11月25日",
        "20261125",
        "２０２６－１１－２５",
        "2026-11-5",
        dt.date(2026, 11, 25),
        dt.datetime(2026, 11, 25, 23, 59),
    ],
)
def test_date_accepts(raw):
    expected = dt.date(2026, 11, 5) if raw == "2026-11-5" else dt.date(2026, 11, 25)
    assert parse("date", raw) == expected
    assert type(parse("date", raw)) is dt.date


@pytest.mark.parametrize(
    "raw", ["2026-02-30", "2026-13-01", "20260230", "25/11/2026", "tomorrow", "2026-11", 20261125.5]
)
def test_date_refuses(raw):
    refuses("date", raw)


def test_date_bounds_are_iso_dates():
    assert parse("date", "2026-01-01", min="2026-01-01") == dt.date(2026, 1, 1)
    assert "2026-01-01" in refuses("date", "2025-12-31", min="2026-01-01")
    assert "2026-12-31" in refuses("date", "2027年1月1日", max="2026-12-31")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-25T08:30:00+08:00", dt.datetime(2026, 11, 25, 0, 30)),
        ("2026-11-25T00:30:00Z", dt.datetime(2026, 11, 25, 0, 30)),
        ("2026-11-25 01:30:00-05:00", dt.datetime(2026, 11, 25, 6, 30)),
        ("2026-11-25 08:30", dt.datetime(2026, 11, 25, 8, 30)),
        ("2026/11/25 08:30", dt.datetime(2026, 11, 25, 8, 30)),
        ("2026-11-25", dt.datetime(2026, 11, 25)),
        (dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))), dt.datetime(2026, 11, 25, 0, 30)),
        (dt.date(2026, 11, 25), dt.datetime(2026, 11, 25)),
    ],
)
def test_datetime_is_naive_utc(raw, expected):
    value = parse("datetime", raw)
    assert value == expected
    assert value.tzinfo is None


def test_datetime_in_chinese_with_a_space_before_the_time():
    """types.py turns 年/月/日 into ISO separators; the usual '2026年11月25日 08:30' must work too."""
    assert parse("datetime", "2026年11月25日 08:30") == dt.datetime(2026, 11, 25, 8, 30)


@pytest.mark.parametrize("raw", ["2026-11-31 08:00", "08:30", "yesterday", "2026-11-25 25:00"])
def test_datetime_refuses(raw):
    refuses("datetime", raw)


# boolean, select ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["是", "yes", "Yes", "Y", "1", "true", "TRUE", "√", "on", 1, True, 1.0, " 是 "])
def test_boolean_true_words(raw):
    assert parse("boolean", raw) is True


@pytest.mark.parametrize("raw", ["否", "no", "N", "0", "false", "×", "off", 0, False, "０"])
def test_boolean_false_words(raw):
    assert parse("boolean", raw) is False


@pytest.mark.parametrize("raw", ["2", "maybe", "是的", 2, -1])
def test_boolean_refuses(raw):
    refuses("boolean", raw)


COSTING = (
    Option("moving_average", {"zh": "移动加权平均", "en": "Moving average"}),
    Option("fifo", {"zh": "先进先出", "en": "FIFO"}),
)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("fifo", "fifo"),
        ("FIFO", "fifo"),
        ("先进先出", "fifo"),
        (" Moving average ", "moving_average"),
        ("moving average", "moving_average"),
        ("移动加权平均", "moving_average"),
        ("MOVING_AVERAGE", "moving_average"),
    ],
)
def test_select_matches_value_or_label(raw, value):
    assert parse("select", raw, options=COSTING) == value


def test_select_refuses_others_and_lists_the_choices():
    message = refuses("select", "lifo", options=COSTING)
    assert "移动加权平均" in message and "先进先出" in message


# barcode ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["690123456789", "4006381", "03600029145", "1001234567890"])
def test_barcode_with_a_right_gs1_check_digit_is_accepted(body):
    code = body + gs1_check_digit(body)
    assert len(code) in (8, 12, 13, 14)
    assert parse("barcode", code) == code
    assert parse("barcode", code.translate(FULL_WIDTH)) == code


@pytest.mark.parametrize("body", ["690123456789", "4006381", "03600029145", "1001234567890"])
def test_barcode_with_a_wrong_gs1_check_digit_is_refused(body):
    code = wrong_check_digit(body + gs1_check_digit(body))
    message = refuses("barcode", code)
    assert "校验" in message or "check" in message


def test_known_ean13_check_digit():
    assert gs1_check_digit("690123456789") == "2"
    assert parse("barcode", "6901234567892") == "6901234567892"


def test_barcode_from_an_excel_number():
    assert parse("barcode", 6901234567892.0) == "6901234567892"


@pytest.mark.parametrize("code", ["ABC-123", "12345", "X" * 64, "123456789"])
def test_barcode_non_gs1_codes_need_only_letters_digits_and_dashes(code):
    assert parse("barcode", code) == code


@pytest.mark.parametrize("code", ["6901 234567892", "条码123", "ABC_123", "A/B", "X" * 65])
def test_barcode_refuses_other_characters(code):
    refuses("barcode", code)


# ExactDecimal in both databases -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite file database in a temp folder."""
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('exact') / 'exact.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def pg_schema_engine() -> Iterator[tuple[Engine, str]]:
    """An engine on the test PostgreSQL server and a fresh schema in it (dropped afterwards)."""
    schema = f"jxc_exact_{uuid.uuid4().hex[:10]}"
    engine = create_engine(normalise_database_url(PG_URL))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    yield engine, schema
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    engine.dispose()
    with psycopg.connect(PG_URL) as check:
        gone = check.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    assert gone == (0,)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def exact_table(request: pytest.FixtureRequest) -> tuple[Engine, Table]:
    """A table with ExactDecimal columns (18,4), (18,2) and (24,8) on one backend."""
    if request.param == "sqlite":
        engine, schema = request.getfixturevalue("sqlite_engine"), None
    else:
        engine, schema = request.getfixturevalue("pg_schema_engine")
    return engine, make_exact_table(engine, schema, "exact")


def make_exact_table(engine: Engine, schema: str | None, name: str) -> Table:
    """Create a table with ExactDecimal columns (18,4), (18,2) and (24,8)."""
    metadata = MetaData(schema=schema)
    table = Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("tag", Integer),
        Column("d184", ExactDecimal(18, 4)),
        Column("d182", ExactDecimal(18, 2)),
        Column("d248", ExactDecimal(24, 8)),
    )
    metadata.create_all(engine)
    return table


def store_and_read(engine: Engine, table: Table, column: str, value: Decimal) -> Decimal:
    """Insert `value` into `column` and read it back."""
    with engine.begin() as conn:
        row_id = conn.execute(insert(table).values({column: value}).returning(table.c.id)).scalar_one()
        return conn.execute(select(table.c[column]).where(table.c.id == row_id)).scalar_one()


@settings(max_examples=150, deadline=None)
@given(value=st.integers(min_value=-(10**18 - 1), max_value=10**18 - 1).map(lambda n: Decimal(n).scaleb(-4)))
def test_exact_decimal_column_round_trips_any_18_4_value(exact_table, value):
    engine, table = exact_table
    spec = make_spec("decimal", precision=18, scale=4)
    parsed = FIELD_TYPES["decimal"].parse(spec, f"{value:f}")
    back = store_and_read(engine, table, "d184", parsed)
    assert isinstance(back, Decimal)
    assert back == value
    assert FIELD_TYPES["decimal"].parse(spec, FIELD_TYPES["decimal"].to_json(spec, back)) == value


def test_exact_decimal_sum_is_exact(exact_table):
    """Three lines of 0.1 x 19.99 sum to 5.997, not 5.997000000000001."""
    engine, table = exact_table
    amount = parse("money", 0.1, scale=4) * parse("money", "19.99", scale=4)
    assert amount == Decimal("1.999")
    tag = 1
    with engine.begin() as conn:
        conn.execute(insert(table), [{"tag": tag, "d184": amount} for _ in range(3)])
        total = conn.execute(select(func.sum(table.c.d184)).where(table.c.tag == tag)).scalar_one()
    assert isinstance(total, Decimal)
    assert total == Decimal("5.997")


def test_exact_decimal_order_and_compare_are_exact(exact_table):
    engine, table = exact_table
    tag = 2
    values = [
        Decimal(v)
        for v in [
            "10",
            "9.9999",
            "-0.0001",
            "0",
            "0.0001",
            "-10",
            "99999999999999.9999",
            "-99999999999999.9999",
            "1.5",
            "1.4999",
        ]
    ]
    with engine.begin() as conn:
        conn.execute(insert(table), [{"tag": tag, "d184": v} for v in values])
        ordered = conn.execute(select(table.c.d184).where(table.c.tag == tag).order_by(table.c.d184)).scalars().all()
        above = (
            conn.execute(
                select(table.c.d184).where(table.c.tag == tag, table.c.d184 > Decimal("1.4999")).order_by(table.c.d184)
            )
            .scalars()
            .all()
        )
    assert ordered == sorted(values)
    assert above == [Decimal("1.5"), Decimal("9.9999"), Decimal("10"), Decimal("99999999999999.9999")]


def test_large_values_with_four_decimals_stay_exact(exact_table):
    """Up to 10^13 with 4 decimals, the last digit survives (a float would lose it)."""
    engine, table = exact_table
    for text in ["9999999999999.9999", "10000000000000.0001", "-9999999999999.9999", "1234567890123.4567"]:
        value = Decimal(text)
        assert store_and_read(engine, table, "d184", value) == value
    tag = 3
    with engine.begin() as conn:
        conn.execute(
            insert(table),
            [{"tag": tag, "d184": Decimal("9999999999999.9999")}, {"tag": tag, "d184": Decimal("0.0001")}],
        )
        total = conn.execute(select(func.sum(table.c.d184)).where(table.c.tag == tag)).scalar_one()
    assert total == Decimal("10000000000000.0000")


def test_money_column_keeps_cents(exact_table):
    engine, table = exact_table
    assert store_and_read(engine, table, "d182", parse("money", "¥1,200.05")) == Decimal("1200.05")


def test_widest_decimal_the_loader_allows_fits_the_column(exact_table):
    """check_spec allows precision 18 (what SQLite's scaled integer holds); its largest value is stored exactly."""
    engine, table = exact_table
    assert FIELD_TYPES["decimal"].check_spec(make_spec("decimal", precision=24, scale=8)) != []
    spec = make_spec("decimal", precision=18, scale=8)
    assert FIELD_TYPES["decimal"].check_spec(spec) == []
    largest = FIELD_TYPES["decimal"].parse(spec, "9" * 10 + "." + "9" * 8)
    assert store_and_read(engine, table, "d248", largest) == largest


def test_sqlite_file_holds_scaled_integers(sqlite_engine):
    """On SQLite 19.99 at scale 4 is the integer 199900 (that is what keeps SUM and ORDER BY exact)."""
    table = make_exact_table(sqlite_engine, None, "exact_raw")
    store_and_read(sqlite_engine, table, "d184", Decimal("19.99"))
    with sqlite_engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT d184, typeof(d184) FROM exact_raw").fetchall()
    assert raw == [(199900, "integer")]
    assert Path(str(sqlite_engine.url.database)).is_file()
