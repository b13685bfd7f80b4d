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

from sqlalchemy import func, select
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
    cls = registry.cls(model.key)
    out = []
    for spec in model.data_fields:
        if not spec.is_code:
            continue
        groups: dict[str, list[tuple[int, str]]] = {}
        column = getattr(cls, spec.column)
        for pk, code in session.execute(select(cls.id, column).where(column.isnot(None))):
            key = code_key(unicodedata.normalize("NFKC", "".join(c for c in code if not _invisible(c))).strip())
            groups.setdefault(key, []).append((pk, code))
        for rows in groups.values():
            if len(rows) > 1:
                out.append(Collision(model.key, spec.name, tuple(c for _, c in rows), tuple(pk for pk, _ in rows)))
    return out
