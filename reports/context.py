"""What a report's source (the declarative query or a handler) gets: the reader, the parameters, the session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.meta.registry import Registry
from app.meta.reports import ReportColumn, ReportSpec
from app.services.access.rights import Access


@dataclass(frozen=True)
class Page:
    """A slice of a report's rows in its order: `size` rows from `offset`."""

    offset: int
    size: int

    @classmethod
    def numbered(cls, number: int, size: int) -> Page:
        """Page `number` of `size` rows, counted from 1 as people number pages and the grid asks for rows."""
        return cls((number - 1) * size, size)

    @property
    def number(self) -> int:
        """Which page this is, counted from 1."""
        return self.offset // self.size + 1 if self.size else 1


def visible_columns(access: Access, report: ReportSpec, params: dict[str, Any]) -> list[ReportColumn]:
    """The report's columns of the kinds of figure the reader sees (the others are dropped everywhere)."""
    return [c for c in report.columns if access.sees_figures(c.figures_for(params))]


def row_order(report: ReportSpec, columns: list[ReportColumn]) -> list[tuple[ReportColumn, bool]]:
    """(column, descending) the rows are ordered by, first first: the report's declared order, else its key
    columns. Only the reader's `columns` steer it: a row's place among the others tells the value it was sorted
    on, so where the declared order names a column of a kind of figure the reader hides, the key columns order
    the rows instead (then the rest)."""
    by_name = {c.name: c for c in columns}
    declared = [name for name in report.order if name.lstrip("-") in by_name]
    if len(declared) < len(report.order):
        declared += [c.name for c in columns if c.key]
    order = declared if report.order else [c.name for c in columns if c.key]
    return [(by_name[name.lstrip("-")], name.startswith("-")) for name in order if name.lstrip("-") in by_name]


@dataclass
class ReportContext:
    """One run of one report, always as its reader."""

    session: Session
    access: Access
    report: ReportSpec
    params: dict[str, Any]
    link_targets: dict[str, str] = field(default_factory=dict)  # column -> model (or "user") of its ids
    choices: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # column -> value -> label {zh, en}
    totals: dict[str, Any] = field(default_factory=dict)  # totals a handler works out itself (ratios)
    # the slice the caller asked for: a handler that can order and page in the database returns that page only,
    # with `row_count` (every row's count) and every total column's total in `totals`; others return all rows
    # and the runner slices them
    page: Page | None = None
    row_count: int | None = None

    @property
    def registry(self) -> Registry:
        """The metadata and mapped classes in force."""
        return self.access.registry

    @property
    def dialect(self) -> str:
        """sqlite or postgresql."""
        return self.session.get_bind().dialect.name

    def scoped(self, stmt: Any, model_key: str) -> Any:
        """The statement limited to the reader's rows of the model (row scope, sides; a line's by its document)."""
        scope = self.access.scope(self.registry.model(model_key))
        return stmt if scope is None else stmt.where(scope)

    def order(self) -> list[tuple[ReportColumn, bool]]:
        """(column, descending) the runner orders this run's rows by (a handler paging in SQL orders so)."""
        return row_order(self.report, visible_columns(self.access, self.report, self.params))

    def sees(self, *figures: str) -> bool:
        """Does the reader see these kinds of figure (so a handler need not work out what it may not show)?"""
        return self.access.sees_figures(frozenset(figures))
