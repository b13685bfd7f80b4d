"""What a report's source (the declarative query or a handler) gets: the reader, the parameters, the session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.meta.registry import Registry
from app.meta.reports import ReportSpec
from app.services.access.rights import Access


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

    def sees(self, *figures: str) -> bool:
        """Does the reader see these kinds of figure (so a handler need not work out what it may not show)?"""
        return self.access.sees_figures(frozenset(figures))
