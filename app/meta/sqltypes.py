"""Column types that keep money and quantities exact on PostgreSQL and SQLite; text normalised in SQL as in Python."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric, String, literal, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

NUMERIC_OID = 1700  # PostgreSQL's type id of NUMERIC, as psycopg reports a result column's type
DATE_OID, TIMESTAMP_OID = 1082, 1114  # of DATE and TIMESTAMP (without time zone: DateTime())


class ExactDecimal(TypeDecorator):
    """NUMERIC(p, s) on PostgreSQL; a scaled BIGINT on SQLite (which has no decimal type).

    SQLite stores 19.99 at scale 4 as 199900, so comparisons, ORDER BY and SUM stay exact.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 4) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        if dialect.name == "sqlite":
            return int(value.scaleb(self.scale).to_integral_value())
        return value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """None (values as the driver reads them) for PostgreSQL's NUMERIC, which psycopg reads as a Decimal
        already: a page of 100 items made each of its 900 decimals again."""
        if dialect.name == "postgresql" and coltype == NUMERIC_OID:
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value)

    def scaled_integers(self, column: Any, dialect_name: str) -> Any:
        """The column as SQLite holds it, the value times 10^scale as an integer, read as it is (no Decimal
        made of each value: an export of many rows); None on PostgreSQL, which holds the decimal itself."""
        return type_coerce(column, BigInteger()).label(column.key) if dialect_name == "sqlite" else None

    def sum_result(self, raw: Any, dialect_name: str) -> Decimal:
        """Turn a raw SQL SUM over this column back into an exact Decimal."""
        if raw is None:
            return Decimal(0)
        if dialect_name == "sqlite":
            return Decimal(int(raw)).scaleb(-self.scale)
        return Decimal(raw)


SQLITE_NORMALISE = "jxc_normalise_text"  # registered on every SQLite connection (app/extensions.py)
# what Python's str.strip() takes off that NFKC leaves: ASCII whitespace (NFKC makes the wide and no-break spaces one)
_SPACES = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029"


class NormalisedText(FunctionElement[str]):
    """A text column as `app.meta.types.normalise_text` reads a typed value: NFKC (full-width letters, digits,
    signs and spaces become ASCII) and stripped, so a stored name compares with a typed one in SQL exactly as
    in Python. PostgreSQL: `normalize(..., NFKC)` (a UTF-8 database); SQLite: the Python function itself."""

    type = String()
    inherit_cache = True


@compiles(NormalisedText, "postgresql")
def _normalised_pg(element: NormalisedText, compiler: Any, **kw: Any) -> str:
    spaces = compiler.process(literal(_SPACES), **kw)
    return f"btrim(normalize({compiler.process(element.clauses, **kw)}, NFKC), {spaces})"


@compiles(NormalisedText)
def _normalised_sqlite(element: NormalisedText, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_NORMALISE}({compiler.process(element.clauses, **kw)})"
