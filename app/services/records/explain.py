"""EXPLAIN of a SELECT as a statement of its own, so SQLAlchemy compiles it once per statement shape (its
compiled cache keys on the inner statement's structure, not on its values) instead of on every request."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal


class ExplainJson(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON) <select>` (PostgreSQL): one row, the plan as JSON."""

    inherit_cache = True
    _traverse_internals = [("statement", InternalTraversal.dp_clauseelement)]

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(ExplainJson, "postgresql")
def _explain_json(element: ExplainJson, compiler: Any, **kw: Any) -> str:
    inner = compiler.process(element.statement, **kw)
    compiler._result_columns = []  # the result is the plan's one column, not the inner select's columns
    return "EXPLAIN (FORMAT JSON) " + inner
