"""Shared pieces of the metadata loaders: the error collector and small checks."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from app.meta.spec import MetaError


def hint(word: str, choices: Iterable[str]) -> str:
    """'did you mean ...' for a misspelt name, else the list of choices."""
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f"did you mean '{close[0]}'?" if close else "one of: " + ", ".join(sorted(choices))


def texts(value: Any) -> dict[str, str] | None:
    """A {zh, en} mapping with both texts, or None."""
    if isinstance(value, dict) and all(isinstance(value.get(k), str) and value.get(k) for k in ("zh", "en")):
        return {"zh": value["zh"], "en": value["en"]}
    return None


class Collector:
    """Accumulates errors so that one run reports all of them."""

    def __init__(self) -> None:
        self.errors: list[MetaError] = []

    def add(self, where: str, message: str, hint: str = "", *, code: str = "", option: str = "", **params: str) -> None:
        self.errors.append(MetaError(where, message, hint, code, tuple(params.items()), option))
