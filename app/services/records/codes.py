"""Codes (SKUs, partner and warehouse codes, document numbers, any unique text) compared as people read them.

`ＫＳ１Ａ`, `ks1a`, `KS1A` with a zero-width space and `KS1A` look like one code: a code is stored NFKC-normalised
and trimmed, a code holding control or invisible characters is refused, and uniqueness ignores case. Every
channel calls `normalise_code` (the write path for unique text fields; importers through the write path) and
`same_code` for the unique check; `code_collisions` lists rows stored before that would now collide
(`jxc init` prints them; nothing is merged).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, not_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.i18n import t
from app.meta.registry import Registry
from app.meta.spec import ModelSpec
from app.meta.types import ValueProblem

# control, format (zero-width space and joiners, BOM, bidi marks), surrogates, private use, unassigned,
# line and paragraph separators
INVISIBLE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def normalise_code(raw: Any) -> str:
    """The code as stored: NFKC (full-width letters and digits become ASCII), trimmed; ValueProblem when it
    holds a control or invisible character."""
    text = str(raw)
    if text.isascii() and text.isprintable():  # the usual code: NFKC leaves it as it is, nothing is invisible
        return text.strip()
    text = unicodedata.normalize("NFKC", text).strip()
    if any(_invisible(char) for char in text):
        raise ValueProblem(t("code_invisible"))
    return text


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in INVISIBLE


def code_key(code: str) -> str:
    """What two codes must differ in to be two codes (case ignored)."""
    return code.lower()


def same_code(column: Any, code: str) -> ColumnElement[bool]:
    """SQL: the column holds this code, whatever its case."""
    return func.lower(column) == code_key(code)


@dataclass(frozen=True)
class Collision:
    """Rows of one model whose codes are one code once normalised."""

    model: str
    field: str
    codes: tuple[str, ...]
    ids: tuple[int, ...]


def code_collisions(session: Session, registry: Registry) -> list[Collision]:
    """Every group of stored rows whose codes normalise to one code (listed, never merged)."""
    found: list[Collision] = []
    for model in registry.meta.models.values():
        if model.kind == "ledger" or model.is_line:
            continue
        found.extend(_model_collisions(session, registry, model))
    return found


def _model_collisions(session: Session, registry: Registry, model: ModelSpec) -> list[Collision]:
    """Codes made only of printable ASCII with no space at either end (nearly all) are their own normal form:
    they are grouped by `lower()` in SQL, and only the groups of two or more are read. The rest, read and
    normalised here, are compared with the plain codes that have their key."""
    cls = registry.cls(model.key)
    out = []
    for spec in model.data_fields:
        if not spec.is_code:
            continue
        column = getattr(cls, spec.column)
        plain = _plain_ascii(column, session.get_bind().dialect.name)
        rows = session.execute(select(cls.id, column).where(column.isnot(None), not_(plain))).all()
        odd_keys = sorted({_key(code) for _, code in rows})
        twice = select(func.lower(column)).where(plain).group_by(func.lower(column)).having(func.count() > 1)
        rows += session.execute(select(cls.id, column).where(plain, func.lower(column).in_(twice))).all()
        for start in range(0, len(odd_keys), 1_000):
            keys = odd_keys[start : start + 1_000]
            rows += session.execute(select(cls.id, column).where(plain, func.lower(column).in_(keys))).all()
        groups: dict[str, dict[int, str]] = {}
        for pk, code in rows:
            groups.setdefault(_key(code), {})[pk] = code
        for group in groups.values():
            if len(group) > 1:
                out.append(Collision(model.key, spec.name, tuple(group.values()), tuple(group)))
    return out


def _key(code: str) -> str:
    return code_key(unicodedata.normalize("NFKC", "".join(c for c in code if not _invisible(c))).strip())


def _plain_ascii(column: Any, dialect: str) -> ColumnElement[bool]:
    """SQL: the code is printable ASCII with no space at either end, so `normalise_code` leaves it as it is."""
    if dialect == "postgresql":
        return column.op("~", is_comparison=True)(r"^[!-~]([ -~]*[!-~])?$")
    glob = column.op("GLOB", is_comparison=True)
    return and_(column != "", not_(glob("*[^ -~]*")), not_(glob(" *")), not_(glob("* ")))
