"""Errors the service layer raises once, at the edge, and every channel maps the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CellError:
    """One refused value: which row (id or tmp id), which field, why."""

    field: str
    message: str
    row: Any = None

    def as_dict(self) -> dict[str, Any]:
        """JSON shape used by the API, grid and importer."""
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if isinstance(self.row, dict):  # the grid's {"id": ...} or {"tmp_id": ...}
            out.update(self.row)
        elif self.row is not None:
            out["row"] = self.row
        return out


class ServiceError(Exception):
    """Base of the errors below; `status` is the HTTP status they map to."""

    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(ServiceError):
    """422: every cell error found, all at once."""

    status = 422

    def __init__(self, errors: list[CellError], summary: str = "") -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors
        self.summary = summary

    def by_field(self) -> dict[str, list[str]]:
        """FAB-style {"field": ["message"]} mapping."""
        out: dict[str, list[str]] = {}
        for error in self.errors:
            out.setdefault(error.field, []).append(error.message)
        return out


def argument_refused(name: str, message: str) -> ValidationFailed:
    """A request's argument `name` refused (a page number, a page size): 422 with the message as it is, about it."""
    return ValidationFailed([CellError(name, message)], summary=message)


class NotFound(ServiceError):
    """404: missing, or outside the user's row scope (the two look the same)."""

    status = 404


class Forbidden(ServiceError):
    """403: the role may not do this action on this model."""

    status = 403


class Conflict(ServiceError):
    """409: the row changed since the client read it."""

    status = 409

    def __init__(
        self, message: str, current: dict[str, Any] | None = None, conflicts: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.current = current
        self.conflicts = conflicts
